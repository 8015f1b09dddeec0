"""Who had access to what at one moment: the question an auditor asks first (pure).

Three sources answer it: the baseline of the policy in force at that moment (permanent
access, declared and reviewed), access the audit log shows added and not yet removed
(grants that were actually applied, not merely approved), and the team memberships
either of them gives, through which a team's access reaches each member. Access added by
hand outside grantops is in the log only from when a run found it, as drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from grantops.access import Principal
from grantops.audit.events import Entry
from grantops.audit.history import Version, access_periods
from grantops.model import Policy


@dataclass(frozen=True)
class Holding:
    principal: str
    target: str
    level: str
    via: str
    """``baseline``, the grant file, or ``team:slug`` and what gave the team access."""
    since: datetime | None
    """When the log shows it added; None for the baseline."""
    version: Version | None = None


def access_at(policy: Policy | None, events: Sequence[Entry], at: datetime) -> list[Holding]:
    """Everything held at ``at``, teams expanded to the members known then."""
    direct = _baseline(policy) if policy else []
    declared = {(h.principal, h.target) for h in direct}
    for period in access_periods(events, datetime.min.replace(tzinfo=UTC), at):
        if (
            period.end is not None
            or period.pending
            or (period.principal, period.target) in declared
        ):
            continue
        via = period.source or "baseline (logged)"
        direct.append(
            Holding(
                period.principal, period.target, period.level, via, period.start, period.version
            )
        )
    return sorted(direct + through_teams(direct), key=lambda h: (h.target, h.principal, h.via))


def _baseline(policy: Policy) -> list[Holding]:
    return [
        Holding(str(principal), str(target), level, "baseline", None)
        for entry in policy.baseline
        for principal, target, level in entry.grantables(policy.org)
    ]


def through_teams(direct: Sequence[Holding]) -> list[Holding]:
    """Each team's access as each known member holds it."""
    members: dict[str, list[Holding]] = {}
    for held in direct:
        if held.target.startswith("team:"):
            members.setdefault(_team_of(held.target), []).append(held)
    return [
        Holding(member.principal, held.target, held.level, f"{held.principal} ({held.via})", None)
        for held in direct
        for member in members.get(held.principal, [])
    ]


def teams_without_members(holdings: Sequence[Holding]) -> list[str]:
    """Teams holding access whose members neither the policy nor the log names."""
    teams = {h.principal for h in holdings if h.principal.startswith("team:")}
    known = {_team_of(h.target) for h in holdings if h.target.startswith("team:")}
    return sorted(teams - known)


def _team_of(target: str) -> str:
    """``team:org/slug`` (a membership's target) as the principal it makes: ``team:slug``."""
    return str(Principal.team(target.partition("/")[2]))
