"""Access history from the audit log, for access reviews (``grantops audit report``).

Periods run from the event that gave access (``access-added``, ``access-changed``,
``invitation-sent``) to the one that ended or replaced it, clipped to the requested
window. Each period is credited to the grant *version* in force: a grant extended in a
second reviewed pull request shows its access under the first version until the
extension was proven, then under the extension, each with its own requester, approvers
and pull request. Pure: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from grantops.access import AccessKey
from grantops.audit.events import (
    AccessAdded,
    AccessChanged,
    AccessRemoved,
    DriftRemoved,
    Entry,
    GrantApproved,
    InvitationCancelled,
    InvitationSent,
    OutcomeEvent,
)
from grantops.model import Grantable

OPENING = (AccessAdded, AccessChanged, InvitationSent)
CLOSING = (AccessRemoved, DriftRemoved, InvitationCancelled)


@dataclass(frozen=True)
class Version:
    """One reviewed version of a grant file, as its ``grant-approved`` line recorded it."""

    source: str
    logged: datetime
    """When a run proved it: from then on, access under the file is this version's."""
    run: str
    """The run that proved it: access that run gave is this version's too, although the
    run logs what it proved after the changes it made."""
    expires: datetime
    starts: datetime | None = None
    commit: str | None = None
    pull: int | None = None
    requester: str | None = None
    approvers: tuple[str, ...] = ()
    merged_at: str | None = None
    merged_by: str | None = None
    approved_at: str | None = None
    reason: str | None = None
    grantables: tuple[Grantable, ...] = ()


def versions(events: Sequence[Entry]) -> list[Version]:
    """Every proven grant version, in the order the log recorded them."""
    return [
        Version(
            source=e.source,
            logged=e.ts,
            run=e.run,
            expires=e.expires,
            starts=e.starts,
            commit=e.commit,
            pull=e.pull,
            requester=e.author,
            approvers=e.approvers,
            merged_at=e.merged_at,
            merged_by=e.merged_by,
            approved_at=e.approved_at,
            reason=e.reason,
            grantables=e.grantables,
        )
        for e in events
        if isinstance(e, GrantApproved)
    ]


def in_force(
    found: Sequence[Version], source: str | None, at: datetime, run: str | None = None
) -> Version | None:
    """The version of ``source`` proven by ``at``, or by ``run`` (None: none had been)."""
    proven = [v for v in found if v.source == source and (v.logged <= at or v.run == run)]
    return proven[-1] if proven else None


def ending(event: OutcomeEvent | None) -> str:
    """How a period of access ended, in the words a reviewer expects."""
    if event is None:
        return "still open"
    if isinstance(event, OPENING):
        return f"changed to {event.change.after}"
    cause = event.change.cause
    if isinstance(event, DriftRemoved) or cause == "undeclared":
        return "drift removed"
    if cause in ("expired", "revoked"):
        return cause
    if isinstance(event, InvitationCancelled):
        return "invitation cancelled"
    return "no longer declared"


@dataclass(frozen=True)
class Period:
    principal: str
    target: str
    level: str
    start: datetime
    end: datetime | None
    """None: still open at the end of the window."""
    source: str | None
    """The grant file; None for the baseline."""
    version: Version | None
    ended: str
    """How it ended (:func:`ending`), or ``still open``."""
    pending: bool
    """An invitation that had not been accepted when it was recorded."""


Span = tuple[OutcomeEvent, OutcomeEvent | None]


def spans(events: Sequence[Entry]) -> list[Span]:
    """Each opening event with the event that ended or replaced it (None: still open)."""
    open_spans: dict[AccessKey, OutcomeEvent] = {}
    done: list[Span] = []
    for event in events:
        if not isinstance(event, OPENING + CLOSING):
            continue
        key = (event.change.principal, event.change.target)
        if key in open_spans:
            done.append((open_spans.pop(key), event))
        if isinstance(event, OPENING):
            open_spans[key] = event
    return done + [(start, None) for start in open_spans.values()]


def access_periods(events: Sequence[Entry], since: datetime, until: datetime) -> list[Period]:
    """Who had which access when, inside [since, until), one row per grant version."""
    found = versions(events)
    periods = []
    for start, end in spans(events):
        end_ts = end.ts if end else None
        if start.ts >= until or (end_ts is not None and end_ts <= since):
            continue
        for begin, stop, version in _by_version(found, start, end_ts):
            if begin >= until or (stop is not None and stop <= since):
                continue
            closes = stop is not None and stop <= until
            periods.append(
                Period(
                    principal=str(start.change.principal),
                    target=str(start.change.target),
                    level=str(start.change.after),
                    start=max(begin, since),
                    end=stop if closes else None,
                    source=start.source if start.change.cause != "baseline" else None,
                    version=version,
                    ended=_ended(end, stop, closes),
                    pending=isinstance(start, InvitationSent),
                )
            )
    return sorted(periods, key=lambda p: (p.target, p.principal, p.start))


def _ended(end: OutcomeEvent | None, stop: datetime | None, closes: bool) -> str:
    """How one version's part of a span ended: with the span, or at the next version."""
    if not closes:
        return "still open"
    return ending(end) if end is not None and stop == end.ts else "next version"


def _by_version(
    found: Sequence[Version], start: OutcomeEvent, end: datetime | None
) -> list[tuple[datetime, datetime | None, Version | None]]:
    """Split one span where a newer version of its grant was proven."""
    source = start.source if start.change.cause != "baseline" else None
    if source is None:
        return [(start.ts, end, None)]
    first = in_force(found, source, start.ts, start.run) or _first(found, source)
    later = [
        v
        for v in found
        if v.source == source and v is not first and v.run != start.run and v.logged > start.ts
    ]
    later = [v for v in later if end is None or v.logged < end]
    bounds = [start.ts, *(v.logged for v in later)]
    stops: list[datetime | None] = [*(v.logged for v in later), end]
    return list(zip(bounds, stops, [first, *later], strict=True))


def _first(found: Sequence[Version], source: str) -> Version | None:
    """A version logged after the access it gave (a log from before approvals were kept
    in order): the earliest one is the best witness there is."""
    return next((v for v in found if v.source == source), None)
