"""``grantops request``, ``extend`` and ``revoke``: the self-service side of the flow.

Each writes (or removes) one grant file, checks the whole access repository against
the policy exactly as CI will, and says what merging would do. With ``--open-pr`` it
commits the file on a new branch, pushes it and opens the pull request whose review
is the approval. Invalid input changes nothing: a file that fails validation is
removed again (or restored) before grantops exits.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grantops import gitrepo
from grantops.commands import prompts
from grantops.commands.common import (
    EXIT_OK,
    Io,
    add_api_options,
    github_client,
    time_or_duration,
)
from grantops.commands.propose import Proposal, PullTarget, open_pull, preflight
from grantops.constants import GRANTS_DIR, POLICY_PATH
from grantops.drafts import (
    Request,
    extend_text,
    grant_path,
    inside_grants,
    name_errors,
    render,
    window,
)
from grantops.errors import GrantopsError, InvalidInput, UsageError
from grantops.load import Loaded, load_grant_text, load_repo
from grantops.model import Grant, Policy
from grantops.planview import window_text
from grantops.safetext import for_markdown
from grantops.values import format_duration, format_timestamp, largest_unit, parse_duration
from grantops.yamlfile import parse


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    request = sub.add_parser("request", parents=[common], help="write a grant file (and open a PR)")
    request.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="NAME",
        help="a target repository of the org, by name (repeat for several)",
    )
    request.add_argument(
        "--team",
        metavar="SLUG",
        help="with --user: membership of this team; with --repo: the team's access",
    )
    request.add_argument(
        "--user", help="the grantee (default: the token's account, else git config github.user)"
    )
    request.add_argument(
        "--permission", help="pull, triage, push, maintain or a custom role the policy allows"
    )
    request.add_argument("--role", choices=("member", "maintainer"), help="team role")
    length = request.add_mutually_exclusive_group()
    length.add_argument(
        "--for", dest="duration", metavar="DURATION", help="how long from the start: 4h, 1d12h"
    )
    length.add_argument(
        "--until", metavar="TIME", help="RFC 3339 end, e.g. 2026-11-30T18:00:00Z (a length: --for)"
    )
    request.add_argument(
        "--starts",
        metavar="TIME",
        help="RFC 3339 start, or a duration from --now (2h: in two hours); default: on merge",
    )
    request.add_argument("--reason", help="why: the incident or change, and what needs doing")
    issue = request.add_mutually_exclusive_group()
    issue.add_argument(
        "--from-issue",
        type=int,
        metavar="N",
        help="take the request from access request issue N: open or update its pull "
        "request and comment the plan (or the problems) on the issue",
    )
    issue.add_argument(
        "--close-merged",
        type=int,
        metavar="PR",
        help="close the request issue of grant pull request PR once PR is merged or closed",
    )
    extend = sub.add_parser("extend", parents=[common], help="push a grant's end back")
    extend.add_argument("file", type=Path, help="the grant file")
    extend.add_argument(
        "--by", required=True, metavar="DURATION", help="how much later it ends, e.g. 2h"
    )
    revoke = sub.add_parser("revoke", parents=[common], help="end a grant early")
    revoke.add_argument("file", type=Path, help="the grant file")
    for parser in (request, extend, revoke):
        parser.add_argument(
            "--open-pr",
            action="store_true",
            help="commit on a new branch, push it and open a pull request",
        )
        parser.add_argument(
            "--remote", default="origin", help="git remote to push to (default: origin)"
        )
        parser.add_argument(
            "--access-repo",
            metavar="OWNER/NAME",
            help="the access repository to open the pull request in "
            "(default: $GITHUB_REPOSITORY in GitHub Actions, else the remote pushed to)",
        )
        add_api_options(parser)


def run_request(args: argparse.Namespace, now: datetime, io: Io) -> int:
    """``--json``: ``{"file", "content", "plan", "pull_request"}``, where ``plan`` lists
    the additions merging makes (as plan changes, with ``starts`` null for "on merge")
    and ``pull_request`` is ``{"number", "url"}`` or null."""
    loaded = load_repo(args.root, now)  # a repository that is already invalid gets no new file
    request = request_from(args, now, io, loaded.policy)
    path, relative, text = prepare(args.root, request, now)
    branch = f"grant/{request.who.lower()}/{path.stem}"
    target = preflight(args, io, branch, {relative: text.encode()}) if args.open_pr else None
    written = write_checked(args.root, now, request, path, text)
    if not args.json:
        _show_written(io, written)
    proposal = Proposal(branch, [relative], written.title, written.body, written.undo)
    pull = _proposed(args, io, target, proposal)
    if args.json:
        io.json(
            {"file": relative, "content": written.content, "plan": written.plan}
            | {"pull_request": pull}
        )
    return EXIT_OK


@dataclass(frozen=True)
class Written:
    """A grant file written for a request and checked with the whole repository."""

    relative: str
    content: str
    plan: list[dict[str, Any]]
    """What the next reconcile run adds once it is merged, as plan changes."""
    span: str
    """Its window in words: "4h from merge", "from ... until ..."."""
    title: str
    body: str
    undo: Callable[[], None]


def prepare(root: Path, request: Request, now: datetime) -> tuple[Path, str, str]:
    """Where the grant file for ``request`` goes (absolute and relative) and its text;
    a name GitHub would not allow is a usage error before anything is written."""
    errors = name_errors(request)
    if errors:
        raise UsageError("; ".join(errors))
    path = grant_path(root, request, now)
    if not inside_grants(root, path):  # never reached with valid names; checked anyway
        raise UsageError(f"refusing to write {path}: it is not inside {root / 'grants'}")
    return path, path.relative_to(root).as_posix(), render(request)


def write_checked(root: Path, now: datetime, request: Request, path: Path, text: str) -> Written:
    """Write the new grant file and check the whole repository as CI will; a file the
    policy refuses is removed again before the error is raised."""
    relative = path.relative_to(root).as_posix()
    undo = _write_new(path, text)
    checked = _check(root, now, undo=undo)
    grant = next((g for g in checked.grants if g.path == relative), None)
    if grant is None:
        undo()
        raise GrantopsError(f"{relative} was written but is not among the grants loaded")
    unit = checked.policy.limits.duration_unit
    length = format_duration(grant.duration, unit) if grant.duration else ""
    what = request.describe(checked.policy.org)
    ends = f"until {format_timestamp(request.expires)}" if request.expires else ""
    return Written(
        relative=relative,
        content=path.read_text(encoding="utf-8"),
        plan=_on_merge(grant, checked.policy.org, length),
        span=window_text(grant, length),
        title=f"Grant {what} {ends or f'for {request.duration} from merge'}",
        body=_body(checked, request, relative),
        undo=undo,
    )


def _show_written(io: Io, written: Written) -> None:
    io.out(f"Wrote {written.relative}:\n")
    io.out(written.content.rstrip("\n"))
    io.out("\nOnce reviewed and merged, the next reconcile run will:")
    for change in written.plan:
        io.out(
            f"  + add {change['principal']} {change['to']} on {change['target']} ({written.span})"
        )


def _on_merge(grant: Grant, org: str, length: str) -> list[dict[str, Any]]:
    """What the next reconcile run adds once the grant is merged, as plan changes with
    their window: ``starts`` null opens on merge; a ``duration:`` grant has ``duration``
    and no ``expires`` until the merge that approves it."""
    starts = format_timestamp(grant.starts) if grant.starts else None
    expires = format_timestamp(grant.expires) if grant.expires else None
    return [
        {
            "action": "add",
            "principal": str(principal),
            "target": str(target),
            "to": level,
            "starts": starts,
            "expires": expires,
            "duration": length or None,
        }
        for principal, target, level in grant.grantables(org)
    ]


def run_extend(args: argparse.Namespace, now: datetime, io: Io) -> int:
    """``--json``: ``{"file", KEY: {"from", "to"}, "pull_request"}``, KEY being the
    ``expires`` or ``duration`` it changed."""
    path, relative = _grant_file(args)
    by = _duration(args.by, "--by")
    raw = path.read_bytes()
    grant, problems = load_grant_text(relative, raw, None, now)
    if grant is None:
        raise InvalidInput(problems)
    original = raw.decode("utf-8")
    doc = parse(original)
    key, old, new = _lengthened(grant, doc.data, by, args.by)
    text = extend_text(original, doc.lines[(key,)], key, new)
    branch = f"extend/{path.parent.name}/{path.stem}"
    target = preflight(args, io, branch, {relative: text.encode()}) if args.open_pr else None
    path.write_text(text, encoding="utf-8")

    def undo() -> None:
        path.write_text(original, encoding="utf-8")

    _check(args.root, now, undo=undo)
    if not args.json:
        io.out(f"Extended {relative}: {key} {old} -> {new}.")
        io.out("A changed grant needs a fresh review: it counts once the change is merged.")
        if key == "duration":
            io.out("Its window still opens at the first approving merge of this file.")
    body = (
        f"Extends `{relative}` by **{args.by}**: its {key} is now **{new}** instead of "
        f"{old}.\n\nMerge review is the approval: review this like a new grant.\n"
    )
    ends = f"until {new}" if key == "expires" else f"to {new}"
    title = f"Extend {relative} by {args.by} {ends}"
    pull = _proposed(args, io, target, Proposal(branch, [relative], title, body, undo))
    if args.json:
        io.json({"file": relative, key: {"from": old, "to": new}, "pull_request": pull})
    return EXIT_OK


def _lengthened(grant: Grant, data: Any, by: timedelta, text: str) -> tuple[str, str, str]:
    """Which key an extension changes, and its value before and after, as written.

    A ``duration:`` grant gets a longer duration, in the units it was written in
    (``48h`` by ``2h`` is ``50h``): its window keeps opening at the first approving
    merge, so the extension adds exactly ``by``.
    """
    if grant.spec.duration is not None:
        unit = largest_unit(data.get("duration") if isinstance(data, dict) else None)
        return (
            "duration",
            format_duration(grant.spec.duration, unit),
            format_duration(grant.spec.duration + by, unit),
        )
    assert grant.spec.expires is not None  # a grant has exactly one of the two
    try:
        new = grant.spec.expires + by
    except OverflowError:
        raise UsageError(f"--by {text}: the grant would end after the year 9999") from None
    return "expires", format_timestamp(grant.spec.expires), format_timestamp(new)


def run_revoke(args: argparse.Namespace, now: datetime, io: Io) -> int:
    """``--json``: ``{"file", "removed": true, "pull_request"}``."""
    path, relative = _grant_file(args)
    branch = f"revoke/{path.parent.name}/{path.stem}"
    target = preflight(args, io, branch, {relative: None}) if args.open_pr else None
    undo = functools.partial(path.write_bytes, path.read_bytes())
    path.unlink()
    if not args.json:
        io.out(
            f"Removed {relative}: its access ends on the first reconcile run after this is merged."
        )
    body = f"Ends the access `{relative}` gave, before its window closes.\n"
    title = f"Revoke {relative}"
    pull = _proposed(args, io, target, Proposal(branch, [relative], title, body, undo))
    if args.json:
        io.json({"file": relative, "removed": True, "pull_request": pull})
    return EXIT_OK


def _proposed(
    args: argparse.Namespace, io: Io, target: PullTarget | None, proposal: Proposal
) -> dict[str, Any] | None:
    """Open the pull request when ``--open-pr`` asked (``target`` was then checked before
    anything was written); its number and URL, else None."""
    if target is None:
        return None
    number, url = open_pull(args, io, target, proposal)
    return {"number": number, "url": url}


def request_from(args: argparse.Namespace, now: datetime, io: Io, policy: Policy) -> Request:
    """The request the options describe; at a terminal, what they leave out is asked
    for, offering only what ``policy`` allows."""
    repos = tuple(args.repo)
    if not repos and not args.team:
        answer = prompts.repo(io, policy)
        repos = (answer,) if answer else ()
    team = args.team
    if not repos and not team:
        team = prompts.team(io, policy)
    user = args.user
    if not user and not (team and repos):
        user = _default_user(args, io)
    permission = args.permission
    if repos and not permission:
        permission = prompts.permission(io, policy)
    if args.duration is None and args.until is None:
        args.duration = prompts.duration(io, policy)
    reason = args.reason or _ask(io, "Reason (incident or change, and what for)", "--reason")
    starts = _starts(args.starts, now) if args.starts else None
    until = _until(args.until) if args.until else None
    duration = _duration(args.duration, "--for") if args.duration else None
    from_merge = duration is not None and starts is None  # the window opens at the merge
    return Request(
        user=user,
        team=team,
        repos=repos,
        permission=permission,
        role=args.role if not repos else None,
        starts=starts,
        expires=None if from_merge else _expires(starts, now, duration, until),
        reason=str(reason),
        duration=format_duration(duration, largest_unit(args.duration)) if duration else None,
    )


def _expires(
    starts: datetime | None, now: datetime, duration: timedelta | None, until: datetime | None
) -> datetime:
    try:
        return window(starts, now, duration, until)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None


def _ask(io: Io, question: str, flag: str) -> str | None:
    answer = io.ask(question)
    if answer is None and flag:
        raise UsageError(f"missing {flag} (or run in a terminal to be asked)")
    return answer


def _default_user(args: argparse.Namespace, io: Io) -> str:
    token = io.environ.get("GITHUB_TOKEN") or io.environ.get("GH_TOKEN")
    if token:
        with github_client(args, io) as github:
            me = github.viewer()
        if me:
            return me
    configured = gitrepo.config(args.root, "github.user")
    if configured:
        return configured
    answer = _ask(io, "Your GitHub login", "--user")
    assert answer is not None
    return answer


def _starts(value: str, now: datetime) -> datetime:
    """An RFC 3339 time, or a duration from ``now`` (``2h``: in two hours)."""
    try:
        when = time_or_duration(value)
    except ValueError as exc:
        raise UsageError(f"--starts: {exc}") from None
    if isinstance(when, datetime):
        return when
    try:
        return now + when
    except OverflowError:
        raise UsageError(f"--starts {value}: that is after the year 9999") from None


def _until(value: str) -> datetime:
    """An RFC 3339 time only: a length is ``--for``, counted from the start."""
    try:
        when = time_or_duration(value)
    except ValueError as exc:
        raise UsageError(f"--until: {exc}") from None
    if isinstance(when, timedelta):
        raise UsageError(f"--until {value}: a time is needed here; for a length, use --for {value}")
    return when


def _duration(value: str, flag: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _write_new(path: Path, text: str) -> Callable[[], None]:
    """Create ``path`` (never over an existing file or link); return how to take it back.

    The undo also removes the grantee's folder when this call made it, so a refused
    request leaves the repository as it found it.
    """
    folder = path.parent
    made_folder = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        if made_folder:
            _remove_empty(folder)
        raise GrantopsError(f"cannot write {path}: {exc.strerror or exc}") from None

    def undo() -> None:
        path.unlink(missing_ok=True)
        if made_folder:
            _remove_empty(folder)

    return undo


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (someone else's file) or gone: leave it
        folder.rmdir()


def _check(root: Path, now: datetime, undo: Callable[[], object]) -> Loaded:
    """Validate the whole repository as CI will; on any error undo the write first."""
    try:
        return load_repo(root, now)
    except InvalidInput:
        undo()
        raise


def _grant_file(args: argparse.Namespace) -> tuple[Path, str]:
    path = args.file if args.file.is_absolute() else Path.cwd() / args.file
    root = args.root.resolve()
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"{args.file} is not inside the access repository {root}") from None
    if not relative.startswith(f"{GRANTS_DIR}/") or relative == POLICY_PATH or not path.is_file():
        raise UsageError(f"{args.file} is not a grant file under grants/")
    return path, relative


def _body(loaded: Loaded, request: Request, relative: str) -> str:
    org = loaded.policy.org
    approval = loaded.policy.approval
    reviewers = f"@{org}/{approval.approvers}" if approval.approvers else "a teammate"
    grantee = f"@{request.user}" if request.user else f"@{org}/{request.team}"
    opens = format_timestamp(request.starts) if request.starts else "when merged"
    ends = format_timestamp(request.expires) if request.expires else f"{request.duration} later"
    return (
        f"**Who:** {grantee}\n"
        f"**What:** {request.describe(org)}\n"
        f"**From:** {opens}\n"
        f"**Until:** {ends}\n"
        f"**Why:** {for_markdown(request.reason)}\n\n"
        f"Grant file: `{relative}`\n\n"
        f"Needs {approval.required} approval(s) from {reviewers}, not from the grantee or the "
        "author. Merge review is the approval: access starts on the first reconcile run after "
        "merge and ends on its own.\n"
    )


__all__ = [
    "Written",
    "prepare",
    "register",
    "request_from",
    "run_extend",
    "run_request",
    "run_revoke",
    "write_checked",
]
