"""``grantops plan`` and ``grantops apply``: compare, show, and (with ``--yes``) change.

``plan`` never mutates. ``apply`` prints the same plan and changes nothing unless
``--yes`` is given; then it applies exactly that plan, one change at a time, under a
lock, after the approval proof and the safety brakes have passed.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grantops import actions, gitrepo, planview, safety, savedplan
from grantops.access import AccessKey, Target
from grantops.actual import ActualState
from grantops.audit import committed
from grantops.audit.keyed import key_from
from grantops.audit.log import (
    AuditLog,
    Event,
    Verification,
    honoured_grantables,
    invitations_sent,
    verify,
)
from grantops.audit.record import Recorder, run_id
from grantops.commands.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNSAFE,
    Io,
    add_api_options,
    github_client,
    problem_json,
    show_warnings,
)
from grantops.commands.trail import finish
from grantops.constants import LOG_PATH, POLICY_PATH
from grantops.errors import InvalidInput, Problem, UnsafePlan, UsageError
from grantops.github import GitHub
from grantops.gitrepo import GitError
from grantops.load import Loaded, Tree, read_tree
from grantops.lock import apply_lock
from grantops.model import Policy
from grantops.plan import Outcome, Plan
from grantops.planning import Planning, build_plan, only_expiries
from grantops.proof import evidence
from grantops.proof.holds import held, logged_versions
from grantops.proof.prover import AccessRepo, Proof, Prover
from grantops.reconcile import ProveExpiries, apply_plan, plan_live
from grantops.sandbox.fixtures import SandboxState
from grantops.statefile import actual_from_state, read_state_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    plan = sub.add_parser("plan", parents=[common], help="show what apply would change")
    plan.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="read actual access from this state file instead of GitHub",
    )
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 4 when the plan has changes"
    )
    plan.add_argument(
        "--out", type=Path, metavar="FILE", help="write the plan with a checksum, for apply --plan"
    )
    plan.add_argument(
        "--preview",
        action="store_true",
        help="a pull request's plan: assume its grants approved (plan only)",
    )
    apply = sub.add_parser("apply", parents=[common], help="change GitHub to match the plan")
    apply.add_argument("--yes", action="store_true", help="really change access (default: dry run)")
    apply.add_argument(
        "--plan",
        type=Path,
        metavar="FILE",
        help="apply only if the plan is still exactly this reviewed plan file",
    )
    for parser in (plan, apply):
        add_api_options(parser)
        parser.add_argument(
            "--repo",
            metavar="OWNER/NAME",
            help="the access repository whose reviews prove each grant "
            "(default: $GITHUB_REPOSITORY)",
        )
        parser.add_argument(
            "--branch",
            help="its protected branch (default: $GITHUB_REF_NAME, else the checked-out branch)",
        )
        parser.add_argument(
            "--allow-mass-removal",
            action="store_true",
            help="override the removal brakes (recorded in the output)",
        )


@dataclass
class _Run:
    loaded: Loaded
    planning: Planning
    actual: ActualState
    github: GitHub | None
    proof: Proof | None
    verdict: safety.Verdict
    notes: list[str]
    problems: tuple[Problem, ...] = ()
    """Every problem of every file under grants/, errors included: each file with an
    error gives nothing, and the run goes on with the rest."""
    repo: AccessRepo | None = None
    events: list[Event] = field(default_factory=list)
    """The audit log as read before this run: the lines its checks vouch for."""
    trusted: bool = True
    """The log passed its checks, so what it says was sent or recorded can be relied on."""
    log_key: bytes | None = None
    """The key this run's log lines are MACed with. None for a log with no MAC that is
    not a log from before the key: a keyed line after it would vouch for every line
    above, so it would anchor whatever anyone pushed."""
    unchecked: bool = False
    """Some ended grant version could not be judged, so its access was left in place."""
    invitation_ids: Mapping[AccessKey, int] = field(default_factory=dict)
    """Pending invitations' ids as the read found them, for cancelling them."""


