"""Read managed targets through GitHub's GraphQL API, REST where GraphQL cannot say.

A :class:`GraphQLTargets` is a :data:`grantops.github.read.TargetsReader`: it finds the
same :class:`~grantops.github.read.TargetAccess` per target as the REST listings, at a
fraction of the requests:

* direct collaborators of 100 repositories per query (:mod:`.gqlqueries`);
* the org's teams with their repositories, 100 teams per query, for team access;
* each managed team's members with their role, one query per 100 members.

REST still reads what GraphQL has no field for: repository invitations, team
invitations with the team role offered, the org's custom repository roles (once per
read, :mod:`.customroles`), and a team's custom role on a repository
(``TeamRepositoryEdge.permission`` gives only the role it extends, so where a team holds
the base of any custom role the org has, that repository's teams are listed through
REST; when the org's roles cannot be listed, wherever a repository has teams). A target
GraphQL answers ``FORBIDDEN`` or null for is read through REST instead; any other
error, or a page that fails, leaves it unreadable, never empty.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from grantops.access import REPO_PERMISSIONS, Principal, Target
from grantops.github import gqlqueries as q
from grantops.github.customroles import read_custom_roles
from grantops.github.graphql import Answer, GraphQL, describe
from grantops.github.read import (
    READ_CONCURRENCY,
    RESERVE_FOR_CHANGES,
    TargetAccess,
    kept_for_changes,
    read_repo_invitations,
    read_repo_teams,
    read_target,
    read_team_invitations,
    tally,
)
from grantops.github.transport import GitHubError, Transport
from grantops.github.vocabulary import level

Found = TargetAccess | str
"""A target's access, or why it was not read."""


class Incomplete(Exception):
    """Part of a target's read failed; the target is unreadable for this reason."""


class UseRest(Exception):
    """GraphQL answered FORBIDDEN or null for a target, or could not name its level
    exactly: the target is read through REST instead."""


