"""The sandbox world as GitHub's GraphQL objects: organisation, repositories, teams, people
and pull requests, with connections paged by opaque cursors.

graphql-core's default resolver reads an attribute (or a mapping's key) named after the
field and, when it is callable, calls it with the field's arguments, so each object here
is a small class whose methods are its connection fields. Objects read the same
:class:`~grantops.sandbox.world.World` the REST routes serve, so both APIs tell one story.
A target the sandbox is told to forbid answers ``FORBIDDEN`` where GitHub would (its
collaborators, a team's members and repositories), for testing per-target fallback.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from graphql import GraphQLResolveInfo

from grantops.access import REPO_PERMISSIONS
from grantops.sandbox import pullflow
from grantops.sandbox.bodies import role_name
from grantops.sandbox.fixtures import CommitState, PullState, ReviewState
from grantops.sandbox.graphql_errors import github_error
from grantops.sandbox.world import Repo, Team, World

T = TypeVar("T")
Info: TypeAlias = "GraphQLResolveInfo[Any]"
"""What graphql-core passes every resolver; the objects here need none of it."""
Json = dict[str, Any]

_DEFAULT_PERMISSION = {"READ": "READ", "TRIAGE": "READ", "WRITE": "WRITE", "MAINTAIN": "WRITE"}
"""``DefaultRepositoryPermissionField`` knows only NONE, READ, WRITE and ADMIN."""

FORBIDDEN_MESSAGE = "Resource not accessible by integration"


@dataclass
class Context:
    """What every object needs: the world, and the targets whose reads are forbidden
    (``repository:NAME``, ``team:SLUG``, ``organization:LOGIN``, lower case)."""

    world: World
    forbidden: set[str] = field(default_factory=set)

    def check(self, kind: str, name: str) -> None:
        if f"{kind}:{name}".lower() in self.forbidden:
            raise github_error("FORBIDDEN", FORBIDDEN_MESSAGE)

    def repository_permission(self, level: str) -> str:
        """``RepositoryPermission``: a built-in role's name in capitals (READ for pull,
        WRITE for push); a custom role reports its base role."""
        return role_name(self.world.custom_roles.get(level.lower(), level)).upper()


# ----- ids and connections ------------------------------------------------------


def node_id(kind: str, key: str | int) -> str:
    """A global id in GitHub's newer form: a type prefix and an opaque part."""
    return f"{kind}_{base64.urlsafe_b64encode(str(key).encode()).decode().rstrip('=')}"


