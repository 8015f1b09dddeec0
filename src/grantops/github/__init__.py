"""grantops' GitHub client: read actual access, apply changes, over GitHub's REST API.

Works against api.github.com, GitHub Enterprise Server (``--api-url
https://HOST/api/v3``) and the sandbox alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from datetime import datetime

from grantops.access import AccessKey, Target
from grantops.actual import ActualState
from grantops.github.activity import Activity, activity
from grantops.github.read import ReadResult, read_actual
from grantops.github.transport import DEFAULT_API_URL, GitHubError, RetryPolicy, Transport
from grantops.github.write import apply_change
from grantops.model import Policy
from grantops.plan import Change, Outcome

__all__ = ["DEFAULT_API_URL", "GitHub", "GitHubError", "RetryPolicy"]


class GitHub:
    """The access-management face of the GitHub API for one org."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = Transport(
            api_url, token, timeout=timeout, retry=retry, sleep=sleep, clock=clock
        )
        self._last_read: ReadResult | None = None

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(
        self, policy: Policy, with_members: bool = False, first: Collection[Target] = ()
    ) -> ReadResult:
        result = read_actual(self.transport, policy, with_members, first)
        try:
            viewer = self.viewer()
        except GitHubError as exc:
            # Without it, grantops' own account could look like undeclared access.
            why = f"the token's own account could not be read ({exc}); only expiries were planned"
            return replace(result, limits=(*result.limits, why))
        result = replace(result, actual=replace(result.actual, viewer=viewer))
        self._last_read = result
        return result

    def viewer(self) -> str | None:
        """The token's own account (lower-cased), or None for a GitHub App installation
        token, which has no user account and cannot be a collaborator anyway."""
        try:
            me = self.transport.get("read the token's account", "users", "get_authenticated")
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise
        return str(me["login"]).lower()

    def inherited_levels(
        self, policy: Policy, actual: ActualState, keys: Iterable[AccessKey]
    ) -> dict[AccessKey, str]:
        """For direct collaborators, the level each also holds via a team or the base role.

        Asked only for the few keys where a plan would lower a collaborator, since GitHub
        reports the highest level of all sources and only this tells whether lowering
        the direct grant would change anything.
        """
        org = policy.org
        base = self._last_read.base_permission if self._last_read else "none"
        found: dict[AccessKey, str] = {}
        for key in keys:
            principal, target = key
            have = actual.access.get(key)
            if have is None or principal.kind != "user" or target.kind != "repo":
                continue
            if base == have and self.transport.exists(
                f"check org membership of {principal.name}",
                "orgs",
                "check_membership_for_user",
                org=org,
                username=principal.name,
            ):
                found[key] = have
                continue
            teams = [
                team
                for (team, on), level in actual.access.items()
                if team.kind == "team" and on == target and level.lower() == have.lower()
            ]
            for team in teams:
                membership = self.transport.get_optional(
                    f"read membership of {principal.name} in {team.name}",
                    "teams",
                    "get_membership_for_user_in_org",
                    org=org,
                    team_slug=team.name,
                    username=principal.name,
                )
                if membership is not None and membership.get("state") == "active":
                    found[key] = have
                    break
        return found

    def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        """Comment on an issue or pull request (raises :class:`GitHubError`)."""
        self.transport.mutate(
            f"comment on {owner}/{repo}#{number}",
            "issues",
            "create_comment",
            owner=owner,
            repo=repo,
            issue_number=number,
            body=body,
        )

    def activity(
        self, owner: str, repo: str, login: str, since: datetime, until: datetime
    ) -> list[Activity]:
        return activity(self.transport, owner, repo, login, since, until)

    def open_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> tuple[int, str]:
        """Open a pull request; return its number and web address."""
        created = self.transport.create(
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

    def apply(self, org: str, change: Change) -> Outcome:
        ids = self._last_read.invitation_ids if self._last_read else {}
        return apply_change(self.transport, org, change, ids)
