"""A window during which the sandbox GitHub is down, as github.com sometimes is.

``POST /_sandbox/outage {"seconds": S}`` starts one lasting S seconds from now (0 ends
any at once); while it lasts every API request, REST or GraphQL, answers 503 with
GitHub's error body, before authentication or any handler: nothing changes, and the
refused requests are not counted in ``/_sandbox/stats`` (a client's retries show there
only once they get through). The control routes under ``/_sandbox/`` keep answering, so
a test can watch it end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from grantops.sandbox.changelog import rfc3339_ms


@dataclass
class Outage:
    """The current (or last) outage window; callers hold the sandbox lock."""

    start: datetime | None = None
    end: datetime | None = None

    def begin(self, seconds: object, now: datetime) -> None:
        """Down from ``now`` for ``seconds`` (a finite number, not negative)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("seconds must be a number")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number, 0 or more")
        self.start, self.end = now, now + timedelta(seconds=seconds)

    def active(self, now: datetime) -> bool:
        return self.end is not None and now < self.end

    def report(self, now: datetime) -> dict[str, Any]:
        """Whether the sandbox is down, and the window as RFC 3339 times (null if none)."""
        return {
            "active": self.active(now),
            "start": None if self.start is None else rfc3339_ms(self.start),
            "end": None if self.end is None else rfc3339_ms(self.end),
        }
