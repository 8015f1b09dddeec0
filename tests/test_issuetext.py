"""What grantops says on a request issue, and which comment it takes for its own."""

from __future__ import annotations

import pytest

from grantops.issuetext import (
    MARKER,
    Issue,
    IssueComment,
    branch_for,
    fenced,
    issue_of_branch,
    own_comment,
    problems_comment,
    refusal,
)


def _issue(**changed: object) -> Issue:
    fields: dict[str, object] = {
        "number": 7,
        "author": "alice",
        "title": "Access request",
        "body": "",
        "state": "open",
        "labels": ("Access-Request",),
        "is_pull": False,
        "author_id": 1001,
        "author_bot": False,
    }
    return Issue(**(fields | changed))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, None),
        ({"is_pull": True}, "is a pull request, not an access request issue"),
        ({"state": "closed"}, "is closed"),
        (
            {"labels": ("question",)},
            "does not carry the access-request label of the access request form",
        ),
        (
            {"author": "deploy-bot[bot]", "author_bot": True},
            "was not opened by a person: a request is someone's own, to be reviewed by another",
        ),
    ],
)
def test_only_open_issues_of_the_form_are_requests(
    changed: dict[str, object], expected: str | None
) -> None:
    assert refusal(_issue(**changed)) == expected


@pytest.mark.parametrize(
    ("branch", "number"),
    [
        (branch_for(7), 7),
        ("grant/issue-12345", 12345),
        ("grant/issue-0", None),
        ("grant/issue-07", None),
        ("grant/issue-7/x", None),
        ("grant/octocat/2026-11-30-ledger", None),
        ("grant/issue-12345678901", None),
    ],
)
def test_the_issue_a_branch_was_named_from(branch: str, number: int | None) -> None:
    assert issue_of_branch(branch) == number


def test_only_grantops_own_comment_is_taken_for_its_own() -> None:
    pasted = IssueComment(1, "alice", False, f"{MARKER}\nApproved")
    other_bot = IssueComment(2, "helper[bot]", True, "no marker")
    mine = IssueComment(3, "grantops-app[bot]", True, f"{MARKER}\nplan")
    assert own_comment([pasted, other_bot, mine], None) == mine
    assert own_comment([pasted, other_bot, mine], "alice") == pasted
    assert own_comment([pasted, other_bot], None) is None
    assert own_comment([mine], "octocat") is None


def test_a_fence_no_answer_can_close() -> None:
    text = "Reason: ````\n@everyone <b>hi</b>"
    block = fenced(text)
    assert block.startswith("`````text\n") and block.endswith("\n`````")
    comment = problems_comment([text])
    body = comment.split("`````text\n", 1)[1].split("\n`````", 1)[0]
    assert body == text


def test_the_requester_is_the_git_identity_github_links_to_their_account() -> None:
    assert _issue().author_identity == ("alice", "1001+alice@users.noreply.github.com")


def test_with_its_bot_named_only_that_bots_marked_comment_is_grantops_own() -> None:
    """A workflow on anyone's branch can comment as github-actions[bot] and copy the
    marker: once grantops knows its own bot (GRANTOPS_BOT_LOGIN), that is not enough."""
    forged = IssueComment(1, "github-actions[bot]", True, f"{MARKER}\nforged")
    mine = IssueComment(2, "grantops-requests[bot]", True, f"{MARKER}\nplan")
    assert own_comment([forged, mine], "grantops-requests[bot]") == mine
    assert own_comment([forged], "grantops-requests[bot]") is None