def _prepare(args: argparse.Namespace, now: datetime, io: Io) -> _Run:
    tree = read_tree(args.root, now)
    notes: list[str] = []
    if getattr(args, "state", None) is not None:
        if tree.policy is None:
            raise InvalidInput(list(tree.problems))
        loaded = Loaded(tree.policy, tree.grants, tree.warnings)
        state = read_state_file(args.state, SandboxState)
        if state.org.lower() != loaded.policy.org.lower():
            raise UsageError(
                f"the state file is for org '{state.org}' but the policy manages "
                f"'{loaded.policy.org}'"
            )
        actual = actual_from_state(state)
        notes.append("approval not checked: an offline plan trusts every grant on the branch")
        planning = build_plan(loaded, actual, now)
        verdict = safety.check(
            loaded.policy, planning.desired, actual, planning.plan, args.allow_mass_removal
        )
        planning = _braked(planning, verdict)
        return _Run(loaded, planning, actual, None, None, verdict, notes, tree.problems)
    github = github_client(args, io)
    try:
        repo = _access_repo(args, io)
        key = key_from(io.environ)
        trail = verify(args.root / LOG_PATH, key)
        first_keyed = trail.ok and trail.anchored is False and _before_the_key(args.root)
        limits: tuple[str, ...] = ()
        if not trail.trusted and not first_keyed:
            where = f"{LOG_PATH}:{trail.bad_line}" if trail.bad_line else LOG_PATH
            limits = (
                f"{where} fails its checks ({trail.reason}); only expiries until it is "
                "repaired (run grantops audit verify and find out who changed it)",
            )
        # Only lines the log's checks vouch for may inform a decision.
        events = trail.events if trail.anchored is not False or first_keyed else []
        proof = prover = None
        if repo is not None:
            prover = Prover(args.root, github, repo, key)
            proof = prover.prove(tree, now, logged_versions(events))
            if proof.off:
                notes.append(
                    "WARNING: approval.required is 0 (in a reviewed policy): approval proof "
                    "is OFF and every grant on the branch is honoured without checking its "
                    "review"
                )
        else:
            notes.append(
                "preview: every grant is assumed approved, as this pull request's will be "
                "once it is reviewed and merged"
            )
        policy, limited = _planning_policy(tree, proof)
        unchecked: list[str] = []
        loaded = Loaded(policy, tree.grants, tree.warnings)
        checked = proof is not None and not proof.off
        live = plan_live(
            loaded,
            github,
            now,
            proof.grants if proof is not None and checked else None,
            invitations_sent(events),
            _expiry_prover(prover, proof, policy, now, unchecked),
            _holds(proof, policy, now, _vouched(trail, events)) if proof and checked else None,
            (*limited, *limits),
            first=_logged_targets(events, policy.org),
        )
    except BaseException:
        github.close()
        raise
    verdict = safety.check(
        loaded.policy, live.planning.desired, live.actual, live.plan, args.allow_mass_removal
    )
    notes += [f"WARNING: could not check whether access ended: {why}" for why in unchecked]
    return _Run(
        loaded,
        _braked(live.planning, verdict),
        live.actual,
        github,
        proof,
        verdict,
        notes,
        tree.problems,
        repo,
        events,
        trail.trusted or first_keyed,
        key if trail.anchored is not False or first_keyed else None,
        bool(unchecked),
        live.invitation_ids,
    )


def _before_the_key(root: Path) -> bool:
    """A log without any MAC is one from before the key was set (the first keyed run
    anchors it) only when its git history is append-only and never held a MAC."""
    try:
        history = committed.check(root / LOG_PATH)
    except GitError:
        return False
    return history.checked and history.ok and not history.keyed


def _braked(planning: Planning, verdict: safety.Verdict) -> Planning:
    """When the brakes refuse the plan, access whose proven grant has ended still ends.

    The brakes guard against removing what nobody meant to remove; an expiry is meant.
    Anyone who can delete others' grant files could otherwise stop every expiry.
    """
    if verdict.safe or planning.plan.limits:  # already only expiries
        return planning
    refused = "; ".join(r.message for r in verdict.refusals)
    reason = f"the removal brakes refused the plan ({refused}); only expiries were planned"
    return replace(planning, plan=only_expiries(planning.plan, (reason,)))


def _expiry_prover(
    prover: Prover | None,
    proof: Proof | None,
    policy: Policy,
    now: datetime,
    unchecked: list[str],
) -> ProveExpiries | None:
    """How this run tells expiries from drift; ended versions it could not judge are
    added to ``unchecked``, so the run can say so."""
    if prover is None or proof is None or proof.off:
        return None
    logged = {version.commit for version in proof.logged.values()}

    def prove_ended(wanted: Collection[AccessKey]) -> Mapping[AccessKey, str]:
        found = prover.expiries(proof.rules, policy.org, wanted, now, logged)
        unchecked.extend(found.unchecked)
        return found.ended

    return prove_ended


