"""The pull requests behind many commits of the access repository, in one GraphQL query.

Approval proof asks, per grant version, which merged pull request put its commit on the
branch, with the commits of that pull request and who merged it: four REST requests a
version. Those versions are known up front from git's history, so they are read here
as aliases ``c0 ... cN`` of ``repository.object(oid:)``, :data:`BATCH` to a query.

Only what GraphQL says in full is kept, as the same :class:`PullRequest` the REST path
builds, minus its reviews: GitHub's GraphQL schema does not say whether a reviewer is a
bot, which decides whether an approval counts, so reviews stay a REST listing. The
files of a diff stay REST as well (GraphQL gives no blob per path, and the same-content
rule needs it). Anything else (an error, a null, a page that goes on, no merged pull
request, several candidates) leaves that commit to the REST path: a batch can only
save requests, never change a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grantops.github.graphql import RATE_LIMIT, GraphQL
from grantops.github.transport import GitHubError
from grantops.proof.review import PullCommit, PullRequest

BATCH = 50
"""Commits per query: 50 x (1 + 5 pages of 100 commits) / 100 costs 3 points."""

PULLS_PER_COMMIT = 5
PAGE = "pageInfo { hasNextPage endCursor }"
ACCOUNT = "user { login }"


def pulls_query(count: int) -> str:
    """The query reading the pull requests of ``count`` commits named ``$o0 ...``."""
    oids = ", ".join(f"$o{i}: GitObjectID!" for i in range(count))
    aliases = "\n".join(f"      c{i}: object(oid: $o{i}) {{ ...Pulls }}" for i in range(count))
    return f"""
query($owner: String!, $name: String!, {oids}) {{
  {RATE_LIMIT}
  organization(login: $owner) {{
    repository(name: $name) {{
{aliases}
    }}
  }}
}}
fragment Pulls on Commit {{
  associatedPullRequests(first: {PULLS_PER_COMMIT}) {{
    {PAGE}
    nodes {{
      number
      author {{ login }}
      baseRefName
      headRefOid
      mergeCommit {{ oid }}
      mergedAt
      mergedBy {{ login }}
      commits(first: 100) {{
        {PAGE}
        nodes {{ commit {{ oid author {{ {ACCOUNT} }} committer {{ {ACCOUNT} }} }} }}
      }}
    }}
  }}
}}
"""


def all_queries() -> list[str]:
    """The query at its smallest and largest size, for the schema contract test."""
    return [pulls_query(1), pulls_query(BATCH)]


def prefetch(
    graphql: GraphQL, owner: str, repo: str, shas: Iterable[str], branch: str | None
) -> dict[str, PullRequest]:
    """Each commit of ``shas`` whose merged pull request GraphQL names in full -> that
    pull request without its reviews. A batch that fails is left out whole."""
    wanted = sorted(set(shas))
    found: dict[str, PullRequest] = {}
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        try:
            found.update(_batch(graphql, owner, repo, batch, branch))
        except GitHubError:
            continue  # those commits go the REST way
    return found


def _batch(
    graphql: GraphQL, owner: str, repo: str, shas: list[str], branch: str | None
) -> dict[str, PullRequest]:
    variables: dict[str, Any] = {"owner": owner, "name": repo}
    variables.update({f"o{i}": sha for i, sha in enumerate(shas)})
    answer = graphql.query(
        f"read the pull requests of {len(shas)} commits of {owner}/{repo}",
        pulls_query(len(shas)),
        variables,
    )
    where = (answer.data.get("organization") or {}).get("repository") or {}
    found: dict[str, PullRequest] = {}
    for i, sha in enumerate(shas):
        alias = f"c{i}"
        if answer.error_at("organization", "repository", alias) is not None:
            continue
        pull = merged_pull(where.get(alias), sha, branch)
        if pull is not None:
            found[sha] = pull
    return found


def merged_pull(commit: Any, sha: str, branch: str | None) -> PullRequest | None:
    """The one merged pull request into ``branch`` for ``sha``, when the answer is whole."""
    pulls = commit.get("associatedPullRequests") if isinstance(commit, dict) else None
    if not isinstance(pulls, dict) or _more(pulls):
        return None
    merged = [
        p
        for p in pulls.get("nodes") or ()
        if isinstance(p, dict)
        and p.get("mergedAt")
        and (branch is None or p.get("baseRefName") == branch)
    ]
    own = [p for p in merged if _oid(p.get("mergeCommit")) == sha]
    chosen = own[:1] or (merged if len(merged) == 1 else [])
    try:
        return _pull(chosen[0]) if chosen else None
    except (KeyError, TypeError, ValueError):
        return None  # an answer not in the schema's shape proves nothing


def _pull(node: dict[str, Any]) -> PullRequest | None:
    """The pull request, or None when part of it is missing or goes on past a page."""
    commits, author = node.get("commits"), _login(node.get("author"))
    if not isinstance(commits, dict) or _more(commits) or author is None:
        return None
    listed = [c.get("commit") if isinstance(c, dict) else None for c in commits.get("nodes") or ()]
    if not all(isinstance(c, dict) and isinstance(c.get("oid"), str) for c in listed):
        return None
    return PullRequest(
        number=int(node["number"]),
        author=author,
        head_sha=str(node["headRefOid"]),
        merge_commit_sha=_oid(node.get("mergeCommit")),
        merged_at=str(node["mergedAt"]),
        merged_by=_login(node.get("mergedBy")),
        commits=tuple(_commit(c) for c in listed if isinstance(c, dict)),
    )


def _commit(commit: dict[str, Any]) -> PullCommit:
    """A commit with the accounts git's author and committer link to (None: unlinked)."""
    return PullCommit(
        str(commit["oid"]),
        _login((commit.get("author") or {}).get("user")),
        _login((commit.get("committer") or {}).get("user")),
    )


def _more(connection: dict[str, Any]) -> bool:
    """Whether a connection goes on past its page (or does not say): not whole."""
    info = connection.get("pageInfo")
    return not isinstance(info, dict) or info.get("hasNextPage") is not False


def _oid(value: Any) -> str | None:
    return str(value["oid"]) if isinstance(value, dict) and value.get("oid") else None


def _login(account: Any) -> str | None:
    if isinstance(account, dict) and isinstance(account.get("login"), str):
        return str(account["login"])
    return None
