"""Whether a file's content was approved in review: the rules, as pure functions.

Merge review is the approval, so grantops checks that the review covered the exact
content that is live, instead of trusting whatever sits on the protected branch. The
I/O (git history, GitHub's pull requests, reviews and permissions) happens elsewhere
(:mod:`grantops.proof.prover`); this module judges the facts it is given. A file is proven when:

* at HEAD it is a regular file (never a symlink or submodule) with no uncommitted edit;
* the commit where it took its current content on the branch's first-parent chain was
  put there by a merged pull request: its merge or squash commit, or one of its rebased
  commits, with the pull request's merge on the chain no further on than it had commits;
* the pull request's reviewed diff adds or changes the path to the very same blob;
* no commit of the pull request lacks a linked GitHub account (author and committer);
* ``required`` reviewers approved that head commit, counting each reviewer's latest
  verdict, where an approval counts only from a human with write access to the access
  repository, in ``approvers`` when set, and neither the grantee, a member of a grantee
  team, the pull request's author, nor an author or committer of any of its commits.

A file's *deletion* (a revoke) is proven the same way (:func:`judge_removal`), with the
reviewed diff removing the path in place of putting the same blob there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from grantops.githistory import Entry, History, Step

STATE_CHANGING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
"""Review states that replace a reviewer's earlier verdict (comments do not)."""


@dataclass(frozen=True)
class Rules:
    """The approval rules a file is judged by."""

    required: int
    approvers: str | None = None
    """Team slug whose members alone may approve; None: anyone with write access."""

    @property
    def fingerprint(self) -> str:
        """Kept evidence is trusted only under the rules it was judged by."""
        text = json.dumps({"required": self.required, "approvers": self.approvers})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def for_policy(self) -> Rules:
        """A policy change always needs at least one approval, even when grants need none."""
        return Rules(max(self.required, 1), self.approvers)


FLOOR = Rules(1, None)
"""Rules for the first version of the policy: one approval from a writer, not the author."""


@dataclass(frozen=True)
class Review:
    login: str | None  # None: the account was deleted
    state: str
    commit_id: str
    is_bot: bool = False
    submitted_at: str | None = None
    """When GitHub recorded the review (its own clock)."""


@dataclass(frozen=True)
class PullCommit:
    """A commit of a pull request, with the GitHub accounts git's identities link to."""

    sha: str
    author: str | None
    committer: str | None


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    merge_commit_sha: str | None
    merged_at: str | None = None
    """When GitHub merged it (its own clock: a commit's date is whatever the pusher set)."""
    merged_by: str | None = None
    """Who merged it, as GitHub says (None: unknown, or a deleted account)."""
    commits: tuple[PullCommit, ...] = ()
    reviews: tuple[Review, ...] = ()  # chronological, as GitHub lists them

    @property
    def contributors(self) -> frozenset[str]:
        """Everyone who wrote or committed a commit of the pull request (lower case)."""
        names = {c.author for c in self.commits} | {c.committer for c in self.commits}
        return frozenset(n.lower() for n in names if n)


@dataclass(frozen=True)
class Grantee:
    """Who would gain access: they may not approve their own access."""

    user: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Checks:
    """Questions about approvers that only GitHub can answer (cached at the edge)."""

    can_write: Callable[[str], bool]
    """Had write access to the access repository (GitHub's own rule for counting)."""
    in_team: Callable[[str, str], bool]
    """``in_team(team, login)``: an active member of the org's team."""


@dataclass(frozen=True)
class Evidence:
    """What proves a file's review; kept so later runs and the audit report can show it."""

    path: str
    commit: str
    blob: str
    pull: int
    approvers: tuple[str, ...]
    merge_commit: str | None
    rules: str
    """Fingerprint of the :class:`Rules` it was judged by."""
    author: str | None = None
    """Who opened the pull request: told when the access it asked for starts and ends."""
    merged_at: str | None = None
    """When GitHub merged the pull request: a grant merged after its window closed never
    gave anything, so its end is no expiry."""
    merged_by: str | None = None
    """Who merged the pull request: an auditor asks who, besides who approved."""
    approved_at: str | None = None
    """When the last approval that counts was given: the moment review was complete."""

    def to_json(self) -> dict[str, object]:
        """The evidence as kept; the fields added later appear only when known, so
        evidence signed before they existed keeps its MAC."""
        added = {"merged_by": self.merged_by, "approved_at": self.approved_at}
        return {
            "path": self.path,
            "commit": self.commit,
            "blob": self.blob,
            "pull": self.pull,
            "approvers": list(self.approvers),
            "merge_commit": self.merge_commit,
            "rules": self.rules,
            "author": self.author,
            "merged_at": self.merged_at,
            **{key: value for key, value in added.items() if value is not None},
        }


