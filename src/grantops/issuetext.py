"""What grantops says on an access request issue, and which comment is its own (pure).

One comment per issue, rewritten in place as the issue is edited: it starts with
:data:`MARKER`, and only a comment by grantops' own account counts as it, so a
requester who pastes the marker into their own comment changes nothing. Anything that
came from the issue (a wrong heading, a reason) is shown only inside a code fence longer
than any run of backticks it holds: it cannot close the fence, add Markdown or HTML, or
mention anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grantops.issueform import LABEL

MARKER = "<!-- grantops:access-request -->"
BRANCH_PREFIX = "grant/issue-"
_BRANCH = re.compile(rf"{re.escape(BRANCH_PREFIX)}([1-9][0-9]{{0,9}})")


@dataclass(frozen=True)
class Issue:
    number: int
    author: str
    title: str
    body: str
    state: str
    labels: tuple[str, ...]
    is_pull: bool
    author_id: int
    """The author's account id: with the login, the no-reply address GitHub links to them."""
    author_bot: bool
    """Opened by a bot account (a GitHub App, or Actions' own token), not a person."""

    @property
    def author_identity(self) -> tuple[str, str]:
        """The git identity (name, email) that GitHub links to the issue's author, for
        the commit that writes their request: as its author, they may not approve it."""
        return self.author, f"{self.author_id}+{self.author}@users.noreply.github.com"


@dataclass(frozen=True)
class IssueComment:
    id: int
    author: str
    bot: bool
    """Written by a bot account (a GitHub App, or Actions' own token)."""
    body: str


@dataclass(frozen=True)
class PullEnd:
    """A pull request's head branch, and whether it is closed and merged."""

    head: str
    head_repo: str | None
    closed: bool
    merged: bool


def branch_for(number: int) -> str:
    """The branch of the grant pull request for issue ``number``."""
    return f"{BRANCH_PREFIX}{number}"


def issue_of_branch(branch: str) -> int | None:
    """The issue a grant pull request's branch was named from; None for other branches."""
    found = _BRANCH.fullmatch(branch)
    return int(found.group(1)) if found else None


def refusal(issue: Issue) -> str | None:
    """Why grantops does not read ``issue`` as a request at all, if it does not."""
    if issue.is_pull:
        return "is a pull request, not an access request issue"
    if issue.state != "open":
        return "is closed"
    if LABEL not in (label.lower() for label in issue.labels):
        return f"does not carry the {LABEL} label of the access request form"
    if issue.author_bot:
        return "was not opened by a person: a request is someone's own, to be reviewed by another"
    return None


def own_comment(comments: Iterable[IssueComment], me: str | None) -> IssueComment | None:
    """grantops' earlier comment: the first with the marker by ``me`` (the token's own
    login); when the token cannot name its account (a GitHub App, or Actions' own
    token), by a bot account, which no person can write as."""
    for comment in comments:
        mine = comment.author.lower() == me if me else comment.bot
        if mine and comment.body.startswith(MARKER):
            return comment
    return None


def fenced(text: str) -> str:
    """``text`` in a code fence no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def plan_comment(pull: tuple[int, str], written: str, plan: Sequence[dict[str, Any]]) -> str:
    """The request as it will be reviewed: the pull request, the file and what merging adds."""
    number, url = pull
    adds = "\n".join(f"- add `{c['principal']}` `{c['to']}` on `{c['target']}`" for c in plan)
    return (
        f"{MARKER}\n**Grant pull request #{number} is open for review:** {url}\n\n"
        f"Once it is approved and merged, the next reconcile run will:\n{adds}\n\n"
        f"The grant file it adds:\n\n{fenced(written.rstrip())}\n\n"
        "Edit this issue to change the request: the pull request and this comment follow.\n"
    )


def problems_comment(problems: Sequence[str]) -> str:
    """Every reason the issue is not a request grantops can write, one per line."""
    return (
        f"{MARKER}\n**This request cannot be written as a grant yet.** Edit the issue to fix "
        "these; the request as it stands was not proposed:\n\n"
        f"{fenced(chr(10).join(problems))}\n"
    )


def closed_comment(pull: int, merged: bool) -> str:
    if merged:
        return (
            f"{MARKER}\nGrant pull request #{pull} was merged: access starts on the next "
            "reconcile run and ends on its own. Closing this request.\n"
        )
    return (
        f"{MARKER}\nGrant pull request #{pull} was closed without merging. Closing this request.\n"
    )
