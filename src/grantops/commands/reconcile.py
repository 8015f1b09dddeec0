"""``grantops plan`` and ``grantops apply``: compare, show, and (with ``--yes``) change.

Both build one :class:`grantops.run.Run` from the arguments and print what it returns.
``plan`` never mutates. ``apply`` prints the same plan and changes nothing unless
``--yes`` is given; then the run applies exactly that plan, one change at a time,
under a lock, after the approval proof and the safety brakes have passed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from grantops import actions, gitrepo, planview, savedplan, webhook
from grantops.audit.keyed import key_from
from grantops.audit.record import run_id
from grantops.commands.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNSAFE,
    Io,
    MovedToAccessRepo,
    access_repo_slug,
    add_api_options,
    add_mutation_options,
    add_read_api_option,
    github_client,
    problem_json,
    show_warnings,
)
from grantops.constants import LOG_PATH, POLICY_PATH
from grantops.errors import UnsafePlan, UsageError
from grantops.github import GitHub, GitHubAPI
from grantops.github.fake import FakeGitHub
from grantops.load import load_policy_text, read_regular
from grantops.plan import Outcome, Plan
from grantops.proof.prover import AccessRepo
from grantops.run import Applied, Planned, Run, RunSettings
from grantops.sandbox.fixtures import SandboxRepoState, SandboxState
from grantops.statefile import TeamState, read_state_file

PREVIEW = (
    "preview: every grant is assumed approved, as this pull request's will be once it is "
    "reviewed and merged"
)
OFFLINE = "approval not checked: an offline plan trusts every grant on the branch"


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
    add_mutation_options(apply)
    for parser in (plan, apply):
        add_reconcile_options(parser)


def add_reconcile_options(parser: argparse.ArgumentParser) -> None:
    """What every command that reconciles takes: how to reach GitHub, where grants are
    reviewed, and the brakes' override (plan, apply and watch)."""
    add_api_options(parser)
    add_read_api_option(parser)
    parser.add_argument(
        "--access-repo",
        metavar="OWNER/NAME",
        help="the access repository whose reviews prove each grant "
        "(default: $GITHUB_REPOSITORY in GitHub Actions, else the remote origin)",
    )
    parser.add_argument("--repo", action=MovedToAccessRepo, help=argparse.SUPPRESS)
    parser.add_argument(
        "--branch",
        help="its protected branch (default: $GITHUB_REF_NAME in GitHub Actions, else the "
        "checked-out branch)",
    )
    parser.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="override the removal brakes (recorded in the output)",
    )


def run_settings(args: argparse.Namespace, now: datetime, io: Io) -> RunSettings:
    return RunSettings(
        root=args.root,
        now=now,
        repo=None if getattr(args, "state", None) else _access_repo(args, io),
        key=key_from(io.environ),
        allow_mass_removal=args.allow_mass_removal,
        run_id=run_id(io.environ, now),
        chat=webhook.from_environ(io.environ)[0],
    )


def _offline(args: argparse.Namespace, now: datetime) -> FakeGitHub:
    """GitHub as the state file describes it, for ``plan --state``.

    Only the policy is read here, for its org and scope; the run loads every file.
    """
    state = read_state_file(args.state, SandboxState)
    try:
        policy, _ = load_policy_text(POLICY_PATH, read_regular(str(args.root / POLICY_PATH)))
    except OSError:
        policy = None  # the run reports it, with every other problem
    if policy is not None:
        if state.org.lower() != policy.org.lower():
            raise UsageError(
                f"the state file is for org '{state.org}' but the policy manages '{policy.org}'"
            )
        # A state file lists access, not every repository and team: one it leaves out
        # has none (``snapshot`` writes only where there is access).
        repos = {name.lower() for name in state.repos}
        teams = {slug.lower() for slug in state.teams}
        for name in policy.managed.repos:
            if not any(ch in name for ch in "*?[") and name.lower() not in repos:
                state.repos[name] = SandboxRepoState()
        for slug in policy.managed.teams:
            if slug.lower() not in teams:
                state.teams[slug] = TeamState()
    github = FakeGitHub.from_state(state, now)
    github.whole = True
    return github


