"""One run of grantops: the object that ``plan``, ``apply``, the demo and ``watch`` drive.

A run reconciles one access repository with GitHub at one instant. :meth:`Run.plan`
reads and decides, and changes nothing anywhere; :meth:`Run.apply` makes exactly the
plan it is given, under a lock, and records it. The command line only parses arguments,
builds a run, and prints what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grantops import safety
from grantops.access import AccessKey
from grantops.actual import ActualState, OrgFacts, ReadResult
from grantops.audit.events import Entry
from grantops.audit.log import (
    INVITATION_LIFETIME,
    AuditLog,
    honoured_grantables,
    invitations_sent,
    invitations_sent_since,
)
from grantops.audit.record import Recorder
from grantops.constants import LOG_PATH
from grantops.errors import Problem
from grantops.github.api import GitHubAPI
from grantops.load import Loaded, read_tree
from grantops.lock import apply_lock
from grantops.model import Policy
from grantops.plan import Outcome, Plan
from grantops.planning import Planning
from grantops.proof import evidence
from grantops.proof.holds import logged_versions
from grantops.proof.prover import AccessRepo, Proof, Prover
from grantops.run.aftermath import Before, Finished, finish
from grantops.run.focus import Focus
from grantops.run.live import Ended, ProveEndings, apply_plan, plan_live
from grantops.run.trust import LogTrust, braked, check_log, holds, logged_targets, planning_policy
from grantops.webhook import Webhook
from grantops.writebudget import WriteLimits, cut, made_since

PROOF_OFF = (
    "WARNING: approval.required is 0 (in a reviewed policy): approval proof is OFF and "
    "every grant on the branch is honoured without checking its review"
)


@dataclass(frozen=True)
class RunSettings:
    """What one run is asked to do."""

    root: Path
    """The access repository's checkout."""
    now: datetime
    """The instant every window is judged at."""
    repo: AccessRepo | None
    """Where the grant files are reviewed. None: every grant is assumed approved (a
    pull request's preview, or an offline plan), so the run may plan but not apply."""
    key: bytes | None = None
    """``GRANTOPS_EVIDENCE_KEY``: MACs the log's lines and the kept evidence."""
    allow_mass_removal: bool = False
    """Override the removal brakes (the override is recorded)."""
    run_id: str = "local"
    """How the log names this run (the Actions run's URL in a workflow)."""
    write_limits: WriteLimits = field(default_factory=WriteLimits)
    """GitHub's secondary limits on content-creating requests: changes over them wait
    for the next run."""
    focus: Focus | None = None
    """Only this access is read again and changed (``grantops watch`` at a window's start
    or end); None: every managed target."""
    chat: Webhook | None = None
    """Where chat notices go (``GRANTOPS_CHAT_WEBHOOK_URL``); None: no chat notices."""


@dataclass(frozen=True)
class Planned:
    """Everything :meth:`Run.plan` decided, and what it was decided from."""

    loaded: Loaded
    planning: Planning
    actual: ActualState
    invitation_ids: Mapping[AccessKey, int]
    """Pending invitations' ids as the read found them: cancelling one needs its id."""
    proof: Proof | None
    verdict: safety.Verdict
    log: LogTrust
    notes: list[str] = field(default_factory=list)
    problems: tuple[Problem, ...] = ()
    """Every problem of every file under grants/, errors included: each file with an
    error gives nothing, and the run goes on with the rest."""
    unchecked: bool = False
    """Some ended grant version could not be judged, so its access was left in place."""
    facts: OrgFacts | None = None
    """The org's owners, base role and coverage, for the audit log (None: not read)."""
    read: ReadResult | None = None
    """What the read found: a focused run later takes the org from it."""

    @property
    def plan(self) -> Plan:
        return self.planning.plan

    @property
    def incomplete(self) -> bool:
        """Some part could not be done: a file with an error, a review that could not be
        checked, a target that could not be read, access the policy refused to give."""
        errors = any(p.severity == "error" for p in self.problems)
        undecided = self.proof is not None and any(v.undecided for v in self.proof.grants.values())
        unread = bool(self.actual.unreadable)
        return errors or self.unchecked or undecided or unread or bool(self.plan.refused)


@dataclass(frozen=True)
class Applied:
    """What :meth:`Run.apply` did."""

    outcomes: list[Outcome]
    finished: Finished

    @property
    def failed(self) -> bool:
        return any(o.result == "failed" for o in self.outcomes)


