"""Requests to the GitHub REST API: the only module that uses ghapi.

ghapi (over httpx2) builds each call from GitHub's OpenAPI description and adds the
token. This layer adds what a reconciler needs on top, following GitHub's guidance:

* reads are retried on 5xx and timeouts with bounded exponential backoff;
* rate limits (403/429) wait for ``retry-after``, else ``x-ratelimit-reset`` when the
  budget is spent, else at least a minute (secondary limits), up to a bound;
* mutations go one at a time with a gap between them, and a mutation that timed out or
  failed with a 5xx is *re-read* before it is sent again, since it may have applied;
* listings follow ``Link: rel="next"`` (never requesting an empty extra page), and any
  page that fails makes the whole listing fail: a partial list is never returned;
* ``ETag``s are remembered and sent as ``If-None-Match``; a 304 costs no rate limit;
* the budget left (``x-ratelimit-remaining``/``-reset``) is remembered, so a long read
  can stop in time to leave requests for changes that must not wait (:meth:`short_of`).

The token only lives in the client's headers; errors and logs never include it. It
comes from a :class:`~grantops.github.tokens.TokenSource` asked before every attempt, so
a GitHub App's installation token is renewed in the middle of a run; a 401 answered to
a token that can be renewed is retried once with a new one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from grantops.errors import GrantopsError
from grantops.github.ghapi_quiet import APIError, GhApi
from grantops.github.tokens import FixedToken, TokenSource

DEFAULT_API_URL = "https://api.github.com"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(GrantopsError):
    """A GitHub request failed for good (after any retries it deserved)."""

    def __init__(self, what: str, status: int | None, message: str) -> None:
        self.what, self.status, self.message = what, status, message
        shown = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{what}: {shown}: {message}")


@dataclass(frozen=True)
class RetryPolicy:
    """How patient the client is. Defaults follow GitHub's published guidance."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    secondary_wait: float = 60.0
    max_wait: float = 900.0
    mutation_interval: float = 1.0


class _NoAnswer(Exception):
    """The request got no HTTP answer (timeout, connection failure)."""


Verify = Callable[[], bool]
Authorized = Callable[[dict[str, str]], Any]
"""A request, sent with the ``Authorization`` header it is given."""


