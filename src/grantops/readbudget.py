"""Which targets a run can afford to read, from the rate limit left when it starts.

A run asks GitHub for its budget first (``GET /rate_limit``, which costs nothing). When
what is left, less the reserve kept for changes, cannot cover a full read, the targets
where access is due to end or start (``first``) are read, then the others in order as
far as the estimate reaches; the rest are left unread, with the reason, and read on a
later run. Unread targets are *unreadable*: nothing is added or removed there.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from grantops.access import Target

REST_PER_TARGET = 3
"""REST requests one target costs to read: a repository's collaborators, teams and
invitations; a team's maintainers, members and pending invitations."""
GRAPHQL_TARGETS_PER_POINT = 100
"""Repositories one GraphQL query of cost 1 reads (100 to a page, 100 collaborators each)."""


@dataclass(frozen=True)
class Budget:
    """What is left of one rate limit, and in what unit."""

    left: int
    unit: str
    """``requests`` (REST) or ``points`` (GraphQL)."""
    per_target: float
    """The estimated cost of reading one target, in ``unit``."""


def rest_budget(left: int) -> Budget:
    return Budget(left, "requests", REST_PER_TARGET)


def graphql_budget(left: int) -> Budget:
    return Budget(left, "points", 1 / GRAPHQL_TARGETS_PER_POINT)


def unaffordable(
    targets: Sequence[Target], first: Collection[Target], budget: Budget, reserve: int
) -> dict[Target, str]:
    """Targets the budget cannot read, each with why: none when it covers them all.

    Targets in ``first`` are always read (what ends access must not wait); the others
    in their order until the estimate reaches ``reserve``.
    """
    needed = math.ceil(budget.per_target * len(targets))
    if needed <= budget.left - reserve:
        return {}
    urgent = sum(target in first for target in targets)
    spare = budget.left - reserve - budget.per_target * urgent
    affordable = max(math.floor(spare / budget.per_target), 0)
    others = [target for target in targets if target not in first]
    why = (
        f"not read: {budget.left} {budget.unit} of the rate limit were left at the start, "
        f"short of the ~{needed} a full read of {len(targets)} targets needs with "
        f"{reserve} kept for changes; targets where access ends or starts were read first; "
        "read on a later run"
    )
    return dict.fromkeys(others[affordable:], why)
