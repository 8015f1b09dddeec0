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
from grantops.github import GitHubError
from grantops.load import Loaded, load_grant_text, load_repo
from grantops.values import format_timestamp, parse_duration, parse_timestamp
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
    path = grant_path(args.root, request, now)
    relative = path.relative_to(args.root).as_posix()
    if not inside_grants(args.root, path):  # never reached with valid names; checked anyway
        raise UsageError(f"refusing to write {path}: it is not inside {args.root / 'grants'}")
    branch = f"grant/{request.who.lower()}/{path.stem}"
    text = render(request)
    proposed = _preflight(args, io, branch, {relative: text.encode()}) if args.open_pr else None
    undo = _write_new(path, text)
    checked = _check(args.root, now, undo=undo)
    io.out(f"Wrote {relative}:\n")
    io.out(path.read_text(encoding="utf-8").rstrip("\n"))
    grant = next((g for g in checked.grants if g.path == relative), None)
    if grant is None:
        undo()
        raise GrantopsError(f"{relative} was written but is not among the grants loaded")
    io.out("\nOnce reviewed and merged, the next reconcile run will:")
    for principal, target, level in grant.grantables(checked.policy.org):
        opens = format_timestamp(grant.starts) if grant.starts else "merge"
        ends = format_timestamp(grant.expires)
        io.out(f"  + add {principal} {level} on {target} (from {opens} until {ends})")
    if proposed is not None:
        what = request.describe(checked.policy.org)
        title = f"Grant {what} until {format_timestamp(request.expires)}"
        body = _body(checked, request, relative)
        _open_pr(args, io, proposed, Proposal(branch, [relative], title, body, undo))
    return EXIT_OK


def run_extend(args: argparse.Namespace, now: datetime, io: Io) -> int:
    path, relative = _grant_file(args)
    by = _duration(args.by, "--by")
    raw = path.read_bytes()
    grant, problems = load_grant_text(relative, raw, None, now)
    if grant is None:
        raise InvalidInput(problems)
    original = raw.decode("utf-8")
    line = parse(original).lines[("expires",)]  # a valid grant has an expires: key
    old = grant.expires
    try:
        new = old + by
    except OverflowError:
        raise UsageError(f"--by {args.by}: the grant would end after the year 9999") from None
    text = extend_text(original, line, new)
    branch = f"extend/{path.parent.name}/{path.stem}"
    target = _preflight(args, io, branch, {relative: text.encode()}) if args.open_pr else None
    path.write_text(text, encoding="utf-8")

    def undo() -> None:
        path.write_text(original, encoding="utf-8")

    _check(args.root, now, undo=undo)
    io.out(f"Extended {relative}: expires {format_timestamp(old)} -> {format_timestamp(new)}.")
    io.out("A changed grant needs a fresh review: it counts once the change is merged.")
    if target is not None:
        title = f"Extend {relative} by {args.by} until {format_timestamp(new)}"
        body = (
            f"Extends `{relative}` by **{args.by}**: it now ends at "
            f"**{format_timestamp(new)}** instead of {format_timestamp(old)}.\n\n"
            "Merge review is the approval: review this like a new grant.\n"
        )
        _open_pr(args, io, target, Proposal(branch, [relative], title, body, undo))
    return EXIT_OK


