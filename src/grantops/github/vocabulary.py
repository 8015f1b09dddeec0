"""GitHub's several names for one permission, mapped to grantops' one name.

Repository invitations and ``role_name`` say ``read``/``write`` where other endpoints
say ``pull``/``push``; custom roles appear by their own name.
"""

from __future__ import annotations

from typing import Any

_ALIASES = {"read": "pull", "write": "push", "none": "none"}


def level(name: str) -> str:
    """``read`` -> ``pull``, ``write`` -> ``push``; anything else unchanged."""
    return _ALIASES.get(name, name)


def collaborator_level(item: dict[str, Any]) -> str:
    """The level of a collaborator object: its ``role_name``, else the highest permission."""
    role = item.get("role_name")
    if isinstance(role, str) and role:
        return level(role)
    return built_in_level(item)


def built_in_level(item: dict[str, Any]) -> str:
    """The highest built-in role an object's ``permissions`` flags give: for a custom
    role, the role it extends (GitHub sets the flags of that base role)."""
    permissions = item.get("permissions") or {}
    for name in ("admin", "maintain", "push", "triage", "pull"):
        if permissions.get(name):
            return name
    return "pull"


def team_level(item: dict[str, Any]) -> str:
    """A team's level on a repository: ``role_name`` (custom roles) else ``permission``."""
    role = item.get("role_name")
    if isinstance(role, str) and role:
        return level(role)
    return level(str(item.get("permission", "pull")))
