"""Facts about the access repository's pull requests and reviewers, for approval proof."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from grantops.github.transport import Transport
from grantops.proof.review import PullCommit, PullRequest, Review

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write", "push"})
"""Permission levels that GitHub counts approvals from (``maintain`` reads as ``write``)."""


def merged_pull_for_commit(
    transport: Transport, owner: str, repo: str, sha: str, branch: str | None
) -> PullRequest | None:
    """The merged pull request into ``branch`` that GitHub says introduced ``sha``.

    Its reviews and commits come with it. Where GitHub names several, the one whose
    merge commit is ``sha`` wins, so a squash or merge commit maps to its own PR.
    """
    merged = _merged_pulls(transport, owner, repo, sha, branch)
    if not merged:
        return None
    pull = min(merged, key=lambda p: 0 if p.get("merge_commit_sha") == sha else 1)
    number = int(pull["number"])
    commits = _pull_listing(transport, owner, repo, number, "commits", "list_commits")
    full = transport.get(
        f"read {owner}/{repo}#{number}", "pulls", "get", owner=owner, repo=repo, pull_number=number
    )  # only the full pull request says who merged it
    found = PullRequest(
        number=number,
        author=str(pull["user"]["login"]),
        head_sha=str(pull["head"]["sha"]),
        merge_commit_sha=pull.get("merge_commit_sha"),
        merged_at=str(pull["merged_at"]),
        merged_by=_login(full.get("merged_by")) if isinstance(full, dict) else None,
        commits=tuple(_commit(c) for c in commits),
    )
    return with_reviews(transport, owner, repo, found)


def with_reviews(transport: Transport, owner: str, repo: str, pull: PullRequest) -> PullRequest:
    """``pull`` with its reviews, as GitHub lists them: only REST says which reviewer is
    a bot, and a bot's approval is no person's."""
    reviews = _pull_listing(transport, owner, repo, pull.number, "reviews", "list_reviews")
    return replace(pull, reviews=tuple(_review(r) for r in reviews))


def _merged_pulls(
    transport: Transport, owner: str, repo: str, sha: str, branch: str | None
) -> list[dict[str, Any]]:
    """The pull requests GitHub associates with ``sha`` that were merged into ``branch``."""
    pulls = transport.list(
        f"list pull requests of commit {sha[:7]} in {owner}/{repo}",
        "repos",
        "list_pull_requests_associated_with_commit",
        owner=owner,
        repo=repo,
        commit_sha=sha,
    )
    return [
        p
        for p in pulls
        if p.get("merged_at") and (branch is None or p.get("base", {}).get("ref") == branch)
    ]


def _pull_listing(
    transport: Transport, owner: str, repo: str, number: int, what: str, operation: str
) -> list[Any]:
    """Every item of one of pull request ``number``'s listings (``what``: its name)."""
    return transport.list(
        f"list {what} of {owner}/{repo}#{number}",
        "pulls",
        operation,
        owner=owner,
        repo=repo,
        pull_number=number,
    )


def _commit(item: dict[str, Any]) -> PullCommit:
    return PullCommit(str(item["sha"]), _login(item.get("author")), _login(item.get("committer")))


def _review(item: dict[str, Any]) -> Review:
    """A review; a bot's approval is marked as such, as it is no person's approval."""
    return Review(
        login=_login(item.get("user")),
        state=str(item["state"]),
        commit_id=str(item.get("commit_id") or ""),
        is_bot=bool(item.get("user")) and item["user"].get("type") == "Bot",
        submitted_at=item.get("submitted_at")
        if isinstance(item.get("submitted_at"), str)
        else None,
    )


def _login(account: Any) -> str | None:
    """The login of a linked account; None for a deleted or unlinked one."""
    if isinstance(account, dict) and isinstance(account.get("login"), str):
        return str(account["login"])
    return None


def changed_files(
    transport: Transport, owner: str, repo: str, number: int
) -> dict[str, str | None]:
    """What the reviewer saw: each path the pull request's diff adds, changes or removes
    -> its blob at the head commit (None: removed).

    GitHub lists the files of the diff against the merge base. A removed file grants
    nothing, but its removal is what proves a revoke was reviewed.
    """
    files = _pull_listing(transport, owner, repo, number, "files", "list_files")
    return {
        str(f["filename"]): None if f.get("status") == "removed" else str(f["sha"])
        for f in files
        if f.get("status") == "removed" or f.get("sha")
    }


def recent_merges(transport: Transport, owner: str, repo: str, branch: str) -> dict[int, str]:
    """The merge commits of the (up to 100) pull requests into ``branch`` updated last."""
    pulls = transport.get(
        f"list recently closed pull requests of {owner}/{repo}",
        "pulls",
        "list",
        owner=owner,
        repo=repo,
        state="closed",
        base=branch,
        sort="updated",
        direction="desc",
        per_page=100,
    )
    return {
        int(p["number"]): str(p["merge_commit_sha"])
        for p in pulls
        if p.get("merged_at") and p.get("merge_commit_sha")
    }


def can_write(transport: Transport, owner: str, repo: str, login: str) -> bool:
    """Whether ``login`` has write access to the repository, from any source."""
    found = transport.get_optional(
        f"read {login}'s permission on {owner}/{repo}",
        "repos",
        "get_collaborator_permission_level",
        owner=owner,
        repo=repo,
        username=login,
    )
    return found is not None and str(found.get("permission")) in WRITE_PERMISSIONS


def is_team_member(transport: Transport, org: str, team: str, login: str) -> bool:
    membership = transport.get_optional(
        f"read membership of {login} in team {org}/{team}",
        "teams",
        "get_membership_for_user_in_org",
        org=org,
        team_slug=team,
        username=login,
    )
    return membership is not None and membership.get("state") == "active"