def run_revoke(args: argparse.Namespace, now: datetime, io: Io) -> int:
    path, relative = _grant_file(args)
    branch = f"revoke/{path.parent.name}/{path.stem}"
    target = _preflight(args, io, branch, {relative: None}) if args.open_pr else None
    raw = path.read_bytes()
    path.unlink()
    io.out(f"Removed {relative}: its access ends on the first reconcile run after this is merged.")
    if target is not None:
        title = f"Revoke {relative}"
        body = f"Ends the access `{relative}` gave, before its window closes.\n"
        undo = functools.partial(path.write_bytes, raw)
        _open_pr(args, io, target, Proposal(branch, [relative], title, body, undo))
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
    return Request(
        user=user,
        team=team,
        repos=repos,
        permission=permission,
        role=args.role if not repos else None,
        starts=starts,
        expires=_expires(starts, now, duration, until),
        reason=str(reason),
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
    return (
        f"**Who:** {grantee}\n"
        f"**What:** {request.describe(org)}\n"
        f"**From:** {opens}\n"
        f"**Until:** {format_timestamp(request.expires)}\n"
        f"**Why:** {request.reason}\n\n"
        f"Grant file: `{relative}`\n\n"
        f"Needs {approval.required} approval(s) from {reviewers}, not from the grantee or the "
        "author. Merge review is the approval: access starts on the first reconcile run after "
        "merge and ends on its own.\n"
    )


@dataclass(frozen=True)
class PullTarget:
    """Where a pull request goes, as checked before anything is committed or pushed."""

    owner: str
    name: str
    base: str
    reuse: bool
    """The branch exists locally from an earlier attempt, with exactly this change."""
    existing: tuple[int, str] | None
    """An open pull request from the branch (number, address): reported, not opened."""


@dataclass(frozen=True)
class Proposal:
    """The change to propose: its branch, paths, title and body, and how to take the
    working copy back when an earlier attempt's branch already holds it."""

    branch: str
    paths: list[str]
    title: str
    body: str
    undo: Callable[[], object]


def _pull_target(args: argparse.Namespace, io: Io) -> tuple[str, str]:
    """The owner and name of the access repository the pull request goes to.

    ``--access-repo``, else ``$GITHUB_REPOSITORY`` inside GitHub Actions only (other
    tools set it elsewhere for their own tests), else the GitHub remote pushed to.
    """
    if not gitrepo.has_remote(args.root, args.remote):
        raise UsageError(f"no git remote '{args.remote}' to push the branch to")
    in_actions = io.environ.get("GITHUB_REPOSITORY") if io.in_actions else None
    slug = args.access_repo or in_actions or gitrepo.remote_slug(args.root, args.remote)
    if not slug or "/" not in slug:
        raise UsageError(
            f"set --access-repo OWNER/NAME: the remote '{args.remote}' is not a GitHub "
            "repository, so where should the pull request go?"
        )
    error = slug_error(slug)
    if error is not None:
        raise UsageError(f"the access repository {slug!r}: {error}")
    owner, _, name = slug.partition("/")
    return owner, name


def _preflight(
    args: argparse.Namespace, io: Io, branch: str, contents: dict[str, bytes | None]
) -> PullTarget:
    """Check everything a pull request needs before a file is written or a commit made:
    the access repository, the remote, the token, the base branch on GitHub, and that
    ``branch`` is free or holds exactly ``contents`` (path -> bytes, None: removed)."""
    owner, name = _pull_target(args, io)
    base = gitrepo.current_branch(args.root)
    if base is None:
        raise UsageError("HEAD is detached; check out the branch pull requests should target")
    reuse = gitrepo.has_branch(args.root, branch)
    if reuse and not gitrepo.holds_only(args.root, branch, base, contents):
        raise UsageError(
            f"a branch named '{branch}' already exists with other changes, so nothing was "
            f"written; if an earlier attempt left it, delete it (git branch -D {branch}) "
            "and run this again"
        )
    with github_client(args, io) as github:
        try:
            existing = github.open_pull_for(owner, name, branch)
            has_base = github.branch_exists(owner, name, base)
        except GitHubError as exc:
            raise GrantopsError(
                f"cannot open a pull request in {owner}/{name} ({exc}); check --access-repo "
                "and the token. Nothing was written or pushed."
            ) from None
    if not has_base:
        raise GrantopsError(
            f"{owner}/{name} has no branch '{base}' for the pull request to go into: push it "
            "first, or check out the branch it should target. Nothing was written or pushed."
        )
    return PullTarget(owner, name, base, reuse, existing)


def _open_pr(args: argparse.Namespace, io: Io, target: PullTarget, change: Proposal) -> None:
    """Commit (or reuse an earlier attempt's branch), push, and open the pull request,
    or report the one already open. A retry after any failure picks up where it was."""
    branch = change.branch
    if target.reuse:
        change.undo()
        io.out(f"\nBranch {branch} already holds this change (an earlier attempt): reusing it.")
    else:
        gitrepo.commit_branch(args.root, branch, change.paths, change.title)
    try:
        gitrepo.push(args.root, args.remote, branch)
    except gitrepo.GitError as exc:
        raise GrantopsError(
            f"{exc}\nThe branch {branch} is committed here but not pushed, and nothing on "
            f"'{args.remote}' was overwritten. If '{args.remote}' has another branch of that "
            "name, it is someone else's: delete yours (git branch -D "
            f"{branch}) and ask again; otherwise run this again: it reuses the branch."
        ) from None
    if target.existing is not None:
        number, url = target.existing
        io.out(f"\nPull request #{number} is already open for {branch}: {url}")
        return
    with github_client(args, io) as github:
        try:
            number, url = github.open_pull(
                target.owner,
                target.name,
                head=branch,
                base=target.base,
                title=change.title,
                body=change.body,
            )
        except GitHubError as exc:
            raise GrantopsError(
                f"{exc}\nThe branch {branch} is pushed; run this again to open its pull "
                "request (it reuses the branch)."
            ) from None
    io.out(f"\nOpened pull request #{number}: {url}")


__all__ = ["register", "run_extend", "run_request", "run_revoke"]
