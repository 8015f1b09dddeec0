"""Whether a grant arrived through a reviewed pull request: the rules, as pure functions.

Merge review is the approval, so grantops checks that the review happened instead of
trusting whatever sits on the default branch. The I/O (git history, GitHub's pull
requests and reviews) happens elsewhere; this module judges the facts it is given:

* the commit that last changed the file must belong to a merged pull request;
* ``approval.required`` reviewers must have approved the pull request's final head
  commit, counting each reviewer's latest review;
* an approval does not count from the grantee, the PR author, an author of a commit in
  the PR, a bot, a deleted account, or someone outside ``approval.approvers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

STATE_CHANGING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
"""Review states that replace a reviewer's earlier verdict (comments do not)."""


@dataclass(frozen=True)
class Review:
    login: str | None  # None: the account was deleted
    state: str
    commit_id: str
    is_bot: bool = False


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    merge_commit_sha: str | None
    commit_authors: frozenset[str] = frozenset()
    reviews: tuple[Review, ...] = ()  # chronological, as GitHub lists them


@dataclass(frozen=True)
class Evidence:
    """What proves a grant's review; kept so later runs and the audit report can show it."""

    commit: str
    pull: int
    approvers: tuple[str, ...]
    merge_commit: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "commit": self.commit,
            "pull": self.pull,
            "approvers": list(self.approvers),
            "merge_commit": self.merge_commit,
        }


@dataclass(frozen=True)
class Approval:
    approved: bool
    reason: str
    evidence: Evidence | None = None
    not_counted: tuple[str, ...] = field(default=())


def judge(
    *,
    commit: str | None,
    pull: PullRequest | None,
    required: int,
    grantee: str | None,
    may_approve: Callable[[str], bool] = lambda login: True,
) -> Approval:
    """Decide one file's approval from its last commit and that commit's pull request."""
    if commit is None:
        return Approval(False, "not committed: the file has no commit on the branch")
    if pull is None:
        return Approval(
            False,
            f"direct push: commit {commit[:7]} reached the branch without a merged pull request",
        )
    latest: dict[str, Review] = {}
    not_counted: list[str] = []
    for review in pull.reviews:
        if review.state not in STATE_CHANGING:
            continue
        if review.login is None:
            if review.state == "APPROVED":
                not_counted.append("a deleted account")
            continue
        latest[review.login.lower()] = review
    approvers = []
    excluded = {pull.author.lower()} | {a.lower() for a in pull.commit_authors}
    for key, review in latest.items():
        if review.state != "APPROVED":
            continue
        name = review.login or key
        if grantee is not None and key == grantee.lower():
            not_counted.append(f"{name} (the grantee: self-approval)")
        elif key == pull.author.lower():
            not_counted.append(f"{name} (the PR author: self-approval)")
        elif key in excluded:
            not_counted.append(f"{name} (authored a commit in the PR)")
        elif review.is_bot:
            not_counted.append(f"{name} (a bot)")
        elif review.commit_id != pull.head_sha:
            old, final = review.commit_id[:7], pull.head_sha[:7]
            not_counted.append(f"{name} (stale: approved {old}, not the final {final})")
        elif not may_approve(name):
            not_counted.append(f"{name} (not in approval.approvers)")
        else:
            approvers.append(name)
    evidence = Evidence(commit, pull.number, tuple(sorted(approvers)), pull.merge_commit_sha)
    if len(approvers) >= required:
        return Approval(
            True,
            f"approved in PR #{pull.number} by {', '.join(sorted(approvers))}",
            evidence,
            tuple(not_counted),
        )
    why = f"PR #{pull.number} has {len(approvers)} of {required} required approvals"
    if not_counted:
        why += "; not counted: " + "; ".join(not_counted)
    return Approval(False, why, evidence, tuple(not_counted))