def _logged_targets(events: list[Event], org: str) -> set[Target]:
    """Where logged grants gave access: read first, since access may have to end there.

    Only an order of reading; what ends is decided from git and the reviews.
    """
    return {target for _, _, target in honoured_grantables(events) if target.org == org}


def _planning_policy(tree: Tree, proof: Proof | None) -> tuple[Policy, tuple[str, ...]]:
    """The policy this run plans with, and what limits the run to expiries.

    A policy that is not proven reviewed must not decide anything new, but it must not
    stop access from ending either: the run then plans with the newest proven version
    and makes only expiries (removals of access whose proven grant has ended). When no
    version is proven at all, the file as it stands gives the org and scope, but none of
    its protected accounts or baseline: either could shield someone's ended grant.
    """
    if proof is None or proof.policy.approved:
        if tree.policy is None:
            raise InvalidInput(list(tree.problems))
        return tree.policy, ()
    reason = f"{POLICY_PATH} is not proven reviewed ({proof.policy.reason})"
    if tree.policy is None:
        reason = f"{POLICY_PATH} is invalid (see the problems above)"
    if proof.trusted is not None:
        return proof.trusted, (
            f"{reason}; only expiries were planned, with its newest proven version",
        )
    if tree.policy is None:
        raise InvalidInput(list(tree.problems))
    bare = Policy.model_validate({**tree.policy.model_dump(), "protected": [], "baseline": []})
    return bare, (
        f"{reason}; only expiries were planned, with it as it stands but without its "
        "protected accounts and baseline (no version is proven)",
    )


def _vouched(trail: Verification, events: list[Event]) -> dict[str, str]:
    """The newest proven version of each grant file, as only MACed log lines name it."""
    if trail.anchored is not True:
        return {}
    return logged_versions(events[(trail.anchored_from or 1) - 1 :])


def _holds(
    proof: Proof, policy: Policy, now: datetime, vouched: Mapping[str, str]
) -> dict[AccessKey, str]:
    holds = held(proof.grants, proof.logged, policy.org, now, vouched)
    return {key: hold.reason for key, hold in holds.items()}


def _access_repo(args: argparse.Namespace, io: Io) -> AccessRepo | None:
    """The access repository whose reviews prove the policy and grants; None for a preview.

    The policy is always proven, even when it says ``approval.required: 0``: otherwise a
    direct push of that one line would switch review off for everything.
    """
    if getattr(args, "preview", False):
        return None
    slug = args.repo or io.environ.get("GITHUB_REPOSITORY")
    if not slug:
        raise UsageError(
            "set --repo OWNER/NAME (or GITHUB_REPOSITORY) to the access repository, so each "
            "grant's review can be checked"
        )
    branch = args.branch or io.environ.get("GITHUB_REF_NAME") or gitrepo.current_branch(args.root)
    try:
        return AccessRepo.parse(slug, branch)
    except ValueError as exc:
        raise UsageError(f"--repo: {exc}") from None


def _document(run: _Run, extra: dict[str, Any]) -> dict[str, Any]:
    document = run.planning.plan.to_json()
    document["unreadable"] = {str(t): r for t, r in sorted(run.actual.unreadable.items())}
    document["safety"] = {
        "refusals": [{"rule": r.rule, "message": r.message} for r in run.verdict.refusals],
        "overridden": run.verdict.overridden,
    }
    document["notes"] = run.notes
    document["problems"] = [problem_json(p) for p in run.problems]
    return {**document, **extra}


def _show(io: Io, args: argparse.Namespace, run: _Run) -> None:
    show_warnings(io, run.problems)
    errors = sum(p.severity == "error" for p in run.problems)
    if errors:
        io.err(f"grantops: {errors} error(s) in grant files; each such file gives nothing")
    for note in run.notes:
        io.err(note)
    if args.json:
        return
    io.out(planview.plan_text(run.planning.plan))
    if run.actual.unreadable:
        io.err(planview.unreadable_text(run.actual.unreadable))
    for refusal in run.verdict.refusals:
        prefix = "Overridden by --allow-mass-removal" if run.verdict.overridden else "Refused"
        io.err(f"{prefix}: {refusal.message}")
    for limit in run.planning.plan.limits:
        io.err(f"Limited: {limit}")
    if run.planning.plan.withheld:
        io.err(_withheld_text(run.planning.plan))
    if io.in_actions:
        actions.append_summary(io.environ, planview.plan_markdown(run.planning.plan))


