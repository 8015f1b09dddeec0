"""Read actual access in managed scope from GitHub into an :class:`ActualState`.

Per managed repository: direct collaborators, invitations and teams (one listing
each, plus pages). Per managed team: maintainers, members and pending invitations.
A listing that cannot be read completely marks its target *unreadable* with the
reason; it is never mistaken for "nobody has access".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grantops.access import AccessKey, Principal, Target
from grantops.github.transport import GitHubError, Transport
from grantops.github.vocabulary import collaborator_level, level, team_level
from grantops.model import Policy
from grantops.state import ActualState


@dataclass
class ReadResult:
    """What a read found, plus the ids later mutations need (invitation ids)."""

    actual: ActualState
    invitation_ids: dict[AccessKey, int] = field(default_factory=dict)
    members: frozenset[str] = frozenset()
    base_permission: str = "none"


def read_actual(transport: Transport, policy: Policy, with_members: bool = False) -> ReadResult:
    """Everything in managed scope; org-level reads failing stops the run (fail closed)."""
    org = policy.org
    owners = transport.list("list org owners", "orgs", "list_members", org=org, role="admin")
    members: list[dict[str, str]] = []
    if with_members:
        members = transport.list("list org members", "orgs", "list_members", org=org, role="all")
    org_info = transport.get("read org", "orgs", "get", org=org)
    repos = transport.list("list org repositories", "repos", "list_for_org", org=org, type="all")
    existing = {r["name"].lower(): r["name"] for r in repos}

    access: dict[AccessKey, str] = {}
    invitations: dict[AccessKey, str] = {}
    expired: dict[AccessKey, str] = {}
    ids: dict[AccessKey, int] = {}
    unreadable: dict[Target, str] = {}

    for name in sorted(n for n in existing.values() if policy.repo_in_scope(n)):
        target = Target.repo(org, name)
        try:
            _read_repo(transport, org, target, access, invitations, expired, ids)
        except GitHubError as exc:
            unreadable[target] = str(exc)
    for pattern in policy.managed.repos:
        if not any(ch in pattern for ch in "*?[") and pattern.lower() not in existing:
            unreadable[Target.repo(org, pattern)] = f"repository {org}/{pattern} not found"

    for slug in policy.managed.teams:
        target = Target.team(org, slug)
        try:
            _read_team(transport, org, target, access, invitations)
        except GitHubError as exc:
            reason = f"team {org}/{slug} not found" if exc.status == 404 else str(exc)
            unreadable[target] = reason

    actual = ActualState(
        org=org,
        access=access,
        invitations=invitations,
        owners=frozenset(o["login"].lower() for o in owners),
        expired_invitations=expired,
        unreadable=unreadable,
    )
    return ReadResult(
        actual=actual,
        invitation_ids=ids,
        members=frozenset(m["login"] for m in members),
        base_permission=level(str(org_info.get("default_repository_permission") or "none")),
    )


def _read_repo(
    transport: Transport,
    org: str,
    target: Target,
    access: dict[AccessKey, str],
    invitations: dict[AccessKey, str],
    expired: dict[AccessKey, str],
    ids: dict[AccessKey, int],
) -> None:
    where = f"{org}/{target.name}"
    params: dict[str, Any] = {"owner": org, "repo": target.name}
    collaborators = transport.list(
        f"list collaborators of {where}",
        "repos",
        "list_collaborators",
        affiliation="direct",
        **params,
    )
    pending = transport.list(f"list invitations of {where}", "repos", "list_invitations", **params)
    teams = transport.list(f"list teams of {where}", "repos", "list_teams", **params)
    for item in collaborators:
        access[(Principal.user(item["login"]), target)] = collaborator_level(item)
    for item in pending:
        key = (Principal.user(item["invitee"]["login"]), target)
        ids[key] = int(item["id"])
        (expired if item.get("expired") else invitations)[key] = level(str(item["permissions"]))
    for item in teams:
        access[(Principal.team(item["slug"]), target)] = team_level(item)


def _read_team(
    transport: Transport,
    org: str,
    target: Target,
    access: dict[AccessKey, str],
    invitations: dict[AccessKey, str],
) -> None:
    where = f"{org}/{target.name}"
    params: dict[str, Any] = {"org": org, "team_slug": target.name}
    for role in ("maintainer", "member"):
        people = transport.list(
            f"list {role}s of team {where}", "teams", "list_members_in_org", role=role, **params
        )
        for item in people:
            access.setdefault((Principal.user(item["login"]), target), role)
    pending = transport.list(
        f"list pending invitations of team {where}",
        "teams",
        "list_pending_invitations_in_org",
        **params,
    )
    for item in pending:
        login = item.get("login")
        if not login:
            continue  # invited by email only: nothing grantops manages
        membership = transport.get_optional(
            f"read membership of {login} in {where}",
            "teams",
            "get_membership_for_user_in_org",
            username=login,
            **params,
        )
        if membership is not None and membership.get("state") == "pending":
            invitations[(Principal.user(login), target)] = str(membership["role"])
