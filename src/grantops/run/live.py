"""Plan and apply against a live GitHub: the glue between the pure core and the client.

Reading, planning and applying stay separate steps, so ``plan`` never mutates and
``apply`` changes exactly the plan it printed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from grantops import sweep
from grantops.access import AccessKey, Levels, Principal, Target
from grantops.actual import ActualState, OrgFacts, ReadResult
from grantops.audit.record import Recorder
from grantops.desired import desired_access
from grantops.github.api import AccessReader, AccessWriter
from grantops.github.transport import GitHubError
from grantops.load import Loaded
from grantops.model import Grant, Policy
from grantops.plan import Outcome, Plan
from grantops.planning import Planning, build_plan
from grantops.proof.review import Judgement
from grantops.sweep import SweepNote


@dataclass(frozen=True)
class LivePlan:
    planning: Planning
    actual: ActualState
    invitation_ids: Mapping[AccessKey, int]
    """Pending invitations' ids as the read found them: cancelling one needs its id."""
    facts: OrgFacts | None = None
    """The org's owners, base role and coverage, as the read found them."""
    read: ReadResult | None = None
    """What the read found, for a later focused read to take the org from."""

    @property
    def plan(self) -> Plan:
        return self.planning.plan


@dataclass(frozen=True)
class Ended:
    """Access a reviewed grant version gave that has since ended, each with its file."""

    expired: Mapping[AccessKey, str] = field(default_factory=dict)
    """Its window closed (see :meth:`grantops.proof.prover.Prover.expiries`)."""
    revoked: Mapping[AccessKey, str] = field(default_factory=dict)
    """A reviewed pull request deleted its file (see
    :meth:`grantops.proof.prover.Prover.revokes`)."""


ProveEndings = Callable[[Collection[AccessKey]], Ended]
"""Given access a plan would remove as undeclared, which of it a reviewed grant version
gave that has ended or was revoked."""


def plan_live(
    loaded: Loaded,
    github: AccessReader,
    now: datetime,
    approvals: Mapping[str, Judgement] | None = None,
    invitations_sent: Mapping[tuple[Principal, Target, str | None], int] | None = None,
    prove_endings: ProveEndings | None = None,
    held: Mapping[AccessKey, str] | None = None,
    limits: tuple[str, ...] = (),
    first: Collection[Target] = (),
    pending: Collection[tuple[Principal, Target, str | None]] = (),
    known: ReadResult | None = None,
) -> LivePlan:
    """Read GitHub, plan, tell expiries from drift, and settle inherited levels.

    1. Read, targets where access is due to end first (grants at HEAD that have ended,
       and ``first``), so a read cut short by the rate limit still covers them.
    2. Plan. With approval proof on (``approvals`` given), every removal starts out as
       undeclared; ``prove_endings`` is asked which of those access a reviewed grant
       version gave that has ended or was revoked, only for access that is really there
       (or on a target that could not be read), so it costs requests only when something
       has to end.
    3. GitHub reports a direct collaborator at the highest level of all their sources, so
       the plan may propose lowering someone whose higher level really comes from a
       team. Only those few keys are checked (a handful of requests).
    4. Ask whether each user the plan adds to a repository is an org member: GitHub
       invites anyone else as an outside collaborator, which the plan shows.

    The plan is made again after steps 2 and 3 when they found anything; the other
    arguments go to :func:`build_plan` as given. With ``known`` (an earlier full read),
    only the policy's targets are read again (:meth:`AccessReader.read_again`), every
    repository's invitations listed: ``grantops watch`` at a window's start or end.
    """
    if known is not None:
        read = github.read_again(loaded.policy, known)
    else:
        read = _read(loaded, github, now, first, approvals, invitations_sent or {}, pending)
    actual, limits = read.actual, (*limits, *read.limits)
    endings = Ended()
    notes = _sweep_notes(loaded.policy, read, now)

    def plan(actual: ActualState) -> Planning:
        return _with_sweep(
            notes,
            build_plan(
                loaded,
                actual,
                now,
                approvals,
                invitations_sent,
                endings.expired,
                held,
                limits,
                revoked=endings.revoked,
            ),
        )

    planning = plan(actual)
    if approvals is not None and prove_endings is not None:
        wanted = _removed_as_drift(planning, actual)
        endings = prove_endings(wanted) if wanted else endings
        if endings.expired or endings.revoked:
            planning = plan(actual)
    suspects = _lowered_collaborators(planning.plan, loaded.policy.levels)
    if suspects:
        inherited = github.inherited_levels(loaded.policy, read, suspects)
        if inherited:
            actual = replace(actual, inherited=inherited)
            planning = plan(actual)
    answers = _memberships(github, loaded.policy.org, planning.plan)
    if answers:
        actual = replace(actual, membership=answers)
        planning = plan(actual)
    return LivePlan(planning, actual, read.invitation_ids, read.facts, read)


