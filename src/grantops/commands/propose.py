"""``--open-pr``: propose a grant file change as a pull request, safely retried.

Everything a pull request needs is checked before a file is written or a commit made
(:func:`preflight`): the access repository, the remote, the token, the base branch on
GitHub, and that the branch is free or already holds exactly this change. So a mistake
costs nothing, and a run that failed half-way (pushed, but no pull request) picks up
where it stopped when run again (:func:`open_pull`): it reuses its own branch, never
force-pushes, and reports a pull request that is already open instead of a second one.
A pull request it opens is announced in chat when the policy and the environment ask
(:func:`announce`); one it finds already open was announced when it was opened.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from grantops import chat, gitrepo, webhook
from grantops.commands.common import Io, access_repo_slug, github_client
from grantops.constants import POLICY_PATH
from grantops.drafts import slug_error
from grantops.errors import GrantopsError, UsageError
from grantops.github import GitHubError
from grantops.load import load_policy_text, read_regular


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


def pull_target(args: argparse.Namespace, io: Io) -> tuple[str, str]:
    """The owner and name of the access repository the pull request goes to
    (:func:`grantops.commands.common.access_repo_slug`, from the remote pushed to)."""
    if not gitrepo.has_remote(args.root, args.remote):
        raise UsageError(f"no git remote '{args.remote}' to push the branch to")
    slug = access_repo_slug(args, io, args.remote)
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


def preflight(
    args: argparse.Namespace, io: Io, branch: str, contents: dict[str, bytes | None]
) -> PullTarget:
    """Check everything a pull request needs before a file is written or a commit made:
    the access repository, the remote, the token, the base branch on GitHub, and that
    ``branch`` is free or holds exactly ``contents`` (path -> bytes, None: removed)."""
    owner, name = pull_target(args, io)
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


def open_pull(
    args: argparse.Namespace, io: Io, target: PullTarget, change: Proposal
) -> tuple[int, str]:
    """Commit (or reuse an earlier attempt's branch), push, and open the pull request,
    or find the one already open: its number and address. Progress goes to standard
    error under ``--json``, so standard output holds only the document."""
    say = io.err if getattr(args, "json", False) else io.out
    branch = change.branch
    if target.reuse:
        change.undo()
        say(f"\nBranch {branch} already holds this change (an earlier attempt): reusing it.")
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
        say(f"\nPull request #{number} is already open for {branch}: {url}")
        return number, url
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
    say(f"\nOpened pull request #{number}: {url}")
    announce(args, io, change, number, url)
    return number, url


def announce(args: argparse.Namespace, io: Io, change: Proposal, number: int, url: str) -> None:
    """Post "opened" to the chat webhook (``GRANTOPS_CHAT_WEBHOOK_URL``) when the policy's
    ``notify.chat`` has it. The pull request is open whatever happens here: a failure is
    a warning, never an error."""
    hook, problem = webhook.from_environ(io.environ)
    if hook is None:
        if problem is not None:
            io.err(f"WARNING: {problem}")
        return
    try:
        policy, _ = load_policy_text(POLICY_PATH, read_regular(str(args.root / POLICY_PATH)))
    except OSError:
        policy = None
    if policy is None or policy.notify is None or "opened" not in policy.notify.chat:
        return
    notice = chat.opened(change.paths[0], number, url, change.title)
    try:
        hook.post(chat.payload(notice))
    except webhook.WebhookError as exc:
        io.err(f"WARNING: pull request #{number} was not announced in chat: {exc}")