@dataclass(frozen=True)
class Judgement:
    """Whether one file version got onto the branch through a valid review, and why."""

    approved: bool
    reason: str
    evidence: Evidence | None = None
    not_counted: tuple[str, ...] = field(default=())
    undecided: bool = False
    """No verdict could be reached because a GitHub read failed: not a refusal. Access the
    audit log shows proven for this very content is kept until it can be checked again."""
    uncommitted: bool = False
    """The file is not on the branch as it stands in the checkout (an edit or a file not
    committed): nothing was merged, so no review was bypassed."""


def short(sha: str | None) -> str:
    return (sha or "none")[:7]


def placement(history: History, path: str) -> Step | str:
    """The step that put ``path``'s current content on the branch, or why there is none."""
    entry = history.tree.get(path)
    if path in history.dirty:
        return "not committed: the file has uncommitted changes in the checkout"
    if entry is None:
        return "not committed: the file has no commit on the branch"
    if not entry.regular:
        kind = "a symlink" if entry.mode == "120000" else f"git mode {entry.mode}"
        return f"not a regular file: {path} is {kind} at {short(history.head)}"
    step = history.arrival(path)
    if step is None:
        return (
            f"no commit on the first-parent chain of {short(history.head)} gave {path} its content"
        )
    return step


def merged_by(history: History, step: Step, pull: PullRequest) -> str | None:
    """Why ``step`` is not how ``pull`` was merged onto the branch (None: it is)."""
    merge = pull.merge_commit_sha
    if merge is None or history.position(merge) is None:
        return (
            f"commit {short(step.commit)} belongs to PR #{pull.number}, but the PR's merge "
            f"{short(merge)} is not on the branch (history rewritten?)"
        )
    if step.commit == merge:
        if len(step.parents) > 1 and step.parents[1] != pull.head_sha:
            return (
                f"merge commit {short(merge)} of PR #{pull.number} does not merge its "
                f"reviewed head {short(pull.head_sha)}"
            )
        return None
    # A rebase merge puts one new commit on the branch per commit of the pull request,
    # the last of them being the merge commit GitHub reports.
    at, end = history.position(step.commit), history.position(merge)
    if at is None or end is None or not 0 < at - end < max(len(pull.commits), 1):
        return (
            f"commit {short(step.commit)} did not come with PR #{pull.number}'s merge "
            f"{short(merge)}: it was pushed to the branch some other way"
        )
    return None


def same_content(path: str, entry: Entry, reviewed: str | None, pull: PullRequest) -> str | None:
    """Why the reviewed diff does not put ``path`` exactly as it is live (None: it does).

    ``reviewed`` is the blob the pull request's diff gives ``path`` at its head (None:
    the diff does not add or change it). Content the diff did not show was not reviewed,
    even when the head holds it.
    """
    where = f"PR #{pull.number}'s reviewed head {short(pull.head_sha)}"
    if reviewed is None:
        return (
            f"PR #{pull.number}'s diff does not add or change {path}: "
            "its content was not part of what was reviewed"
        )
    if reviewed != entry.blob:
        return (
            f"{where} has {path} as blob {short(reviewed)}, but the branch has "
            f"{short(entry.blob)}: it was changed after review"
        )
    return None


def count_approvals(
    pull: PullRequest, rules: Rules, grantee: Grantee, checks: Checks
) -> tuple[list[str], list[str]]:
    """Approvers who count, and each approval that does not with the reason."""
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
    counted = []
    author, contributors = pull.author.lower(), pull.contributors
    for key, review in latest.items():
        if review.state != "APPROVED":
            continue
        name = review.login or key
        why = None
        if grantee.user is not None and key == grantee.user.lower():
            why = "the grantee: self-approval"
        elif key == author:
            why = "the PR author: self-approval"
        elif key in contributors:
            why = "authored or committed a commit in the PR"
        elif review.is_bot:
            why = "a bot"
        elif review.commit_id != pull.head_sha:
            why = f"stale: approved {short(review.commit_id)}, not the final {short(pull.head_sha)}"
        elif grantee.team is not None and checks.in_team(grantee.team, name):
            why = f"a member of the grantee team {grantee.team}"
        elif rules.approvers is not None and not checks.in_team(rules.approvers, name):
            why = "not in approval.approvers"
        elif not checks.can_write(name):
            why = "no write access to the access repository"
        if why is None:
            counted.append(name)
        else:
            not_counted.append(f"{name} ({why})")
    return sorted(counted), not_counted


