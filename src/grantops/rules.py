"""Checks of grants and baseline entries against the policy (pure; ``now`` is passed in).

A grant file is valid on its own when it has the right shape; it is *allowed* only when
the policy says so: its target is in managed scope, its permission is grantable, and its
window is no longer than ``limits.max_duration``. Each finding names the key it is
about, so the loader can report the exact line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import datetime

from grantops.access import REPO_PERMISSIONS
from grantops.errors import Severity
from grantops.model import (
    Policy,
    TeamRepoAccess,
    UserRepoAccess,
    UserTeamAccess,
    Window,
)
from grantops.values import format_duration, format_timestamp
from grantops.yamlfile import Loc

Finding = tuple[Loc, str, Severity]

AccessSpec = UserRepoAccess | UserTeamAccess | TeamRepoAccess


def check_policy(policy: Policy) -> Iterator[Finding]:
    """The policy's own consistency: grantable and baseline permissions must exist."""
    levels = policy.levels
    for index, permission in enumerate(policy.limits.permissions):
        if not levels.is_known("repo", permission):
            yield (
                ("limits", "permissions", index),
                _unknown_permission(policy, permission),
                "error",
            )
    for index, entry in enumerate(policy.baseline):
        for loc, message in _check_target(policy, entry):
            yield (("baseline", index, *loc), message, "error")


def check_grant(policy: Policy, spec: AccessSpec, now: datetime) -> Iterator[Finding]:
    """Whether the policy allows one grant, plus a warning when it already ended."""
    for loc, message in _check_target(policy, spec):
        yield (loc, message, "error")
    if (
        isinstance(spec, UserRepoAccess | TeamRepoAccess)
        and policy.levels.is_known("repo", spec.permission)
        and not policy.permission_allowed("repo", spec.permission)
    ):
        allowed = ", ".join(policy.limits.permissions)
        message = f"permission '{spec.permission}' is not grantable; limits.permissions: {allowed}"
        yield (("permission",), message, "error")
    if isinstance(spec, Window):
        yield from _check_window(policy, spec, now)


def _check_window(policy: Policy, spec: Window, now: datetime) -> Iterator[Finding]:
    """No longer than ``limits.max_duration`` (in the policy's own units), and a warning
    for a fixed window that has already closed. A ``duration`` is its own window: it
    opens at the approving merge, so it cannot have ended before it is merged."""
    unit = policy.limits.duration_unit
    longest = format_duration(policy.limits.max_duration, unit)
    if spec.duration is not None:
        if spec.duration > policy.limits.max_duration:
            yield (
                ("duration",),
                f"duration {format_duration(spec.duration, unit)} is longer than "
                f"limits.max_duration {longest}",
                "error",
            )
        return
    assert spec.expires is not None  # a grant has exactly one of expires and duration
    window = spec.expires - (spec.starts or now)
    if window > policy.limits.max_duration:
        yield (
            ("expires",),
            f"the access window is {format_duration(window, unit)}, longer than "
            f"limits.max_duration {longest}",
            "error",
        )
    if spec.expires <= now:
        yield (
            ("expires",),
            f"expired at {format_timestamp(spec.expires)}; it gives no access and can be deleted",
            "warning",
        )


def _check_target(policy: Policy, spec: AccessSpec) -> Iterator[tuple[Loc, str]]:
    if isinstance(spec, UserTeamAccess):
        if not policy.team_in_scope(spec.team):
            managed = ", ".join(policy.managed.teams) or "none"
            yield (("team",), f"team '{spec.team}' is not in managed.teams ({managed})")
        return
    repo_locs: list[Loc] = (
        [("repo",)]
        if spec.repo is not None
        else [("repos", i) for i in range(len(spec.repo_names))]
    )
    for loc, repo in zip(repo_locs, spec.repo_names, strict=True):
        if not policy.repo_in_scope(repo):
            managed = ", ".join(policy.managed.repos) or "none"
            yield (loc, f"repository '{repo}' is not in managed.repos ({managed})")
    if not policy.levels.is_known("repo", spec.permission):
        yield (("permission",), _unknown_permission(policy, spec.permission))


UI_NAMES = {"read": "pull", "write": "push"}
"""The names GitHub's web pages give two roles that its API calls pull and push."""


def _unknown_permission(policy: Policy, permission: str) -> str:
    custom = ", ".join(policy.roles) or "none declared in policy roles"
    known = [*REPO_PERMISSIONS, *policy.roles, *UI_NAMES]
    close = difflib.get_close_matches(permission.lower(), known, n=1, cutoff=0.7)
    guess = UI_NAMES.get(close[0], close[0]) if close else None
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return (
        f"unknown permission '{permission}'{hint}; built-in: {', '.join(REPO_PERMISSIONS)}; "
        f"custom roles: {custom}"
    )