class Transport:
    """Sends requests with retries, rate-limit waits, pagination and ETags."""

    def __init__(
        self,
        api_url: str,
        token: str | TokenSource,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tokens = FixedToken(token) if isinstance(token, str) else token
        # ghapi holds no token and reads none ($GITHUB_TOKEN, $GITHUB_JWT_TOKEN) from the
        # process: each request carries the one its source hands out (see _attempt).
        self.api = GhApi(  # type: ignore[no-untyped-call]
            gh_host=api_url.rstrip("/"), sync=True, timeout=timeout, authenticate=False
        )
        # One pooled connection for the whole run instead of a new one per request.
        self.api.transport.client = httpx2.Client(timeout=timeout, follow_redirects=True)
        self.base = api_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.sleep, self.clock = sleep, clock
        self.waits: list[float] = []
        self._etags: dict[str, tuple[str, Any]] = {}
        self._last_mutation: float | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.api.transport.close()
        self.tokens.close()

    def op(self, group: str, name: str) -> Any:
        return getattr(getattr(self.api, group), name)

    # ----- public calls -------------------------------------------------------

    def get(self, what: str, group: str, name: str, /, **params: Any) -> Any:
        """One GET; returns the decoded body. 404 raises :class:`GitHubError`."""
        response = self._read(what, group, name, params)
        return self._body(response)

    def get_path(self, what: str, path: str) -> Any:
        """One GET of ``path`` under the API base, for an operation ghapi's description
        (api.github.com's) leaves out, such as GitHub Enterprise's custom repository
        roles; retried, cached and failing as :meth:`get` does."""
        return self._body(self._read_url(what, f"{self.base}{path}"))

    def get_optional(self, what: str, group: str, name: str, /, **params: Any) -> Any | None:
        """One GET where 404 means "there is none" rather than a failure."""
        try:
            return self.get(what, group, name, **params)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    def exists(self, what: str, group: str, name: str, /, **params: Any) -> bool:
        """A check endpoint: 2xx means yes, 404 means no."""
        try:
            self._read(what, group, name, params)
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def list(
        self, what: str, group: str, name: str, /, per_page: int = 100, **params: Any
    ) -> list[Any]:
        """Every item of a listing, following ``Link: rel="next"`` to the end."""
        response = self._read(what, group, name, {**params, "per_page": per_page})
        items = list(self._body(response))
        while (next_url := _next_link(response.headers.get("link", ""))) is not None:
            response = self._read_url(what, next_url)
            items += self._body(response)
        return items

    def post_query(self, what: str, url: str, body: dict[str, Any]) -> Any:
        """POST a read-only query (GraphQL) to ``url``; returns the decoded body.

        A query changes nothing, so it is retried like a GET on 5xx, timeouts and rate
        limits. It is never cached: GitHub gives no ETags for POSTs.
        """
        api = self.api
        response = self._send(
            what,
            lambda auth: api.transport.client.post(url, json=body, headers={**api.headers, **auth}),
        )
        return self._body(response)

    def mutate(
        self, what: str, group: str, name: str, /, verify: Verify | None = None, **params: Any
    ) -> int:
        """Send one mutation and return its status (e.g. 201 vs 204).

        Returns 0 when the first attempt went unanswered but ``verify`` shows that it
        applied anyway.
        """
        self._pace_mutations()
        fn = self.op(group, name)
        try:
            response = self._send(
                what, lambda auth: fn(**params, raw_=True, headers_=auth), verify=verify
            )
            return int(response.status_code)
        finally:
            self._last_mutation = self.clock()

    def create(self, what: str, group: str, name: str, /, **params: Any) -> Any:
        """A POST that creates something; returns GitHub's description of it.

        Not retried after a timeout or 5xx (a second POST could create it twice); rate
        limits are still waited out, since a limited request created nothing.
        """
        self._pace_mutations()
        fn = self.op(group, name)
        try:
            response = self._send(
                what, lambda auth: fn(**params, raw_=True, headers_=auth), once=True
            )
        finally:
            self._last_mutation = self.clock()
        return self._body(response)

    # ----- internals ----------------------------------------------------------

    def _read(self, what: str, group: str, name: str, params: dict[str, Any]) -> Any:
        fn = self.op(group, name)
        key = f"{fn.path}?{sorted(params.items())}"
        return self._send_cached(
            what, key, lambda headers: fn(**params, raw_=True, headers_=headers)
        )

    def _read_url(self, what: str, url: str) -> Any:
        transport = self.api.transport
        return self._send_cached(
            what,
            url,
            lambda headers: transport.request(  # type: ignore[no-untyped-call]
                "GET", url, raw=True, headers=headers
            ),
        )

    def _send_cached(self, what: str, key: str, fn: Callable[[dict[str, str]], Any]) -> Any:
        cached = self._etags.get(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = self._send(what, lambda auth: fn({**headers, **auth}))
        if response.status_code == 304 and cached:
            return _Cached(response.headers, cached[1])
        etag = response.headers.get("etag")
        if etag:
            self._etags[key] = (etag, response.json() if response.content else None)
        return response

    def _body(self, response: Any) -> Any:
        if isinstance(response, _Cached):
            return response.body
        return response.json() if response.content else None

    def _send(
        self, what: str, fn: Authorized, verify: Verify | None = None, once: bool = False
    ) -> Any:
        """The retry loop shared by reads and mutations.

        ``once``: a request that must not be repeated when its outcome is unknown (a
        timeout or a 5xx); it fails instead, saying so.
        """
        status: int | None = None
        message = "no answer"
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            try:
                response = self._attempt(fn)
            except _NoAnswer as exc:
                message = str(exc)
                if once:
                    raise GitHubError(
                        what, None, f"{message}; it may have been done: check first"
                    ) from None
                if verify is not None and verify():
                    return _Applied()
                if not last:
                    self._wait(self._backoff(attempt))
                continue
            status = response.status_code
            self._note_budget(response)
            if status < 300 or status == 304:
                return response
            message = _message(response)
            wait = self._rate_limit_wait(response, attempt)
            if wait is not None:
                if wait > self.retry.max_wait:
                    raise GitHubError(what, status, f"rate limited for {wait:.0f} s; giving up")
                if not last:
                    self._wait(wait)
                continue
            if status >= 500:
                if once:
                    raise GitHubError(
                        what, status, f"{message}; it may have been done: check first"
                    )
                if verify is not None and verify():
                    return _Applied()
                if not last:
                    self._wait(self._backoff(attempt))
                continue
            raise GitHubError(what, status, message)
        raise GitHubError(what, status, f"{message} (gave up after {self.retry.attempts} attempts)")

    def _attempt(self, fn: Authorized) -> Any:
        """One request with the source's current token; a 401 to a token that can be
        renewed is sent once more with a new one (a refused request changed nothing).

        The token goes with each request rather than in ghapi's shared headers, so
        reads in other threads never send one another's (possibly replaced) token."""
        sent = self.tokens.token()
        response = _attempt(lambda: fn({"Authorization": f"token {sent}"}))
        if response.status_code == 401 and self.tokens.refresh(sent):
            fresh = self.tokens.token()
            response = _attempt(lambda: fn({"Authorization": f"token {fresh}"}))
        return response

    def short_of(self, reserve: int) -> int | None:
        """Requests left when no more than ``reserve`` are and the window resets later
        than a run would wait for it; else None (plenty left, or unknown)."""
        left, reset = self._remaining, self._reset_at
        if left is None or left > reserve:
            return None
        if reset is not None and reset - self.clock() <= self.retry.max_wait:
            return None  # the budget comes back soon enough to wait for it
        return left

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        """Each resource's budget (``core``, ``graphql``...) as ``GET /rate_limit`` says:
        requests or points left, and when the window resets. The REST budget is noted as
        if a request had said it. The request itself costs nothing; when it fails, the
        answer is empty and the budget is learnt from the run's requests, as before."""
        try:
            body = self.get("read the rate limit", "rate_limit", "get")
        except GitHubError:
            return {}
        resources = body.get("resources") if isinstance(body, dict) else None
        found = {
            name: (int(r["remaining"]), float(r["reset"]))
            for name, r in (resources if isinstance(resources, dict) else {}).items()
            if isinstance(r, dict)
            and isinstance(r.get("remaining"), int)
            and isinstance(r.get("reset"), int)
        }
        if "core" in found:
            self._remaining, self._reset_at = found["core"]
        return found

    def lasts(self, reset_at: float) -> bool:
        """Whether a window resetting at ``reset_at`` ends later than a run would wait."""
        return reset_at - self.clock() > self.retry.max_wait

    @property
    def remaining(self) -> int | None:
        """Requests of the rate limit left, as GitHub's last answer said (None: unknown)."""
        return self._remaining

    def _note_budget(self, response: Any) -> None:
        if response.headers.get("x-ratelimit-resource", "core") not in ("core", ""):
            return  # GraphQL points and other resources have budgets of their own
        left = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if left is not None and left.isdigit():
            self._remaining = int(left)
            self._reset_at = float(reset) if reset and reset.isdigit() else None

    def _rate_limit_wait(self, response: Any, attempt: int) -> float | None:
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            return max(float(retry_after), 0.0)
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            return max(float(headers["x-ratelimit-reset"]) - self.clock(), 0.0) + 1.0
        if "rate limit" in _message(response).lower():
            return max(self.retry.secondary_wait, self._backoff(attempt))
        return None  # a plain 403: permission denied

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry.base_delay * 2**attempt, self.retry.max_delay))

    def _wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def _pace_mutations(self) -> None:
        if self._last_mutation is None or not self.retry.mutation_interval:
            return
        remaining = self._last_mutation + self.retry.mutation_interval - self.clock()
        if remaining > 0:
            self._wait(remaining)


