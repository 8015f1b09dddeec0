"""Facts about the access repository's pull requests and reviewers, for approval proof."""

from __future__ import annotations

from typing import Any

from grantops.approval import HeadFile, PullCommit, PullRequest, Review
from grantops.github.transport import Transport

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write", "push"})
"""Permission levels that GitHub counts approvals from (``maintain`` reads as ``write``)."""


def merged_pull_for_commit(
    transport: Transport, owner: str, repo: str, sha: str, branch: str | None
) -> PullRequest | None:
    """The merged pull request into ``branch`` that GitHub says introduced ``sha``.

    Its reviews and commits come with it. Where GitHub names several, the one whose
    merge commit is ``sha`` wins, so a squash or merge commit maps to its own PR.
    """
    where = f"{owner}/{repo}"
    pulls = transport.list(
        f"list pull requests of commit {sha[:7]} in {where}",
        "repos",
        "list_pull_requests_associated_with_commit",
        owner=owner,
        repo=repo,
        commit_sha=sha,
    )
    merged = [
        p
        for p in pulls
        if p.get("merged_at") and (branch is None or p.get("base", {}).get("ref") == branch)
    ]
    if not merged:
        return None
    pull = min(merged, key=lambda p: 0 if p.get("merge_commit_sha") == sha else 1)
    number = int(pull["number"])
    reviews = transport.list(
        f"list reviews of {where}#{number}",
        "pulls",
        "list_reviews",
        owner=owner,
        repo=repo,
        pull_number=number,
    )
    commits = transport.list(
        f"list commits of {where}#{number}",
        "pulls",
        "list_commits",
        owner=owner,
        repo=repo,
        pull_number=number,
    )
    return PullRequest(
        number=number,
        author=str(pull["user"]["login"]),
        head_sha=str(pull["head"]["sha"]),
        merge_commit_sha=pull.get("merge_commit_sha"),
        commits=tuple(
            PullCommit(str(c["sha"]), _login(c.get("author")), _login(c.get("committer")))
            for c in commits
        ),
        reviews=tuple(
            Review(
                login=_login(r.get("user")),
                state=str(r["state"]),
                commit_id=str(r.get("commit_id") or ""),
                is_bot=bool(r.get("user")) and r["user"].get("type") == "Bot",
            )
            for r in reviews
        ),
    )


def _login(account: Any) -> str | None:
    """The login of a linked account; None for a deleted or unlinked one."""
    if isinstance(account, dict) and isinstance(account.get("login"), str):
        return str(account["login"])
    return None


def file_at(transport: Transport, owner: str, repo: str, path: str, ref: str) -> HeadFile | None:
    """``path`` as it was at commit ``ref`` (None: there was no such path).

    GitHub answers a symlink to a file with the target's content and the target's path,
    so the path is kept to tell the two apart.
    """
    found = transport.get_optional(
        f"read {path} at {ref[:7]} in {owner}/{repo}",
        "repos",
        "get_content",
        owner=owner,
        repo=repo,
        path=path,
        ref=ref,
    )
    if found is None:
        return None
    if isinstance(found, list):
        return HeadFile(path, "dir", "")
    return HeadFile(str(found.get("path", "")), str(found.get("type", "")), str(found.get("sha")))


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