class Run:
    """One reconcile of an access repository with GitHub.

    :meth:`plan` (changes nothing):

    1. **load** the policy and every grant file (:func:`grantops.load.read_tree`); a file
       with an error gives nothing and is reported, the rest still count;
    2. **check the log** (:func:`grantops.run.trust.check_log`): only lines its checks
       vouch for may inform a decision; a log that fails them limits the run to expiries;
    3. **prove** the policy and each grant from git history and GitHub's reviews
       (:class:`grantops.proof.prover.Prover`); an unproven policy limits the run to
       expiries, planned with its newest proven version;
    4. **read and plan** (:func:`grantops.run.live.plan_live`): read GitHub, targets
       where access ends first; plan from the honoured grants; tell expiries from drift
       by the ended grant versions in history; settle inherited levels;
    5. **brake** (:func:`grantops.safety.check`): a plan the removal brakes refuse keeps
       only its expiries;
    6. **keep within GitHub's write limits** (:func:`grantops.writebudget.cut`): changes
       over them, adds last, are deferred to the next run.

    :meth:`apply` (with the plan from :meth:`plan`):

    7. **lock** the checkout, so two runs never change access at once, and log the
       org's owners, base role and coverage when they differ from the log's last word;
    8. **apply** one change at a time, each logged (and synced) before it is made and
       its outcome after, with the pull request of the grant behind it;
    9. **record** newly proven grants, due notices on grant pull requests and in chat,
       and what grantees did in ended windows (:func:`grantops.run.aftermath.finish`);
    10. **report**: rewrite ``audit/report.md`` when the log changed, and keep the
       approval evidence for the next run.
    """

    def __init__(
        self,
        settings: RunSettings,
        github: GitHubAPI,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prover: Prover | None = None,
    ) -> None:
        self.settings = settings
        self.github = github
        self.clock = clock
        """Timestamps the log's lines (``settings.now`` is when windows are judged)."""
        self.prover = prover
        """Judges the grants against the checkout's history; runs over the same history
        may share one, so each question goes to GitHub once (``grantops watch``). One
        read before the checkout moved is replaced: it would judge new files by old
        history."""

    def plan(self) -> Planned:
        settings, github = self.settings, self.github
        tree = read_tree(settings.root, settings.now)
        log = check_log(settings.root, settings.key)
        notes: list[str] = []
        prover = proof = None
        if settings.repo is not None:
            prover = self.prover
            if prover is None or not prover.current():
                prover = Prover(settings.root, github, settings.repo, settings.key)
            self.prover = prover
            proof = prover.prove(tree, settings.now, logged_versions(log.events))
            if proof.off:
                notes.append(PROOF_OFF)
        policy, limited = planning_policy(tree, proof)
        focus = settings.focus
        if focus is not None:
            policy = policy.focused(focus.targets)
        grants = proof.windows(tree.grants) if proof is not None else tree.grants
        loaded = Loaded(policy, grants, tree.warnings)
        checked = proof if proof is not None and not proof.off else None
        unchecked: list[str] = []
        live = plan_live(
            loaded,
            github,
            settings.now,
            checked.grants if checked else None,
            invitations_sent(log.events),
            _ending_prover(prover, checked, policy, settings.now, log.events, unchecked),
            holds(checked, policy, settings.now, log) if checked else None,
            (*limited, *log.limits),
            first=logged_targets(log.events, policy.org),
            pending=invitations_sent_since(log.events, settings.now - INVITATION_LIFETIME),
            known=focus.known if focus is not None else None,
        )
        if focus is not None:
            live = replace(live, planning=focus.narrow(live.planning))
        verdict = safety.check(
            policy,
            live.planning.desired,
            live.actual,
            live.plan,
            settings.allow_mass_removal,
            focused=focus is not None,
        )
        notes += [f"WARNING: could not check whether access ended: {why}" for why in unchecked]
        planning = braked(live.planning, verdict)
        started = self.clock()
        recent = made_since(log.events, started - timedelta(hours=1), started)
        planning = replace(planning, plan=cut(planning.plan, settings.write_limits, recent))
        return Planned(
            loaded=loaded,
            planning=planning,
            actual=live.actual,
            invitation_ids=live.invitation_ids,
            proof=proof,
            verdict=verdict,
            log=log,
            notes=notes,
            problems=tree.problems,
            unchecked=bool(unchecked),
            facts=live.facts,
            read=live.read,
        )

    def apply(
        self,
        planned: Planned,
        on_outcome: Callable[[Outcome], None] = lambda outcome: None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> Applied:
        """Make ``planned``'s changes and record them; ``on_outcome`` hears of each.
        Once ``stopping`` says so, no further change is started."""
        settings, plan, proof = self.settings, planned.plan, planned.proof
        with apply_lock(settings.root, settings.now):
            log = AuditLog(settings.root / LOG_PATH, planned.log.key)
            recorder = Recorder(log, settings.run_id, self.clock)
            limits = [f"limited: {limit}" for limit in plan.limits]
            recorder.run_start(plan, planned.verdict, [*planned.notes, *limits])
            if proof is not None and planned.log.trusted:
                recorder.approvals(
                    planned.loaded.grants, proof.grants, planned.log.events, plan.org
                )
            if planned.facts is not None and planned.log.trusted:
                recorder.org_facts(planned.facts, planned.log.events, plan.org)
            pulls = {path: e.pull for path, e in proof.proven.items()} if proof else {}
            outcomes = apply_plan(
                plan, self.github, planned.invitation_ids, on_outcome, recorder, pulls, stopping
            )
            before = Before(
                planned.loaded,
                planned.planning,
                planned.actual,
                proof,
                planned.log.events,
                planned.log.trusted,
            )
            finished = finish(
                settings.root,
                settings.now,
                before,
                settings.repo,
                self.github,
                outcomes,
                recorder,
                settings.chat,
            )
            recorder.run_end(outcomes)
        if proof is not None and planned.log.trusted:  # a cache; never written into a broken audit/
            evidence.save(settings.root, [*proof.proven.values(), *proof.history], settings.key)
        return Applied(outcomes, finished)


def _ending_prover(
    prover: Prover | None,
    proof: Proof | None,
    policy: Policy,
    now: datetime,
    events: list[Entry],
    unchecked: list[str],
) -> ProveEndings | None:
    """How this run tells expiries and revokes from drift; ended versions and deletions it
    could not judge are added to ``unchecked``, so the run can say so.

    Expiries are looked for first; only what none explains is looked for among the
    deletions of grant files the log shows were honoured (``events``).
    """
    if prover is None or proof is None:
        return None
    logged = {version.commit for version in proof.logged.values()}
    known = honoured_grantables(events)

    def prove_ended(wanted: Collection[AccessKey]) -> Ended:
        expired = prover.expiries(proof.rules, policy.org, wanted, now, logged)
        rest = [key for key in wanted if key not in expired.ended]
        revoked = prover.revokes(proof.rules, policy.org, rest, now, known)
        unchecked.extend((*expired.unchecked, *revoked.unchecked))
        return Ended(expired.ended, revoked.ended)

    return prove_ended