class _Cached:
    """A 304 answered from the ETag cache."""

    status_code = 200

    def __init__(self, headers: Any, body: Any) -> None:
        self.headers, self.body = headers, body


class _Applied:
    """A mutation that went unanswered but was verified as applied."""

    status_code = 0


def _attempt(fn: Callable[[], Any]) -> Any:
    """Run one request; an HTTP error status is returned, a missing answer raised."""
    try:
        return fn()
    except APIError as exc:
        if exc.response is not None:
            return exc.response
        raise _NoAnswer(exc.error_type or exc.message) from None
    except httpx2.HTTPStatusError as exc:
        return exc.response
    except httpx2.TransportError as exc:
        raise _NoAnswer(type(exc).__name__) from None


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"]) + _reasons(body.get("errors"))
    return f"HTTP {response.status_code}"


def _reasons(errors: Any) -> str:
    """The reasons GitHub gives beside a general message ("Unprocessable Entity"), such
    as "Review Can not approve your own pull request", as ``: reason; reason``."""
    found = [
        item if isinstance(item, str) else item.get("message")
        for item in (errors if isinstance(errors, list) else [])
        if isinstance(item, (str, dict))
    ]
    shown = [str(reason) for reason in found if isinstance(reason, str) and reason]
    return f": {'; '.join(shown)}" if shown else ""


def _next_link(header: str) -> str | None:
    found = _NEXT.search(header)
    return found.group(1) if found else None
