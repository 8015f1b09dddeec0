"""Actual access as read from GitHub, and the JSON state file that carries it offline.

The state file is one format for three uses: ``grantops plan --state`` reads it,
``grantops snapshot`` writes it, and the sandbox GitHub serves it. Repository
permissions use GitHub's role names (``pull`` ... ``admin`` or a custom role); team
members have ``member`` or ``maintainer``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from grantops.access import AccessKey, Principal, Target
from grantops.errors import InvalidInput, Problem
from grantops.explain import explain
from grantops.model import TeamRole


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommitState(_Strict):
    sha: str
    author: str | None = None
    """The GitHub account git's author is linked to (None: no linked account)."""
    committer: str | None = ""
    """Likewise for the committer; the empty string means the same as the author."""
    date: str = "2026-01-01T00:00:00Z"
    message: str = "Change"


class CommentState(_Strict):
    issue: int
    user: str
    body: str


class ReviewState(_Strict):
    user: str | None  # None: the reviewer's account was deleted
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
    commit_id: str
    submitted_at: str = "2026-01-01T00:00:00Z"


class PullState(_Strict):
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
    landed: list[str] = []
    """Commits a rebase merge put on the base branch, which GitHub links to the PR too."""
    commits: list[CommitState] = []
    reviews: list[ReviewState] = []
    files: dict[str, str | None] = {}
    """What the pull request's diff changes: path -> blob at its head (None: removed)."""


class RepoState(_Strict):
    collaborators: dict[str, str] = {}
    invitations: dict[str, str] = {}
    expired_invitations: dict[str, str] = {}
    teams: dict[str, str] = {}
    pulls: list[PullState] = []
    commits: list[CommitState] = []
    """Commits on the default branch (newest first), for activity during a grant."""
    comments: list[CommentState] = []


class TeamState(_Strict):
    members: dict[str, TeamRole] = {}
    pending: dict[str, TeamRole] = {}
    """Memberships offered to people who have not joined the org yet."""


class StateFile(_Strict):
    """The JSON document: org, its people, and access per repository and team.

    ``base_permission`` is the org's base role for members on every repository
    (``none`` by default) and ``custom_roles`` maps the org's custom repository roles
    to the built-in role each extends; both only matter to the sandbox's answers.
    """

    org: str
    owners: list[str] = []
    members: list[str] = []
    users: list[str] = []
    bots: list[str] = []
    base_permission: str = "none"
    custom_roles: dict[str, str] = {}
    repos: dict[str, RepoState] = {}
    teams: dict[str, TeamState] = {}


@dataclass(frozen=True)
class ActualState:
    """Access that exists now, keyed like desired access.

    ``access`` holds what is in force (collaborators, team access to repos, team
    members); ``invitations`` holds repository invitations not yet accepted, which
    grant nothing until accepted but must still be cancelled when undeclared.
    """

    org: str
    access: dict[AccessKey, str] = field(default_factory=dict)
    invitations: dict[AccessKey, str] = field(default_factory=dict)
    owners: frozenset[str] = frozenset()
    expired_invitations: dict[AccessKey, str] = field(default_factory=dict)
    """Repository invitations GitHub marks expired: no access, and no longer pending."""
    inherited: dict[AccessKey, str] = field(default_factory=dict)
    """For direct collaborators: a level the user also holds through a team or the org's
    base role. GitHub reports only the highest level of all sources, so when that equals
    the inherited level the direct grant itself cannot be seen."""
    unreadable: dict[Target, str] = field(default_factory=dict)
    """Targets whose access could not be read completely, with the reason."""
    viewer: str | None = None
    """The token's own account (lower-cased): grantops never removes itself."""


def actual_from_state(state: StateFile) -> ActualState:
    """Flatten a state file into keyed access."""
    org = state.org
    access: dict[AccessKey, str] = {}
    invitations: dict[AccessKey, str] = {}
    expired: dict[AccessKey, str] = {}
    for repo, repo_state in state.repos.items():
        target = Target.repo(org, repo)
        for login, permission in repo_state.collaborators.items():
            access[(Principal.user(login), target)] = permission
        for login, permission in repo_state.invitations.items():
            invitations[(Principal.user(login), target)] = permission
        for login, permission in repo_state.expired_invitations.items():
            expired[(Principal.user(login), target)] = permission
        for slug, permission in repo_state.teams.items():
            access[(Principal.team(slug), target)] = permission
    for slug, team_state in state.teams.items():
        target = Target.team(org, slug)
        for login, role in team_state.members.items():
            access[(Principal.user(login), target)] = role
        for login, role in team_state.pending.items():
            invitations[(Principal.user(login), target)] = role
    owners = frozenset(o.lower() for o in state.owners)
    return ActualState(org, access, invitations, owners, expired)


def state_from_read(
    actual: ActualState, members: Iterable[str], base_permission: str = "none"
) -> StateFile:
    """The state-file form of what a read of GitHub found (``grantops snapshot``)."""
    repos: dict[str, RepoState] = {}
    teams: dict[str, TeamState] = {}
    for (principal, target), level in sorted(
        actual.access.items(), key=lambda i: (i[0][1], i[0][0])
    ):
        if target.kind == "repo":
            repo = repos.setdefault(target.name, RepoState())
            side = repo.teams if principal.kind == "team" else repo.collaborators
            side[principal.name] = level
        else:
            teams.setdefault(target.name, TeamState()).members[principal.name] = level  # type: ignore[assignment]
    for (principal, target), level in sorted(
        actual.invitations.items(), key=lambda i: (i[0][1], i[0][0])
    ):
        if target.kind == "repo":
            repos.setdefault(target.name, RepoState()).invitations[principal.name] = level
        else:
            teams.setdefault(target.name, TeamState()).pending[principal.name] = level  # type: ignore[assignment]
    for (principal, target), level in sorted(
        actual.expired_invitations.items(), key=lambda i: (i[0][1], i[0][0])
    ):
        repos.setdefault(target.name, RepoState()).expired_invitations[principal.name] = level
    owners = sorted(actual.owners)
    return StateFile(
        org=actual.org,
        owners=owners,
        members=sorted(m for m in members if m.lower() not in actual.owners),
        base_permission=base_permission,
        repos=repos,
        teams=teams,
    )


def read_state_file(path: Path) -> StateFile:
    """Parse a state file, reporting problems like any other input file."""
    shown = path.as_posix()
    try:
        data: Any = json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(
            [Problem(shown, 1, f"cannot read the state file: {exc.strerror}")]
        ) from None
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        raise InvalidInput([Problem(shown, line, f"not valid JSON: {exc}")]) from None
    try:
        return StateFile.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(shown, 1, message) for _loc, message in explain(exc)]
        raise InvalidInput(problems) from None
