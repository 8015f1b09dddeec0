"""Who has what on which target: the vocabulary shared by desired and actual state.

GitHub logins, team slugs and repository names are case-insensitive, so identity
(equality, hashing, ordering) uses the lower-cased ``key`` while ``name`` keeps the
spelling a person wrote, for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from grantops.values import BUILT_IN_ROLES

PrincipalKind = Literal["user", "team"]
TargetKind = Literal["repo", "team"]

REPO_PERMISSIONS = BUILT_IN_ROLES
"""GitHub's built-in repository roles, lowest first."""

TEAM_ROLES = ("member", "maintainer")
"""Roles within a team, lowest first."""


@dataclass(frozen=True, order=True)
class Principal:
    """A user or a team that can hold access."""

    kind: PrincipalKind
    key: str
    name: str = field(compare=False)

    @classmethod
    def user(cls, login: str) -> Principal:
        return cls("user", login.lower(), login)

    @classmethod
    def team(cls, slug: str) -> Principal:
        return cls("team", slug.lower(), slug)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, order=True)
class Target:
    """A repository or a team of the org that access is held on."""

    kind: TargetKind
    key: str
    org: str = field(compare=False)
    name: str = field(compare=False)

    @classmethod
    def repo(cls, org: str, name: str) -> Target:
        return cls("repo", name.lower(), org, name)

    @classmethod
    def team(cls, org: str, slug: str) -> Target:
        return cls("team", slug.lower(), org, slug)

    def __str__(self) -> str:
        return f"{self.kind}:{self.org}/{self.name}"


AccessKey = tuple[Principal, Target]


@dataclass(frozen=True)
class Levels:
    """The order of access levels, including the org's custom repository roles.

    A custom role is ranked just above the built-in role it is based on (it is that
    role plus extra rights), and custom roles on one base are ordered by name so the
    order is total and "the highest permission wins" is always well defined.
    """

    custom_roles: tuple[tuple[str, str], ...] = ()

    @cached_property
    def _bases(self) -> dict[str, str]:
        """Custom role -> its base role, built once: ``rank`` runs for every planned key."""
        return dict(self.custom_roles)

    def is_known(self, target: TargetKind, level: str) -> bool:
        if target == "team":
            return level in TEAM_ROLES
        return level in REPO_PERMISSIONS or level.lower() in self._bases

    def rank(self, target: TargetKind, level: str) -> tuple[int, int, str]:
        if target == "team":
            return (TEAM_ROLES.index(level) if level in TEAM_ROLES else -1, 0, level)
        if level in REPO_PERMISSIONS:
            return (REPO_PERMISSIONS.index(level), 0, level)
        base = self._bases.get(level.lower())
        if base is None:
            return (-1, 1, level.lower())
        return (REPO_PERMISSIONS.index(base), 1, level.lower())
