"""Turn pydantic's validation errors into short sentences a grant author understands.

pydantic says ``String should match pattern '^[A-Za-z0-9](?:...'``; a person needs
``user: 'bob--x' is not a GitHub login``. Each error keeps the path of the key it is
about (the target-form tags pydantic inserts are dropped) so the loader can add the line.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from grantops import model as model_module
from grantops.model import KeyConflict
from grantops.values import (
    LOGIN_PATTERN,
    REPO_GLOB_PATTERN,
    REPO_NAME_PATTERN,
    ROLE_NAME_PATTERN,
    TEAM_SLUG_PATTERN,
)
from grantops.yamlfile import Loc

_FORM_TAGS = {"user-repo": "user + repo", "user-team": "user + team", "team-repo": "team + repo"}

_PATTERN_HINTS = {
    LOGIN_PATTERN: "is not a GitHub login (1-39 letters, digits or single hyphens, "
    "not starting or ending with a hyphen)",
    TEAM_SLUG_PATTERN: "is not a team slug (letters, digits, '-' and '_')",
    REPO_NAME_PATTERN: "is not a repository name (up to 100 letters, digits, '.', '-' and '_')",
    REPO_GLOB_PATTERN: "is not a repository name or glob",
    ROLE_NAME_PATTERN: "is not a role name",
}


KNOWN_KEYS = sorted(
    {
        info.alias or name
        for model in vars(model_module).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
        for name, info in model.model_fields.items()
    }
)
"""Every key a grant or policy file may hold, for "did you mean" on an unknown one."""


def explain(error: ValidationError) -> list[tuple[Loc, str]]:
    """One ``(key path, message)`` per error, in pydantic's order."""
    return [_one(detail) for detail in error.errors(include_url=False)]


def _one(detail: Any) -> tuple[Loc, str]:
    raw_loc = tuple(detail["loc"])
    form = next((_FORM_TAGS[p] for p in raw_loc if isinstance(p, str) and p in _FORM_TAGS), None)
    loc: Loc = tuple(p for p in raw_loc if not (isinstance(p, str) and p in _FORM_TAGS))
    kind, value, ctx = detail["type"], detail.get("input"), detail.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, KeyConflict):
        loc = (*loc, cause.key) if cause.key else loc
        return loc, str(cause)
    name = ".".join(str(p) for p in loc)
    if kind == "missing":
        return loc, f"missing required key '{name}'"
    if kind == "extra_forbidden":
        where = f" in a {form} grant" if form else ""
        close = difflib.get_close_matches(
            str(loc[-1]) if loc else name, KNOWN_KEYS, n=1, cutoff=0.75
        )
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return loc, f"unknown key '{name}'{where}{hint}"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(ctx.get("pattern", ""), "has the wrong format")
        return loc, f"{name}: '{value}' {hint}"
    if kind == "value_error":
        return loc, f"{name}: {cause}" if name else str(cause)
    if kind in {"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"}:
        expected = {"string_type": "a string", "list_type": "a list"}.get(kind, "a mapping")
        return loc, f"{name}: expected {expected}, got {_describe(value)}"
    if kind == "target_form":
        return loc, detail["msg"]
    message = detail["msg"]
    return loc, f"{name}: {message[0].lower()}{message[1:]}" if name else message


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"
