"""Removals and failed changes from the audit log, for access reviews (pure).

A reviewer asks three things of what ended: why (it expired, was revoked, was found
undeclared and removed as drift), how late an expiry was removed, and which changes
GitHub refused. A failed change gave nobody anything, so it is shown here, with GitHub's
answer in words, and never as access.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from grantops.audit.events import ChangeFailed, Entry, OutcomeEvent
from grantops.audit.history import CLOSING, ending, in_force, versions


@dataclass(frozen=True)
class Removal:
    at: datetime
    principal: str
    target: str
    had: str | None
    why: str
    """``expired``, ``revoked``, ``drift removed``, ``invitation cancelled``..."""
    source: str | None
    pull: int | None
    expires: datetime | None
    """For an expiry: when the grant version in force said access ends."""
    late: timedelta | None
    """For an expiry: from ``expires`` to the logged removal."""


def removals(events: Sequence[Entry], since: datetime, until: datetime) -> list[Removal]:
    """Every removal logged inside [since, until), expiries with their lateness."""
    found = versions(events)
    shown = []
    for event in events:
        if not isinstance(event, CLOSING) or not since <= event.ts < until:
            continue
        why = ending(event)
        version = in_force(found, event.source, event.ts) if event.source else None
        expires = version.expires if version and why == "expired" else None
        shown.append(
            Removal(
                at=event.ts,
                principal=str(event.change.principal),
                target=str(event.change.target),
                had=event.change.before,
                why=why,
                source=event.source,
                pull=event.pull or (version.pull if version else None),
                expires=expires,
                late=max(event.ts - expires, timedelta(0)) if expires else None,
            )
        )
    return shown


@dataclass(frozen=True)
class Failure:
    at: datetime
    action: str
    principal: str
    target: str
    level: str | None
    """The access the change would have given (None for a removal)."""
    source: str | None
    answer: str
    """GitHub's answer, in words (:func:`readable`)."""


def failures(events: Sequence[Entry], since: datetime, until: datetime) -> list[Failure]:
    """Every change GitHub refused inside [since, until)."""
    return [failure(e) for e in events if isinstance(e, ChangeFailed) and since <= e.ts < until]


def failure(event: OutcomeEvent) -> Failure:
    change = event.change
    return Failure(
        at=event.ts,
        action=change.action.replace("_", " "),
        principal=str(change.principal),
        target=str(change.target),
        level=change.after,
        source=change.source,
        answer=readable(event.detail),
    )


_MEANING = {
    401: "GitHub did not accept the token",
    403: "GitHub refused: the token may not do this",
    404: "GitHub found no such account, team or repository (a mistyped name?)",
    422: "GitHub rejected the request as invalid",
}


def readable(detail: str | None) -> str:
    """GitHub's answer as a sentence, keeping its own words after it."""
    if not detail:
        return "GitHub gave no reason"
    status = re.search(r"HTTP (\d{3})", detail)
    if status is None:
        return f"GitHub did not answer ({detail})" if "no response" in detail else detail
    meaning = _MEANING.get(int(status.group(1)), "GitHub refused the change")
    return f"{meaning} ({detail})"
