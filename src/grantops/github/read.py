"""Read actual access in managed scope from GitHub into an :class:`ActualState`.

Per managed repository: direct collaborators and teams (one listing each, plus pages),
and pending invitations where the caller asks for them (:mod:`grantops.sweep` says
which; :func:`read_invitations` lists more afterwards). Per managed team: maintainers,
members and pending invitations. A listing that cannot be read completely marks its
target *unreadable* with the reason; it is never mistaken for "nobody has access".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from grantops.access import REPO_PERMISSIONS, AccessKey, Principal, Target
from grantops.actual import ActualState, Listed, ReadResult, org_facts
from grantops.github.transport import GitHubError, Transport
from grantops.github.vocabulary import built_in_level, collaborator_level, level, team_level
from grantops.model import Policy
from grantops.readbudget import Budget, unaffordable

READ_CONCURRENCY = 8
"""Listings in flight at once: well under GitHub's limit of 100 concurrent requests."""

TargetsReader = Callable[
    [
        str,
        "list[Target]",
        Collection[Target],
        Callable[[Target], bool],
        Callable[[int, int], None] | None,
    ],
    "list[TargetAccess | str]",
]
"""Reads targets of an org (``first`` before the others; a repository's invitations
where the predicate says so): each target's access, or why it was not read, in the
order given, telling the progress callback as targets are done. REST
(:func:`rest_targets`) or GraphQL (:mod:`grantops.github.gqlread`)."""

RESERVE_FOR_CHANGES = 100
"""Requests of the rate-limit budget that reading leaves for changes. Once the budget
gets this low, and it is not renewed before a run would stop waiting, targets not yet
read are left unread (so nothing is added or removed there) and the run ends its
expiries, which were read first."""


def read_actual(
    transport: Transport,
    policy: Policy,
    with_members: bool = False,
    first: Collection[Target] = (),
    progress: Callable[[int, int], None] | None = None,
    invitations: Callable[[Target], bool] | None = None,
    read_targets: TargetsReader | None = None,
    budget: Budget | None = None,
) -> ReadResult:
    """Everything in managed scope; a target that cannot be read is *unreadable*.

    The org itself (owners, settings, repositories) is read through REST; its targets
    through ``read_targets`` (REST listings by default). A repository's pending
    invitations are listed when ``invitations`` says so (None: every repository's); the
    others are marked unlisted, never taken as having none.

    Targets in ``first`` (where access is due to end) are read before the others, so
    when the rate limit runs out part-way, the reads that expiries depend on are done.
    When the org itself cannot be read (its owners, settings or repositories), every
    target is unreadable, so the run can still end access whose grant has ended; a
    snapshot (``with_members``) needs the whole org and stops instead.
    ``progress`` hears of each target read, as (targets done, targets in all).
    When the rate limit left at the start (``budget``) cannot cover every target, those
    :func:`grantops.readbudget.unaffordable` names are not read and are unreadable.
    """
    org = policy.org
    try:
        found = _read_org(transport, org, with_members)
    except GitHubError as exc:
        if with_members or exc.status == 401:  # a snapshot, or a token GitHub refuses
            raise
        return _org_unreadable(policy, first, str(exc))
    existing = {r["name"].lower(): r["name"] for r in found.repos}
    targets = _targets(policy, existing, first)
    skipped = {}
    if budget is not None and not with_members:  # a snapshot needs the whole org
        skipped = unaffordable(targets, first, budget, RESERVE_FOR_CHANGES)
        targets = [target for target in targets if target not in skipped]
    reader = read_targets or rest_targets(transport)
    found_targets = reader(org, targets, first, invitations or _every, progress)
    merged, unreadable = _merge(targets, found_targets)
    unreadable.update(skipped)
    unreadable.update(_missing_repos(policy, existing))
    actual = ActualState(
        org=org,
        access=merged.access,
        invitations=merged.invitations,
        owners=frozenset(o["login"].lower() for o in found.owners),
        expired_invitations=merged.expired,
        unreadable=unreadable,
        invitations_unlisted=frozenset(merged.unlisted),
    )
    base_permission = level(str(found.info.get("default_repository_permission") or "none"))
    facts = org_facts(
        (o["login"] for o in found.owners), base_permission, existing.values(), policy.repo_in_scope
    )
    return ReadResult(
        actual=actual,
        invitation_ids=merged.ids,
        members=frozenset(m["login"] for m in found.members),
        base_permission=base_permission,
        facts=facts,
        repos=tuple(sorted(existing.values(), key=str.lower)),
        role_bases=merged.role_bases,
    )