def judge(
    *,
    path: str,
    entry: Entry,
    step: Step,
    history: History,
    pull: PullRequest | None,
    reviewed: str | None,
    rules: Rules,
    grantee: Grantee,
    checks: Checks,
) -> Judgement:
    """Decide one file's approval from where its content came from and that PR's review."""
    if pull is None:
        return _pushed(step, "put this content on")
    problem = merged_by(history, step, pull) or same_content(path, entry, reviewed, pull)
    if problem is not None:
        return Judgement(False, problem)
    return approval(path, entry.blob, step, pull, rules, grantee, checks)


def judge_removal(
    *,
    path: str,
    step: Step,
    history: History,
    pull: PullRequest | None,
    removed: bool,
    rules: Rules,
    grantee: Grantee,
    checks: Checks,
) -> Judgement:
    """Decide whether a file's deletion (``step``) was approved, as :func:`judge` does its
    content: merged by its pull request, shown as removed in the reviewed diff
    (``removed``), and approved on the final head by the required reviewers.

    The grantee cannot approve the end of their own access either: one rule for both
    directions keeps the count simple to reason about.
    """
    if pull is None:
        return _pushed(step, "deleted this file from")
    problem = merged_by(history, step, pull)
    if problem is None and not removed:
        problem = (
            f"PR #{pull.number}'s diff does not delete {path}: "
            "its deletion was not part of what was reviewed"
        )
    if problem is not None:
        return Judgement(False, problem)
    blob = step.before.blob if step.before is not None else ""
    return approval(path, blob, step, pull, rules, grantee, checks)


def _pushed(step: Step, did: str) -> Judgement:
    return Judgement(
        False,
        f"direct push: commit {short(step.commit)} {did} the branch without a merged pull request",
    )


def approval(
    path: str,
    blob: str,
    step: Step,
    pull: PullRequest,
    rules: Rules,
    grantee: Grantee,
    checks: Checks,
) -> Judgement:
    """Whether ``pull``, which merged ``step``, has its required approvals (with evidence)."""
    unlinked = [c.sha for c in pull.commits if c.author is None or c.committer is None]
    if unlinked:
        return Judgement(
            False,
            f"PR #{pull.number} has commit {short(unlinked[0])} with no linked GitHub account, "
            "so who pushed it is unknown",
        )
    counted, not_counted = count_approvals(pull, rules, grantee, checks)
    evidence = Evidence(
        path,
        step.commit,
        blob,
        pull.number,
        tuple(counted),
        pull.merge_commit_sha,
        rules.fingerprint,
        pull.author,
        pull.merged_at,
        pull.merged_by,
        approved_at(pull, counted),
    )
    if len(counted) >= rules.required:
        return Judgement(
            True,
            f"approved in PR #{pull.number} by {', '.join(counted) or 'nobody (none required)'}",
            evidence,
            tuple(not_counted),
        )
    why = f"PR #{pull.number} has {len(counted)} of {rules.required} required approvals"
    if not_counted:
        why += "; not counted: " + "; ".join(not_counted)
    return Judgement(False, why, evidence, tuple(not_counted))


def approved_at(pull: PullRequest, counted: Sequence[str]) -> str | None:
    """When the last counted approval was submitted (None: none counted, or unknown)."""
    names = {name.lower() for name in counted}
    times = [
        r.submitted_at
        for r in pull.reviews
        if r.submitted_at and r.state == "APPROVED" and (r.login or "").lower() in names
    ]
    return max(times, default=None)


def kept(evidence: Evidence | None, entry: Entry, step: Step, rules: Rules) -> Judgement | None:
    """Trust kept evidence for exactly this content, arrival and rules (else None)."""
    if evidence is None or (evidence.commit, evidence.blob) != (step.commit, entry.blob):
        return None
    if evidence.rules != rules.fingerprint or evidence.merged_at is None:
        return None  # other rules, or kept before merge times were: judge it again
    approvers = ", ".join(evidence.approvers) or "nobody (none required)"
    return Judgement(
        True, f"approved in PR #{evidence.pull} by {approvers} (kept evidence)", evidence
    )
