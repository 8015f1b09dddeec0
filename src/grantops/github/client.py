"""The real GitHub client: :class:`grantops.github.api.GitHubAPI` over the REST API.

Works against api.github.com, GitHub Enterprise Server (``--api-url
https://HOST/api/v3``) and the sandbox alike. Each method is one short conversation
with GitHub through :class:`~grantops.github.transport.Transport` (retries, pages,
rate limits, ETags); the requests themselves live in the modules named after what
they read or write (:mod:`.read`, :mod:`.write`, :mod:`.pulls`, :mod:`.activity`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from grantops.access import AccessKey, Target
from grantops.actual import Listed, ReadResult
from grantops.github import gqlpulls, issues, pulls, watch
from grantops.github.activity import Activity, activity
from grantops.github.gqlread import GraphQLTargets
from grantops.github.graphql import GraphQL, graphql_url
from grantops.github.inherited import inherited_levels
from grantops.github.read import (
    TargetsReader,
    read_actual,
    read_again,
    read_invitations,
    rest_targets,
)
from grantops.github.tokens import TokenSource
from grantops.github.transport import GitHubError, RetryPolicy, Transport
from grantops.github.write import apply_change
from grantops.health import LABEL, HealthIssue, WorkflowRun
from grantops.issuetext import Issue, IssueComment, PullEnd
from grantops.model import Policy
from grantops.plan import Change, Outcome
from grantops.progress import Progress
from grantops.proof.review import PullRequest
from grantops.readbudget import Budget, graphql_budget, rest_budget

FEW_TARGETS = 2
"""Up to this many targets, a focused read (:meth:`GitHub.read_again`) uses REST."""


class GitHub:
    """The access-management face of the GitHub API for one org."""

    def __init__(
        self,
        api_url: str,
        token: str | TokenSource,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
        read_api: str = "rest",
        graphql: str | None = None,
    ) -> None:
        self._transport = Transport(
            api_url, token, timeout=timeout, retry=retry, sleep=sleep, clock=clock
        )
        self.progress = progress or Progress(lambda text: None, "off")
        """Where long reads report how far they have got (by default, nowhere)."""
        self._graphql = GraphQL(self._transport, graphql or graphql_url(api_url))
        self.read_api = read_api
        """``graphql``: targets and approval proof's pull requests are read in batches
        through GraphQL, REST where it must; ``rest``: through REST listings only."""
        self._pulls: dict[tuple[str, str, str, str | None], PullRequest] = {}
        """Pull requests read ahead by :meth:`prefetch_pulls`, without their reviews."""

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- access -----------------------------------------------------------------

    def read(
        self,
        policy: Policy,
        with_members: bool = False,
        first: Collection[Target] = (),
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        try:
            result = read_actual(
                self._transport,
                policy,
                with_members,
                first,
                self._read_tally,
                invitations,
                self._targets_reader(policy),
                self._read_budget(),
            )
        finally:
            self.progress.stop()  # a read cut short ends its line where it got to
        try:
            viewer = self.viewer()
        except GitHubError as exc:
            # Without it, grantops' own account could look like undeclared access.
            why = f"the token's own account could not be read ({exc}); only expiries were planned"
            return replace(result, limits=(*result.limits, why))
        return replace(result, actual=replace(result.actual, viewer=viewer))

    def read_again(
        self,
        policy: Policy,
        known: ReadResult,
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        # A few targets cost fewer requests as REST listings (about three each) than as
        # GraphQL's batch query, its teams query and the org's custom roles (five).
        few = len(policy.managed.repos) + len(policy.managed.teams) <= FEW_TARGETS
        reader = None if few else self._targets_reader(policy)
        return read_again(policy, known, reader or rest_targets(self._transport), invitations)

    def _read_budget(self) -> Budget | None:
        """The budget reads spend (GraphQL points, or REST requests), as GitHub says at
        the start; None when unknown or renewed sooner than a run would wait for it."""
        limits = self._transport.rate_limits()
        if self.read_api != "graphql":
            found = limits.get("core")
            return rest_budget(found[0]) if found and self._transport.lasts(found[1]) else None
        found = limits.get("graphql")
        if found is None:
            return None
        self._graphql.remaining, self._graphql.reset_at = found
        return graphql_budget(found[0]) if self._transport.lasts(found[1]) else None

    def read_invitations(self, policy: Policy, targets: Collection[Target]) -> Listed:
        return read_invitations(self._transport, policy.org, targets)

    def _read_tally(self, done: int, total: int) -> None:
        self.progress.update("read", done, total, "targets", self.rate_limit_remaining)

    @property
    def rate_limit_remaining(self) -> int | None:
        """Requests of the rate limit left, as GitHub last said (None: not known yet)."""
        return self._transport.remaining

    def _targets_reader(self, policy: Policy) -> TargetsReader | None:
        if self.read_api != "graphql":
            return None  # REST listings
        roles = {name.lower(): base for name, base in policy.roles.items()}
        return GraphQLTargets(self._transport, self._graphql, roles)

    def inherited_levels(
        self, policy: Policy, read: ReadResult, keys: Iterable[AccessKey]
    ) -> dict[AccessKey, str]:
        org = policy.org

        def is_active_in_team(team: str, login: str) -> bool:
            return pulls.is_team_member(self._transport, org, team, login)

        return inherited_levels(
            read, keys, lambda login: self.is_org_member(org, login), is_active_in_team
        )

    def is_org_member(self, org: str, login: str) -> bool:
        return self._transport.exists(
            f"check org membership of {login}",
            "orgs",
            "check_membership_for_user",
            org=org,
            username=login,
        )

    def apply(self, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]) -> Outcome:
        return apply_change(self._transport, org, change, invitation_ids)

    # ----- review facts -----------------------------------------------------------

    def budget_left(self, reserve: int) -> int | None:
        lefts = (
            self._transport.short_of(reserve),
            self._graphql.short_of(reserve, self._transport.clock()),
        )
        known = [left for left in lefts if left is not None]
        return min(known) if known else None

    def prefetch_pulls(
        self, owner: str, repo: str, shas: Iterable[str], branch: str | None
    ) -> None:
        if self.read_api != "graphql":
            return
        found = gqlpulls.prefetch(self._graphql, owner, repo, shas, branch)
        self._pulls.update({(owner, repo, sha, branch): pull for sha, pull in found.items()})

    def merged_pull_for_commit(
        self, owner: str, repo: str, sha: str, branch: str | None
    ) -> PullRequest | None:
        known = self._pulls.get((owner, repo, sha, branch))
        if known is not None:
            return pulls.with_reviews(self._transport, owner, repo, known)
        return pulls.merged_pull_for_commit(self._transport, owner, repo, sha, branch)

    def changed_files(self, owner: str, repo: str, number: int) -> dict[str, str | None]:
        return pulls.changed_files(self._transport, owner, repo, number)

    def recent_merges(self, owner: str, repo: str, branch: str) -> dict[int, str]:
        return pulls.recent_merges(self._transport, owner, repo, branch)

    def can_write(self, owner: str, repo: str, login: str) -> bool:
        return pulls.can_write(self._transport, owner, repo, login)

    def is_team_member(self, org: str, team: str, login: str) -> bool:
        return pulls.is_team_member(self._transport, org, team, login)

    # ----- conversation and activity ----------------------------------------------

    def viewer(self) -> str | None:
        try:
            me = self._transport.get("read the token's account", "users", "get_authenticated")
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise
        return str(me["login"]).lower()

    def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        self._transport.mutate(
            f"comment on {owner}/{repo}#{number}",
            "issues",
            "create_comment",
            owner=owner,
            repo=repo,
            issue_number=number,
            body=body,
        )

    def open_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> tuple[int, str]:
        created = self._transport.create(
            f"open a pull request in {owner}/{repo}",
            "pulls",
            "create",
            owner=owner,
            repo=repo,
            head=head,
            base=base,
            title=title,
            body=body,
        )
        return int(created["number"]), str(created["html_url"])

    def branch_exists(self, owner: str, repo: str, branch: str) -> bool:
        return self._transport.exists(
            f"read branch {branch} of {owner}/{repo}",
            "repos",
            "get_branch",
            owner=owner,
            repo=repo,
            branch=branch,
        )

    def open_pull_for(self, owner: str, repo: str, head: str) -> tuple[int, str] | None:
        found = self._transport.get(
            f"list open pull requests of {owner}/{repo} from {head}",
            "pulls",
            "list",
            owner=owner,
            repo=repo,
            state="open",
            head=f"{owner}:{head}",
        )
        return (int(found[0]["number"]), str(found[0]["html_url"])) if found else None

    # ----- reviews, for rehearsals on the sandbox ----------------------------------

    def pull_summary(self, owner: str, repo: str, number: int) -> tuple[str, str, bool]:
        """Pull request ``number``'s title, base branch and whether it is merged."""
        pull = self._transport.get(
            f"read {owner}/{repo}#{number}",
            "pulls",
            "get",
            owner=owner,
            repo=repo,
            pull_number=number,
        )
        return str(pull["title"]), str(pull["base"]["ref"]), bool(pull["merged"])

    def review_pull(self, owner: str, repo: str, number: int, event: str) -> str:
        """Submit the token's review (``APPROVE``...) of the pull request's head; return
        the commit reviewed. ``grantops sandbox approve`` uses it: a run never reviews."""
        given = self._transport.create(
            f"review {owner}/{repo}#{number}",
            "pulls",
            "create_review",
            owner=owner,
            repo=repo,
            pull_number=number,
            event=event,
        )
        return str(given["commit_id"])

    def merge_pull(self, owner: str, repo: str, number: int, method: str) -> str:
        """Merge the pull request as the token's account; return the commit it made.
        ``grantops sandbox merge`` uses it: a run never merges. Not retried, like a
        creation: a lost answer is read back with :meth:`pull_summary`."""
        merged = self._transport.create(
            f"merge {owner}/{repo}#{number}",
            "pulls",
            "merge",
            owner=owner,
            repo=repo,
            pull_number=number,
            merge_method=method,
        )
        return str(merged["sha"])

    def activity(
        self, owner: str, repo: str, login: str, since: datetime, until: datetime
    ) -> list[Activity]:
        return activity(self._transport, owner, repo, login, since, until)

    # ----- the reconcile workflow's health ------------------------------------------

    def workflow_runs(self, owner: str, repo: str, workflow: str) -> list[WorkflowRun]:
        return watch.workflow_runs(self._transport, owner, repo, workflow)

    def labelled_issues(self, owner: str, repo: str, label: str = LABEL) -> list[HealthIssue]:
        return watch.labelled_issues(self._transport, owner, repo, label)

    def open_issue(
        self, owner: str, repo: str, *, title: str, body: str, labels: list[str]
    ) -> HealthIssue:
        return watch.open_issue(self._transport, owner, repo, title=title, body=body, labels=labels)

    def edit_issue(
        self, owner: str, repo: str, number: int, *, body: str | None = None, close: bool = False
    ) -> None:
        watch.edit_issue(self._transport, owner, repo, number, body=body, close=close)

    # ----- access request issues ------------------------------------------------------

    def issue(self, owner: str, repo: str, number: int) -> Issue:
        return issues.read_issue(self._transport, owner, repo, number)

    def issue_comments(self, owner: str, repo: str, number: int) -> list[IssueComment]:
        return issues.comments(self._transport, owner, repo, number)

    def edit_comment(self, owner: str, repo: str, ident: int, body: str) -> None:
        issues.edit_comment(self._transport, owner, repo, ident, body)

    def edit_pull(self, owner: str, repo: str, number: int, *, title: str, body: str) -> None:
        issues.edit_pull(self._transport, owner, repo, number, title=title, body=body)

    def pull_end(self, owner: str, repo: str, number: int) -> PullEnd:
        return issues.pull_end(self._transport, owner, repo, number)