def read_again(
    policy: Policy,
    known: ReadResult,
    read_targets: TargetsReader,
    invitations: Callable[[Target], bool] | None = None,
) -> ReadResult:
    """The targets of ``policy`` read again; the org as ``known`` (an earlier full read)
    found it: its owners, settings, repositories and the token's own account.

    ``grantops watch`` reads this way at a window's start or end, with a policy narrowed
    to the targets whose access changes (:meth:`grantops.model.Policy.focused`): a few
    requests instead of the org's listings. A target that cannot be read is unreadable,
    as in :func:`read_actual`.
    """
    existing = {name.lower(): name for name in known.repos}
    targets = _targets(policy, existing, ())
    found = read_targets(policy.org, targets, (), invitations or _every, None)
    merged, unreadable = _merge(targets, found)
    unreadable.update(_missing_repos(policy, existing))
    actual = replace(
        known.actual,
        access=merged.access,
        invitations=merged.invitations,
        expired_invitations=merged.expired,
        unreadable=unreadable,
        invitations_unlisted=frozenset(merged.unlisted),
        inherited={},
        membership={},
    )
    return replace(
        known, actual=actual, invitation_ids=merged.ids, role_bases=merged.role_bases, limits=()
    )


@dataclass(frozen=True)
class _Org:
    """What the org itself says: its owners, members (for a snapshot), settings, repos."""

    owners: list[dict[str, Any]]
    members: list[dict[str, Any]]
    info: dict[str, Any]
    repos: list[dict[str, Any]]


def _read_org(transport: Transport, org: str, with_members: bool) -> _Org:
    """The org's owners, members (only ``with_members``), settings and repositories."""
    owners = transport.list("list org owners", "orgs", "list_members", org=org, role="admin")
    members: list[dict[str, Any]] = []
    if with_members:
        members = transport.list("list org members", "orgs", "list_members", org=org, role="all")
    info = transport.get("read org", "orgs", "get", org=org)
    repos = transport.list("list org repositories", "repos", "list_for_org", org=org, type="all")
    return _Org(owners, members, info, repos)


def _targets(
    policy: Policy, existing: Mapping[str, str], first: Collection[Target]
) -> list[Target]:
    """Managed repositories that exist and managed teams, those in ``first`` first."""
    org = policy.org
    targets = [Target.repo(org, n) for n in sorted(existing.values()) if policy.repo_in_scope(n)]
    targets += [Target.team(org, slug) for slug in policy.managed.teams]
    targets.sort(key=lambda target: target not in first)  # stable: expiring targets first
    return targets


def _every(target: Target) -> bool:
    return True


