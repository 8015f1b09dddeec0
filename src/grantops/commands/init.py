"""``grantops init``: scaffold an access repository from the access an org has today.

Steps: read the org (through the GitHub API, as ``snapshot`` does, or offline from a
state file), render every file (:func:`grantops.scaffold.scaffold`), check that the
policy loads as ``validate`` would, refuse to overwrite anything unless ``--force``,
then write the files (or, with ``--dry-run``, only list them) and print the next steps.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from grantops import gitrepo
from grantops.access import Target
from grantops.actual import ActualState, ReadResult
from grantops.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    Io,
    add_api_options,
    add_read_api_option,
    api_url,
    github_client,
)
from grantops.constants import POLICY_PATH, VERSION
from grantops.errors import GrantopsError, InvalidInput, UsageError
from grantops.github import GitHub
from grantops.initpolicy import Origin
from grantops.load import load_policy_text
from grantops.model import Policy
from grantops.planview import unreadable_text
from grantops.safetext import for_terminal
from grantops.sandbox.fixtures import SandboxState
from grantops.scaffold import check_branch, check_owners, scaffold
from grantops.statefile import StateFile, read_state_file, state_from_read
from grantops.values import format_timestamp

NEXT_STEPS = (
    "Review grants/policy.yaml: every baseline line is permanent access.",
    "Add .github/grantops-requirements.txt from the grantops release the workflows "
    "install (their install step says how): they install exactly the files it pins.",
    "Push this repository and protect its default branch with a ruleset: pull requests "
    "with approvals, stale approvals dismissed, review from Code Owners, the status check "
    "'validate' required, no bypass but the grantops App.",
    "Merge the policy through a reviewed pull request (CODEOWNERS: the security owners).",
    "Create the GitHub App, install it, and store GRANTOPS_APP_ID, "
    "GRANTOPS_APP_PRIVATE_KEY and GRANTOPS_EVIDENCE_KEY in the environment production-access.",
    "Run the reconcile workflow by hand: enforcement is off, so it only plans. Read the plan.",
    "When the plan is right, set the repository variable GRANTOPS_ENFORCE to true.",
)
"""The set-up order (README: Set up an access repository), in which no merge can change
access before a reviewed dry run."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser(
        "init",
        parents=[common],
        help="scaffold an access repository from today's access",
        description="Write grants/policy.yaml (today's access as its baseline), "
        ".github/CODEOWNERS, the workflows, .gitignore and schema/ into --root.",
    )
    parser.add_argument("--org", help="the GitHub organisation to read (default: the state's)")
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="read access from this state file, offline"
    )
    parser.add_argument(
        "--owners",
        nargs="+",
        metavar="OWNER",
        help="the security owners for CODEOWNERS, e.g. @acme/security (asked for when missing)",
    )
    parser.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="SLUG",
        help="also manage this team, e.g. one that only groups people (repeatable)",
    )
    parser.add_argument(
        "--branch",
        help="the default branch the workflows run on (default: the checked-out one, else main)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    parser.add_argument("--dry-run", action="store_true", help="list the files; write nothing")
    add_api_options(parser)
    add_read_api_option(parser)


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    owners = _owners(args, io)
    branch = _branch(args)
    state, origin = _read(args, now, io)
    files = scaffold(
        state, origin, owners=owners, branch=branch, version=VERSION, extra_teams=args.team
    )
    _check_policy(files[POLICY_PATH])
    existing = [path for path in files if _exists(args.root / path)]
    refused = bool(existing) and not args.force
    if not args.dry_run and not refused:
        _write(args.root, files)
    _report(io, args, list(files), existing, refused)
    return EXIT_ERROR if refused else EXIT_OK


def _owners(args: argparse.Namespace, io: Io) -> list[str]:
    given = args.owners
    if not given:
        answer = io.ask("Security owners for CODEOWNERS (e.g. @acme/security)")
        given = answer.split() if answer else []
    if not given:
        raise UsageError("--owners: name the security owners, e.g. --owners @acme/security")
    try:
        return check_owners(given)
    except ValueError as exc:
        raise UsageError(f"--owners: {exc}") from None


def _branch(args: argparse.Namespace) -> str:
    branch = args.branch
    if branch is None:
        try:
            branch = gitrepo.current_branch(args.root) if gitrepo.git_dir(args.root) else None
        except gitrepo.GitError:
            branch = None  # a repository without a commit yet
    try:
        return check_branch(branch or "main")
    except ValueError as exc:
        raise UsageError(f"--branch: {exc}") from None


def _read(args: argparse.Namespace, now: datetime, io: Io) -> tuple[StateFile, Origin]:
    at = format_timestamp(now)
    if args.state is not None:
        state = read_state_file(args.state, SandboxState)
        if args.org and args.org.lower() != state.org.lower():
            raise UsageError(f"--org {args.org}, but the state file is for org '{state.org}'")
        return state, Origin(f"the state file {args.state.name}", at)
    if not args.org:
        raise UsageError("--org: name the organisation to read (or give --state FILE)")
    with github_client(args, io) as github:
        read = read_org(github, args.org, args.team)
    return read, Origin(f"read through the GitHub API at {api_url(args, io)}", at)


def _scope(org: str, repos: list[str], teams: list[str]) -> Policy:
    try:
        return Policy.model_validate({"org": org, "managed": {"repos": repos, "teams": teams}})
    except ValueError as exc:
        raise UsageError(f"--org/--team: {exc}") from None


def read_org(github: GitHub, org: str, extra_teams: list[str]) -> StateFile:
    """Every repository of ``org``, then every team with access to one (and
    ``extra_teams``), as a state file. Anything unreadable stops init: a baseline
    written from a partial read would have the first plan remove what was not read."""
    repos = github.read(_scope(org, ["*"], []), with_members=True)
    slugs = {p.name.lower(): p.name for p, _ in repos.actual.access if p.kind == "team"}
    slugs.update({slug.lower(): slug for slug in extra_teams})
    teams = github.read(_scope(org, [], sorted(slugs.values()))) if slugs else None
    unreadable: dict[Target, str] = {**repos.actual.unreadable}
    if teams is not None:
        unreadable.update(teams.actual.unreadable)
    if unreadable:
        raise GrantopsError(unreadable_text(unreadable) + "\nnothing was written")
    return state_from_read(
        _merged(repos, teams),
        repos.members,
        repos.base_permission,
        repos.role_bases,
        empty_repos=repos.repos,
    )


def _merged(repos: ReadResult, teams: ReadResult | None) -> ActualState:
    """The repositories' read with the teams' members and pending members added."""
    actual = repos.actual
    if teams is None:
        return actual
    return ActualState(
        org=actual.org,
        access={**actual.access, **teams.actual.access},
        invitations={**actual.invitations, **teams.actual.invitations},
        owners=actual.owners,
        expired_invitations=actual.expired_invitations,
    )


def _check_policy(text: str) -> None:
    """The policy must load as ``validate`` loads it; if not, nothing is written."""
    _, problems = load_policy_text(POLICY_PATH, text.encode("utf-8"))
    if any(problem.severity == "error" for problem in problems):
        raise InvalidInput(problems)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # with --force: replace the link, never write where it points
        path.write_text(text, encoding="utf-8")


def _report(
    io: Io, args: argparse.Namespace, paths: list[str], existing: list[str], refused: bool
) -> None:
    if args.json:
        written = [] if args.dry_run or refused else paths
        io.json(
            {
                "written": written,
                "would_write": paths if args.dry_run else [],
                "exists": existing,
                "refused": refused,
                "next_steps": list(NEXT_STEPS),
            }
        )
        return
    if refused:
        io.err("grantops: error: these files exist; nothing was written (--force overwrites):")
        for path in existing:
            io.err(f"  {for_terminal(path)}")
        return
    verb = "would write" if args.dry_run else "wrote"
    for path in paths:
        note = " (overwrites)" if path in existing else ""
        io.out(f"{verb} {path}{note}")
    io.out("")
    io.out("Next steps:")
    for number, step in enumerate(NEXT_STEPS, start=1):
        io.out(f"  {number}. {step}")
