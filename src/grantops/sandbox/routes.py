"""The sandbox's REST routes: a table of small handlers, one per GitHub operation it serves.

Each :class:`Route` is ``(method, pattern, operationId, handler)``, written in the table
as GitHub's own path template. The operationId names the operation in GitHub's OpenAPI
description, so contract tests can check every answer against its schema. Handlers run
under the sandbox's lock and speak in :class:`Reply` values; pagination, ETags, rate
limits and faults are the server's job, so a listing handler returns the whole listing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from grantops.sandbox import bodies, pullflow
from grantops.sandbox.world import SandboxError

if TYPE_CHECKING:
    from grantops.sandbox.fixtures import PullState
    from grantops.sandbox.server import Sandbox
    from grantops.sandbox.world import Repo, Team, World


@dataclass
class Reply:
    """An answer before the server adds pages, ETag and rate-limit headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    paginate: bool = False
    wrapped: str | None = None
    """For a listing GitHub answers as an object, ``{"total_count": N, wrapped: [...]}``:
    the key each page's items go under."""


@dataclass(frozen=True)
class Call:
    """One request, as a route handler sees it.

    ``base`` is the scheme and host the client addressed, so URLs inside answers point
    back at this sandbox whatever address it was reached by. Handlers reach the world
    and settings through ``sandbox``, which lets them be plain module-level functions.
    """

    sandbox: Sandbox
    base: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    acting: str | None = None

    @property
    def world(self) -> World:
        return self.sandbox.world

    @property
    def viewer(self) -> str:
        """The login the token belongs to: the one it names (``LOGIN:SECRET``), else the
        settings' bot account."""
        return self.acting or self.sandbox.settings.viewer

    def given(self, name: str, default: Any = None) -> Any:
        """A field of the JSON body; a request without a body counts as ``{}``."""
        return (self.body or {}).get(name, default)


Handler = Callable[[Call], Reply]


class Route(NamedTuple):
    """One GitHub operation the sandbox serves, and the handler that answers it."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


# ----- shared steps -----------------------------------------------------------


def _repo(call: Call) -> Repo:
    return call.world.repo(call.params["owner"], call.params["repo"])


def _team(call: Call) -> Team:
    """The team in the path; a path naming another org is a 404, as on GitHub."""
    call.world.check_org(call.params["org"])
    return call.world.team(call.params["team_slug"])


def _pull(call: Call, repo: Repo) -> PullState:
    """The pull request in the path, following its head branch as GitHub does."""
    pull = call.world.pull(repo, int(call.params["pull_number"]))
    pullflow.refresh(call.world, repo, pull)
    return pull


def _listing(items: list[Any]) -> Reply:
    """A whole listing, for the server to cut into pages."""
    return Reply(200, items, paginate=True)


def _by_id(world: World, keys: Iterable[str]) -> list[str]:
    """Login keys in the order GitHub lists accounts: by account id."""
    return sorted(keys, key=world.user_ids.__getitem__)


def _users(call: Call, keys: Iterable[str]) -> Reply:
    return _listing([bodies.user(call.base, call.world, k) for k in _by_id(call.world, keys)])


# ----- org --------------------------------------------------------------------


def get_org(call: Call) -> Reply:
    """GET /orgs/{org}."""
    call.world.check_org(call.params["org"])
    return Reply(200, bodies.organization(call.base, call.world))


def list_org_members(call: Call) -> Reply:
    """GET /orgs/{org}/members; an unknown ``role`` lists everyone, as ``all`` does."""
    world = call.world
    world.check_org(call.params["org"])
    by_role = {"admin": world.owners, "member": world.members - world.owners}
    return _users(call, by_role.get(call.query.get("role", "all"), world.members))


def check_org_member(call: Call) -> Reply:
    """GET /orgs/{org}/members/{username}."""
    call.world.check_org(call.params["org"])
    if call.params["username"].lower() in call.world.members:
        return Reply(204)
    return Reply(404, bodies.error("User does not exist or is not a member of the organization"))


def list_org_repos(call: Call) -> Reply:
    """GET /orgs/{org}/repos."""
    world = call.world
    world.check_org(call.params["org"])
    repos = sorted(world.repos.values(), key=lambda r: r.id)
    return _listing([bodies.repository(call.base, world, r) for r in repos])


def list_custom_roles(call: Call) -> Reply:
    """GET /orgs/{org}/custom-repository-roles: every role at once, as GitHub answers
    (the operation takes no page parameters)."""
    call.world.check_org(call.params["org"])
    return Reply(200, bodies.custom_roles(call.base, call.world))


# ----- collaborators and invitations ------------------------------------------


def list_collaborators(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/collaborators (``affiliation=direct`` only)."""
    repo = _repo(call)
    if call.query.get("affiliation", "all") != "direct":
        raise SandboxError(422, "the sandbox serves affiliation=direct only")
    keys = _by_id(call.world, repo.collaborators)
    return _listing([bodies.collaborator(call.base, call.world, repo, k) for k in keys])