def _planned(args: argparse.Namespace, now: datetime, io: Io, github: GitHubAPI) -> Planned:
    settings = run_settings(args, now, io)
    planned = Run(settings, github).plan()
    if settings.repo is None:
        planned.notes.insert(0, OFFLINE if getattr(args, "state", None) else PREVIEW)
    return planned


def run_plan(args: argparse.Namespace, now: datetime, io: Io) -> int:
    offline = getattr(args, "state", None) is not None
    with _offline(args, now) if offline else github_client(args, io) as github:
        planned = _planned(args, now, io, github)
    show_plan(io, args, planned)
    if args.json:
        io.json(_document(planned, {}))
    if args.out is not None:
        digest = savedplan.actual_digest(planned.loaded.policy, planned.actual)
        savedplan.write(args.out, planned.plan, digest)
        io.err(f"wrote {args.out}: apply it with grantops apply --plan {args.out} --yes")
    alert(io, planned)
    code = _exit_code(planned)
    if code == EXIT_OK and args.detailed_exitcode and planned.plan.changes:
        return EXIT_CHANGES
    return code


def run_apply(args: argparse.Namespace, now: datetime, io: Io) -> int:
    with github_client(args, io) as github:
        run = Run(run_settings(args, now, io), github)
        planned = run.plan()
        show_plan(io, args, planned)
        plan = planned.plan
        if args.plan is not None:
            digest = savedplan.actual_digest(planned.loaded.policy, planned.actual)
            savedplan.verify(args.plan, plan, digest)
        if not args.yes:
            if args.json:
                io.json(_document(planned, {"applied": False}))
            elif plan.changes:
                count = len(plan.changes)
                io.out(
                    f"\nDry run: nothing was changed. Run with --yes to apply {count} change(s)."
                )
            alert(io, planned)
            return _exit_code(planned)
        chat_problem = webhook.from_environ(io.environ)[1]
        if chat_problem is not None:
            io.err(f"WARNING: {chat_problem}")
        if plan.changes and not args.json:
            io.out("\nApplying:")
        applied = run.apply(planned, _on_outcome(io, github, len(plan.changes), args.json))
    show_applied(io, args, planned, applied)
    alert(io, planned)
    return _exit_code(planned, failed=applied.failed)


