"""Facts about the access repository's pull requests, for approval proof."""

from __future__ import annotations

from grantops.approval import PullRequest, Review
from grantops.github.transport import Transport


def merged_pull_for_commit(
    transport: Transport, owner: str, repo: str, sha: str, branch: str | None
) -> PullRequest | None:
    """The merged pull request that brought ``sha`` to ``branch``, with reviews and authors."""
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
    authors = frozenset(c["author"]["login"] for c in commits if isinstance(c.get("author"), dict))
    return PullRequest(
        number=number,
        author=str(pull["user"]["login"]),
        head_sha=str(pull["head"]["sha"]),
        merge_commit_sha=pull.get("merge_commit_sha"),
        commit_authors=authors,
        reviews=tuple(
            Review(
                login=r["user"]["login"] if r.get("user") else None,
                state=str(r["state"]),
                commit_id=str(r.get("commit_id") or ""),
                is_bot=bool(r.get("user")) and r["user"].get("type") == "Bot",
            )
            for r in reviews
        ),
    )


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