@dataclass
class GraphQLTargets:
    """Reads targets through GraphQL (see the module docstring)."""

    transport: Transport
    gql: GraphQL
    roles: Mapping[str, str] = field(default_factory=dict)
    """Custom roles, lower-cased name -> the built-in role each extends: the policy's,
    and once read, the org's."""
    team_bases: frozenset[str] = frozenset(REPO_PERMISSIONS)
    """Built-in levels some custom role extends: a team GraphQL shows at one of them may
    hold that role, so its repository's teams are listed through REST. Every level
    until the org's roles are read, and when they cannot be."""

    def __call__(
        self,
        org: str,
        targets: list[Target],
        first: Collection[Target],
        invitations: Callable[[Target], bool],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Found]:
        repos = [t for t in targets if t.kind == "repo"]
        found: dict[Target, Found] = {}
        if repos:
            found.update(self.knowing_roles_of(org)._repos(org, repos, first))
        for target in (t for t in targets if t.kind == "team"):
            found[target] = self._guarded(org, target, first, self._team)
        results = [found[t] for t in targets]
        return self._finish(org, results, targets, invitations, progress)

    def knowing_roles_of(self, org: str) -> GraphQLTargets:
        """This reader, knowing the org's custom roles: each ranked by its base, and
        teams listed through REST only at a base some role extends. When the roles
        cannot be listed nothing is guessed: it stays as it is."""
        try:
            org_roles = read_custom_roles(self.transport, org)
        except GitHubError:
            return self
        roles = {**self.roles, **org_roles}
        return replace(self, roles=roles, team_bases=frozenset(roles.values()))

    # ----- budget and fallback ------------------------------------------------------

    def short(self) -> int | None:
        """Points or requests left when either budget is down to the reserve; else None."""
        lefts = [
            self.gql.short_of(RESERVE_FOR_CHANGES, self.transport.clock()),
            self.transport.short_of(RESERVE_FOR_CHANGES),
        ]
        known = [left for left in lefts if left is not None]
        return min(known) if known else None

    def _guarded(
        self,
        org: str,
        target: Target,
        first: Collection[Target],
        read: Callable[[str, Target], TargetAccess],
    ) -> Found:
        """``read`` of one target unless the budget is kept for changes; GraphQL's
        failures become a reason, or a mark that REST reads the target later."""
        left = self.short()
        if target not in first and left is not None:
            return kept_for_changes(left)
        try:
            return read(org, target)
        except UseRest:
            return _RestLater()
        except (GitHubError, Incomplete) as exc:
            return str(exc)

    def _finish(
        self,
        org: str,
        found: list[Found],
        targets: list[Target],
        invitations: Callable[[Target], bool],
        progress: Callable[[int, int], None] | None,
    ) -> list[Found]:
        """REST for what only REST says (invitations, where ``invitations`` asks for a
        repository's) or where GraphQL could not read."""

        def finish(pair: tuple[Target, Found]) -> Found:
            target, result = pair
            if isinstance(result, _RestLater):
                return read_target(self.transport, org, target, invitations(target))
            if isinstance(result, str):
                return result
            try:
                if target.kind == "team":
                    read_team_invitations(self.transport, org, target, result)
                elif invitations(target):
                    read_repo_invitations(self.transport, org, target, result)
                else:
                    result.unlisted.add(target)
            except GitHubError as exc:
                return str(exc)
            return result

        with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
            done = pool.map(finish, zip(targets, found, strict=True))
            return tally(done, len(targets), progress)

    # ----- repositories -------------------------------------------------------------

    def _repos(
        self, org: str, repos: list[Target], first: Collection[Target]
    ) -> dict[Target, Found]:
        """Each repository's collaborators and teams (invitations come later)."""
        try:
            teams = team_access(self.gql, org, {t.name.lower() for t in repos})
        except UseRest:
            teams = None
        except (GitHubError, Incomplete) as exc:
            why = f"team access could not be read ({exc})"
            return dict.fromkeys(repos, why)
        found: dict[Target, Found] = {}
        for start in range(0, len(repos), q.BATCH):
            batch = repos[start : start + q.BATCH]
            found.update(self._batch(org, batch, first, teams))
        return found

    def _batch(
        self,
        org: str,
        batch: list[Target],
        first: Collection[Target],
        teams: TeamsByRepository | None,
    ) -> dict[Target, Found]:
        """Up to 100 repositories in one query; those not in ``first`` wait when the
        budget is down to the reserve."""
        left = self.short()
        wanted = [t for t in batch if left is None or t in first]
        found: dict[Target, Found] = {t: kept_for_changes(left or 0) for t in batch}
        if not wanted:
            return found
        variables: dict[str, Any] = {"org": org}
        variables.update({f"n{i}": t.name for i, t in enumerate(wanted)})
        try:
            answer = self.gql.query(
                f"read {len(wanted)} repositories of {org}",
                q.repositories_query(len(wanted)),
                variables,
            )
        except GitHubError as exc:
            return {**found, **dict.fromkeys(wanted, str(exc))}
        for index, target in enumerate(wanted):
            read = partial(self._repo, answer=answer, index=index, teams=teams)
            found[target] = self._guarded(org, target, (target,), read)
        return found

    def _repo(
        self,
        org: str,
        target: Target,
        answer: Answer,
        index: int,
        teams: TeamsByRepository | None,
    ) -> TargetAccess:
        alias = f"r{index}"
        page = _field(answer, ("organization", alias, "collaborators"))
        edges = self._collaborators(org, target, page)
        found = TargetAccess()
        for edge in edges:
            key = (Principal.user(edge["node"]["login"]), target)
            found.access[key], base = collaborator_level(edge, self.roles, self.team_bases)
            if found.access[key] not in REPO_PERMISSIONS:
                found.role_bases[found.access[key]] = base
        mine = None if teams is None else teams.get(target.name.lower(), [])
        self._teams_of(org, target, mine, found)
        return found

    def _collaborators(self, org: str, target: Target, page: dict[str, Any]) -> list[Any]:
        """Every edge of a repository's collaborators, following its own cursor."""
        edges = list(page["edges"])
        while page["pageInfo"]["hasNextPage"]:
            answer = self.gql.query(
                f"read collaborators of {org}/{target.name}",
                q.COLLABORATORS_PAGE,
                {"org": org, "name": target.name, "after": page["pageInfo"]["endCursor"]},
            )
            page = _field(answer, ("organization", "repository", "collaborators"))
            edges += page["edges"]
        return edges

    def _teams_of(
        self, org: str, target: Target, teams: list[tuple[str, str]] | None, found: TargetAccess
    ) -> None:
        """Team access to one repository; through REST where GraphQL could not say (None)
        or a team may hold a custom role (GraphQL shows only the role it extends)."""
        if teams is None or any(found_level in self.team_bases for _, found_level in teams):
            read_repo_teams(self.transport, org, target, found)
            return
        for slug, found_level in teams:
            found.access[(Principal.team(slug), target)] = found_level

    # ----- teams --------------------------------------------------------------------

    def _team(self, org: str, target: Target) -> TargetAccess:
        """A managed team's members, maintainers first (invitations come later)."""
        found = TargetAccess()
        after: str | None = None
        people: list[tuple[str, str]] = []
        while True:
            answer = self.gql.query(
                f"list members of team {org}/{target.name}",
                q.TEAM_MEMBERS_PAGE,
                {"org": org, "slug": target.name, "after": after},
            )
            _field(answer, ("organization", "team"), missing=f"team {org}/{target.name} not found")
            page = _field(answer, ("organization", "team", "members"))
            people += [(e["node"]["login"], str(e["role"]).lower()) for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        for login, role in sorted(people, key=lambda p: p[1] != "maintainer"):
            found.access.setdefault((Principal.user(login), target), role)
        return found


class _RestLater(str):
    """Marks a target to be read through REST; never left in a result."""

    __slots__ = ()


TeamsByRepository = dict[str, list[tuple[str, str]]]
"""Repository name (lower-cased) -> the teams with access to it and their level."""


def team_access(gql: GraphQL, org: str, names: Collection[str]) -> TeamsByRepository | None:
    """The teams with access to each repository in ``names`` (lower-cased), from every
    team of the org. None when GraphQL answers FORBIDDEN or null for a team's
    repositories: no repository's teams are then known, and REST lists them. Any other
    failure, or a page that fails, fails the whole read."""
    found: TeamsByRepository = {}
    after: str | None = None
    while True:
        answer = gql.query(f"list teams of {org}", q.TEAMS, {"org": org, "after": after})
        teams = _field(answer, ("organization", "teams"), inside=False)
        for index, team in enumerate(teams["nodes"]):
            try:
                _field(answer, ("organization", "teams", "nodes", index))
                edges = team_repositories(gql, org, team["slug"], team["repositories"])
            except UseRest:
                return None
            for edge in edges:
                name = str(edge["node"]["name"]).lower()
                if name in names:
                    found.setdefault(name, []).append((team["slug"], team_edge_level(edge)))
        if not teams["pageInfo"]["hasNextPage"]:
            return found
        after = teams["pageInfo"]["endCursor"]


def team_repositories(gql: GraphQL, org: str, slug: str, page: dict[str, Any]) -> list[Any]:
    """Every repository edge of one team, following its own cursor from ``page``."""
    edges = list(page["edges"])
    while page["pageInfo"]["hasNextPage"]:
        answer = gql.query(
            f"list repositories of team {org}/{slug}",
            q.TEAM_REPOSITORIES_PAGE,
            {"org": org, "slug": slug, "after": page["pageInfo"]["endCursor"]},
        )
        page = _field(answer, ("organization", "team", "repositories"))
        edges += page["edges"]
    return edges


def team_edge_level(edge: Mapping[str, Any]) -> str:
    """A team's built-in level on a repository: ``WRITE`` -> ``push`` ..."""
    return level(str(edge["permission"]).lower())


def collaborator_level(
    edge: Mapping[str, Any],
    roles: Mapping[str, str],
    bases: Collection[str] = frozenset(REPO_PERMISSIONS),
) -> tuple[str, str]:
    """A direct collaborator's level as REST's ``role_name`` gives it, and the highest
    built-in level (a custom role's base).

    ``permission`` is the highest built-in level of all sources; a custom role ranks just
    above its base, so it is the level when its base is that highest level. A custom
    role whose base neither the policy names nor a lone source shows cannot be ranked:
    :class:`UseRest`. Neither can a level that may be a custom role's base (``bases``:
    every level when the org's roles are not known) when a source names no role, or
    none is given: REST names the role.
    """
    built = level(str(edge["permission"]).lower())
    sources = edge.get("permissionSources") or []
    if built in bases and (not sources or any(not s.get("roleName") for s in sources)):
        raise UseRest(f"sources of {built} name no role")
    named = {str(s["roleName"]) for s in sources if s.get("roleName")}
    custom = sorted((n for n in named if n.lower() not in _BUILT_IN_NAMES), key=str.lower)
    if not custom:
        return built, built
    if len(sources) == 1:
        return custom[0], built
    unknown = [name for name in custom if name.lower() not in roles]
    top = [name for name in custom if roles.get(name.lower()) == built]
    if unknown or len(top) > 1:
        raise UseRest(f"cannot rank custom roles {custom}")
    return (top[0], built) if top else (built, built)


_BUILT_IN_NAMES = frozenset({*REPO_PERMISSIONS, "read", "write"})


def _field(
    answer: Answer, path: tuple[str | int, ...], missing: str | None = None, inside: bool = True
) -> dict[str, Any]:
    """The object at ``path``: a FORBIDDEN error or null means REST reads the target
    (or, with ``missing``, that it does not exist); another error makes it unreadable.
    Errors inside the object count unless ``inside`` is False."""
    error = answer.error_at(*path, inside=inside)
    if error is not None and error.get("type") not in ("FORBIDDEN", "NOT_FOUND"):
        raise Incomplete(describe(error))
    value: Any = answer.data
    for name in path:
        if isinstance(name, int):
            value = value[name] if isinstance(value, list) and name < len(value) else None
        else:
            value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, dict) and error is None:
        return value
    if missing is not None and (error is None or error.get("type") == "NOT_FOUND"):
        raise Incomplete(missing)
    raise UseRest(describe(error) if error else f"no data at {'.'.join(map(str, path))}")
