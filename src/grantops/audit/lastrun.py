"""The last run the audit log records, for ``grantops health`` (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from grantops.audit.events import Entry, RunEnd, RunStart
from grantops.health import RecordedRun


def last_recorded(events: Sequence[Entry]) -> RecordedRun | None:
    """The last run the log records. Anyone who can push may write the log, so it can
    only add a failure to what GitHub says, never clear one."""
    start = next((e for e in reversed(events) if isinstance(e, RunStart)), None)
    if start is None:
        return None
    end = next((e for e in events if isinstance(e, RunEnd) and e.run == start.run), None)
    failed = (end.results or {}).get("failed", 0) if end is not None else 0
    return RecordedRun(start.run, start.ts, end is not None, failed)