def _on_outcome(io: Io, github: GitHub, total: int, quiet: bool) -> Callable[[Outcome], None]:
    """Print each outcome (unless ``quiet``: ``--json`` prints them all at the end) and
    show how many of the ``total`` changes are done, with the rate limit left."""
    done = 0

    def heard(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        github.progress.clear()
        if not quiet:
            io.out(planview.outcome_line(outcome))
        github.progress.update("applied", done, total, "changes", github.rate_limit_remaining)

    return heard


def show_applied(io: Io, args: argparse.Namespace, planned: Planned, applied: Applied) -> None:
    finished = applied.finished
    for warning in finished.warnings:
        io.err(warning)
    if io.in_actions:
        actions.append_summary(io.environ, finished.summary)
    if args.json:
        outcomes = [_outcome_json(o) for o in applied.outcomes]
        io.json(_document(planned, {"applied": True, "outcomes": outcomes}))
        return
    if applied.outcomes:
        io.out(planview.outcomes_summary(applied.outcomes))
    if planned.plan.deferral is not None:
        io.out(f"{planned.plan.deferral} (not a failure: the run still succeeds).")
    sent = f"; {finished.notices} notice(s) posted" if finished.notices else ""
    written = finished.report.relative_to(args.root).as_posix()
    if finished.recorded:
        io.out(f"Audit: {LOG_PATH} appended, {written} rewritten{sent}.")
    else:
        io.out(f"Audit: nothing new to record; {LOG_PATH} and {written} left as they were.")


def _access_repo(args: argparse.Namespace, io: Io) -> AccessRepo | None:
    """The access repository whose reviews prove the policy and grants; None for a preview.

    The policy is always proven, even when it says ``approval.required: 0``: otherwise a
    direct push of that one line would switch review off for everything.
    """
    if getattr(args, "preview", False):
        return None
    slug = access_repo_slug(args, io)
    if not slug:
        raise UsageError(
            "set --access-repo OWNER/NAME to the access repository, so each grant's review can "
            "be checked (no GitHub remote 'origin' names it)"
        )
    in_actions = io.environ.get("GITHUB_REF_NAME") if io.in_actions else None
    branch = args.branch or in_actions or gitrepo.current_branch(args.root)
    try:
        return AccessRepo.parse(slug, branch)
    except ValueError as exc:
        raise UsageError(f"--access-repo: {exc}") from None


def _document(run: Planned, extra: dict[str, Any]) -> dict[str, Any]:
    document = run.plan.to_json()
    document["unreadable"] = {str(t): r for t, r in sorted(run.actual.unreadable.items())}
    document["safety"] = {
        "refusals": [{"rule": r.rule, "message": r.message} for r in run.verdict.refusals],
        "overridden": run.verdict.overridden,
    }
    document["notes"] = run.notes
    document["problems"] = [problem_json(p) for p in run.problems]
    return {**document, **extra}


def show_plan(io: Io, args: argparse.Namespace, run: Planned) -> None:
    show_warnings(io, run.problems)
    errors = sum(p.severity == "error" for p in run.problems)
    if errors:
        io.err(f"grantops: {errors} error(s) in grant files; each such file gives nothing")
    for note in run.notes:
        io.err(note)
    if args.json:
        return
    io.out(planview.plan_text(run.plan))
    if run.actual.unreadable:
        io.err(planview.unreadable_text(run.actual.unreadable))
    for refusal in run.verdict.refusals:
        prefix = "Overridden by --allow-mass-removal" if run.verdict.overridden else "Refused"
        io.err(f"{prefix}: {refusal.message}")
    for limit in run.plan.limits:
        io.err(f"Limited: {limit}")
    if run.plan.withheld:
        io.err(_withheld_text(run.plan))
    if io.in_actions:
        actions.append_summary(io.environ, planview.plan_markdown(run.plan))


def _withheld_text(plan: Plan) -> str:
    lines = ["Withheld until the limits above are lifted:"]
    lines += [
        f"  {c.action} {c.principal} on {c.target} ({c.cause}, {c.source or 'no file'})"
        for c in plan.withheld
    ]
    return "\n".join(lines)


def alert(io: Io, run: Planned) -> None:
    """Last, where it is seen: each grant merged without a valid review (an error) and
    each whose review could not be read (a warning), on stderr and, in Actions, as
    annotations on the file."""
    problems = planview.review_problems(run.plan)
    show_warnings(io, problems)
    unreviewed = sum(p.severity == "error" for p in problems)
    if unreviewed:
        io.err(
            f"grantops: {unreviewed} grant(s) on the protected branch without a valid review "
            "gave no access; the rest of the run went ahead"
        )


def _exit_code(run: Planned, failed: bool = False) -> int:
    """3 when the run was limited to expiries; 1 for any other part it could not do
    (a file with an error, a review it could not check, a target it could not read,
    access the policy refused to give, a change that failed) or a grant on the protected
    branch without a valid review."""
    if run.plan.limits:
        return EXIT_UNSAFE
    return EXIT_ERROR if failed or run.incomplete or run.plan.unreviewed else EXIT_OK


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.change.to_json(), "result": outcome.result, "detail": outcome.detail}


__all__ = [
    "UnsafePlan",
    "add_reconcile_options",
    "alert",
    "register",
    "run_apply",
    "run_plan",
    "run_settings",
    "show_applied",
    "show_plan",
]
