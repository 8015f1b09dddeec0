"""What grantops asks of GitHub: a few narrow interfaces, and nothing else.

Each part is a :class:`typing.Protocol` with one job, so a piece of the run asks only
for what it uses (approval proof needs :class:`ReviewFacts`, the planner
:class:`AccessReader`). Two implementations exist:

- :class:`grantops.github.client.GitHub`, the real client over GitHub's REST API
  (github.com, GitHub Enterprise Server and the sandbox alike);
- :class:`grantops.github.fake.FakeGitHub`, in memory, over the sandbox's model of an
  org (built from the same state file the sandbox serves), for orchestration tests.

``tests/test_github_contract.py`` holds the two to the same answers. Nothing is kept
between calls: what :meth:`AccessWriter.apply` needs from a read (invitation ids) is
passed to it, so a change can never silently depend on which read came before.

Every method raises :class:`grantops.github.transport.GitHubError` when GitHub cannot
answer, except :meth:`AccessWriter.apply`, which reports a failure as an outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Protocol

from grantops.access import AccessKey, Target
from grantops.actual import Listed, ReadResult
from grantops.github.activity import Activity
from grantops.health import HealthIssue, WorkflowRun
from grantops.model import Policy
from grantops.plan import Change, Outcome
from grantops.proof.review import PullRequest


class AccessReader(Protocol):
    """Who has access to what in the managed scope, as GitHub says now."""

    def read(
        self,
        policy: Policy,
        with_members: bool = False,
        first: Collection[Target] = (),
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        """Read every managed target; one that cannot be read completely is *unreadable*
        (never empty). Targets in ``first`` are read before the others. Pending
        invitations of the repositories ``invitations`` picks (None: all) are listed;
        the others are ``invitations_unlisted``."""
        ...

    def read_again(
        self,
        policy: Policy,
        known: ReadResult,
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        """Read the targets of ``policy`` again, taking the org (its owners, settings,
        repositories, the token's account) as the earlier full read ``known`` found it:
        a few requests where :meth:`read` lists the whole org."""
        ...

    def read_invitations(self, policy: Policy, targets: Collection[Target]) -> Listed:
        """List the pending invitations of repositories ``targets``; one whose listing
        fails is in ``failed`` with the reason, never taken for one without invitations."""
        ...

    def inherited_levels(
        self, policy: Policy, read: ReadResult, keys: Iterable[AccessKey]
    ) -> dict[AccessKey, str]:
        """For direct collaborators in ``keys``: the level each also holds through a team
        or the org's base role (GitHub reports only the highest of all sources)."""
        ...

    def is_org_member(self, org: str, login: str) -> bool:
        """Whether ``login`` is a member (or owner) of ``org``. A repository grant to
        anyone else makes GitHub invite them as an outside collaborator."""
        ...


class AccessWriter(Protocol):
    """Changes to access, one at a time."""

    def apply(self, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]) -> Outcome:
        """Make one change; a failure is a ``failed`` outcome, never an exception.

        ``invitation_ids`` are the ids of pending invitations as the read found them,
        which cancelling an invitation needs."""
        ...


class ReviewFacts(Protocol):
    """What approval proof asks about the access repository's pull requests."""

    def budget_left(self, reserve: int) -> int | None:
        """Requests left when no more than ``reserve`` are and the budget is not renewed
        soon; else None. Proof stops asking before it spends what changes need."""
        ...

    def prefetch_pulls(
        self, owner: str, repo: str, shas: Iterable[str], branch: str | None
    ) -> None:
        """Read ahead, in batches where the API allows, the pull requests that
        :meth:`merged_pull_for_commit` will be asked about for ``shas``. Never raises:
        whatever is not read ahead is read when asked."""
        ...

    def merged_pull_for_commit(
        self, owner: str, repo: str, sha: str, branch: str | None
    ) -> PullRequest | None:
        """The merged pull request into ``branch`` that introduced ``sha``, with its
        reviews and commits."""
        ...

    def changed_files(self, owner: str, repo: str, number: int) -> dict[str, str | None]:
        """Each path the pull request's diff adds, changes or removes -> its blob at the
        head (None: removed)."""
        ...

    def recent_merges(self, owner: str, repo: str, branch: str) -> dict[int, str]:
        """The merge commits of the (up to 100) pull requests into ``branch`` updated last."""
        ...

    def can_write(self, owner: str, repo: str, login: str) -> bool:
        """Whether ``login`` may write to the repository, from any source."""
        ...

    def is_team_member(self, org: str, team: str, login: str) -> bool:
        """Whether ``login`` is an active member of the team."""
        ...


class Conversation(Protocol):
    """Pull requests and their comments: how grantops talks to the people it serves."""

    def viewer(self) -> str | None:
        """The token's own account (lower-cased); None for a GitHub App installation."""
        ...

    def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        """Comment on an issue or pull request."""
        ...

    def open_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> tuple[int, str]:
        """Open a pull request; its number and web address."""
        ...

    def branch_exists(self, owner: str, repo: str, branch: str) -> bool:
        """Whether the repository has ``branch`` (False: it has not; a repository that
        cannot be read raises)."""
        ...

    def open_pull_for(self, owner: str, repo: str, head: str) -> tuple[int, str] | None:
        """The open pull request from branch ``head`` of the same repository, as its
        number and web address; None when there is none."""
        ...


class ActivitySource(Protocol):
    """What a grantee did while their access was open."""

    def activity(
        self, owner: str, repo: str, login: str, since: datetime, until: datetime
    ) -> list[Activity]:
        """Commits ``login`` authored on the default branch, and their pull requests
        merged, between ``since`` and ``until``, oldest first."""
        ...


class RunWatch(Protocol):
    """The reconcile workflow's runs and the health issue (``grantops health``).

    Apart from :class:`GitHubAPI`: a health check reads no access, and its token needs
    only to read the workflow's runs and write issues in the access repository."""

    def workflow_runs(self, owner: str, repo: str, workflow: str) -> list[WorkflowRun]:
        """The workflow's most recent runs (workflow: its file name, ``reconcile.yml``)."""
        ...

    def labelled_issues(self, owner: str, repo: str, label: str) -> list[HealthIssue]:
        """Every open issue that carries ``label``."""
        ...

    def open_issue(
        self, owner: str, repo: str, *, title: str, body: str, labels: list[str]
    ) -> HealthIssue:
        """Open an issue with these labels."""
        ...

    def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        """Comment on an issue or pull request."""
        ...

    def edit_issue(
        self, owner: str, repo: str, number: int, *, body: str | None = None, close: bool = False
    ) -> None:
        """Replace an issue's body, and close it as completed when ``close``."""
        ...


class GitHubAPI(AccessReader, AccessWriter, ReviewFacts, Conversation, ActivitySource, Protocol):
    """Everything one run of grantops needs from GitHub."""

    def close(self) -> None:
        """Release connections; the object is not used afterwards."""
        ...
