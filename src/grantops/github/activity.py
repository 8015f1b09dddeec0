"""What a grantee did while their access was open: commits and merged pull requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from grantops.github.transport import Transport
from grantops.values import format_timestamp, parse_timestamp


@dataclass(frozen=True)
class Activity:
    kind: str  # "commit" or "pull"
    ref: str  # short sha or "#number"
    title: str
    at: str


def first_line(message: str) -> str:
    """A commit's title: its first line, empty for an empty message (which git allows)."""
    return next(iter(message.splitlines()), "")


def activity(
    transport: Transport, owner: str, repo: str, login: str, since: datetime, until: datetime
) -> list[Activity]:
    """Commits ``login`` authored on the default branch, and their pull requests merged,
    between ``since`` and ``until``."""
    where = f"{owner}/{repo}"
    commits = transport.list(
        f"list commits by {login} in {where}",
        "repos",
        "list_commits",
        owner=owner,
        repo=repo,
        author=login,
        since=format_timestamp(since),
        until=format_timestamp(until),
    )
    found = [
        Activity(
            "commit",
            c["sha"][:7],
            first_line(c["commit"]["message"]),
            c["commit"]["author"]["date"],
        )
        for c in commits
    ]
    pulls = transport.list(
        f"list closed pull requests of {where}",
        "pulls",
        "list",
        owner=owner,
        repo=repo,
        state="closed",
        sort="updated",
        direction="desc",
    )
    for pull in pulls:
        merged = pull.get("merged_at")
        author = (pull.get("user") or {}).get("login", "")
        if merged and author.lower() == login.lower() and since <= parse_timestamp(merged) <= until:
            found.append(Activity("pull", f"#{pull['number']}", pull["title"], merged))
    return sorted(found, key=lambda a: a.at)
