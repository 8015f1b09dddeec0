"""The org's custom repository roles, read once per run through REST.

GraphQL names a team's level on a repository only by the built-in role it extends
(``TeamRepositoryEdge.permission``), so a GraphQL read needs to know which built-in
roles some custom role of the org extends: a team at one of those levels may hold the
custom role, and only REST says which. Only REST lists the roles
(``GET /orgs/{org}/custom-repository-roles``, GitHub Enterprise's
``orgs/list-custom-repo-roles``).
"""

from __future__ import annotations

from collections.abc import Mapping

from grantops.access import REPO_PERMISSIONS
from grantops.github.transport import GitHubError, Transport
from grantops.github.vocabulary import level


def read_custom_roles(transport: Transport, org: str) -> dict[str, str]:
    """Each custom repository role of ``org`` (lower-cased name) -> the built-in level it
    extends (``push`` for GitHub's ``write``). Raises :class:`GitHubError` when the
    listing cannot be read or says something grantops cannot take as a role: a failed
    listing is never an empty one."""
    what = f"list custom repository roles of {org}"
    body = transport.get_path(what, f"/orgs/{org}/custom-repository-roles")
    roles = body.get("custom_roles") if isinstance(body, Mapping) else None
    if not isinstance(roles, list) or body.get("total_count", len(roles)) != len(roles):
        raise GitHubError(what, 200, "the listing of custom roles is incomplete")
    found: dict[str, str] = {}
    for role in roles:
        name, base = role.get("name"), role.get("base_role")
        extends = level(base.lower()) if isinstance(base, str) else None
        if not isinstance(name, str) or extends not in REPO_PERMISSIONS:
            raise GitHubError(what, 200, f"custom role {name!r} has no known base role")
        found[name.lower()] = extends
    return found
