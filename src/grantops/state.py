"""Actual access as read from GitHub, and the JSON state file that carries it offline.

The state file is one format for three uses: ``grantops plan --state`` reads it,
``grantops snapshot`` writes it, and the sandbox GitHub serves it. Repository
permissions use GitHub's role names (``pull`` ... ``admin`` or a custom role); team
members have ``member`` or ``maintainer``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from grantops.access import AccessKey, Principal, Target
from grantops.errors import InvalidInput, Problem
from grantops.explain import explain
from grantops.model import TeamRole


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RepoState(_Strict):
    collaborators: dict[str, str] = {}
    invitations: dict[str, str] = {}
    teams: dict[str, str] = {}


class TeamState(_Strict):
    members: dict[str, TeamRole] = {}


class StateFile(_Strict):
    """The JSON document: org, its people, and access per repository and team."""

    org: str
    owners: list[str] = []
    members: list[str] = []
    users: list[str] = []
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


def actual_from_state(state: StateFile) -> ActualState:
    """Flatten a state file into keyed access."""
    org = state.org
    access: dict[AccessKey, str] = {}
    invitations: dict[AccessKey, str] = {}
    for repo, repo_state in state.repos.items():
        target = Target.repo(org, repo)
        for login, permission in repo_state.collaborators.items():
            access[(Principal.user(login), target)] = permission
        for login, permission in repo_state.invitations.items():
            invitations[(Principal.user(login), target)] = permission
        for slug, permission in repo_state.teams.items():
            access[(Principal.team(slug), target)] = permission
    for slug, team_state in state.teams.items():
        target = Target.team(org, slug)
        for login, role in team_state.members.items():
            access[(Principal.user(login), target)] = role
    return ActualState(org, access, invitations, frozenset(o.lower() for o in state.owners))


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