def add_collaborator(call: Call) -> Reply:
    """PUT /repos/{owner}/{repo}/collaborators/{username}: 201 with an invitation, or 204."""
    repo = _repo(call)
    permission = call.given("permission", "push")
    invitation = call.world.add_collaborator(
        repo, call.params["username"], permission, datetime.now(UTC)
    )
    if invitation is None:
        return Reply(204)
    inviter = call.viewer.lower()
    return Reply(201, bodies.invitation(call.base, call.world, repo, invitation, inviter))


def remove_collaborator(call: Call) -> Reply:
    """DELETE /repos/{owner}/{repo}/collaborators/{username}."""
    call.world.remove_collaborator(_repo(call), call.params["username"])
    return Reply(204)


def get_permission_level(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/collaborators/{username}/permission."""
    repo = _repo(call)
    key = call.world.user(call.params["username"])
    return Reply(200, bodies.permission_level(call.base, call.world, repo, key))


def list_invitations(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/invitations."""
    repo = _repo(call)
    inviter = call.viewer.lower()
    invitations = sorted(repo.invitations.values(), key=lambda i: i.id)
    return _listing(
        [bodies.invitation(call.base, call.world, repo, i, inviter) for i in invitations]
    )


def delete_invitation(call: Call) -> Reply:
    """DELETE /repos/{owner}/{repo}/invitations/{invitation_id}."""
    call.world.delete_invitation(_repo(call), int(call.params["invitation_id"]))
    return Reply(204)


# ----- teams ------------------------------------------------------------------


def list_repo_teams(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/teams."""
    world = call.world
    teams = sorted(_repo(call).teams.items())
    return _listing([bodies.team(call.base, world, world.teams[s], p) for s, p in teams])


def list_team_members(call: Call) -> Reply:
    """GET /orgs/{org}/teams/{team_slug}/members, filtered by ``role``."""
    team = _team(call)
    role = call.query.get("role", "all")
    return _users(call, [k for k, r in team.members.items() if role in ("all", r)])


def list_team_invitations(call: Call) -> Reply:
    """GET /orgs/{org}/teams/{team_slug}/invitations: the team's pending members."""
    team = _team(call)
    inviter = call.viewer.lower()
    keys = _by_id(call.world, team.pending)
    return _listing([bodies.org_invitation(call.base, call.world, team, k, inviter) for k in keys])


def _membership(call: Call, team: Team, role: str, state: str) -> Reply:
    key = call.params["username"].lower()
    return Reply(200, bodies.team_membership(call.base, call.world, team, key, role, state))


def get_membership(call: Call) -> Reply:
    """GET /orgs/{org}/teams/{team_slug}/memberships/{username}."""
    team = _team(call)
    role, state = call.world.membership(team, call.params["username"])
    return _membership(call, team, role, state)


def put_membership(call: Call) -> Reply:
    """PUT /orgs/{org}/teams/{team_slug}/memberships/{username}."""
    team = _team(call)
    role = call.given("role", "member")
    role, state = call.world.set_membership(team, call.params["username"], role)
    return _membership(call, team, role, state)


def delete_membership(call: Call) -> Reply:
    """DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}."""
    call.world.remove_membership(_team(call), call.params["username"])
    return Reply(204)


def put_team_repo(call: Call) -> Reply:
    """PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}."""
    team = _team(call)
    call.world.set_team_repo(team, _repo(call), call.given("permission", "push"))
    return Reply(204)


def delete_team_repo(call: Call) -> Reply:
    """DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}."""
    team = _team(call)
    call.world.remove_team_repo(team, _repo(call))
    return Reply(204)


# ----- pulls and commits ------------------------------------------------------


def list_commit_pulls(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls."""
    repo = _repo(call)
    pulls = call.world.pulls_with_commit(repo, call.params["commit_sha"])
    return _listing([bodies.pull_request(call.base, call.world, repo, p) for p in pulls])


def list_pull_files(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/files."""
    repo = _repo(call)
    pull = _pull(call, repo)
    files = sorted(pull.files.items())
    return _listing([bodies.diff_entry(call.base, call.world, repo, pull, *f) for f in files])


def list_reviews(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews."""
    repo = _repo(call)
    pull = _pull(call, repo)
    reviews = enumerate(pull.reviews)
    return _listing([bodies.review(call.base, call.world, repo, pull, *r) for r in reviews])


def list_pull_commits(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/commits."""
    repo = _repo(call)
    commits = _pull(call, repo).commits
    return _listing([bodies.commit(call.base, call.world, repo, c) for c in commits])


def list_commits(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/commits, filtered by ``author``, ``since`` and ``until``."""
    repo = _repo(call)
    query = call.query
    commits = call.world.commits_by(
        repo, query.get("author", ""), query.get("since"), query.get("until")
    )
    return _listing([bodies.commit(call.base, call.world, repo, c) for c in commits])


def list_pulls(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls; closed means merged, newest merge first."""
    repo = _repo(call)
    query = call.query
    pulls = call.world.pulls_in(
        repo, query.get("state", "open"), query.get("base"), query.get("head")
    )
    return _listing([bodies.pull_request(call.base, call.world, repo, p) for p in pulls])


def create_pull(call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/pulls: open a pull request as the viewer."""
    repo = _repo(call)
    needed = ("title", "head", "base")
    missing = [k for k in needed if not call.given(k)]
    if missing:
        errors = [{"resource": "PullRequest", "code": "missing_field", "field": k} for k in missing]
        raise SandboxError(422, "Validation Failed", errors)
    title, head, base = (str(call.given(k)) for k in needed)
    text = str(call.given("body", ""))
    pull = pullflow.open_from_branch(call.world, repo, call.viewer, title, head, base, text)
    return Reply(201, bodies.full_pull_request(call.base, call.world, repo, pull))


def get_pull(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}."""
    repo = _repo(call)
    return Reply(200, bodies.full_pull_request(call.base, call.world, repo, _pull(call, repo)))


def update_pull(call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/pulls/{pull_number}: its title and body."""
    repo = _repo(call)
    pull = _pull(call, repo)
    pull.title = str(call.given("title", pull.title))
    pull.body = str(call.given("body", pull.body) or "")
    return Reply(200, bodies.full_pull_request(call.base, call.world, repo, pull))


def create_review(call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews, as the viewer."""
    repo = _repo(call)
    pull = _pull(call, repo)
    event, commit_id = str(call.given("event", "")), call.given("commit_id")
    given = pullflow.review(call.world, pull, call.viewer, event, commit_id, datetime.now(UTC))
    index = len(pull.reviews) - 1
    return Reply(200, bodies.review(call.base, call.world, repo, pull, index, given))


def merge_pull(call: Call) -> Reply:
    """PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge, as the viewer."""
    repo = _repo(call)
    pull = _pull(call, repo)
    method, sha = str(call.given("merge_method", "merge")), call.given("sha")
    made = pullflow.merge(call.world, repo, pull, call.viewer, method, sha, datetime.now(UTC))
    return Reply(200, {"sha": made, "merged": True, "message": "Pull Request successfully merged"})


def get_branch(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/branches/{branch}."""
    repo = _repo(call)
    name = call.params["branch"]
    sha = pullflow.branch_head(call.world, repo, name)
    if sha is None:
        raise SandboxError(404, "Branch not found")
    return Reply(200, bodies.branch(call.base, call.world, repo, name, sha))


# ----- issues -----------------------------------------------------------------


def list_issues(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues, by ``state`` and ``labels`` (comma-separated)."""
    repo = _repo(call)
    labels = [name for name in call.query.get("labels", "").split(",") if name]
    found = call.world.issues_in(repo, call.query.get("state", "open"), labels)
    return _listing([bodies.issue(call.base, call.world, repo, i) for i in found])


def _labels(call: Call) -> list[str]:
    """The body's ``labels``: names (GitHub also takes label objects; grantops sends names)."""
    labels = call.given("labels", [])
    if not isinstance(labels, list) or not all(isinstance(name, str) for name in labels):
        raise SandboxError(422, "Invalid request: labels must be a list of names")
    return labels


def create_issue(call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/issues: open an issue as the viewer."""
    repo = _repo(call)
    title = call.given("title")
    if not isinstance(title, str) or not title:
        errors = [{"resource": "Issue", "code": "missing_field", "field": "title"}]
        raise SandboxError(422, "Validation Failed", errors)
    text = str(call.given("body") or "")
    item = call.world.open_issue(repo, call.viewer, title, text, _labels(call))
    return Reply(201, bodies.issue(call.base, call.world, repo, item))


def update_issue(call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/issues/{issue_number}: title, body, state and labels."""
    repo = _repo(call)
    item = call.world.issue(repo, int(call.params["issue_number"]))
    state = call.given("state", item.state)
    if state not in ("open", "closed"):
        errors = [{"resource": "Issue", "code": "invalid", "field": "state"}]
        raise SandboxError(422, "Validation Failed", errors)
    item.state = state
    item.title = str(call.given("title", item.title))
    item.body = str(call.given("body", item.body) or "")
    if call.given("labels") is not None:
        item.labels = _labels(call)
    return Reply(200, bodies.issue(call.base, call.world, repo, item))


def get_issue(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues/{issue_number}: an issue, with its author and
    labels; a pull request too, as on GitHub, marked by its ``pull_request`` link."""
    repo = _repo(call)
    number = int(call.params["issue_number"])
    pull = next((p for p in repo.pulls if p.number == number), None)
    if pull is not None:
        return Reply(200, bodies.pull_as_issue(call.base, call.world, repo, pull))
    item = call.world.issue(repo, number)
    return Reply(200, bodies.issue(call.base, call.world, repo, item))


def list_comments(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/comments, oldest first."""
    repo = _repo(call)
    number = int(call.params["issue_number"])
    if not any(p.number == number for p in repo.pulls):
        call.world.issue(repo, number)  # a 404 when neither a pull request nor an issue
    found = [
        bodies.comment(call.base, call.world, repo, index + 1, c)
        for index, c in enumerate(repo.comments)
        if c.issue == number
    ]
    return _listing(found)


def update_comment(call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}: its body; GitHub lets
    only its author (or a maintainer) edit a comment, the sandbox only its author."""
    repo = _repo(call)
    index = int(call.params["comment_id"]) - bodies.COMMENT_IDS
    if not 1 <= index <= len(repo.comments):
        raise SandboxError(404, "Not Found")
    item = repo.comments[index - 1]
    if item.user.lower() != call.viewer.lower():
        raise SandboxError(403, "Must have admin rights to Repository.")
    text = call.given("body")
    if not isinstance(text, str) or not text:
        errors = [{"resource": "IssueComment", "code": "missing_field", "field": "body"}]
        raise SandboxError(422, "Validation Failed", errors)
    item.body = text
    return Reply(200, bodies.comment(call.base, call.world, repo, index, item))


def create_comment(call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/issues/{issue_number}/comments, as the viewer."""
    repo = _repo(call)
    text = str(call.given("body", ""))
    item = call.world.add_comment(repo, int(call.params["issue_number"]), call.viewer, text)
    return Reply(201, bodies.comment(call.base, call.world, repo, len(repo.comments), item))


# ----- actions ----------------------------------------------------------------


def list_workflow_runs(call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs, the workflow
    named by its file; newest first."""
    repo = _repo(call)
    runs = call.world.runs_of(repo, call.params["workflow_id"])
    items = [bodies.workflow_run(call.base, call.world, repo, r) for r in runs]
    return Reply(200, items, paginate=True, wrapped="workflow_runs")


# ----- users and rate limit ---------------------------------------------------

_VIEWER_PROFILE: dict[str, Any] = {
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
"""The private-user fields grantops never reads, fixed so ``/user`` fits GitHub's schema."""


def get_viewer(call: Call) -> Reply:
    """GET /user: the account the token belongs to (a bot)."""
    return Reply(
        200, {**bodies.user(call.base, call.world, call.viewer.lower()), **_VIEWER_PROFILE}
    )


def get_rate_limit(call: Call) -> Reply:
    """GET /rate_limit: the core (REST) and graphql budgets; search is never spent."""
    core = call.sandbox.rate_budget()
    graphql = call.sandbox.graphql_budget.report()
    search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
    resources = {"core": core, "graphql": graphql, "search": search}
    return Reply(200, {"resources": resources, "rate": core})


# ----- the table --------------------------------------------------------------

_NUMERIC = frozenset({"invitation_id", "pull_number", "issue_number", "comment_id"})
"""Path parameters that are numbers: any other text there is a 404, as on GitHub."""


def _parameter(name: str) -> str:
    """The pattern for ``{name}`` in a path template: one path segment."""
    return rf"(?P<{name}>\d+)" if name in _NUMERIC else rf"(?P<{name}>[^/]+)"


def _route(method: str, template: str, operation: str, handler: Handler) -> Route:
    """A route written as GitHub's path template, e.g. ``/orgs/{org}/members``."""
    # re.split with a group alternates literal text and parameter names
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        _parameter(part) if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )
    return Route(method, re.compile(pattern), operation, handler)


ROUTES: tuple[Route, ...] = (
    # org
    _route("GET", "/orgs/{org}", "orgs/get", get_org),
    _route("GET", "/orgs/{org}/members", "orgs/list-members", list_org_members),
    _route(
        "GET",
        "/orgs/{org}/members/{username}",
        "orgs/check-membership-for-user",
        check_org_member,
    ),
    _route("GET", "/orgs/{org}/repos", "repos/list-for-org", list_org_repos),
    _route(
        "GET",
        "/orgs/{org}/custom-repository-roles",
        "orgs/list-custom-repo-roles",
        list_custom_roles,
    ),
    # collaborators and invitations
    _route(
        "GET",
        "/repos/{owner}/{repo}/collaborators",
        "repos/list-collaborators",
        list_collaborators,
    ),
    _route(
        "PUT",
        "/repos/{owner}/{repo}/collaborators/{username}",
        "repos/add-collaborator",
        add_collaborator,
    ),
    _route(
        "DELETE",
        "/repos/{owner}/{repo}/collaborators/{username}",
        "repos/remove-collaborator",
        remove_collaborator,
    ),
    _route(
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}/permission",
        "repos/get-collaborator-permission-level",
        get_permission_level,
    ),
    _route("GET", "/repos/{owner}/{repo}/invitations", "repos/list-invitations", list_invitations),
    _route(
        "DELETE",
        "/repos/{owner}/{repo}/invitations/{invitation_id}",
        "repos/delete-invitation",
        delete_invitation,
    ),
    # teams
    _route("GET", "/repos/{owner}/{repo}/teams", "repos/list-teams", list_repo_teams),
    _route(
        "GET",
        "/orgs/{org}/teams/{team_slug}/members",
        "teams/list-members-in-org",
        list_team_members,
    ),
    _route(
        "GET",
        "/orgs/{org}/teams/{team_slug}/invitations",
        "teams/list-pending-invitations-in-org",
        list_team_invitations,
    ),
    _route(
        "GET",
        "/orgs/{org}/teams/{team_slug}/memberships/{username}",
        "teams/get-membership-for-user-in-org",
        get_membership,
    ),
    _route(
        "PUT",
        "/orgs/{org}/teams/{team_slug}/memberships/{username}",
        "teams/add-or-update-membership-for-user-in-org",
        put_membership,
    ),
    _route(
        "DELETE",
        "/orgs/{org}/teams/{team_slug}/memberships/{username}",
        "teams/remove-membership-for-user-in-org",
        delete_membership,
    ),
    _route(
        "PUT",
        "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
        "teams/add-or-update-repo-permissions-in-org",
        put_team_repo,
    ),
    _route(
        "DELETE",
        "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
        "teams/remove-repo-in-org",
        delete_team_repo,
    ),
    # pulls and commits
    _route(
        "GET",
        "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
        "repos/list-pull-requests-associated-with-commit",
        list_commit_pulls,
    ),
    _route(
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/files",
        "pulls/list-files",
        list_pull_files,
    ),
    _route(
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        "pulls/list-reviews",
        list_reviews,
    ),
    _route(
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
        "pulls/list-commits",
        list_pull_commits,
    ),
    _route("GET", "/repos/{owner}/{repo}/commits", "repos/list-commits", list_commits),
    _route("GET", "/repos/{owner}/{repo}/pulls", "pulls/list", list_pulls),
    _route("POST", "/repos/{owner}/{repo}/pulls", "pulls/create", create_pull),
    _route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "pulls/get", get_pull),
    _route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", "pulls/update", update_pull),
    _route(
        "POST",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        "pulls/create-review",
        create_review,
    ),
    _route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", "pulls/merge", merge_pull),
    _route("GET", "/repos/{owner}/{repo}/branches/{branch}", "repos/get-branch", get_branch),
    # issues
    _route("GET", "/repos/{owner}/{repo}/issues", "issues/list-for-repo", list_issues),
    _route("POST", "/repos/{owner}/{repo}/issues", "issues/create", create_issue),
    _route(
        "PATCH",
        "/repos/{owner}/{repo}/issues/{issue_number}",
        "issues/update",
        update_issue,
    ),
    _route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "issues/get", get_issue),
    _route(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "issues/create-comment",
        create_comment,
    ),
    _route(
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "issues/list-comments",
        list_comments,
    ),
    _route(
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        "issues/update-comment",
        update_comment,
    ),
    # actions
    _route(
        "GET",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
        "actions/list-workflow-runs",
        list_workflow_runs,
    ),
    # users and rate limit
    _route("GET", "/user", "users/get-authenticated", get_viewer),
    _route("GET", "/rate_limit", "rate-limit/get", get_rate_limit),
)
