"""How many changes one run makes: GitHub's secondary limit on content-creating requests.

GitHub allows at most 80 content-creating requests a minute and 500 an hour (see
"About secondary rate limits" in GitHub's REST API documentation, "Rate limits for the
REST API"); going over them gets 403s and, repeated, an integration banned for a while.
Each change grantops makes is one such request, so a run makes at most
:data:`WRITES_PER_MINUTE` of them and leaves the rest, unattempted, to the next run,
which plans them again from what GitHub then says.

What ends access goes first, since it is the safe direction: expiries, then other
removals and cancelled invitations (reviewed revokes among them), then changes of
level, then adds. Within each kind the plan's own order is kept. Removals (expiries,
revokes, drift) and cancelled invitations are never deferred, whatever the count says:
access ends even when the hour's budget looks spent (the count comes from the audit
log, a file in the repository), and GitHub answering one of them with a secondary limit
only makes the transport wait, as for any rate limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from grantops.audit.events import ChangeStarted, Entry
from grantops.plan import Change, Plan

WRITES_PER_MINUTE = 80
"""GitHub's secondary limit: content-creating requests a minute, per user or App."""
WRITES_PER_HOUR = 500
"""GitHub's secondary limit: content-creating requests an hour, per user or App."""


@dataclass(frozen=True)
class WriteLimits:
    """The content-creating requests a run may make (GitHub's limits by default)."""

    per_minute: int = WRITES_PER_MINUTE
    per_hour: int = WRITES_PER_HOUR

    def allowed(self, made_last_hour: int = 0) -> int:
        """Changes one run may make, given those made in the hour before it."""
        return max(min(self.per_minute, self.per_hour - made_last_hour), 0)


def urgency(change: Change) -> int:
    """0 for expiries, 1 other removals, 2 changes of level, 3 adds: lower goes first."""
    if change.cause == "expired":
        return 0
    if change.action in ("remove", "cancel_invitation"):
        return 1
    return 2 if change.action == "update" else 3


def ordered(changes: Iterable[Change]) -> tuple[Change, ...]:
    """``changes``, what ends access first; the plan's order within each kind."""
    return tuple(sorted(changes, key=urgency))


def deferral_text(count: int, limits: WriteLimits, allowed: int) -> str:
    """Why ``count`` changes wait for the next run."""
    if allowed < limits.per_minute:
        limit = f"{limits.per_hour} content-creating requests an hour"
    else:
        limit = f"{limits.per_minute} content-creating requests a minute"
    return f"deferred: {count} changes over GitHub's limit of {limit}; the next run makes them"


def cut(plan: Plan, limits: WriteLimits, made_last_hour: int = 0) -> Plan:
    """``plan`` with at most the changes one run may make, what ends access first; the
    rest are ``deferred`` with the reason. A plan within the limits is kept as it is."""
    allowed = limits.allowed(made_last_hour)
    if len(plan.changes) <= allowed:
        return plan
    changes = ordered(plan.changes)
    ending = tuple(c for c in changes if _always_made(c))
    others = tuple(c for c in changes if not _always_made(c))
    room = max(allowed - len(ending), 0)
    rest = others[room:]
    if not rest:
        return plan
    return replace(
        plan,
        changes=ending + others[:room],
        deferred=rest,
        deferral=deferral_text(len(rest), limits, allowed),
    )


def _always_made(change: Change) -> bool:
    """Changes no limit defers: every removal and cancelled invitation (expiries, revokes,
    drift), since ending access is the safe direction; only what gives access waits."""
    return change.action in ("remove", "cancel_invitation")


def made_since(events: Iterable[Entry], since: datetime, until: datetime) -> int:
    """Changes the audit log shows were started from ``since`` up to ``until`` (the run's
    clock): what this hour's limit has already spent. A line dated after ``until`` was
    not made in this hour, whatever it says."""
    return sum(isinstance(e, ChangeStarted) and since <= e.ts <= until for e in events)
