"""A local HTTP server that answers the subset of GitHub's REST API grantops uses.

It behaves like api.github.com where grantops depends on it: status codes (201 vs 204
on adding a collaborator), ``Link`` pagination honouring ``per_page``, ``ETag`` and
``If-None-Match`` (304 costs no rate limit), ``x-ratelimit-*`` headers with a budget
that runs out, error bodies, and authentication. Knobs inject latency and faults
(5xx, timeouts, secondary rate limits), and ``/_sandbox/*`` endpoints let tests and
demos look inside: request counters, the state, accepting or expiring invitations.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from grantops.sandbox import bodies
from grantops.sandbox.world import SandboxError, World
from grantops.state import StateFile

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


@dataclass
class FaultRule:
    """Fail requests whose ``METHOD path`` matches ``pattern`` (a regex), ``times`` times.

    ``status`` 0 means a timeout: the server stalls past the client's patience. With
    ``after_apply`` a mutation takes effect before the failure, as when GitHub ends a
    slow request with a 5xx although the change went through.
    """

    pattern: str
    status: int = 502
    times: int = 1
    retry_after: int | None = None
    message: str | None = None
    after_apply: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        return cls(**data)


@dataclass
class Settings:
    latency_ms: int = 0
    fault_rate: float = 0.0
    seed: int = 0
    rate_limit: int = 5000
    rate_window_seconds: int = 3600
    stall_seconds: float = 2.0
    token: str | None = None
    viewer: str = "grantops-bot"
    faults: list[FaultRule] = field(default_factory=list)


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


@dataclass(frozen=True)
class Exchange:
    """A request and its answer, kept for contract checks."""

    operation: str
    method: str
    path: str
    status: int
    body: Any


class Sandbox:
    """The sandbox GitHub: world state, settings, counters and the HTTP server."""

    def __init__(
        self,
        state: StateFile,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: Settings | None = None,
    ) -> None:
        self.world = World(state)
        self.settings = settings or Settings()
        self.world._person(self.settings.viewer)
        self.lock = threading.RLock()
        self.stats: Counter[str] = Counter()
        self.exchanges: list[Exchange] = []
        self._random = random.Random(self.settings.seed)
        self._remaining = self.settings.rate_limit
        self._reset_at = int(time.time()) + self.settings.rate_window_seconds
        self._routes = _routes(self)
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Sandbox:
        # a short poll interval lets stop() return promptly
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def state(self) -> StateFile:
        with self.lock:
            return self.world.to_state()

    # ----- request handling ---------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: Any) -> Reply:
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            return self._control(method, path, body)
        if self.settings.latency_ms:
            time.sleep(self.settings.latency_ms / 1000)
        route = self._match(method, path)
        operation = route[0] if route else "unknown"
        reply = self._answer(method, path, split.query, headers, body, route)
        with self.lock:
            self.exchanges.append(Exchange(operation, method, path, reply.status, reply.body))
        return reply

    def _answer(
        self,
        method: str,
        path: str,
        raw_query: str,
        headers: Any,
        body: Any,
        route: tuple[str, Handler, dict[str, str]] | None,
    ) -> Reply:
        auth = headers.get("Authorization", "")
        if not auth or (self.settings.token and auth.split(" ", 1)[-1] != self.settings.token):
            return Reply(401, bodies.error("Requires authentication"))
        if route is None:
            return Reply(404, bodies.error("Not Found"))
        operation, handler, params = route
        with self.lock:
            self.stats[f"{method} {operation}"] += 1
            self.stats["total"] += 1
        limited = self._rate_limited(path)
        if limited is not None:
            return limited
        fault = self._fault(method, path)
        if fault is not None and not fault.after_apply:
            return self._fail(fault)
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        base = f"http://{headers.get('Host', '127.0.0.1')}"
        try:
            with self.lock:
                reply = handler(Call(method, params, query, body, base))
        except SandboxError as exc:
            reply = Reply(exc.status, bodies.error(exc.message, exc.errors))
        if fault is not None:
            return self._fail(fault)
        if reply.paginate:
            reply = _page(reply, base + path, query)
        if method == "GET" and reply.status == 200:
            reply = self._etag(reply, headers.get("If-None-Match"))
        return reply

    def _match(self, method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
        for verb, pattern, operation, handler in self._routes:
            if verb == method:
                found = pattern.fullmatch(path)
                if found:
                    return operation, handler, found.groupdict()
        return None

    def rate_headers(self) -> dict[str, str]:
        limit = self.settings.rate_limit
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(self._remaining),
            "x-ratelimit-used": str(limit - self._remaining),
            "x-ratelimit-reset": str(self._reset_at),
            "x-ratelimit-resource": "core",
        }

    def _rate_limited(self, path: str) -> Reply | None:
        with self.lock:
            now = time.time()
            if now >= self._reset_at:
                self._remaining = self.settings.rate_limit
                self._reset_at = int(now) + self.settings.rate_window_seconds
            if path == "/rate_limit":
                return None
            if self._remaining <= 0:
                message = "API rate limit exceeded for installation."
                return Reply(403, bodies.error(message), self.rate_headers())
            self._remaining -= 1
        return None

    def _fault(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.settings.faults:
                if rule.times != 0 and re.search(rule.pattern, f"{method} {path}"):
                    rule.times -= 1
                    return rule
            if self.settings.fault_rate and self._random.random() < self.settings.fault_rate:
                return FaultRule(".*", status=self._random.choice([500, 502, 0]))
        return None

    def _fail(self, rule: FaultRule) -> Reply:
        if rule.status == 0:
            time.sleep(self.settings.stall_seconds)
            return Reply(504, bodies.error("We couldn't respond to your request in time."))
        headers = {}
        if rule.retry_after is not None:
            headers["retry-after"] = str(rule.retry_after)
        secondary = "You have exceeded a secondary rate limit. Please wait before you try again."
        default = {403: secondary, 429: secondary, 404: "Not Found"}.get(
            rule.status, "Server Error"
        )
        return Reply(rule.status, bodies.error(rule.message or default), headers)

    def _etag(self, reply: Reply, if_none_match: str | None) -> Reply:
        digest = hashlib.sha256(json.dumps(reply.body, sort_keys=True).encode()).hexdigest()
        etag = f'"{digest[:32]}"'
        headers = {**reply.headers, "etag": etag}
        if if_none_match == etag:
            with self.lock:
                self._remaining += 1  # conditional requests answered 304 are free
            return Reply(304, None, headers)
        return Reply(reply.status, reply.body, headers)

    def _control(self, method: str, path: str, body: Any) -> Reply:
        with self.lock:
            if method == "GET" and path == "/_sandbox/stats":
                return Reply(200, dict(self.stats))
            if method == "GET" and path == "/_sandbox/state":
                return Reply(200, self.world.to_state().model_dump())
            if method == "POST" and path == "/_sandbox/accept-invitations":
                login = (body or {}).get("login")
                return Reply(200, {"accepted": self.world.accept_invitations(login)})
            if method == "POST" and path == "/_sandbox/expire-invitations":
                return Reply(200, {"expired": self.world.expire_invitations()})
            if method == "POST" and path == "/_sandbox/faults":
                self.settings.faults.append(FaultRule.from_json(body or {}))
                return Reply(200, {"faults": len(self.settings.faults)})
            if method == "POST" and path == "/_sandbox/reset-stats":
                self.stats.clear()
                return Reply(200, {})
        return Reply(404, bodies.error("Not Found"))


def _page(reply: Reply, url: str, query: dict[str, str]) -> Reply:
    """Slice a full listing by ``per_page``/``page`` and add GitHub's ``Link`` header."""
    items = list(reply.body)
    try:
        per_page = min(max(int(query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
        page = max(int(query.get("page", 1)), 1)
    except ValueError:
        return Reply(422, bodies.error("Invalid request: per_page and page must be numbers"))
    last = max(1, -(-len(items) // per_page))
    links = []

    def link(number: int, rel: str) -> str:
        return f'<{url}?{urlencode({**query, "per_page": per_page, "page": number})}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {**reply.headers}
    if links:
        headers["link"] = ", ".join(links)
    return Reply(200, items[(page - 1) * per_page : page * per_page], headers)


def _handler_class(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class GitHubHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls
        server_version = "GitHub.com"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the sandbox's counters say what was asked."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(Reply(400, bodies.error("Problems parsing JSON")))
                return
            self._send(sandbox.handle(self.command, self.path, self.headers, body))

        def _send(self, reply: Reply) -> None:
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-github-request-id", f"SANDBOX:{id(reply):x}".upper())
                with sandbox.lock:
                    rate = sandbox.rate_headers()
                for key, value in {**rate, **reply.headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = _serve  # noqa: N815

    return GitHubHandler


def _routes(sandbox: Sandbox) -> list[tuple[str, re.Pattern[str], str, Handler]]:
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
        state = call.query.get("state", "open")
        items = [
            p
            for p in repo.pulls
            if state == "all" or (state == "closed") == (p.merged_at is not None)
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
