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
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grantops import gitrepo
from grantops.commands.common import EXIT_OK, Io, add_api_options, github_client
from grantops.constants import GRANTS_DIR, POLICY_PATH
from grantops.drafts import (
    Request,
    extend_text,
    grant_path,
    inside_grants,
    name_errors,
    render,
    slug_error,
    window,
)
from grantops.errors import GrantopsError, InvalidInput, UsageError
from grantops.load import Loaded, load_grant_text, load_repo
from grantops.model import Grant
from grantops.planview import window_text
from grantops.values import (
    format_duration,
    format_timestamp,
    largest_unit,
    parse_duration,
    parse_timestamp,
)
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
        help="a repository of the org (repeat for several)",
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
        "--permission", help="pull, triage, push, maintain, admin or a custom role"
    )
    request.add_argument("--role", choices=("member", "maintainer"), help="team role")
    length = request.add_mutually_exclusive_group()
    length.add_argument("--for", dest="duration", metavar="DURATION", help="e.g. 4h, 1d12h")
    length.add_argument("--until", metavar="TIME", help="RFC 3339 end, e.g. 2026-11-30T18:00:00Z")
    request.add_argument("--starts", metavar="TIME", help="RFC 3339 start (default: on merge)")
    request.add_argument("--reason", help="why: the incident or change, and what needs doing")
    extend = sub.add_parser("extend", parents=[common], help="push a grant's end back")
    extend.add_argument("file", type=Path, help="the grant file")
    extend.add_argument("--by", required=True, metavar="DURATION", help="e.g. 2h")
    revoke = sub.add_parser("revoke", parents=[common], help="end a grant early")
    revoke.add_argument("file", type=Path, help="the grant file")
    for parser in (request, extend, revoke):
        parser.add_argument(
            "--open-pr",
            action="store_true",
            help="commit on a new branch, push it and open a pull request",
        )
        parser.add_argument("--remote", default="origin", help="git remote to push to")
        parser.add_argument(
            "--access-repo",
            metavar="OWNER/NAME",
            help="where to open the PR (default: $GITHUB_REPOSITORY, else the remote)",
        )
        add_api_options(parser)


def run_request(args: argparse.Namespace, now: datetime, io: Io) -> int:
    load_repo(args.root, now)  # a repository that is already invalid gets no new file
    request = _request_from(args, now, io)
    errors = name_errors(request)
    if errors:
        raise UsageError("; ".join(errors))
    if args.open_pr:
        _pull_target(args, io)  # a bad --access-repo or --remote is refused before writing
    path = grant_path(args.root, request, now)
    relative = path.relative_to(args.root).as_posix()
    if not inside_grants(args.root, path):  # never reached with valid names; checked anyway
        raise UsageError(f"refusing to write {path}: it is not inside {args.root / 'grants'}")
    undo = _write_new(path, render(request))
    checked = _check(args.root, now, undo=undo)
    io.out(f"Wrote {relative}:\n")
    io.out(path.read_text(encoding="utf-8").rstrip("\n"))
    grant = next((g for g in checked.grants if g.path == relative), None)
    if grant is None:
        undo()
        raise GrantopsError(f"{relative} was written but is not among the grants loaded")
    io.out("\nOnce reviewed and merged, the next reconcile run will:")
    unit = checked.policy.limits.duration_unit
    length = format_duration(grant.duration, unit) if grant.duration else ""
    span = window_text(grant, length)
    for principal, target, level in grant.grantables(checked.policy.org):
        io.out(f"  + add {principal} {level} on {target} ({span})")
    if args.open_pr:
        what = request.describe(checked.policy.org)
        ends = f"until {format_timestamp(request.expires)}" if request.expires else ""
        title = f"Grant {what} {ends or f'for {request.duration} from merge'}"
        body = _body(checked, request, relative)
        _open_pr(args, io, f"grant/{request.who.lower()}/{path.stem}", [relative], title, body)
    return EXIT_OK


