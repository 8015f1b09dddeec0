"""The sandbox's model of one GitHub organisation: people, repositories, teams, access.

It holds the state-file format in memory and applies GitHub's rules to it: who is
added directly and who gets an invitation, how ``role_name`` reports the highest level
of all sources, what pending team memberships look like. The HTTP layer
(:mod:`grantops.sandbox.server`) turns these answers into GitHub's JSON and headers.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from grantops.access import REPO_PERMISSIONS
from grantops.sandbox.fixtures import (
    CommentState,
    CommitState,
    IssueState,
    PullState,
    SandboxRepoState,
    SandboxState,
    WorkflowRunState,
)
from grantops.sandbox.gitside import GitSide
from grantops.statefile import TeamState

INVITATION_PERMISSIONS = {"pull": "read", "push": "write"}
"""Invitations and permission levels use GitHub's older names for two roles."""


@dataclass
class Invitation:
    id: int
    login: str
    permission: str
    created_at: datetime
    expired: bool = False


@dataclass
class Repo:
    id: int
    name: str
    collaborators: dict[str, str] = field(default_factory=dict)  # login key -> permission
    invitations: dict[int, Invitation] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)  # slug key -> permission
    pulls: list[PullState] = field(default_factory=list)
    commits: list[CommitState] = field(default_factory=list)
    comments: list[CommentState] = field(default_factory=list)
    issues: list[IssueState] = field(default_factory=list)
    runs: list[WorkflowRunState] = field(default_factory=list)


@dataclass
class Team:
    id: int
    slug: str
    members: dict[str, str] = field(default_factory=dict)  # login key -> role
    pending: dict[str, str] = field(default_factory=dict)  # login key -> role


