"""Which level a direct collaborator also holds through a team or the org's base role.

GitHub reports a collaborator at the highest level of all their sources, so when a plan
would lower someone's direct grant, only this tells whether that would change anything.
The rule is the same for every client; only the two membership questions are asked of
GitHub, for the few keys where a plan would lower a collaborator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from grantops.access import AccessKey
from grantops.actual import ReadResult


def inherited_levels(
    read: ReadResult,
    keys: Iterable[AccessKey],
    is_org_member: Callable[[str], bool],
    is_active_in_team: Callable[[str, str], bool],
) -> dict[AccessKey, str]:
    """For each direct collaborator in ``keys``, the level it reads at when that level
    comes from the base role (``is_org_member(login)``) or from a team with that very
    level on the repository (``is_active_in_team(team, login)``)."""
    actual = read.actual
    found: dict[AccessKey, str] = {}
    for key in keys:
        principal, target = key
        have = actual.access.get(key)
        if have is None or principal.kind != "user" or target.kind != "repo":
            continue
        if read.base_permission == have and is_org_member(principal.name):
            found[key] = have
            continue
        teams = [
            team
            for (team, on), level in actual.access.items()
            if team.kind == "team" and on == target and level.lower() == have.lower()
        ]
        if any(is_active_in_team(team.name, principal.name) for team in teams):
            found[key] = have
    return found
