"""A local HTTP server that answers the subset of GitHub's REST API grantops uses.

It behaves like api.github.com where grantops depends on it: status codes (201 vs 204
on adding a collaborator), ``Link`` pagination honouring ``per_page``, ``ETag`` and
``If-None-Match`` (304 costs no rate limit), ``x-ratelimit-*`` headers with a budget
that runs out, error bodies, and authentication. Knobs inject latency and faults
(5xx, timeouts, secondary rate limits), and ``/_sandbox/*`` endpoints let tests and
demos look inside: request counters, the state, accepting or expiring invitations.

Time is recorded and can stop: ``GET /_sandbox/changes`` lists every mutation accepted,
in order, with the server's time (:mod:`grantops.sandbox.changelog`; ``?since=TIME``
keeps the later ones; ``POST /_sandbox/reset-changes`` empties it, ``reset-stats`` does
not). ``POST /_sandbox/outage {"seconds": S}`` takes the API down for S seconds (503 on
every REST and GraphQL request; 0 ends it) and ``GET /_sandbox/outage`` reports the window
(:mod:`grantops.sandbox.outage`).

``POST /graphql`` (:mod:`grantops.sandbox.graphql_api`) serves GitHub's GraphQL API over
the same world, with its own budget. Paths also answer under ``/api/v3`` and GraphQL at
``/api/graphql``, as on GitHub Enterprise Server, so a client's GHES addressing is tested.
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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from grantops.sandbox import appauth, bodies, changelog, graphql_api
from grantops.sandbox.appauth import APP_ROUTES, AppHost, AppSettings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.outage import Outage
from grantops.sandbox.ratelimit import RateBudget
from grantops.sandbox.routes import ROUTES, Call, Reply, Route
from grantops.sandbox.world import SandboxError, World

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
    graphql_rate_limit: int = 5000
    """GraphQL points an hour; 5,000 (like ``rate_limit``) is a personal token's budget."""
    rate_window_seconds: int = 3600
    stall_seconds: float = 2.0
    token: str | None = None
    viewer: str = "grantops-bot"
    faults: list[FaultRule] = field(default_factory=list)
    git: dict[str, Path] = field(default_factory=dict)
    """Repositories whose branches live in a local git repository: name -> its path."""
    graphql_forbidden: list[str] = field(default_factory=list)
    """GraphQL targets answered ``FORBIDDEN`` (``repository:NAME``, ``team:SLUG``,
    ``organization:LOGIN``), as GitHub answers a token some resource is closed to."""
    app: AppSettings | None = None
    """A GitHub App whose JWT and installation tokens the sandbox accepts besides its
    own tokens (see :mod:`grantops.sandbox.appauth`)."""
    clock: Callable[[], float] = time.time
    """The time installation tokens and App JWTs are judged by."""


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
        state: SandboxState,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.world = World(state, git=self.settings.git)
        self.world.person(self.settings.viewer)
        app = self.settings.app
        self.app = AppHost(app, self.settings.clock) if app is not None else None
        self.lock = threading.RLock()
        self.stats: Counter[str] = Counter()
        self.exchanges: list[Exchange] = []
        self.changes = changelog.ChangeLog()
        self.outage = Outage()
        self._random = random.Random(self.settings.seed)
        window = self.settings.rate_window_seconds
        self.core_budget = RateBudget(self.settings.rate_limit, window)
        self.graphql_budget = RateBudget(self.settings.graphql_rate_limit, window)
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

    def state(self) -> SandboxState:
        with self.lock:
            return self.world.to_state()

    # ----- request handling ---------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: Any) -> Reply:
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        prefix = "/api/v3" if path.startswith("/api/v3/") else ""
        path = path.removeprefix(prefix)
        if path.startswith("/_sandbox/"):
            return self._control(method, path, split.query, body)
        if self.settings.latency_ms:
            time.sleep(self.settings.latency_ms / 1000)
        route = _match(method, path)
        operation = route[0].operation if route else "unknown"
        reply = self._unavailable() or self._answer(
            method, path, split.query, headers, body, route, prefix
        )
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
        route: tuple[Route, dict[str, str]] | None,
        prefix: str = "",
    ) -> Reply:
        auth = headers.get("Authorization", "")
        if not auth:
            return Reply(401, bodies.error("Requires authentication"))
        refused, acting = self._authenticate(auth, route[0] if route else None)
        if refused is not None:
            return refused
        if route is None:
            return Reply(404, bodies.error("Not Found"))
        matched, params = route
        with self.lock:
            self.stats[f"{method} {matched.operation}"] += 1
            self.stats["total"] += 1
        unlimited = matched is GRAPHQL_ROUTE or matched in APP_ROUTES
        limited = None if unlimited else self._rate_limited(path)
        if limited is not None:
            return limited
        fault = self._fault(method, path)
        if fault is not None and not fault.after_apply:
            return self._fail(fault)
        query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
        base = f"http://{headers.get('Host', '127.0.0.1')}{prefix}"
        call = Call(self, base, params, query, body, acting or None)
        reply = self._apply(matched, method, path, call)
        if fault is not None:
            return self._fail(fault)
        if reply.paginate:
            reply = _page(reply, base + path, query)
        if method == "GET" and reply.status == 200:
            reply = self._etag(reply, headers.get("If-None-Match"))
        return reply

    def _apply(self, route: Route, method: str, path: str, call: Call) -> Reply:
        """Run a handler under the lock; a mutation is logged, under the same lock, with
        the time it was made, so the log's order and times are the state's."""
        logged = changelog.is_mutation(method, call.body, route is GRAPHQL_ROUTE)
        with self.lock:
            try:
                reply = route.handler(call)
            except SandboxError as exc:
                reply = Reply(exc.status, bodies.error(exc.message, exc.errors))
            if logged:
                self.changes.record(method, path, reply.status, datetime.now(UTC))
        return reply

    def _unavailable(self) -> Reply | None:
        """GitHub's 503 while an outage lasts, before anything else is looked at."""
        with self.lock:
            down = self.outage.active(datetime.now(UTC))
        return Reply(503, bodies.error("Service Unavailable")) if down else None

    def _authenticate(self, auth: str, route: Route | None) -> tuple[Reply | None, str]:
        """A refusal of the credential, or None and the login it acts as ("": the
        settings' own account, as a GitHub App's installation also acts). Without an
        App, ``ghs_`` tokens are the sandbox's own, accepted as any other."""
        if route in APP_ROUTES or (self.app is not None and appauth.is_app_credential(auth)):
            with self.lock:
                return appauth.refusal(self.app, auth, route), ""
        acting, _, secret = auth.split(" ", 1)[-1].rpartition(":")
        if (self.settings.token and secret != self.settings.token) or not self._known(acting):
            return Reply(401, bodies.error("Requires authentication")), acting
        return None, acting

    def _known(self, login: str) -> bool:
        """Whether a token may act as ``login`` (empty: the settings' own account).

        In the sandbox a token ``LOGIN:SECRET`` belongs to the account LOGIN, which the
        state must know, so a rehearsal can review as someone else than the author."""
        with self.lock:
            return not login or login.lower() in self.world.logins

    def rate_budget(self) -> dict[str, int]:
        """The core budget as ``/rate_limit`` reports it; call it under the lock."""
        return self.core_budget.report()

    def rate_headers(self) -> dict[str, str]:
        return self.core_budget.headers("core")

    def _rate_limited(self, path: str) -> Reply | None:
        with self.lock:
            self.core_budget.refresh()
            if path == "/rate_limit" or self.core_budget.spend(1):
                return None
            message = "API rate limit exceeded for installation."
            return Reply(403, bodies.error(message), self.rate_headers())

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
                self.core_budget.remaining += 1  # conditional requests answered 304 are free
            return Reply(304, None, headers)
        return Reply(reply.status, reply.body, headers)

    def _control(self, method: str, path: str, raw_query: str, body: Any) -> Reply:
        timekeeping = self._timekeeping(method, path, raw_query, body)
        if timekeeping is not None:
            return timekeeping
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
            if method == "POST" and path == "/_sandbox/graphql-forbid":
                self.settings.graphql_forbidden.append(str((body or {}).get("target", "")))
                return Reply(200, {"forbidden": self.settings.graphql_forbidden})
            if method == "POST" and path == "/_sandbox/reset-stats":
                self.stats.clear()
                return Reply(200, {})
        return Reply(404, bodies.error("Not Found"))

    def _timekeeping(self, method: str, path: str, raw_query: str, body: Any) -> Reply | None:
        """The change log and the outage window (None: not one of their routes)."""
        now = datetime.now(UTC)
        with self.lock:
            if method == "GET" and path == "/_sandbox/changes":
                return self._changes(raw_query)
            if method == "POST" and path == "/_sandbox/reset-changes":
                return Reply(200, {"cleared": self.changes.clear()})
            if method == "POST" and path == "/_sandbox/outage":
                try:
                    self.outage.begin((body or {}).get("seconds"), now)
                except ValueError as exc:
                    return Reply(422, bodies.error(f"Invalid request: {exc}"))
            if method in ("GET", "POST") and path == "/_sandbox/outage":
                return Reply(200, self.outage.report(now))
        return None

    def _changes(self, raw_query: str) -> Reply:
        """``GET /_sandbox/changes``, all of them or those at or after ``?since=``."""
        since = parse_qs(raw_query).get("since", [None])[-1]
        try:
            start = changelog.parse_since(since)
        except ValueError as exc:
            return Reply(422, bodies.error(f"Invalid request: {exc}"))
        return Reply(200, {"changes": self.changes.since(start)})


def _graphql(call: Call) -> Reply:
    """POST /graphql: always 200, with the ``graphql`` budget in the headers."""
    budget = call.sandbox.graphql_budget
    return Reply(200, graphql_api.answer(call, budget), budget.headers("graphql"))


GRAPHQL_ROUTE = Route("POST", re.compile(r"(/api)?/graphql"), "graphql", _graphql)
"""GitHub's GraphQL endpoint: ``/graphql`` on api.github.com, ``/api/graphql`` on GHES."""


def _match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route answering ``method path``, and the parameters it reads from the path."""
    for route in (GRAPHQL_ROUTE, *APP_ROUTES, *ROUTES):
        found = route.pattern.fullmatch(path) if route.method == method else None
        if found:
            return route, found.groupdict()
    return None


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
    shown = items[(page - 1) * per_page : page * per_page]
    if reply.wrapped is not None:
        return Reply(200, {"total_count": len(items), reply.wrapped: shown}, headers)
    return Reply(200, shown, headers)


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
            if body is not None and not isinstance(body, dict):
                # GitHub's request bodies are objects; it refuses anything else with 422.
                self._send(Reply(422, bodies.error("Invalid request.")))
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
