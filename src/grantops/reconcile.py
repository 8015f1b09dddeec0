"""Plan and apply against a live GitHub: the glue between the pure core and the client.

Reading, planning and applying stay separate steps, so ``plan`` never mutates and
``apply`` changes exactly the plan it printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

from grantops.access import Principal, Target
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
) -> LivePlan:
    """Read GitHub, plan, and settle collaborators whose level is inherited.

    GitHub reports a direct collaborator at the highest level of all their sources, so a
    first plan may propose lowering someone whose higher level really comes from a team.
    Only those few keys are checked (a handful of requests), then the plan is made again.
    ``approvals``, ``invitations_sent`` and ``proven`` go to :func:`build_plan` as given.
    """
    actual = github.read(loaded.policy).actual
    planning = build_plan(loaded, actual, now, approvals, invitations_sent, proven)
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
            planning = build_plan(loaded, actual, now, approvals, invitations_sent, proven)
    return LivePlan(planning, actual)


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
