"""An in-memory GitHub for orchestration tests: :class:`FakeGitHub`.

It answers every question of :class:`grantops.github.api.GitHubAPI` from the sandbox's
model of an org (:class:`grantops.sandbox.world.World`), built from the same state file
the sandbox serves, and applies changes to it by the same rules (who is invited, which
level a collaborator reads at, what a pending team membership is). So a test of a whole
run needs no HTTP server, and ``tests/test_github_contract.py`` keeps the fake honest by
asking it and the real client on the sandbox the same things.

What the HTTP layer adds (pages, retries, rate limits, ETags, faults) is not here; a
test that needs GitHub to fail says which target or change fails (:attr:`unreadable`,
:attr:`failing`), or lowers :attr:`budget`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState, Listed, ReadResult, org_facts
from grantops.github.activity import Activity, first_line
from grantops.github.inherited import inherited_levels
from grantops.github.read import TargetAccess
from grantops.github.transport import GitHubError
from grantops.github.vocabulary import level
from grantops.github.write import JOINS_ON_ACCEPTANCE, NOTHING_TO_CANCEL, STARTS_ON_ACCEPTANCE
from grantops.model import Policy
from grantops.plan import Change, Outcome
from grantops.proof.review import PullCommit, PullRequest, Review
from grantops.sandbox import pullflow
from grantops.sandbox.fixtures import PullState, SandboxState
from grantops.sandbox.world import Repo, SandboxError, World
from grantops.values import format_timestamp, parse_timestamp

T = TypeVar("T")

WRITES = frozenset({"push", "maintain", "admin"})
"""Roles (custom roles by the built-in role they extend) that may write to a repository."""


@dataclass
class FakeGitHub:
    """GitHub as one org's in-memory state; see the module docstring."""

    world: World
    viewer_login: str | None = None
    """The token's own account; None, as for a GitHub App installation token."""
    unreadable: dict[Target, str] = field(default_factory=dict)
    """Targets whose reads fail, with GitHub's answer."""
    failing: dict[AccessKey, str] = field(default_factory=dict)
    """Changes that GitHub refuses, with its answer."""
    membership_unanswered: str | None = None
    """GitHub's answer when asked whether someone is an org member (None: it answers)."""
    budget: int | None = None
    """Requests left in the rate limit (None: plenty). Each question of approval proof,
    each change and each comment spends one; reads do not."""
    comments: list[tuple[str, int, str]] = field(default_factory=list)
    """Every comment posted: repository, number, body."""
    whole: bool = False
    """Every read lists every repository's invitations, whatever it is asked: a state file
    (``plan --state``) holds them all, and listing them costs nothing."""

    @classmethod
    def from_state(cls, state: SandboxState, now: datetime | None = None) -> FakeGitHub:
        return cls(World(state, now))

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spend(self, what: str) -> None:
        if self.budget is None:
            return
        if self.budget <= 0:
            raise GitHubError(what, 403, "API rate limit exceeded")
        self.budget -= 1

    # ----- access -----------------------------------------------------------------

    def read(
        self,
        policy: Policy,
        with_members: bool = False,
        first: Collection[Target] = (),
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        world, org = self.world, policy.org
        if org.lower() != world.org.lower():
            raise GitHubError("read org", 404, "Not Found")
        found, unreadable = TargetAccess(), dict[Target, str]()
        for repo in world.repos.values():
            if policy.repo_in_scope(repo.name):
                target = Target.repo(org, repo.name)
                listing = self.whole or invitations is None or invitations(target)
                self._read_target(target, found, unreadable, listing)
        for slug in policy.managed.teams:
            self._read_target(Target.team(org, slug), found, unreadable)
        for pattern in policy.managed.repos:
            if not any(ch in pattern for ch in "*?[") and pattern.lower() not in world.repos:
                missing = Target.repo(org, pattern)
                unreadable[missing] = f"repository {org}/{pattern} not found"
        actual = ActualState(
            org=org,
            access=found.access,
            invitations=found.invitations,
            owners=frozenset(world.logins[k].lower() for k in world.owners),
            expired_invitations=found.expired,
            unreadable=unreadable,
            viewer=self.viewer(),
            invitations_unlisted=frozenset(found.unlisted),
        )
        members = frozenset(world.logins[k] for k in world.members) if with_members else None
        base_permission = level(world.base_permission)
        owners = (world.logins[k] for k in world.owners)
        names = (repo.name for repo in world.repos.values())
        return ReadResult(
            actual,
            invitation_ids=found.ids,
            members=members or frozenset(),
            base_permission=base_permission,
            facts=org_facts(owners, base_permission, names, policy.repo_in_scope),
            repos=tuple(sorted((r.name for r in world.repos.values()), key=str.lower)),
            role_bases=found.role_bases,
        )

    def read_again(
        self,
        policy: Policy,
        known: ReadResult,
        invitations: Callable[[Target], bool] | None = None,
    ) -> ReadResult:
        found = self.read(policy, invitations=invitations)
        owners, viewer = known.actual.owners, known.actual.viewer
        actual = replace(found.actual, owners=owners, viewer=viewer)
        return replace(
            known,
            actual=actual,
            invitation_ids=found.invitation_ids,
            role_bases=found.role_bases,
            limits=(),
        )

    def _read_target(
        self,
        target: Target,
        found: TargetAccess,
        unreadable: dict[Target, str],
        invitations: bool = True,
    ) -> None:
        if target in self.unreadable:
            unreadable[target] = self.unreadable[target]
        elif target.kind == "repo":
            repo = self.world.repos[target.name.lower()]
            self._read_repo(repo, target, found)
            if invitations:
                self._list_invitations(repo, target, found)
            else:
                found.unlisted.add(target)
        elif target.name.lower() in self.world.teams:
            self._read_team(target, found)
        else:
            unreadable[target] = f"team {target.org}/{target.name} not found"

    def _read_repo(self, repo: Repo, target: Target, found: TargetAccess) -> None:
        world = self.world
        for key in repo.collaborators:
            at = world.effective(repo, key) or "pull"
            self._holds(found, (Principal.user(world.logins[key]), target), at)
        for slug, permission in repo.teams.items():
            self._holds(found, (Principal.team(world.teams[slug].slug), target), permission)

    def _list_invitations(self, repo: Repo, target: Target, found: TargetAccess) -> None:
        for invitation in sorted(repo.invitations.values(), key=lambda i: i.id):
            who = (Principal.user(self.world.logins[invitation.login]), target)
            found.ids[who] = invitation.id
            side = found.expired if invitation.expired else found.invitations
            side[who] = invitation.permission

    def read_invitations(self, policy: Policy, targets: Collection[Target]) -> Listed:
        found, listed, failed = TargetAccess(), list[Target](), dict[Target, str]()
        for target in sorted(targets):
            repo = self.world.repos.get(target.name.lower())
            if target in self.unreadable or repo is None:
                failed[target] = self.unreadable.get(target) or _not_found(target)
                continue
            self._list_invitations(repo, target, found)
            listed.append(target)
        return Listed(tuple(listed), found.invitations, found.expired, found.ids, failed)

    def _holds(self, found: TargetAccess, key: AccessKey, at: str) -> None:
        """As the real read: the access, and a custom role's base role."""
        found.access[key] = at
        base = self.world.custom_roles.get(at.lower())
        if base is not None:
            found.role_bases[at] = base

    def _read_team(self, target: Target, found: TargetAccess) -> None:
        world = self.world
        team = world.teams[target.name.lower()]
        for role in ("maintainer", "member"):
            for key, has in team.members.items():
                if has == role:
                    found.access.setdefault((Principal.user(world.logins[key]), target), role)
        for key, role in team.pending.items():
            found.invitations[(Principal.user(world.logins[key]), target)] = role

    def inherited_levels(
        self, policy: Policy, read: ReadResult, keys: Iterable[AccessKey]
    ) -> dict[AccessKey, str]:
        world = self.world
        return inherited_levels(
            read,
            keys,
            lambda login: login.lower() in world.members,
            lambda team, login: self.is_team_member(policy.org, team, login),
        )

    def is_org_member(self, org: str, login: str) -> bool:
        if self.membership_unanswered is not None:
            raise GitHubError(f"check org membership of {login}", 403, self.membership_unanswered)
        world = self.world
        return org.lower() == world.org.lower() and login.lower() in world.members

    def apply(self, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]) -> Outcome:
        key = (change.principal, change.target)
        if key in self.failing:
            return Outcome(change, "failed", self.failing[key])
        try:
            self._spend(f"{change.action} {change.principal} on {change.target}")
            return self._apply(org, change, invitation_ids)
        except (SandboxError, GitHubError) as exc:
            return Outcome(change, "failed", str(exc))

    def _apply(self, org: str, change: Change, ids: Mapping[AccessKey, int]) -> Outcome:
        world, who, target = self.world, change.principal, change.target
        if target.kind == "team":
            team = world.team(target.name)
            if change.action in ("remove", "cancel_invitation"):
                _already_gone_is_done(lambda: world.remove_membership(team, who.name))
                return Outcome(change, "done")
            _, state = world.set_membership(team, who.name, change.after or "member")
            if state == "pending":
                return Outcome(change, "invited", JOINS_ON_ACCEPTANCE)
            return Outcome(change, "done")
        repo = world.repo(org, target.name)
        if who.kind == "team":
            team = world.team(who.name)
            if change.action == "remove":
                world.remove_team_repo(team, repo)
            else:
                world.set_team_repo(team, repo, change.after or "pull")
            return Outcome(change, "done")
        if change.action == "remove":
            world.remove_collaborator(repo, who.name)
            return Outcome(change, "done")
        if change.action == "cancel_invitation":
            number = ids.get((who, target)) or next(
                (i.id for i in repo.invitations.values() if i.login == who.key), None
            )
            if number is None:
                return Outcome(change, "done", NOTHING_TO_CANCEL)
            _already_gone_is_done(lambda: world.delete_invitation(repo, number))
            return Outcome(change, "done")
        invited = world.add_collaborator(repo, who.name, change.after or "pull", datetime.now(UTC))
        if invited is not None:
            return Outcome(change, "invited", STARTS_ON_ACCEPTANCE)
        return Outcome(change, "done")

    # ----- review facts -----------------------------------------------------------

    def budget_left(self, reserve: int) -> int | None:
        return self.budget if self.budget is not None and self.budget <= reserve else None

    def prefetch_pulls(
        self, owner: str, repo: str, shas: Iterable[str], branch: str | None
    ) -> None:
        """Nothing to read ahead: every answer is already in memory."""

    def merged_pull_for_commit(
        self, owner: str, repo: str, sha: str, branch: str | None
    ) -> PullRequest | None:
        self._spend(f"list pull requests of commit {sha[:7]}")
        where = self._repo(owner, repo)
        merged = [
            p
            for p in self.world.pulls_with_commit(where, sha)
            if p.merged_at and (branch is None or p.base == branch)
        ]
        if not merged:
            return None
        return self._pull_request(min(merged, key=lambda p: p.merge_commit_sha != sha))

    def _pull_request(self, pull: PullState) -> PullRequest:
        world = self.world

        def login(who: str | None) -> str | None:
            return world.logins[who.lower()] if who else None

        reviews = tuple(
            Review(
                login(r.user),
                r.state,
                r.commit_id,
                is_bot=bool(r.user) and (r.user or "").lower() in world.bots,
                submitted_at=r.submitted_at,
            )
            for r in pull.reviews
        )
        commits = tuple(
            PullCommit(
                c.sha, login(c.author), login(c.author if c.committer == "" else c.committer)
            )
            for c in pull.commits
        )
        return PullRequest(
            number=pull.number,
            author=world.logins[pull.author.lower()],
            head_sha=pull.head_sha,
            merge_commit_sha=pull.merge_commit_sha,
            merged_at=pull.merged_at,
            merged_by=world.logins.get(pull.merged_by.lower()) if pull.merged_by else None,
            commits=commits,
            reviews=reviews,
        )

    def changed_files(self, owner: str, repo: str, number: int) -> dict[str, str | None]:
        self._spend(f"list files of #{number}")
        pull = self._call(lambda: self.world.pull(self._repo(owner, repo), number))
        return {path: blob for path, blob in pull.files.items() if blob or blob is None}

    def recent_merges(self, owner: str, repo: str, branch: str) -> dict[int, str]:
        self._spend("list recently closed pull requests")
        pulls = self.world.pulls_in(self._repo(owner, repo), "closed", branch)
        return {p.number: p.merge_commit_sha for p in pulls[:100] if p.merge_commit_sha}

    def can_write(self, owner: str, repo: str, login: str) -> bool:
        self._spend(f"read {login}'s permission")
        where = self._repo(owner, repo)
        found = self.world.effective(where, login.lower())
        if found is None:
            return False
        return self.world.custom_roles.get(found.lower(), found) in WRITES

    def is_team_member(self, org: str, team: str, login: str) -> bool:
        self._spend(f"read membership of {login} in team {team}")
        found = self.world.teams.get(team.lower())
        return found is not None and login.lower() in found.members

    # ----- conversation and activity ----------------------------------------------

    def viewer(self) -> str | None:
        return self.viewer_login.lower() if self.viewer_login else None

    def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        self._spend(f"comment on #{number}")
        where = self._repo(owner, repo)
        self._call(lambda: self.world.add_comment(where, number, self.viewer_login or "", body))
        self.comments.append((f"{owner}/{repo}", number, body))

    def open_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> tuple[int, str]:
        where = self._repo(owner, repo)
        author = self.viewer_login or "grantops"
        pull = self._call(lambda: self.world.open_pull(where, author, title, head, base, body))
        return pull.number, f"https://github.com/{owner}/{repo}/pull/{pull.number}"

    def branch_exists(self, owner: str, repo: str, branch: str) -> bool:
        where = self._repo(owner, repo)
        return pullflow.branch_head(self.world, where, branch) is not None

    def open_pull_for(self, owner: str, repo: str, head: str) -> tuple[int, str] | None:
        where = self._repo(owner, repo)
        found = self.world.pulls_in(where, "open", head=f"{owner}:{head}")
        if not found:
            return None
        return found[0].number, f"https://github.com/{owner}/{repo}/pull/{found[0].number}"

    def activity(
        self, owner: str, repo: str, login: str, since: datetime, until: datetime
    ) -> list[Activity]:
        where = self._repo(owner, repo)
        window = (format_timestamp(since), format_timestamp(until))
        found = [
            Activity("commit", c.sha[:7], first_line(c.message), c.date)
            for c in self.world.commits_by(where, login, *window)
        ]
        found += [
            Activity("pull", f"#{p.number}", p.title, p.merged_at)
            for p in self.world.pulls_in(where, "closed")
            if p.merged_at
            and p.author.lower() == login.lower()
            and since <= parse_timestamp(p.merged_at) <= until
        ]
        return sorted(found, key=lambda a: a.at)

    # ----- lookups ----------------------------------------------------------------

    def _repo(self, owner: str, name: str) -> Repo:
        return self._call(lambda: self.world.repo(owner, name))

    def _call(self, answer: Callable[[], T]) -> T:
        """``answer()``, with the sandbox's error statuses as :class:`GitHubError`."""
        try:
            return answer()
        except SandboxError as exc:
            raise GitHubError("fake GitHub", exc.status, exc.message) from None


def _already_gone_is_done(delete: Callable[[], None]) -> None:
    """A delete that finds nothing to delete has done its job, as the client treats a
    404 on a DELETE (:func:`grantops.github.write.apply_change`)."""
    try:
        delete()
    except SandboxError as exc:
        if exc.status != 404:
            raise


def _not_found(target: Target) -> str:
    """The transport's words for a repository GitHub does not have."""
    return f"list invitations of {target.org}/{target.name}: HTTP 404: Not Found"
