"""The JSON state file: actual access written down, so it can be planned against offline.

One format for three uses: ``grantops plan --state`` reads it, ``grantops snapshot``
writes it, and the sandbox GitHub serves it (adding its review fixtures, see
:mod:`grantops.sandbox.fixtures`). Repository permissions use GitHub's role names
(``pull`` ... ``admin`` or a custom role); team members have ``member`` or ``maintainer``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState
from grantops.errors import InvalidInput, Problem
from grantops.explain import explain
from grantops.model import TeamRole


class Strict(BaseModel):
    """A part of the state file: unknown keys are errors, as in every input file."""

    model_config = ConfigDict(extra="forbid")


class RepoState(Strict):
    collaborators: dict[str, str] = {}
    invitations: dict[str, str] = {}
    expired_invitations: dict[str, str] = {}
    teams: dict[str, str] = {}


class TeamState(Strict):
    members: dict[str, TeamRole] = {}
    pending: dict[str, TeamRole] = {}
    """Memberships offered to people who have not joined the org yet."""


class StateFile(Strict):
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
    repos: Mapping[str, RepoState] = {}
    teams: dict[str, TeamState] = {}


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
    actual: ActualState,
    members: Iterable[str],
    base_permission: str = "none",
    custom_roles: Mapping[str, str] | None = None,
    empty_repos: Iterable[str] = (),
) -> StateFile:
    """The state-file form of what a read of GitHub found (``grantops snapshot``).

    ``empty_repos`` are repositories that were read and may hold no access at all, so
    they appear as ``{}`` rather than not at all (``grantops init`` reads every one).
    """
    repos: dict[str, RepoState] = {name: RepoState() for name in empty_repos}
    teams: dict[str, TeamState] = {}
    for (principal, target), level in sorted(
        actual.access.items(), key=lambda i: (i[0][1], i[0][0])
    ):
        if target.kind == "repo":
            repo = repos.setdefault(target.name, RepoState())
            side = repo.teams if principal.kind == "team" else repo.collaborators
            side[principal.name] = level
        else:
            teams.setdefault(target.name, TeamState()).members[principal.name] = _team_role(level)
    for (principal, target), level in sorted(
        actual.invitations.items(), key=lambda i: (i[0][1], i[0][0])
    ):
        if target.kind == "repo":
            repos.setdefault(target.name, RepoState()).invitations[principal.name] = level
        else:
            teams.setdefault(target.name, TeamState()).pending[principal.name] = _team_role(level)
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
        custom_roles=dict(sorted((custom_roles or {}).items())),
        repos=repos,
        teams=teams,
    )


_TEAM_ROLES: dict[str, TeamRole] = {"member": "member", "maintainer": "maintainer"}


def _team_role(level: str) -> TeamRole:
    """A team member's role as GitHub reports it; anything else is a bug upstream."""
    try:
        return _TEAM_ROLES[level]
    except KeyError:
        raise ValueError(f"not a team role: {level!r}") from None


File = TypeVar("File", bound=StateFile)


def read_state_file(path: Path, model: type[File]) -> File:
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
    except RecursionError:
        raise InvalidInput([Problem(shown, 1, "not valid JSON: nested too deeply")]) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(shown, 1, message) for _loc, message in explain(exc)]
        raise InvalidInput(problems) from None
