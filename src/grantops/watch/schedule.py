"""When access next changes by the clock: the starts and ends of grant windows.

Pure: from the grant files (windows opened by the approval proof) and a given ``now``,
the instants after ``now`` at which some access must start or end, each with that
access. ``grantops watch`` sleeps until the next one and reconciles just that access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from grantops.access import AccessKey
from grantops.model import Grant, Policy


@dataclass(frozen=True)
class Edge:
    """One instant at which windows open or close."""

    at: datetime
    starts: frozenset[AccessKey] = frozenset()
    """Access whose window opens at ``at``."""
    ends: frozenset[AccessKey] = frozenset()
    """Access whose window closes at ``at``."""

    @property
    def keys(self) -> frozenset[AccessKey]:
        return self.starts | self.ends

    def kind_of(self, key: AccessKey) -> str:
        """``start`` or ``end``: which edge ``key`` is at here (an end wins a tie: the
        end of one window and the start of the next one the same instant)."""
        return "end" if key in self.ends else "start"


@dataclass
class _Collecting:
    starts: set[AccessKey] = field(default_factory=set)
    ends: set[AccessKey] = field(default_factory=set)


def edges(
    policy: Policy,
    grants: Iterable[Grant],
    now: datetime,
    approved: Callable[[Grant], bool] = lambda grant: True,
) -> list[Edge]:
    """Every start and end after ``now`` of the grants ``approved`` says were reviewed,
    in managed scope, grouped by instant and in order.

    A ``duration:`` grant whose approving merge is not known (pending) has no window
    yet: the proof that finds its merge opens it, and the schedule is made again then.
    """
    found: dict[datetime, _Collecting] = {}
    for grant in grants:
        if grant.pending or not approved(grant):
            continue
        keys = {(p, t) for p, t, _ in grant.grantables(policy.org) if policy.in_scope(t)}
        starts, expires = grant.starts, grant.expires
        if expires is None or not keys or (starts is not None and starts >= expires):
            continue
        if starts is not None and starts > now:
            found.setdefault(starts, _Collecting()).starts.update(keys)
        if expires > now:
            found.setdefault(expires, _Collecting()).ends.update(keys)
    return [Edge(at, frozenset(c.starts), frozenset(c.ends)) for at, c in sorted(found.items())]
