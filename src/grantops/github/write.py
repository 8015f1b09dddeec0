"""Apply one planned change to GitHub and say what happened.

Each change kind maps to one REST call. Adding a collaborator answers 201 when GitHub
created an invitation (access starts when it is accepted) or 204 when the user was
added or their level changed; both are recorded. PUTs are verified by reading the
state back before they are sent again after a timeout or a 5xx; DELETEs are safe to
repeat, and a 404 on one means the access is already gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from grantops.access import AccessKey
from grantops.github.transport import GitHubError, Transport
from grantops.github.vocabulary import level, team_level
from grantops.plan import Change, Outcome

STARTS_ON_ACCEPTANCE = "invitation sent; access starts when it is accepted"
JOINS_ON_ACCEPTANCE = "invited to the org; membership starts on acceptance"
NOTHING_TO_CANCEL = "no invitation left to cancel"


def apply_change(
    transport: Transport, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]
) -> Outcome:
    """Make one change; failures become a ``failed`` outcome, never an exception."""
    try:
        return _dispatch(transport, org, change, invitation_ids)
    except GitHubError as exc:
        return Outcome(change, "failed", str(exc))


def _dispatch(
    transport: Transport, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]
) -> Outcome:
    who, target = change.principal, change.target
    if target.kind == "repo" and who.kind == "user":
        return _collaborator(transport, org, change, invitation_ids)
    if target.kind == "repo":
        params = {"org": org, "team_slug": who.name, "owner": org, "repo": target.name}
        what = f"{change.action} team {who.name} on {org}/{target.name}"
        if change.action == "remove":
            _delete(transport, what, "teams", "remove_repo_in_org", **params)
            return Outcome(change, "done")
        verify = _team_repo_check(transport, org, change)
        transport.mutate(
            what,
            "teams",
            "add_or_update_repo_permissions_in_org",
            verify=verify,
            permission=change.after,
            **params,
        )
        return Outcome(change, "done")
    params = {"org": org, "team_slug": target.name, "username": who.name}
    what = f"{change.action} {who.name} in team {org}/{target.name}"
    if change.action in ("remove", "cancel_invitation"):
        _delete(transport, what, "teams", "remove_membership_for_user_in_org", **params)
        return Outcome(change, "done")

    def membership_applied() -> bool:
        found = transport.get_optional(what, "teams", "get_membership_for_user_in_org", **params)
        return found is not None and found.get("role") == change.after

    transport.mutate(
        what,
        "teams",
        "add_or_update_membership_for_user_in_org",
        verify=membership_applied,
        role=change.after,
        **params,
    )
    state = transport.get_optional(what, "teams", "get_membership_for_user_in_org", **params)
    if state is not None and state.get("state") == "pending":
        return Outcome(change, "invited", JOINS_ON_ACCEPTANCE)
    return Outcome(change, "done")


def _collaborator(
    transport: Transport, org: str, change: Change, invitation_ids: Mapping[AccessKey, int]
) -> Outcome:
    who, target = change.principal, change.target
    repo = {"owner": org, "repo": target.name}
    what = f"{change.action} {who.name} on {org}/{target.name}"
    if change.action == "remove":
        _delete(transport, what, "repos", "remove_collaborator", username=who.name, **repo)
        return Outcome(change, "done")
    if change.action == "cancel_invitation":
        invitation_id = invitation_ids.get((who, target)) or _find_invitation(
            transport, org, change, include_expired=True
        )
        if invitation_id is None:
            return Outcome(change, "done", NOTHING_TO_CANCEL)
        _delete(transport, what, "repos", "delete_invitation", invitation_id=invitation_id, **repo)
        return Outcome(change, "done")

    def applied() -> bool:
        return _collaborator_level(transport, org, change) == change.after or (
            _find_invitation(transport, org, change) is not None
        )

    status = transport.mutate(
        what,
        "repos",
        "add_collaborator",
        verify=applied,
        username=who.name,
        permission=change.after,
        **repo,
    )
    if status == 201:
        return Outcome(change, "invited", STARTS_ON_ACCEPTANCE)
    return Outcome(change, "done")


def _delete(transport: Transport, what: str, group: str, name: str, **params: Any) -> None:
    try:
        transport.mutate(what, group, name, **params)
    except GitHubError as exc:
        if exc.status != 404:  # already gone is what a delete wants
            raise


def _collaborator_level(transport: Transport, org: str, change: Change) -> str | None:
    found = transport.get_optional(
        f"read permission of {change.principal.name}",
        "repos",
        "get_collaborator_permission_level",
        owner=org,
        repo=change.target.name,
        username=change.principal.name,
    )
    return level(str(found.get("role_name"))) if found else None


def _find_invitation(
    transport: Transport, org: str, change: Change, include_expired: bool = False
) -> int | None:
    pending = transport.list(
        f"list invitations of {org}/{change.target.name}",
        "repos",
        "list_invitations",
        owner=org,
        repo=change.target.name,
    )
    for item in pending:
        expired_ok = include_expired or not item.get("expired")
        if item["invitee"]["login"].lower() == change.principal.key and expired_ok:
            return int(item["id"])
    return None


def _team_repo_check(transport: Transport, org: str, change: Change) -> Callable[[], bool]:
    def applied() -> bool:
        teams = transport.list(
            f"list teams of {org}/{change.target.name}",
            "repos",
            "list_teams",
            owner=org,
            repo=change.target.name,
        )
        return any(
            t["slug"].lower() == change.principal.key and team_level(t) == change.after
            for t in teams
        )

    return applied
