"""Access request issues, their comments, and the pull requests opened for them.

``grantops request --from-issue`` reads one issue by number (its author, labels and
body), keeps one comment of its own on it up to date, and retitles the pull request it
opened when the issue is edited; ``--close-merged`` reads how that pull request ended.
An answer grantops cannot read fails: it is never read as an empty issue or no comment.
"""

from __future__ import annotations

from typing import Any

from grantops.github.transport import GitHubError, Transport
from grantops.issuetext import Issue, IssueComment, PullEnd


def read_issue(transport: Transport, owner: str, repo: str, number: int) -> Issue:
    what = f"read {owner}/{repo}#{number}"
    item = transport.get(what, "issues", "get", owner=owner, repo=repo, issue_number=number)
    try:
        labels = tuple(
            str(label["name"] if isinstance(label, dict) else label) for label in item["labels"]
        )
        return Issue(
            number=int(item["number"]),
            author=str(item["user"]["login"]),
            title=str(item["title"]),
            body=str(item.get("body") or ""),
            state=str(item["state"]),
            labels=labels,
            is_pull="pull_request" in item,
            author_id=int(item["user"]["id"]),
            author_bot=item["user"].get("type") == "Bot",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubError(what, 200, f"an answer grantops cannot read ({exc!r})") from None


def comments(transport: Transport, owner: str, repo: str, number: int) -> list[IssueComment]:
    what = f"list comments on {owner}/{repo}#{number}"
    found = transport.list(
        what, "issues", "list_comments", owner=owner, repo=repo, issue_number=number
    )
    try:
        return [_comment(item) for item in found]
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubError(what, 200, f"an answer grantops cannot read ({exc!r})") from None


def _comment(item: dict[str, Any]) -> IssueComment:
    author = item["user"] or {}
    return IssueComment(
        id=int(item["id"]),
        author=str(author.get("login", "")),
        bot=author.get("type") == "Bot",
        body=str(item.get("body") or ""),
    )


def edit_comment(transport: Transport, owner: str, repo: str, ident: int, body: str) -> None:
    transport.mutate(
        f"edit comment {ident} in {owner}/{repo}",
        "issues",
        "update_comment",
        owner=owner,
        repo=repo,
        comment_id=ident,
        body=body,
    )


def edit_pull(
    transport: Transport, owner: str, repo: str, number: int, *, title: str, body: str
) -> None:
    transport.mutate(
        f"update {owner}/{repo}#{number}",
        "pulls",
        "update",
        owner=owner,
        repo=repo,
        pull_number=number,
        title=title,
        body=body,
    )


def pull_end(transport: Transport, owner: str, repo: str, number: int) -> PullEnd:
    what = f"read {owner}/{repo}#{number}"
    pull = transport.get(what, "pulls", "get", owner=owner, repo=repo, pull_number=number)
    try:
        head_repo = pull["head"]["repo"]
        return PullEnd(
            head=str(pull["head"]["ref"]),
            head_repo=str(head_repo["full_name"]) if head_repo else None,
            closed=pull["state"] == "closed",
            merged=bool(pull["merged"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubError(what, 200, f"an answer grantops cannot read ({exc!r})") from None
