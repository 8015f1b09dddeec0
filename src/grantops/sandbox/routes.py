"""The sandbox's REST routes: one handler per GitHub operation it serves.

Each route is ``(method, path pattern, operationId, handler)``; the operationId names
the operation in GitHub's OpenAPI description, so contract tests can check every
answer against its schema. Handlers run under the sandbox's lock and speak in
:class:`Reply` values; pagination, ETags, rate limits and faults are the server's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from grantops.sandbox import bodies
from grantops.sandbox.world import SandboxError

if TYPE_CHECKING:
    from grantops.sandbox.server import Sandbox


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    paginate: bool = False


Handler = Callable[["Call"], Reply]


@dataclass
class Call:
    """One request, as a route handler sees it."""

    method: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    base: str


def build_routes(sandbox: Sandbox) -> list[tuple[str, re.Pattern[str], str, Handler]]:
    world = sandbox.world
    seg = r"[^/]+"

    def now() -> datetime:
        return datetime.now(UTC)

    def repo_of(call: Call) -> Any:
        return world.repo(call.params["owner"], call.params["repo"])

    def team_of(call: Call) -> Any:
        world.check_org(call.params["org"])
        return world.team(call.params["team_slug"])

    def get_org(call: Call) -> Reply:
        world.check_org(call.params["org"])
        return Reply(200, bodies.organization(call.base, world))

    def list_org_members(call: Call) -> Reply:
        world.check_org(call.params["org"])
        role = call.query.get("role", "all")
        keys = {"admin": world.owners, "member": world.members - world.owners}.get(
            role, world.members
        )
        items = [
            bodies.user(call.base, world, k) for k in sorted(keys, key=world.user_ids.__getitem__)
        ]
        return Reply(200, items, paginate=True)

    def check_org_member(call: Call) -> Reply:
        world.check_org(call.params["org"])
        if call.params["username"].lower() in world.members:
            return Reply(204)
        return Reply(
            404, bodies.error("User does not exist or is not a member of the organization")
        )

    def list_org_repos(call: Call) -> Reply:
        world.check_org(call.params["org"])
        repos = sorted(world.repos.values(), key=lambda r: r.id)
        return Reply(200, [bodies.repository(call.base, world, r) for r in repos], paginate=True)

    def list_collaborators(call: Call) -> Reply:
        repo = repo_of(call)
        if call.query.get("affiliation", "all") != "direct":
            raise SandboxError(422, "the sandbox serves affiliation=direct only")
        keys = sorted(repo.collaborators, key=world.user_ids.__getitem__)
        return Reply(
            200, [bodies.collaborator(call.base, world, repo, k) for k in keys], paginate=True
        )

    def add_collaborator(call: Call) -> Reply:
        repo = repo_of(call)
        permission = (call.body or {}).get("permission", "push")
        invitation = world.add_collaborator(repo, call.params["username"], permission, now())
        if invitation is None:
            return Reply(204)
        body = bodies.invitation(
            call.base, world, repo, invitation, sandbox.settings.viewer.lower()
        )
        return Reply(201, body)

    def remove_collaborator(call: Call) -> Reply:
        world.remove_collaborator(repo_of(call), call.params["username"])
        return Reply(204)

    def permission_level(call: Call) -> Reply:
        repo = repo_of(call)
        key = world.user(call.params["username"])
        return Reply(200, bodies.permission_level(call.base, world, repo, key))

    def list_invitations(call: Call) -> Reply:
        repo = repo_of(call)
        viewer = sandbox.settings.viewer.lower()
        items = [
            bodies.invitation(call.base, world, repo, i, viewer)
            for i in sorted(repo.invitations.values(), key=lambda i: i.id)
        ]
        return Reply(200, items, paginate=True)

    def delete_invitation(call: Call) -> Reply:
        world.delete_invitation(repo_of(call), int(call.params["invitation_id"]))
        return Reply(204)

    def list_repo_teams(call: Call) -> Reply:
        repo = repo_of(call)
        items = [
            bodies.team(call.base, world, world.teams[slug], permission)
            for slug, permission in sorted(repo.teams.items())
        ]
        return Reply(200, items, paginate=True)

    def list_team_members(call: Call) -> Reply:
        team = team_of(call)
        role = call.query.get("role", "all")
        keys = [k for k, r in team.members.items() if role in ("all", r)]
        items = [
            bodies.user(call.base, world, k) for k in sorted(keys, key=world.user_ids.__getitem__)
        ]
        return Reply(200, items, paginate=True)

    def list_team_invitations(call: Call) -> Reply:
        team = team_of(call)
        viewer = sandbox.settings.viewer.lower()
        items = [
            bodies.org_invitation(call.base, world, team, k, viewer)
            for k in sorted(team.pending, key=world.user_ids.__getitem__)
        ]
        return Reply(200, items, paginate=True)

    def get_membership(call: Call) -> Reply:
        team = team_of(call)
        role, state = world.membership(team, call.params["username"])
        key = call.params["username"].lower()
        return Reply(200, bodies.team_membership(call.base, world, team, key, role, state))

    def put_membership(call: Call) -> Reply:
        team = team_of(call)
        role = (call.body or {}).get("role", "member")
        role, state = world.set_membership(team, call.params["username"], role)
        key = call.params["username"].lower()
        return Reply(200, bodies.team_membership(call.base, world, team, key, role, state))

    def delete_membership(call: Call) -> Reply:
        world.remove_membership(team_of(call), call.params["username"])
        return Reply(204)

    def put_team_repo(call: Call) -> Reply:
        team = team_of(call)
        repo = world.repo(call.params["owner"], call.params["repo"])
        world.set_team_repo(team, repo, (call.body or {}).get("permission", "push"))
        return Reply(204)

    def delete_team_repo(call: Call) -> Reply:
        team = team_of(call)
        world.remove_team_repo(team, world.repo(call.params["owner"], call.params["repo"]))
        return Reply(204)

    def pulls_of_commit(call: Call) -> Reply:
        repo = repo_of(call)
        pulls = world.pulls_with_commit(repo, call.params["commit_sha"])
        return Reply(
            200, [bodies.pull_request(call.base, world, repo, p) for p in pulls], paginate=True
        )

    def list_pull_files(call: Call) -> Reply:
        repo = repo_of(call)
        pull = world.pull(repo, int(call.params["pull_number"]))
        items = [
            bodies.diff_entry(call.base, world, repo, pull, path, blob)
            for path, blob in sorted(pull.files.items())
        ]
        return Reply(200, items, paginate=True)

    def list_reviews(call: Call) -> Reply:
        repo = repo_of(call)
        pull = world.pull(repo, int(call.params["pull_number"]))
        items = [
            bodies.review(call.base, world, repo, pull, i, r) for i, r in enumerate(pull.reviews)
        ]
        return Reply(200, items, paginate=True)

    def list_pull_commits(call: Call) -> Reply:
        repo = repo_of(call)
        pull = world.pull(repo, int(call.params["pull_number"]))
        return Reply(
            200, [bodies.commit(call.base, world, repo, c) for c in pull.commits], paginate=True
        )

    def list_commits(call: Call) -> Reply:
        repo = repo_of(call)
        author = call.query.get("author", "").lower()
        since, until = call.query.get("since"), call.query.get("until")
        items = [
            c
            for c in repo.commits
            if (not author or (c.author or "").lower() == author)
            and (not since or c.date >= since)
            and (not until or c.date <= until)
        ]
        return Reply(200, [bodies.commit(call.base, world, repo, c) for c in items], paginate=True)

    def list_pulls(call: Call) -> Reply:
        repo = repo_of(call)
        state, base = call.query.get("state", "open"), call.query.get("base")
        items = [
            p
            for p in repo.pulls
            if (state == "all" or (state == "closed") == (p.merged_at is not None))
            and (base is None or p.base == base)
        ]
        items.sort(key=lambda p: p.merged_at or "", reverse=True)
        return Reply(
            200, [bodies.pull_request(call.base, world, repo, p) for p in items], paginate=True
        )

    def create_pull(call: Call) -> Reply:
        repo = repo_of(call)
        body = call.body or {}
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing:
            raise SandboxError(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "missing_field", "field": k} for k in missing],
            )
        pull = world.open_pull(
            repo,
            sandbox.settings.viewer,
            str(body["title"]),
            str(body["head"]),
            str(body["base"]),
            str(body.get("body", "")),
        )
        return Reply(201, bodies.full_pull_request(call.base, world, repo, pull))

    def create_comment(call: Call) -> Reply:
        repo = repo_of(call)
        body = str((call.body or {}).get("body", ""))
        item = world.add_comment(
            repo, int(call.params["issue_number"]), sandbox.settings.viewer, body
        )
        return Reply(201, bodies.comment(call.base, world, repo, len(repo.comments), item))

    def get_viewer(call: Call) -> Reply:
        key = sandbox.settings.viewer.lower()
        body = {
            **bodies.user(call.base, world, key),
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "type": "Bot",
        }
        return Reply(200, body)

    def rate_limit(call: Call) -> Reply:
        limit = sandbox.settings.rate_limit
        core = {
            "limit": limit,
            "remaining": sandbox._remaining,
            "reset": sandbox._reset_at,
            "used": limit - sandbox._remaining,
        }
        search = {"limit": 30, "remaining": 30, "reset": sandbox._reset_at, "used": 0}
        return Reply(200, {"resources": {"core": core, "search": search}, "rate": core})

    org = rf"/orgs/(?P<org>{seg})"
    repo = rf"/repos/(?P<owner>{seg})/(?P<repo>{seg})"
    team = rf"{org}/teams/(?P<team_slug>{seg})"
    table: list[tuple[str, str, str, Handler]] = [
        ("GET", org, "orgs/get", get_org),
        ("GET", f"{org}/members", "orgs/list-members", list_org_members),
        (
            "GET",
            rf"{org}/members/(?P<username>{seg})",
            "orgs/check-membership-for-user",
            check_org_member,
        ),
        ("GET", f"{org}/repos", "repos/list-for-org", list_org_repos),
        ("GET", f"{repo}/collaborators", "repos/list-collaborators", list_collaborators),
        (
            "PUT",
            rf"{repo}/collaborators/(?P<username>{seg})",
            "repos/add-collaborator",
            add_collaborator,
        ),
        (
            "DELETE",
            rf"{repo}/collaborators/(?P<username>{seg})",
            "repos/remove-collaborator",
            remove_collaborator,
        ),
        (
            "GET",
            rf"{repo}/collaborators/(?P<username>{seg})/permission",
            "repos/get-collaborator-permission-level",
            permission_level,
        ),
        ("GET", f"{repo}/invitations", "repos/list-invitations", list_invitations),
        (
            "DELETE",
            rf"{repo}/invitations/(?P<invitation_id>\d+)",
            "repos/delete-invitation",
            delete_invitation,
        ),
        ("GET", f"{repo}/teams", "repos/list-teams", list_repo_teams),
        ("GET", f"{team}/members", "teams/list-members-in-org", list_team_members),
        (
            "GET",
            f"{team}/invitations",
            "teams/list-pending-invitations-in-org",
            list_team_invitations,
        ),
        (
            "GET",
            rf"{team}/memberships/(?P<username>{seg})",
            "teams/get-membership-for-user-in-org",
            get_membership,
        ),
        (
            "PUT",
            rf"{team}/memberships/(?P<username>{seg})",
            "teams/add-or-update-membership-for-user-in-org",
            put_membership,
        ),
        (
            "DELETE",
            rf"{team}/memberships/(?P<username>{seg})",
            "teams/remove-membership-for-user-in-org",
            delete_membership,
        ),
        (
            "PUT",
            rf"{team}/repos/(?P<owner>{seg})/(?P<repo>{seg})",
            "teams/add-or-update-repo-permissions-in-org",
            put_team_repo,
        ),
        (
            "DELETE",
            rf"{team}/repos/(?P<owner>{seg})/(?P<repo>{seg})",
            "teams/remove-repo-in-org",
            delete_team_repo,
        ),
        (
            "GET",
            rf"{repo}/commits/(?P<commit_sha>{seg})/pulls",
            "repos/list-pull-requests-associated-with-commit",
            pulls_of_commit,
        ),
        ("GET", rf"{repo}/pulls/(?P<pull_number>\d+)/files", "pulls/list-files", list_pull_files),
        ("GET", rf"{repo}/pulls/(?P<pull_number>\d+)/reviews", "pulls/list-reviews", list_reviews),
        (
            "GET",
            rf"{repo}/pulls/(?P<pull_number>\d+)/commits",
            "pulls/list-commits",
            list_pull_commits,
        ),
        ("GET", f"{repo}/commits", "repos/list-commits", list_commits),
        ("GET", f"{repo}/pulls", "pulls/list", list_pulls),
        ("POST", f"{repo}/pulls", "pulls/create", create_pull),
        (
            "POST",
            rf"{repo}/issues/(?P<issue_number>\d+)/comments",
            "issues/create-comment",
            create_comment,
        ),
        ("GET", "/user", "users/get-authenticated", get_viewer),
        ("GET", "/rate_limit", "rate-limit/get", rate_limit),
    ]
    return [(verb, re.compile(pattern), op, fn) for verb, pattern, op, fn in table]