def _withheld_text(plan: Plan) -> str:
    lines = ["Withheld until the limits above are lifted:"]
    lines += [
        f"  {c.action} {c.principal} on {c.target} ({c.cause}, {c.source or 'no file'})"
        for c in plan.withheld
    ]
    return "\n".join(lines)


def _exit_code(run: _Run, failed: bool = False) -> int:
    """3 when the run was limited to expiries; 1 for any other part it could not do
    (a file with an error, a review it could not check, a target it could not read)."""
    if run.planning.plan.limits:
        return EXIT_UNSAFE
    errors = any(p.severity == "error" for p in run.problems)
    unchecked = run.unchecked or (
        run.proof is not None and any(v.undecided for v in run.proof.grants.values())
    )
    return EXIT_ERROR if failed or errors or unchecked or run.actual.unreadable else EXIT_OK


def run_plan(args: argparse.Namespace, now: datetime, io: Io) -> int:
    run = _prepare(args, now, io)
    if run.github is not None:
        run.github.close()
    _show(io, args, run)
    if args.json:
        io.json(_document(run, {}))
    if args.out is not None:
        savedplan.write(
            args.out, run.planning.plan, savedplan.actual_digest(run.loaded.policy, run.actual)
        )
        io.err(f"wrote {args.out}: apply it with grantops apply --plan {args.out} --yes")
    code = _exit_code(run)
    if code == EXIT_OK and args.detailed_exitcode and run.planning.plan.changes:
        return EXIT_CHANGES
    return code


def run_apply(args: argparse.Namespace, now: datetime, io: Io) -> int:
    run = _prepare(args, now, io)
    github = run.github
    assert github is not None  # apply always reads GitHub
    try:
        return _apply(args, now, io, run, github)
    finally:
        github.close()


def _apply(args: argparse.Namespace, now: datetime, io: Io, run: _Run, github: GitHub) -> int:
    plan = run.planning.plan
    _show(io, args, run)
    if args.plan is not None:
        savedplan.verify(args.plan, plan, savedplan.actual_digest(run.loaded.policy, run.actual))
    if not args.yes:
        if args.json:
            io.json(_document(run, {"applied": False}))
        elif plan.changes:
            count = len(plan.changes)
            io.out(f"\nDry run: nothing was changed. Run with --yes to apply {count} change(s).")
        return _exit_code(run)
    with apply_lock(args.root, now):
        log_path = args.root / LOG_PATH
        recorder = Recorder(
            AuditLog(log_path, run.log_key),
            run_id(io.environ, now),
            lambda: datetime.now(UTC),
        )
        recorder.run_start(plan, run.verdict, [*run.notes, *(f"limited: {x}" for x in plan.limits)])
        if run.proof is not None and run.trusted:
            recorder.approvals(run.loaded.grants, run.proof.grants, run.events, plan.org)
        if plan.changes and not args.json:
            io.out("\nApplying:")
        report = (lambda o: None) if args.json else (lambda o: io.out(planview.outcome_line(o)))
        pulls = {path: e.pull for path, e in run.proof.proven.items()} if run.proof else {}
        outcomes = apply_plan(
            plan, github, run.invitation_ids, report=report, recorder=recorder, pulls=pulls
        )
        finished = finish(
            root=args.root,
            now=now,
            io=io,
            loaded=run.loaded,
            planning=run.planning,
            actual=run.actual,
            proof=run.proof,
            repo=run.repo,
            github=github,
            outcomes=outcomes,
            recorder=recorder,
            events=run.events,
            trusted=run.trusted,
        )
        recorder.run_end(outcomes)
    if run.proof is not None and run.trusted:  # a cache; never written into a broken audit/
        proven = [*run.proof.proven.values(), *run.proof.history]
        evidence.save(args.root, proven, key_from(io.environ))
    if args.json:
        io.json(_document(run, {"applied": True, "outcomes": [_outcome_json(o) for o in outcomes]}))
    else:
        if outcomes:
            io.out(planview.outcomes_summary(outcomes))
        sent = f"; {finished.notices} notice(s) posted" if finished.notices else ""
        written = finished.report.relative_to(args.root).as_posix()
        if finished.recorded:
            io.out(f"Audit: {LOG_PATH} appended, {written} rewritten{sent}.")
        else:
            io.out(f"Audit: nothing new to record; {LOG_PATH} and {written} left as they were.")
    return _exit_code(run, failed=any(o.result == "failed" for o in outcomes))


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.change.to_json(), "result": outcome.result, "detail": outcome.detail}


__all__ = ["UnsafePlan", "register", "run_apply", "run_plan"]