class SandboxError(Exception):
    """An answer GitHub gives as an error status, with its message."""

    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | list[str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class World:
    """Mutable org state; callers serialise access (the server holds one lock)."""

    def __init__(
        self,
        state: SandboxState,
        now: datetime | None = None,
        git: Mapping[str, Path] | None = None,
    ) -> None:
        self.org = state.org
        self.base_permission = state.base_permission
        self.custom_roles = {k.lower(): v for k, v in state.custom_roles.items()}
        self._ids = itertools.count(1001)
        self.logins: dict[str, str] = {}  # key -> display login
        self.user_ids: dict[str, int] = {}
        self.owners = {self.person(o) for o in state.owners}
        self.members = {self.person(m) for m in state.members} | self.owners
        self.outside = {self.person(u) for u in state.users} - self.members
        self.bots = {self.person(b) for b in state.bots}
        self.repos: dict[str, Repo] = {}
        self.teams: dict[str, Team] = {}
        created = now or datetime.now(UTC)
        for name, repo_state in sorted(state.repos.items()):
            self._load_repo(name, repo_state, created)
        for slug, team_state in sorted(state.teams.items()):
            self._load_team(slug, team_state)
        # Everyone the state names (collaborators, authors, reviewers) is a real account.
        self.outside |= set(self.logins) - self.members
        self.git = {name.lower(): GitSide(path) for name, path in (git or {}).items()}
        """Repositories whose branches live in a local git repository (name -> it)."""
        unknown = sorted(set(self.git) - set(self.repos))
        if unknown:
            raise ValueError(f"git repositories for repositories the state lacks: {unknown}")

    # ----- loading and saving -------------------------------------------------

    def person(self, login: str) -> str:
        """The key of ``login``, made a known account if it was not one yet."""
        key = login.lower()
        if key not in self.logins:
            self.logins[key] = login
            self.user_ids[key] = next(self._ids)
        return key

    def _load_repo(self, name: str, repo_state: SandboxRepoState, created: datetime) -> None:
        repo = Repo(next(self._ids), name)
        self.repos[name.lower()] = repo
        for login, permission in repo_state.collaborators.items():
            repo.collaborators[self.person(login)] = permission
        for login, permission in repo_state.invitations.items():
            self._invite(repo, self.person(login), permission, created)
        for login, permission in repo_state.expired_invitations.items():
            self._invite(repo, self.person(login), permission, created).expired = True
        for slug, permission in repo_state.teams.items():
            repo.teams[self.team(slug, create=True).slug.lower()] = permission
        repo.pulls = list(repo_state.pulls)
        repo.commits = list(repo_state.commits)
        repo.comments = list(repo_state.comments)
        repo.issues = [issue.model_copy() for issue in repo_state.issues]
        repo.runs = list(repo_state.runs)
        for issue in repo.issues:
            self.person(issue.author)
        for item in repo.commits:
            if item.author:
                self.person(item.author)
        for pull in repo.pulls:
            people: list[str | None] = [pull.author]
            people += [c.author for c in pull.commits] + [c.committer for c in pull.commits]
            people += [r.user for r in pull.reviews]
            for person in people:
                if person:
                    self.person(person)

    def _load_team(self, slug: str, team_state: TeamState) -> None:
        team = self.team(slug, create=True)
        team.members = {self.person(login): role for login, role in team_state.members.items()}
        team.pending = {self.person(login): role for login, role in team_state.pending.items()}

    def to_state(self) -> SandboxState:
        """The current state in the state-file format (``--save`` writes this)."""
        name = self.logins.__getitem__
        repos = {}
        for repo in self.repos.values():
            live = [i for i in repo.invitations.values() if not i.expired]
            expired = [i for i in repo.invitations.values() if i.expired]
            repos[repo.name] = SandboxRepoState(
                collaborators={name(k): v for k, v in sorted(repo.collaborators.items())},
                invitations={name(i.login): i.permission for i in live},
                expired_invitations={name(i.login): i.permission for i in expired},
                teams={self.teams[k].slug: v for k, v in sorted(repo.teams.items())},
                pulls=repo.pulls,
                commits=repo.commits,
                comments=repo.comments,
                issues=repo.issues,
                runs=repo.runs,
            )
        teams = {
            team.slug: TeamState(
                members={name(k): v for k, v in sorted(team.members.items())},
                pending={name(k): v for k, v in sorted(team.pending.items())},
            )
            for team in self.teams.values()
        }
        return SandboxState(
            org=self.org,
            owners=sorted(name(k) for k in self.owners),
            members=sorted(name(k) for k in self.members - self.owners),
            users=sorted(name(k) for k in self.outside),
            bots=sorted(name(k) for k in self.bots),
            base_permission=self.base_permission,
            custom_roles=self.custom_roles,
            repos=repos,
            teams=teams,
        )

    # ----- lookups ------------------------------------------------------------

    def repo(self, owner: str, name: str) -> Repo:
        if owner.lower() != self.org.lower() or name.lower() not in self.repos:
            raise SandboxError(404, "Not Found")
        return self.repos[name.lower()]

    def team(self, slug: str, create: bool = False) -> Team:
        key = slug.lower()
        if key not in self.teams:
            if not create:
                raise SandboxError(404, "Not Found")
            self.teams[key] = Team(next(self._ids), slug)
        return self.teams[key]

    def user(self, login: str) -> str:
        key = login.lower()
        if key not in self.logins or not (key in self.members or key in self.outside):
            raise SandboxError(404, "Not Found")
        return key

    def check_org(self, org: str) -> None:
        if org.lower() != self.org.lower():
            raise SandboxError(404, "Not Found")

    def valid_permission(self, permission: str) -> bool:
        return permission in REPO_PERMISSIONS or permission.lower() in self.custom_roles

    def rank(self, permission: str) -> tuple[int, int]:
        """Order of levels: built-in roles by power, a custom role just above its base."""
        if permission in REPO_PERMISSIONS:
            return (REPO_PERMISSIONS.index(permission), 0)
        base = self.custom_roles.get(permission.lower())
        return (REPO_PERMISSIONS.index(base), 1) if base else (-1, 0)

    def effective(self, repo: Repo, login_key: str) -> str | None:
        """The highest level from every source, as GitHub's ``role_name`` reports it."""
        sources = []
        if login_key in repo.collaborators:
            sources.append(repo.collaborators[login_key])
        for slug, permission in repo.teams.items():
            if login_key in self.teams[slug].members:
                sources.append(permission)
        if login_key in self.members and self.base_permission in REPO_PERMISSIONS:
            sources.append(self.base_permission)
        if login_key in self.owners:
            sources.append("admin")
        return max(sources, key=self.rank) if sources else None

    # ----- repository collaborators --------------------------------------------

    def add_collaborator(
        self, repo: Repo, login: str, permission: str, now: datetime
    ) -> Invitation | None:
        """PUT collaborator: members are added (None); others get an invitation."""
        if not self.valid_permission(permission):
            raise SandboxError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "permission",
                        "message": f"{permission} is not a valid permission.",
                    }
                ],
            )
        key = self.user(login)
        if key in self.members or key in repo.collaborators:
            repo.collaborators[key] = permission
            return None
        for invitation in repo.invitations.values():
            if invitation.login == key and not invitation.expired:
                invitation.permission = permission
                return invitation
        return self._invite(repo, key, permission, now)

    def _invite(self, repo: Repo, key: str, permission: str, now: datetime) -> Invitation:
        invitation = Invitation(next(self._ids), key, permission, now)
        repo.invitations[invitation.id] = invitation
        return invitation

    def remove_collaborator(self, repo: Repo, login: str) -> None:
        repo.collaborators.pop(login.lower(), None)

    def delete_invitation(self, repo: Repo, invitation_id: int) -> None:
        if repo.invitations.pop(invitation_id, None) is None:
            raise SandboxError(404, "Not Found")

    def accept_invitations(self, login: str | None = None) -> int:
        """Invitees accept: they become collaborators (and members of teams they were offered)."""
        accepted = 0
        for repo in self.repos.values():
            for invitation in list(repo.invitations.values()):
                if invitation.expired or (login and invitation.login != login.lower()):
                    continue
                repo.collaborators[invitation.login] = invitation.permission
                del repo.invitations[invitation.id]
                accepted += 1
        for team in self.teams.values():
            for key, role in list(team.pending.items()):
                if login and key != login.lower():
                    continue
                team.members[key] = role
                del team.pending[key]
                self.members.add(key)
                self.outside.discard(key)
                accepted += 1
        return accepted

    def expire_invitations(self) -> int:
        live = [i for r in self.repos.values() for i in r.invitations.values() if not i.expired]
        for invitation in live:
            invitation.expired = True
        return len(live)

    # ----- teams ----------------------------------------------------------------

    def membership(self, team: Team, login: str) -> tuple[str, str]:
        key = login.lower()
        if key in team.members:
            return team.members[key], "active"
        if key in team.pending:
            return team.pending[key], "pending"
        raise SandboxError(404, "Not Found")

    def set_membership(self, team: Team, login: str, role: str) -> tuple[str, str]:
        if role not in ("member", "maintainer"):
            raise SandboxError(
                422,
                "Validation Failed",
                [{"resource": "TeamMember", "code": "invalid", "field": "role"}],
            )
        key = self.user(login)
        if key in self.members:
            team.members[key] = role
            team.pending.pop(key, None)
            return role, "active"
        team.pending[key] = role
        return role, "pending"

    def remove_membership(self, team: Team, login: str) -> None:
        key = login.lower()
        if team.members.pop(key, None) is None and team.pending.pop(key, None) is None:
            raise SandboxError(404, "Not Found")

    def set_team_repo(self, team: Team, repo: Repo, permission: str) -> None:
        if not self.valid_permission(permission):
            raise SandboxError(
                422,
                "Validation Failed",
                [{"resource": "Team", "code": "invalid", "field": "permission"}],
            )
        repo.teams[team.slug.lower()] = permission

    def pulls_with_commit(self, repo: Repo, sha: str) -> list[PullState]:
        return [
            p
            for p in repo.pulls
            if sha in (p.merge_commit_sha, p.head_sha, *p.landed)
            or any(c.sha == sha for c in p.commits)
        ]

    def commits_by(
        self, repo: Repo, author: str = "", since: str | None = None, until: str | None = None
    ) -> list[CommitState]:
        """Commits on the default branch, newest first, by ``author`` (any when empty) and
        dated between ``since`` and ``until`` (RFC 3339 strings, compared as GitHub does)."""
        return [
            c
            for c in repo.commits
            if (not author or (c.author or "").lower() == author.lower())
            and (not since or c.date >= since)
            and (not until or c.date <= until)
        ]

    def pulls_in(
        self, repo: Repo, state: str = "open", base: str | None = None, head: str | None = None
    ) -> list[PullState]:
        """Pull requests by state (``closed`` means merged here) into ``base`` from
        ``head`` (``OWNER:BRANCH``), the most recently merged first."""
        pulls = [
            p
            for p in repo.pulls
            if (state == "all" or (state == "closed") == (p.merged_at is not None))
            and (base is None or p.base == base)
            and (head is None or head.lower() == f"{self.org}:{p.head_ref}".lower())
        ]
        return sorted(pulls, key=lambda p: p.merged_at or "", reverse=True)

    def pull(self, repo: Repo, number: int) -> PullState:
        for pull in repo.pulls:
            if pull.number == number:
                return pull
        raise SandboxError(404, "Not Found")

    def open_pull(
        self, repo: Repo, author: str, title: str, head: str, base: str, body: str
    ) -> PullState:
        if any(p.head_ref == head and p.merged_at is None for p in repo.pulls):
            raise SandboxError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {head}.",
                    }
                ],
            )
        number = self._next_number(repo)
        sha = hashlib.sha1(f"{head}-{number}".encode()).hexdigest()
        pull = PullState(
            number=number,
            author=author,
            title=title,
            body=body,
            head_ref=head,
            head_sha=sha,
            base=base,
        )
        repo.pulls.append(pull)
        return pull

    def add_comment(self, repo: Repo, number: int, login: str, body: str) -> CommentState:
        if not any(p.number == number for p in repo.pulls):
            self.issue(repo, number)  # a 404 when neither a pull request nor an issue
        comment = CommentState(issue=number, user=login, body=body)
        repo.comments.append(comment)
        return comment

    def remove_team_repo(self, team: Team, repo: Repo) -> None:
        repo.teams.pop(team.slug.lower(), None)

    # ----- issues and workflow runs ---------------------------------------------

    def _next_number(self, repo: Repo) -> int:
        """Issues and pull requests share one sequence of numbers, as on GitHub."""
        taken = [p.number for p in repo.pulls] + [i.number for i in repo.issues]
        return max(taken, default=0) + 1

    def issue(self, repo: Repo, number: int) -> IssueState:
        for issue in repo.issues:
            if issue.number == number:
                return issue
        raise SandboxError(404, "Not Found")

    def issues_in(self, repo: Repo, state: str, labels: list[str]) -> list[IssueState]:
        """Issues by state (``open``, ``closed``, ``all``) carrying every label named
        (compared without case), newest first. Pull requests, which the sandbox never
        labels, are left out."""
        wanted = {label.lower() for label in labels}
        found = [
            i
            for i in repo.issues
            if state in ("all", i.state) and wanted <= {label.lower() for label in i.labels}
        ]
        return sorted(found, key=lambda i: i.number, reverse=True)

    def open_issue(
        self, repo: Repo, author: str, title: str, body: str, labels: list[str]
    ) -> IssueState:
        issue = IssueState(
            number=self._next_number(repo), author=author, title=title, body=body, labels=labels
        )
        self.person(author)
        repo.issues.append(issue)
        return issue

    def runs_of(self, repo: Repo, workflow: str) -> list[WorkflowRunState]:
        """The runs of the workflow file ``workflow``, newest first; an unknown file is
        a 404, as on GitHub."""
        runs = [r for r in repo.runs if r.workflow == workflow]
        if not runs:
            raise SandboxError(404, "Not Found")
        return sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)
