"""GraphQL answers that do not name a collaborator's sources must not be taken as the
built-in role they extend when the org has a custom role at that base: REST would name
the custom role (more than the base) and the plan would lower it to what was declared."""

from __future__ import annotations

import pytest

from grantops.github.gqlread import UseRest, collaborator_level

ROLES = {"deployer": "push"}  # the org's custom role extending write


@pytest.mark.parametrize(
    "sources",
    [[], None, [{"roleName": None}], [{"roleName": None}, {"roleName": None}]],
    ids=["empty", "null", "unnamed", "two-unnamed"],
)
def test_a_write_collaborator_whose_sources_say_nothing_is_not_plain_push(sources: object) -> None:
    edge = {"permission": "WRITE", "permissionSources": sources, "node": {"login": "dana"}}
    with pytest.raises(UseRest):
        collaborator_level(edge, ROLES, frozenset(ROLES.values()))
