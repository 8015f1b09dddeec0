"""``grantops health``: keep one issue open while the scheduled reconcile job is unhealthy.

It reads the reconcile workflow's recent runs and the last run the committed audit log
records, judges them (:func:`grantops.health.judge`), and opens, comments on or closes
the access repository's health issue (:func:`grantops.health.decide`). A listing it
cannot read leaves the issue as it is and exits 1: health that is unknown is reported,
never taken for healthy.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from grantops import healthtext
from grantops.audit.lastrun import last_recorded
from grantops.audit.log import verify
from grantops.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    Io,
    access_repo_slug,
    add_api_options,
    duration_option,
    github_client,
)
from grantops.constants import LOG_PATH
from grantops.drafts import slug_error
from grantops.errors import UsageError
from grantops.github.api import RunWatch
from grantops.github.transport import GitHubError
from grantops.health import (
    LABEL,
    Health,
    Step,
    WorkflowRun,
    decide,
    judge,
    ours,
    unknown,
)
from grantops.values import format_duration, format_timestamp


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser(
        "health",
        parents=[common],
        help="open, update or close an issue when the scheduled reconcile fails or stops",
    )
    add_api_options(parser)
    parser.add_argument(
        "--access-repo",
        metavar="OWNER/NAME",
        help="the access repository (default: $GITHUB_REPOSITORY in GitHub Actions, "
        "else the GitHub remote origin)",
    )
    parser.add_argument(
        "--workflow",
        default="reconcile.yml",
        help="the reconcile workflow's file name (default: reconcile.yml)",
    )
    parser.add_argument(
        "--max-age",
        type=duration_option,
        default=timedelta(hours=1),
        metavar="DURATION",
        help="longest time without a successful run before it counts as missing (default: 1h)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done to the issue; do nothing"
    )


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    owner, repo = _access_repo(args, io)
    recorded = last_recorded(verify(args.root / LOG_PATH).events)
    with github_client(args, io) as github:
        try:
            runs = github.workflow_runs(owner, repo, args.workflow)
            health = judge(runs, recorded, now, args.max_age)
        except GitHubError as exc:
            health = unknown(str(exc))
        step = _step(github, owner, repo, health, args)
        if not args.dry_run:
            _carry_out(github, owner, repo, step)
    _show(io, args, health, step)
    return EXIT_OK if health.state == "healthy" else EXIT_ERROR


def _step(
    github: RunWatch, owner: str, repo: str, health: Health, args: argparse.Namespace
) -> Step:
    if health.state == "unknown":
        return Step("none")
    issue = ours(github.labelled_issues(owner, repo, LABEL))
    title = healthtext.title(health, args.max_age)
    return decide(health, issue, title, healthtext.text(health, args.workflow, args.max_age))


def _carry_out(github: RunWatch, owner: str, repo: str, step: Step) -> None:
    """The one change the step asks for; a failure is raised, and says what failed."""
    if step.action == "open":
        github.open_issue(owner, repo, title=step.title, body=step.body, labels=[LABEL])
    elif step.number is not None and step.action in ("comment", "close"):
        github.comment(owner, repo, step.number, step.comment)
        body = step.body if step.action == "comment" else None
        github.edit_issue(owner, repo, step.number, body=body, close=step.action == "close")


def _access_repo(args: argparse.Namespace, io: Io) -> tuple[str, str]:
    """OWNER and NAME of the access repository. ``GITHUB_REPOSITORY`` is trusted only in
    GitHub Actions: elsewhere it may be left over from anything."""
    slug = access_repo_slug(args, io)
    if not slug:
        raise UsageError("set --access-repo OWNER/NAME (no GitHub remote 'origin' names it)")
    error = slug_error(slug) if "/" in slug else "no '/'"
    if error is not None:
        raise UsageError(f"--access-repo: {slug!r} is not OWNER/NAME ({error})")
    owner, _, name = slug.partition("/")
    return owner, name


def _show(io: Io, args: argparse.Namespace, health: Health, step: Step) -> None:
    done = "would " if args.dry_run else ""
    said = {
        "open": f"{done}open an issue: {step.title}",
        "comment": f"{done}comment on issue #{step.number}",
        "close": f"{done}close issue #{step.number}",
        "none": "the health issue is left as it is",
    }[step.action]
    if args.json:
        io.json(_document(args, health, step))
        return
    io.out(healthtext.summary(health))
    io.out(said)


def _document(args: argparse.Namespace, health: Health, step: Step) -> dict[str, Any]:
    return {
        "state": health.state,
        "why": health.why or None,
        "max_age": format_duration(args.max_age),
        "last_run": _run_json(health.last_run),
        "last_success": _run_json(health.last_success),
        "issue": {"action": step.action, "number": step.number, "dry_run": args.dry_run},
    }


def _run_json(run: WorkflowRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "number": run.number,
        "event": run.event,
        "conclusion": run.conclusion,
        "updated_at": format_timestamp(run.updated_at),
        "url": run.url,
    }
