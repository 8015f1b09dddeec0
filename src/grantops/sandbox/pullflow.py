"""A pull request's life in the sandbox: opened from a branch, reviewed, merged.

The rules are GitHub's, so a rehearsal on the sandbox meets the refusals a real review
meets: nobody approves their own pull request, a merge names the head it was reviewed
at, and a merged pull request stays merged. When the repository has a git side
(:mod:`grantops.sandbox.gitside`), the head is the branch's real commit and the merge
a real commit on the base branch; without one, heads are made-up shas and pull
requests cannot be merged.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from grantops.sandbox.fixtures import CommitState, PullState, ReviewState
from grantops.sandbox.gitside import GitCommit, GitSide, GitSideError
from grantops.sandbox.world import Repo, SandboxError, World
from grantops.values import format_timestamp

REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}
"""A review's ``event`` as sent, and the ``state`` it is listed with."""

NOREPLY = "@users.noreply.github.com"


def branch_head(world: World, repo: Repo, branch: str) -> str | None:
    """The commit ``branch`` points at; None when it does not exist.

    Without a git side, only the default branch ``main`` exists, at the newest commit
    the state lists (or a made-up one)."""
    git = world.git.get(repo.name.lower())
    if git is not None:
        return git.head(branch)
    if branch != "main":
        return None
    return repo.commits[0].sha if repo.commits else _made_up(f"{repo.name}-main")


def open_from_branch(
    world: World, repo: Repo, author: str, title: str, head: str, base: str, body: str
) -> PullState:
    """Open a pull request from ``head`` into ``base`` (both branches of ``repo``)."""
    git = world.git.get(repo.name.lower())
    if git is None:
        return world.open_pull(repo, author, title, head, base, body)
    for field, branch in (("head", head), ("base", base)):
        if git.head(branch) is None:
            error = {"resource": "PullRequest", "field": field, "code": "invalid"}
            raise SandboxError(422, "Validation Failed", [error])
    pull = world.open_pull(repo, author, title, head, base, body)
    refresh(world, repo, pull)
    return pull


def refresh(world: World, repo: Repo, pull: PullState) -> None:
    """Follow an open pull request's head branch, as GitHub does on every push to it."""
    git = world.git.get(repo.name.lower())
    sha = git.head(pull.head_ref) if git and pull.merged_at is None else None
    if git is None or sha is None:
        return
    pull.head_sha = sha
    pull.commits = [_commit(world, c) for c in git.commits(pull.base, sha)]
    pull.files = git.files(pull.base, sha)


def review(
    world: World, pull: PullState, login: str, event: str, commit_id: str | None, now: datetime
) -> ReviewState:
    """Submit ``login``'s review of ``pull``; GitHub refuses an author's own verdict."""
    if event not in REVIEW_STATES:
        raise SandboxError(
            422, "Unprocessable Entity", [f"event must be one of {list(REVIEW_STATES)}"]
        )
    if event != "COMMENT" and pull.author.lower() == login.lower():
        verdict = "approve" if event == "APPROVE" else "request changes on"
        raise SandboxError(
            422, "Unprocessable Entity", [f"Review Can not {verdict} your own pull request"]
        )
    given = ReviewState.model_validate(
        {
            "user": world.logins.get(login.lower(), login),
            "state": REVIEW_STATES[event],
            "commit_id": commit_id or pull.head_sha,
            "submitted_at": format_timestamp(now),
        }
    )
    pull.reviews.append(given)
    return given


def merge(
    world: World,
    repo: Repo,
    pull: PullState,
    login: str,
    method: str,
    sha: str | None,
    now: datetime,
) -> str:
    """Merge ``pull`` as ``login`` (``merge`` or ``squash``); return the new commit."""
    git = world.git.get(repo.name.lower())
    _check_mergeable(world, repo, pull, method, git)
    assert git is not None
    refresh(world, repo, pull)
    if sha and sha != pull.head_sha:
        raise SandboxError(409, "Head branch was modified. Review and try the merge again.")
    if method == "squash":
        message = f"{pull.title} (#{pull.number})"
    else:
        message = (
            f"Merge pull request #{pull.number} from {world.org}/{pull.head_ref}\n\n{pull.title}"
        )
    who = world.logins.get(login.lower(), login)
    try:
        made = git.merge(
            pull.base,
            pull.head_sha,
            squash=method == "squash",
            message=message,
            author=who,
            when=format_timestamp(now),
        )
    except GitSideError as exc:
        raise SandboxError(405, f"Pull Request is not mergeable: {exc}") from None
    pull.merged_at, pull.merge_commit_sha, pull.merged_by = format_timestamp(now), made, who
    return made


def _check_mergeable(
    world: World, repo: Repo, pull: PullState, method: str, git: GitSide | None
) -> None:
    if method not in ("merge", "squash", "rebase"):
        error = {"resource": "PullRequest", "field": "merge_method", "code": "invalid"}
        raise SandboxError(422, "Validation Failed", [error])
    if pull.merged_at is not None:
        raise SandboxError(405, "Pull Request is not mergeable")
    if method == "rebase":
        raise SandboxError(405, "Rebase merges are not allowed on this repository.")
    if git is None:
        raise SandboxError(
            405,
            f"Pull Request is not mergeable: the sandbox has no git repository for "
            f"{world.org}/{repo.name} (serve it with --git {repo.name}=PATH)",
        )


def _commit(world: World, item: GitCommit) -> CommitState:
    """A commit with its author and committer linked to accounts, as GitHub links them."""
    return CommitState(
        sha=item.sha,
        author=linked(world, item.author),
        committer=linked(world, item.committer),
        date=item.date,
        message=item.message,
    )


def linked(world: World, identity: tuple[str, str]) -> str | None:
    """The account a git identity (name, email) belongs to, or None.

    GitHub links by verified email; the sandbox has no emails, so it takes the login in
    a ``users.noreply.github.com`` address, else an email's local part or the name that
    is a known account's login.
    """
    name, email = identity
    local = email.partition("@")[0]
    if email.lower().endswith(NOREPLY):
        local = local.rpartition("+")[2]
    for candidate in (local, name):
        if candidate.lower() in world.logins:
            return world.logins[candidate.lower()]
    return None


def _made_up(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()
