"""The sandbox's part of the state file: pull requests, reviews, commits, issues,
comments and workflow runs.

The access part (:class:`grantops.statefile.StateFile`) is what grantops plans against;
these fixtures are what the sandbox serves for approval proof and activity, so a
state file can describe a reviewed access repository as well as the org.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from grantops.statefile import RepoState, StateFile, Strict


class CommitState(Strict):
    sha: str
    author: str | None = None
    """The GitHub account git's author is linked to (None: no linked account)."""
    committer: str | None = ""
    """Likewise for the committer; the empty string means the same as the author."""
    date: str = "2026-01-01T00:00:00Z"
    message: str = "Change"


class CommentState(Strict):
    issue: int
    user: str
    body: str


class ReviewState(Strict):
    user: str | None  # None: the reviewer's account was deleted
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
    commit_id: str
    submitted_at: str = "2026-01-01T00:00:00Z"


class PullState(Strict):
    """A pull request of a repository (the sandbox serves these for approval proof)."""

    number: int
    author: str
    title: str = "Grant request"
    body: str = ""
    head_ref: str = ""
    head_sha: str
    base: str = "main"
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    landed: list[str] = Field(default_factory=list)
    """Commits a rebase merge put on the base branch, which GitHub links to the PR too."""
    commits: list[CommitState] = Field(default_factory=list)
    reviews: list[ReviewState] = Field(default_factory=list)
    files: dict[str, str | None] = Field(default_factory=dict)
    """What the pull request's diff changes: path -> blob at its head (None: removed)."""


class IssueState(Strict):
    """An issue (not a pull request); issues and pull requests share one numbering."""

    number: int
    author: str
    title: str
    body: str = ""
    state: Literal["open", "closed"] = "open"
    labels: list[str] = Field(default_factory=list)


class WorkflowRunState(Strict):
    """One run of a workflow, named by its file (``reconcile.yml``), newest first."""

    id: int
    workflow: str
    run_number: int
    event: str = "schedule"
    status: Literal["queued", "in_progress", "completed"] = "completed"
    conclusion: str | None = "success"
    """GitHub's conclusion (``success``, ``failure``, ``cancelled``, ...); None until done."""
    created_at: str = "2026-01-01T00:00:00Z"
    updated_at: str = "2026-01-01T00:00:00Z"
    head_branch: str = "main"
    head_sha: str = "0" * 40


class SandboxRepoState(RepoState):
    """A repository as the sandbox serves it: its access, and its review history."""

    pulls: list[PullState] = Field(default_factory=list)
    commits: list[CommitState] = Field(default_factory=list)
    """Commits on the default branch (newest first), for activity during a grant."""
    comments: list[CommentState] = Field(default_factory=list)
    issues: list[IssueState] = Field(default_factory=list)
    runs: list[WorkflowRunState] = Field(default_factory=list)
    """Runs of the repository's workflows, for ``grantops health``."""


class SandboxState(StateFile):
    """A state file the sandbox can serve: the org's access plus review fixtures."""

    repos: dict[str, SandboxRepoState] = Field(default_factory=dict)