def parse_node_id(value: str) -> tuple[str, str] | None:
    kind, _, opaque = value.partition("_")
    try:
        return kind, base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _position(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
        return int(text.removeprefix("cursor:v2:")) if text.startswith("cursor:v2:") else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return -1


def _window(total: int, args: dict[str, Any]) -> tuple[int, int]:
    """The slice ``first``/``after``/``last``/``before`` pick out of ``total`` items."""
    start, end = 0, total
    for name in ("after", "before"):
        if args.get(name) is not None:
            at = _position(args[name])
            if at < 0:
                message = f"`{args[name]}` does not appear to be a valid cursor."
                raise github_error("INVALID_CURSOR_ARGUMENTS", message)
            start, end = (max(start, at + 1), end) if name == "after" else (start, min(end, at))
    if args.get("first") is not None:
        end = min(end, start + args["first"])
    if args.get("last") is not None:
        start = max(start, end - args["last"])
    return start, max(start, end)


def connection(items: Sequence[T], args: dict[str, Any], edge: Callable[[T], Json]) -> Json:
    """A GraphQL connection over ``items``: edges (``edge`` gives each one's node and
    extra fields), nodes, ``pageInfo`` and ``totalCount``."""
    start, end = _window(len(items), args)
    edges = [
        {"cursor": _cursor(start + i), **edge(item)} for i, item in enumerate(items[start:end])
    ]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _node(item: object) -> Json:
    return {"node": item}


# ----- objects ----------------------------------------------------------------


class User:
    """A person (bots included: in the fields grantops reads they answer as users)."""

    __typename = "User"

    def __init__(self, ctx: Context, key: str) -> None:
        self.login = ctx.world.logins[key]
        self.databaseId = ctx.world.user_ids[key]
        self.id = node_id("U", self.databaseId)
        self.name = None
        self.url = f"https://github.com/{self.login}"


def _by_id(ctx: Context, keys: Iterable[str]) -> list[str]:
    """Login keys in the order GitHub lists accounts: by account id."""
    return sorted(keys, key=ctx.world.user_ids.__getitem__)


class Organization:
    __typename = "Organization"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.login = ctx.world.org
        self.name = ctx.world.org
        self.databaseId = 1
        self.id = node_id("O", 1)
        self.url = f"https://github.com/{self.login}"

    def repository(self, info: Info, name: str, **_: Any) -> Repository:
        repo = self.ctx.world.repos.get(name.lower())
        if repo is None:
            message = f"Could not resolve to a Repository with the name '{self.login}/{name}'."
            raise github_error("NOT_FOUND", message)
        return Repository(self.ctx, repo)

    def repositories(self, info: Info, **args: Any) -> Json:
        repos = sorted(self.ctx.world.repos.values(), key=lambda r: r.id)
        # wrapped per page only: an org may hold ten thousand repositories
        return connection(repos, args, lambda r: {"node": Repository(self.ctx, r)})

    def team(self, info: Info, slug: str) -> TeamNode | None:
        team = self.ctx.world.teams.get(slug.lower())
        return None if team is None else TeamNode(self.ctx, team)

    def teams(self, info: Info, **args: Any) -> Json:
        teams = [TeamNode(self.ctx, t) for _, t in sorted(self.ctx.world.teams.items())]
        return connection(teams, args, _node)

    def membersWithRole(self, info: Info, **args: Any) -> Json:  # noqa: N802
        world = self.ctx.world

        def edge(key: str) -> Json:
            role = "ADMIN" if key in world.owners else "MEMBER"
            return {"node": User(self.ctx, key), "role": role}

        return connection(_by_id(self.ctx, world.members), args, edge)


class Repository:
    __typename = "Repository"

    def __init__(self, ctx: Context, repo: Repo) -> None:
        self.ctx = ctx
        self.repo = repo
        self.name = repo.name
        self.nameWithOwner = f"{ctx.world.org}/{repo.name}"
        self.databaseId = repo.id
        self.id = node_id("R", repo.id)
        self.isArchived = False
        self.visibility = "PRIVATE"
        self.url = f"https://github.com/{self.nameWithOwner}"

    def collaborators(self, info: Info, **args: Any) -> Json:
        """Direct collaborators (``affiliation: DIRECT``), or everyone with access."""
        self.ctx.check("repository", self.repo.name)
        world, repo = self.ctx.world, self.repo
        if args.get("affiliation") == "DIRECT":
            keys = set(repo.collaborators)
        elif args.get("affiliation") == "OUTSIDE":
            keys = set(repo.collaborators) - world.members
        else:
            keys = {k for k in world.logins if world.effective(repo, k)}
        if args.get("login"):
            keys &= {args["login"].lower()}
        return connection(_by_id(self.ctx, keys), args, self._collaborator)

    def _collaborator(self, key: str) -> Json:
        level = self.ctx.world.effective(self.repo, key) or "pull"
        return {
            "node": User(self.ctx, key),
            "permission": self.ctx.repository_permission(level),
            "permissionSources": lambda info: self._sources(key),
        }

    def _sources(self, key: str) -> list[Json]:
        """Every source of ``key``'s access: the organisation, the repository, teams."""
        world, org = self.ctx.world, Organization(self.ctx)
        found: list[tuple[object, str]] = []
        if key in world.owners:
            found.append((org, "admin"))
        elif key in world.members and world.base_permission in REPO_PERMISSIONS:
            found.append((org, world.base_permission))
        if key in self.repo.collaborators:
            found.append((self, self.repo.collaborators[key]))
        for slug, level in sorted(self.repo.teams.items()):
            if key in world.teams[slug].members:
                found.append((TeamNode(self.ctx, world.teams[slug]), level))
        return [self._source(org, source, level) for source, level in found]

    def _source(self, org: Organization, source: object, level: str) -> Json:
        permission = self.ctx.repository_permission(level)
        return {
            "organization": org,
            "permission": _DEFAULT_PERMISSION.get(permission, permission),
            "roleName": role_name(level),
            "source": source,
        }

    def object(
        self, info: Info, oid: str | None = None, expression: str | None = None
    ) -> Commit | None:
        """A commit by ``oid`` (or a full sha as ``expression``); null when unknown."""
        return find_commit(self, oid or expression or "")

    def pullRequest(self, info: Info, number: int) -> PullRequest:  # noqa: N802
        for pull in self.repo.pulls:
            if pull.number == number:
                return PullRequest(self, pull)
        message = f"Could not resolve to a PullRequest with the number of {number}."
        raise github_error("NOT_FOUND", message)

    def pullRequests(self, info: Info, **args: Any) -> Json:  # noqa: N802
        """Pull requests oldest first, by ``states``, ``baseRefName`` and ``headRefName``."""
        self.ctx.check("repository", self.repo.name)
        states = args.get("states") or ["OPEN", "CLOSED", "MERGED"]
        pulls = [
            PullRequest(self, p)
            for p in sorted(self.repo.pulls, key=lambda p: p.number)
            if ("MERGED" if p.merged_at else "OPEN") in states
            and args.get("baseRefName") in (None, p.base)
            and args.get("headRefName") in (None, p.head_ref)
        ]
        return connection(pulls, args, _node)


class TeamNode:
    """A team (named apart from :class:`~grantops.sandbox.world.Team`, which it shows)."""

    __typename = "Team"

    def __init__(self, ctx: Context, team: Team) -> None:
        self.ctx = ctx
        self.team = team
        self.slug = team.slug
        self.name = team.slug
        self.databaseId = team.id
        self.id = node_id("T", team.id)
        self.privacy = "VISIBLE"
        self.url = f"https://github.com/orgs/{ctx.world.org}/teams/{team.slug}"

    def organization(self, info: Info) -> Organization:
        return Organization(self.ctx)

    def repositories(self, info: Info, **args: Any) -> Json:
        """The team's repositories; a custom role reports its base role's permission."""
        self.ctx.check("team", self.slug)
        slug = self.slug.lower()
        repos = sorted((r for r in self.ctx.world.repos.values() if slug in r.teams), key=_id)

        def edge(repo: Repo) -> Json:
            permission = self.ctx.repository_permission(repo.teams[slug])
            return {"node": Repository(self.ctx, repo), "permission": permission}

        return connection(repos, args, edge)

    def members(self, info: Info, **args: Any) -> Json:
        """Active members, by ``role`` (``MAINTAINER`` or ``MEMBER``)."""
        self.ctx.check("team", self.slug)
        wanted = args.get("role")
        keys = [k for k, r in self.team.members.items() if wanted in (None, r.upper())]

        def edge(key: str) -> Json:
            return {"node": User(self.ctx, key), "role": self.team.members[key].upper()}

        return connection(_by_id(self.ctx, keys), args, edge)

    def invitations(self, info: Info, **args: Any) -> Json:
        """Pending members: people invited to the org through this team."""
        self.ctx.check("team", self.slug)
        keys = _by_id(self.ctx, self.team.pending)
        return connection(keys, args, lambda k: {"node": self._invitation(k)})

    def _invitation(self, key: str) -> Json:
        return {
            "createdAt": "2026-01-01T00:00:00Z",
            "email": None,
            "id": node_id("OI", self.ctx.world.user_ids[key]),
            "invitee": User(self.ctx, key),
            "role": "DIRECT_MEMBER",
        }


def _id(repo: Repo) -> int:
    return repo.id


class PullRequest:
    __typename = "PullRequest"

    def __init__(self, repository: Repository, pull: PullState) -> None:
        ctx = repository.ctx
        pullflow.refresh(ctx.world, repository.repo, pull)
        self.ctx = ctx
        self.repository = repository
        self.pull = pull
        self.number = pull.number
        self.title = pull.title
        self.id = node_id("PR", f"{repository.repo.id}:{pull.number}")
        self.url = f"{repository.url}/pull/{pull.number}"
        self.author = _actor(ctx, pull.author)
        self.baseRefName = pull.base
        self.headRefName = pull.head_ref
        self.headRefOid = pull.head_sha
        self.createdAt = "2026-01-01T00:00:00Z"
        self.merged = pull.merged_at is not None
        self.mergedAt = pull.merged_at
        self.mergedBy = _actor(ctx, pull.merged_by)
        self.state = "MERGED" if self.merged else "OPEN"
        sha = pull.merge_commit_sha
        self.mergeCommit = None if sha is None else Commit(repository, CommitState(sha=sha))

    def reviews(self, info: Info, **args: Any) -> Json:
        states = args.get("states")
        chosen = [r for r in self.pull.reviews if states is None or r.state in states]
        return connection([self._review(i, r) for i, r in enumerate(chosen)], args, _node)

    def _review(self, index: int, review: ReviewState) -> Json:
        return {
            "author": _actor(self.ctx, review.user),
            "commit": Commit(self.repository, CommitState(sha=review.commit_id)),
            "id": node_id("PRR", f"{self.id}:{index}"),
            "state": review.state,
            "submittedAt": review.submitted_at,
        }

    def commits(self, info: Info, **args: Any) -> Json:
        repository = self.repository
        items = [
            {"id": node_id("PURC", c.sha), "commit": Commit(repository, c)}
            for c in self.pull.commits
        ]
        return connection(items, args, _node)

    def files(self, info: Info, **args: Any) -> Json:
        items = [
            {"path": path, "additions": 0, "deletions": 0, "changeType": _change(blob)}
            for path, blob in sorted(self.pull.files.items())
        ]
        return connection(items, args, _node)


def _change(blob: str | None) -> str:
    return "DELETED" if blob is None else "MODIFIED"


def _actor(ctx: Context, login: str | None) -> User | None:
    """An account by login; None for a deleted account (GitHub's ghost)."""
    return None if login is None else User(ctx, ctx.world.person(login))


class Commit:
    """A commit, with the pull requests it belongs to (merged into, or open with it)."""

    __typename = "Commit"

    def __init__(self, repository: Repository, item: CommitState) -> None:
        self.repository = repository
        self.id = node_id("C", item.sha)
        self.oid = item.sha
        self.committedDate = item.date
        self.message = item.message
        ctx = repository.ctx
        self.author = _git_actor(ctx, item.author, item.date)
        committer = item.author if item.committer == "" else item.committer
        self.committer = _git_actor(ctx, committer, item.date)

    def associatedPullRequests(self, info: Info, **args: Any) -> Json:  # noqa: N802
        repository = self.repository
        pulls = repository.ctx.world.pulls_with_commit(repository.repo, self.oid)
        return connection(pulls, args, lambda p: {"node": PullRequest(repository, p)})


def _git_actor(ctx: Context, login: str | None, date: str) -> Json:
    """Git's author or committer; ``user`` is the account GitHub links it to, if any."""
    name = login or "unknown"
    user = None if login is None else User(ctx, ctx.world.person(login))
    return {"name": name, "email": f"{name}@example.com", "date": date, "user": user}


def find_commit(repository: Repository, oid: str) -> Commit | None:
    """The commit ``oid`` of a repository, if the sandbox knows it: on the default
    branch, in a pull request, or a pull request's head, merge or landed commit."""
    repo = repository.repo
    for item in [*repo.commits, *(c for p in repo.pulls for c in p.commits)]:
        if item.sha == oid:
            return Commit(repository, item)
    for pull in repo.pulls:
        if oid in (pull.head_sha, pull.merge_commit_sha, *pull.landed):
            return Commit(repository, CommitState(sha=oid))
    return None