def _read(
    loaded: Loaded,
    github: AccessReader,
    now: datetime,
    first: Collection[Target],
    approvals: Mapping[str, Judgement] | None,
    sent: Collection[tuple[Principal, Target, str | None]],
    pending: Collection[tuple[Principal, Target, str | None]] = (),
) -> ReadResult:
    """Read GitHub: targets where access is due to end or start (reviewed grants open
    now) first; pending invitations of the repositories whose turn in the sweep it is,
    then of those the plan needs (:func:`grantops.sweep.needed`) that the sweep did not
    list.

    Only reviewed grants (when proof is on) make access missing: a pushed file naming a
    thousand repositories must not spend a thousand requests on every run.
    """
    policy = loaded.policy
    ended = desired_access(policy, loaded.grants, now).ended
    reviewed = _reviewed(loaded, approvals)
    starting = {
        target
        for grant in reviewed
        if grant.active_at(now)
        for _, target, _ in grant.grantables(policy.org)
    }
    due = {target for _, target in ended} | starting | set(first)
    read = github.read(
        policy, first=due, invitations=lambda t: sweep.due(t, policy.invitations, now)
    )
    desired = desired_access(policy, reviewed, now)
    wanted = sweep.needed(policy, loaded.grants, desired, read.actual.access, now, sent, pending)
    unlisted = wanted & read.actual.invitations_unlisted
    return read.with_invitations(github.read_invitations(policy, unlisted)) if unlisted else read


def _reviewed(loaded: Loaded, approvals: Mapping[str, Judgement] | None) -> list[Grant]:
    """The grants whose review was proven (every grant when proof is off)."""
    if approvals is None:
        return list(loaded.grants)
    return [g for g in loaded.grants if (v := approvals.get(g.path)) is not None and v.approved]


def _sweep_notes(policy: Policy, read: ReadResult, now: datetime) -> tuple[SweepNote, ...]:
    """The sweep of every managed repository the read found."""
    actual = read.actual
    repos = [Target.repo(policy.org, name) for name in read.repos if policy.repo_in_scope(name)]
    listed = {
        t for t in repos if t not in actual.invitations_unlisted and t not in actual.unreadable
    }
    return sweep.notes(policy.invitations, repos, listed, now)


def _with_sweep(notes: tuple[SweepNote, ...], planning: Planning) -> Planning:
    return replace(planning, plan=replace(planning.plan, sweep=notes))


def _memberships(github: AccessReader, org: str, plan: Plan) -> dict[str, bool]:
    """Org membership of the users ``plan`` adds to repositories and does not know yet.

    One question per user. When GitHub does not answer, the rest stay unknown (the plan
    says so) rather than spending requests on answers that will not come.
    """
    answers: dict[str, bool] = {}
    for principal, known in plan.membership.items():
        if known != "membership unknown":
            continue
        try:
            answers[principal.key] = github.is_org_member(org, principal.name)
        except GitHubError:
            break
    return answers


def _lowered_collaborators(plan: Plan, levels: Levels) -> list[AccessKey]:
    """Direct collaborators the plan would lower: their higher level may come from a team
    or the base role, which only GitHub can tell."""
    return [
        (c.principal, c.target)
        for c in plan.changes
        if c.action == "update"
        and c.principal.kind == "user"
        and c.target.kind == "repo"
        and levels.rank("repo", c.after or "") < levels.rank("repo", c.before or "")
    ]


def _removed_as_drift(planning: Planning, actual: ActualState) -> set[AccessKey]:
    """Access the plan removes as undeclared or changes, plus what may have to end blindly.

    A lowered level is an expiry when the grant that gave the higher one has ended.

    On a target that could not be read, nothing is known to be there; the access that
    grant files at HEAD say has ended there is what could still be removed.
    """
    plan = planning.plan
    lowered = {
        (c.principal, c.target)
        for c in (*plan.changes, *plan.withheld)
        if c.action == "update" or (c.cause == "undeclared" and c.action != "add")
    }
    blind = {key for key in planning.desired.ended if key[1] in actual.unreadable}
    return lowered | blind


def apply_plan(
    plan: Plan,
    github: AccessWriter,
    invitation_ids: Mapping[AccessKey, int],
    report: Callable[[Outcome], None] = lambda outcome: None,
    recorder: Recorder | None = None,
    pulls: Mapping[str, int] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> list[Outcome]:
    """Apply every change in order, one at a time; a failure does not stop the rest.

    With a ``recorder``, the intent is logged (and synced) before each change and the
    outcome after it, each with the pull request of the grant behind the change. Once
    ``stopping`` says so (a signal asked ``grantops watch`` to stop), no further change
    is started: the one in flight is finished and recorded.
    """
    outcomes = []
    for change in plan.changes:
        if stopping():
            break
        pull = (pulls or {}).get(change.source or "")
        change_id = recorder.change_started(change, pull) if recorder else ""
        outcome = github.apply(plan.org, change, invitation_ids)
        if recorder:
            recorder.outcome(outcome, change_id, pull)
        report(outcome)
        outcomes.append(outcome)
    return outcomes