def rest_targets(transport: Transport) -> TargetsReader:
    """A :data:`TargetsReader` over REST listings, a few targets at once.

    Listings of different targets are independent; a few run at once (GitHub allows up
    to 100 concurrent requests), and results come back in a fixed order. Once the rate
    limit runs low, only targets in ``first`` are still read.
    """

    def read_all(
        org: str,
        targets: list[Target],
        first: Collection[Target],
        invitations: Callable[[Target], bool],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[TargetAccess | str]:
        def read(target: Target) -> TargetAccess | str:
            left = transport.short_of(RESERVE_FOR_CHANGES)
            if target not in first and left is not None:
                return kept_for_changes(left)
            return read_target(transport, org, target, invitations(target))

        with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
            return tally(pool.map(read, targets), len(targets), progress)

    return read_all


def tally(
    results: Iterable[TargetAccess | str],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> list[TargetAccess | str]:
    """The results in order, telling ``progress`` as each target is done."""
    found: list[TargetAccess | str] = []
    for result in results:
        found.append(result)
        if progress is not None:
            progress(len(found), total)
    return found


def kept_for_changes(left: int) -> str:
    """Why a target was left unread: the rate limit left is kept for changes."""
    return (
        f"not read: {left} requests of the rate limit are left, kept for changes; "
        "read on a later run"
    )


def _merge(
    targets: list[Target], found: list[TargetAccess | str]
) -> tuple[TargetAccess, dict[Target, str]]:
    """All that reads of ``targets`` found, merged in their order, and what was unreadable."""
    merged = TargetAccess()
    unreadable: dict[Target, str] = {}
    for target, result in zip(targets, found, strict=True):
        if isinstance(result, str):
            unreadable[target] = result
            continue
        merged.access.update(result.access)
        merged.invitations.update(result.invitations)
        merged.expired.update(result.expired)
        merged.ids.update(result.ids)
        merged.role_bases.update(result.role_bases)
        merged.unlisted.update(result.unlisted)
    return merged, unreadable


def _missing_repos(policy: Policy, existing: Mapping[str, str]) -> dict[Target, str]:
    """Repositories the policy names exactly (no glob) that the org does not have: each
    is unreadable, never read as a repository where nobody has access."""
    org = policy.org
    return {
        Target.repo(org, pattern): f"repository {org}/{pattern} not found"
        for pattern in policy.managed.repos
        if not any(ch in pattern for ch in "*?[") and pattern.lower() not in existing
    }


def _org_unreadable(policy: Policy, first: Collection[Target], reason: str) -> ReadResult:
    """Every target grantops can name without reading the org, each unreadable.

    Repositories matched only by a glob cannot be named; they are neither read nor
    changed. Org owners are unknown, so nothing is known to be theirs either.
    """
    org = policy.org
    named = {Target.repo(org, p) for p in policy.managed.repos if not any(c in p for c in "*?[")}
    named |= {Target.team(org, slug) for slug in policy.managed.teams}
    named |= set(first)
    why = f"the org could not be read ({reason})"
    actual = ActualState(org=org, access={}, unreadable=dict.fromkeys(named, why))
    return ReadResult(actual=actual)


@dataclass
class TargetAccess:
    """What reads of targets found, merged into the state in a fixed order."""

    access: dict[AccessKey, str] = field(default_factory=dict)
    invitations: dict[AccessKey, str] = field(default_factory=dict)
    expired: dict[AccessKey, str] = field(default_factory=dict)
    ids: dict[AccessKey, int] = field(default_factory=dict)
    role_bases: dict[str, str] = field(default_factory=dict)
    unlisted: set[Target] = field(default_factory=set)
    """Repositories whose pending invitations were not listed."""

    def holds(self, key: AccessKey, item: dict[str, Any], found_level: str) -> None:
        """``key`` holds ``found_level``; a custom role's base comes from ``item``'s flags."""
        self.access[key] = found_level
        if found_level not in REPO_PERMISSIONS:
            self.role_bases[found_level] = built_in_level(item)


def read_target(
    transport: Transport, org: str, target: Target, invitations: bool = True
) -> TargetAccess | str:
    """Everything about one repository (its invitations only when ``invitations``) or
    team through REST, or why it could not be read."""
    try:
        if target.kind == "repo":
            return _read_repo(transport, org, target, invitations)
        return _read_team(transport, org, target)
    except GitHubError as exc:
        if target.kind == "team" and exc.status == 404:
            return f"team {org}/{target.name} not found"
        return str(exc)


def _read_repo(transport: Transport, org: str, target: Target, invitations: bool) -> TargetAccess:
    where = f"{org}/{target.name}"
    params: dict[str, Any] = {"owner": org, "repo": target.name}
    collaborators = transport.list(
        f"list collaborators of {where}",
        "repos",
        "list_collaborators",
        affiliation="direct",
        **params,
    )
    found = TargetAccess()
    for item in collaborators:
        found.holds((Principal.user(item["login"]), target), item, collaborator_level(item))
    if invitations:
        read_repo_invitations(transport, org, target, found)
    else:
        found.unlisted.add(target)
    read_repo_teams(transport, org, target, found)
    return found


def read_repo_invitations(
    transport: Transport, org: str, target: Target, found: TargetAccess
) -> None:
    """A repository's pending (and expired) invitations, with their ids, into ``found``:
    only REST lists them."""
    where = f"{org}/{target.name}"
    pending = transport.list(
        f"list invitations of {where}", "repos", "list_invitations", owner=org, repo=target.name
    )
    for item in pending:
        key = (Principal.user(item["invitee"]["login"]), target)
        found.ids[key] = int(item["id"])
        side = found.expired if item.get("expired") else found.invitations
        side[key] = level(str(item["permissions"]))


def read_repo_teams(transport: Transport, org: str, target: Target, found: TargetAccess) -> None:
    """The teams with access to a repository into ``found``, custom roles by name."""
    where = f"{org}/{target.name}"
    teams = transport.list(
        f"list teams of {where}", "repos", "list_teams", owner=org, repo=target.name
    )
    for item in teams:
        found.holds((Principal.team(item["slug"]), target), item, team_level(item))


def _read_team(transport: Transport, org: str, target: Target) -> TargetAccess:
    where = f"{org}/{target.name}"
    params: dict[str, Any] = {"org": org, "team_slug": target.name}
    found = TargetAccess()
    for role in ("maintainer", "member"):
        people = transport.list(
            f"list {role}s of team {where}", "teams", "list_members_in_org", role=role, **params
        )
        for item in people:
            found.access.setdefault((Principal.user(item["login"]), target), role)
    read_team_invitations(transport, org, target, found)
    return found


def read_team_invitations(
    transport: Transport, org: str, target: Target, found: TargetAccess
) -> None:
    """A team's pending memberships (with their role) into ``found``."""
    where = f"{org}/{target.name}"
    params: dict[str, Any] = {"org": org, "team_slug": target.name}
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
            found.invitations[(Principal.user(login), target)] = str(membership["role"])


def read_invitations(transport: Transport, org: str, targets: Collection[Target]) -> Listed:
    """The pending invitations of ``targets`` (repositories), a few listings at once; a
    listing that fails is in ``failed``, with the reason."""

    def one(target: Target) -> TargetAccess | str:
        found = TargetAccess()
        try:
            read_repo_invitations(transport, org, target, found)
        except GitHubError as exc:
            return str(exc)
        return found

    ordered = sorted(targets)
    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
        results = list(pool.map(one, ordered))
    merged, failed = _merge(ordered, results)
    listed = tuple(t for t in ordered if t not in failed)
    return Listed(listed, merged.invitations, merged.expired, merged.ids, failed)
