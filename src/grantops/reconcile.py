"""Plan and apply against a live GitHub: the glue between the pure core and the client.

Reading, planning and applying stay separate steps, so ``plan`` never mutates and
``apply`` changes exactly the plan it printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

from grantops.access import AccessKey, Principal, Target
from grantops.approval import Approval
from grantops.audit.record import Recorder
from grantops.github import GitHub, Outcome
from grantops.load import Loaded
from grantops.pipeline import Planning, build_plan
from grantops.plan import Honoured, Plan
from grantops.state import ActualState


@dataclass(frozen=True)
class LivePlan:
    planning: Planning
    actual: ActualState

    @property
    def plan(self) -> Plan:
        return self.planning.plan


def plan_live(
    loaded: Loaded,
    github: GitHub,
    now: datetime,
    approvals: Mapping[str, Approval] | None = None,
    invitations_sent: Mapping[tuple[Principal, Target, str | None], int] | None = None,
    proven: AbstractSet[Honoured] = frozenset(),
    logged_ended: Mapping[AccessKey, str] | None = None,
    held: Mapping[AccessKey, str] | None = None,
    limits: tuple[str, ...] = (),
) -> LivePlan:
    """Read GitHub, plan, and settle collaborators whose level is inherited.

    GitHub reports a direct collaborator at the highest level of all their sources, so a
    first plan may propose lowering someone whose higher level really comes from a team.
    Only those few keys are checked (a handful of requests), then the plan is made again.
    The other arguments go to :func:`build_plan` as given. Targets where access is due
    to end are read first, so a read cut short by the rate limit still covers them.
    """

    first = {target for _, target in (logged_ended or {})}
    first |= {target for (_, target), _ in _ended_at_head(loaded, now)}
    read = github.read(loaded.policy, first=first)
    actual, limits = read.actual, (*limits, *read.limits)

    def plan(actual: ActualState) -> Planning:
        return build_plan(
            loaded, actual, now, approvals, invitations_sent, proven, logged_ended, held, limits
        )

    planning = plan(actual)
    levels = loaded.policy.levels
    suspects = [
        (c.principal, c.target)
        for c in planning.plan.changes
        if c.action == "update"
        and c.principal.kind == "user"
        and c.target.kind == "repo"
        and levels.rank("repo", c.after or "") < levels.rank("repo", c.before or "")
    ]
    if suspects:
        inherited = github.inherited_levels(loaded.policy, actual, suspects)
        if inherited:
            actual = replace(actual, inherited=inherited)
            planning = plan(actual)
    return LivePlan(planning, actual)


def _ended_at_head(loaded: Loaded, now: datetime) -> list[tuple[AccessKey, str]]:
    return [
        ((principal, target), grant.path)
        for grant in loaded.grants
        if grant.expires <= now
        for principal, target, _level in grant.grantables(loaded.policy.org)
    ]


def apply_plan(
    plan: Plan,
    github: GitHub,
    report: Callable[[Outcome], None] = lambda outcome: None,
    recorder: Recorder | None = None,
    pulls: Mapping[str, int] | None = None,
) -> list[Outcome]:
    """Apply every change in order, one at a time; a failure does not stop the rest.

    With a ``recorder``, the intent is logged (and synced) before each change and the
    outcome after it, each with the pull request of the grant behind the change.
    """
    outcomes = []
    for change in plan.changes:
        pull = (pulls or {}).get(change.source or "")
        change_id = recorder.change_started(change, pull) if recorder else ""
        outcome = github.apply(plan.org, change)
        if recorder:
            recorder.outcome(outcome, change_id, pull)
        report(outcome)
        outcomes.append(outcome)
    return outcomes