def run_extend(args: argparse.Namespace, now: datetime, io: Io) -> int:
    path, relative = _grant_file(args)
    by = _duration(args.by, "--by")
    raw = path.read_bytes()
    grant, problems = load_grant_text(relative, raw, None, now)
    if grant is None:
        raise InvalidInput(problems)
    original = raw.decode("utf-8")
    doc = parse(original)
    key, old, new = _lengthened(grant, doc.data, by, args.by)
    path.write_text(extend_text(original, doc.lines[(key,)], key, new), encoding="utf-8")
    _check(args.root, now, undo=lambda: path.write_text(original, encoding="utf-8"))
    io.out(f"Extended {relative}: {key} {old} -> {new}.")
    io.out("A changed grant needs a fresh review: it counts once the change is merged.")
    if key == "duration":
        io.out("Its window still opens at the first approving merge of this file.")
    if args.open_pr:
        ends = f"until {new}" if key == "expires" else f"to {new}"
        title = f"Extend {relative} by {args.by} {ends}"
        body = (
            f"Extends `{relative}` by **{args.by}**: its {key} is now "
            f"**{new}** instead of {old}.\n\n"
            "Merge review is the approval: review this like a new grant.\n"
        )
        _open_pr(args, io, f"extend/{path.parent.name}/{path.stem}", [relative], title, body)
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
    path, relative = _grant_file(args)
    path.unlink()
    io.out(f"Removed {relative}: its access ends on the first reconcile run after this is merged.")
    if args.open_pr:
        title = f"Revoke {relative}"
        body = f"Ends the access `{relative}` gave, before its window closes.\n"
        _open_pr(args, io, f"revoke/{path.parent.name}/{path.stem}", [relative], title, body)
    return EXIT_OK


def _request_from(args: argparse.Namespace, now: datetime, io: Io) -> Request:
    repos = tuple(args.repo)
    if not repos and not args.team:
        answer = _ask(io, "Repository (or leave empty for a team)", "")
        repos = (answer,) if answer else ()
    team = args.team
    if not repos and not team:
        team = _ask(io, "Team", "--repo or --team")
    user = args.user
    if not user and not (team and repos):
        user = _default_user(args, io)
    permission = args.permission
    if repos and not permission:
        permission = _ask(io, "Permission (pull, triage, push, maintain, admin)", "--permission")
    if args.duration is None and args.until is None:
        args.duration = _ask(io, "For how long (e.g. 4h) ", "--for or --until")
    reason = args.reason or _ask(io, "Reason (incident or change, and what for)", "--reason")
    starts = _time(args.starts, "--starts") if args.starts else None
    until = _time(args.until, "--until") if args.until else None
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


def _time(value: str, flag: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


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
        f"**Why:** {request.reason}\n\n"
        f"Grant file: `{relative}`\n\n"
        f"Needs {approval.required} approval(s) from {reviewers}, not from the grantee or the "
        "author. Merge review is the approval: access starts on the first reconcile run after "
        "merge and ends on its own.\n"
    )


def _pull_target(args: argparse.Namespace, io: Io) -> tuple[str, str]:
    """The owner and name of the access repository the pull request goes to."""
    if not gitrepo.has_remote(args.root, args.remote):
        raise UsageError(f"no git remote '{args.remote}' to push the branch to")
    slug = (
        args.access_repo
        or io.environ.get("GITHUB_REPOSITORY")
        or gitrepo.remote_slug(args.root, args.remote)
    )
    if not slug or "/" not in slug:
        raise UsageError("set --access-repo OWNER/NAME: where should the pull request go?")
    error = slug_error(slug)
    if error is not None:
        raise UsageError(f"the access repository {slug!r}: {error}")
    owner, _, name = slug.partition("/")
    return owner, name


def _open_pr(
    args: argparse.Namespace, io: Io, branch: str, paths: list[str], title: str, body: str
) -> None:
    owner, name = _pull_target(args, io)
    base = gitrepo.propose(args.root, branch, paths, title, args.remote)
    with github_client(args, io) as github:
        number, url = github.open_pull(owner, name, head=branch, base=base, title=title, body=body)
    io.out(f"\nOpened pull request #{number}: {url}")


__all__ = ["register", "run_extend", "run_request", "run_revoke"]
