"""Desired access at a moment: the baseline plus every grant open at ``now`` (pure).

This is the single definition of who *should* have access. Grants reach it only after
the approval step has filtered them, so an unreviewed file can never add access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from grantops.access import AccessKey
from grantops.constants import POLICY_PATH
from grantops.model import Grant, Policy

DesiredCause = Literal["grant", "baseline"]


@dataclass(frozen=True)
class Desired:
    """The level one principal should have on one target, and the source that wins."""

    level: str
    cause: DesiredCause
    source: str


@dataclass(frozen=True)
class DesiredState:
    """Desired access by key, plus the keys of grants that have already ended.

    ``ended`` lets the plan tell an expiry (routine, never braked) from undeclared
    drift, and ``upcoming`` lists grants that have not opened yet, for reports (a
    ``duration:`` grant whose approving merge is not known yet among them).
    """

    access: dict[AccessKey, Desired]
    ended: dict[AccessKey, str]
    upcoming: tuple[Grant, ...] = ()


def desired_access(policy: Policy, grants: Iterable[Grant], now: datetime) -> DesiredState:
    """Baseline plus grants with ``starts <= now < expires``; the highest level wins per key.

    Ties between equal levels go to the baseline, then to the grant file that sorts first,
    so the chosen ``source`` is deterministic.
    """
    levels = policy.levels
    access: dict[AccessKey, Desired] = {}
    ended: dict[AccessKey, str] = {}
    upcoming: list[Grant] = []

    def offer(key: AccessKey, candidate: Desired) -> None:
        current = access.get(key)
        kind = key[1].kind
        if current is None or levels.rank(kind, candidate.level) > levels.rank(kind, current.level):
            access[key] = candidate

    for entry in policy.baseline:
        for principal, target, level in entry.grantables(policy.org):
            offer((principal, target), Desired(level, "baseline", POLICY_PATH))
    for grant in sorted(grants, key=lambda g: g.path):
        grantables = grant.grantables(policy.org)
        if grant.active_at(now):
            for principal, target, level in grantables:
                offer((principal, target), Desired(level, "grant", grant.path))
        elif grant.ended_at(now):
            for principal, target, _level in grantables:
                ended.setdefault((principal, target), grant.path)
        else:
            upcoming.append(grant)
    return DesiredState(access, ended, tuple(upcoming))
