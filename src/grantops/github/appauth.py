"""Running as a GitHub App: installation tokens minted from the App's key and kept fresh.

Outside GitHub Actions nothing mints a token for grantops, and an installation token
lives an hour, less than a long run (``grantops watch``). So grantops signs its own App
JWT (RS256 through PyJWT, a well-kept library, rather than signing by hand), finds the
org's installation, asks for a token with exactly the permissions it needs and mints a
new one before the old expires. The transport asks :meth:`AppTokens.token` before every
request, so each request, retries and pages included, carries a current token.

The key, the JWT and the tokens never appear in an error, a log or a ``repr``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
import jwt

from grantops.errors import GrantopsError, UsageError
from grantops.github.transport import GitHubError

PERMISSIONS = {
    "administration": "write",
    "members": "write",
    "organization_custom_roles": "read",
    "pull_requests": "write",
    "contents": "read",
    "metadata": "read",
}
"""What grantops asks of the installation: the README's App table, no more."""

JWT_DRIFT = 60
"""Seconds ``iat`` is set in the past, as GitHub advises, against clocks running ahead."""
JWT_LIFE = 540
"""Seconds from now to ``exp``: ``exp - iat`` stays within GitHub's 10 minutes."""
REFRESH_BEFORE = 300.0
"""A token is renewed this many seconds before it expires, or when a quarter of its
life is left if that is sooner (a token shorter-lived than 20 minutes)."""


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App's id and private key (PEM text)."""

    app_id: str
    private_key: str = field(repr=False)


class AppTokens:
    """Installation tokens of one App for one org, minted when due."""

    def __init__(
        self,
        api_url: str,
        credentials: AppCredentials,
        org: str,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.credentials, self.org, self.clock = credentials, org, clock
        self._client = httpx2.Client(timeout=timeout)
        self._token: str | None = None
        self._lock = threading.Lock()
        self._expires = 0.0
        self._renew_at = 0.0
        self.minted = 0
        """How many tokens were minted (a refresh shows as a second)."""

    def __repr__(self) -> str:
        return f"AppTokens(app {self.credentials.app_id}, org {self.org})"

    def close(self) -> None:
        self._client.close()

    def token(self) -> str:
        with self._lock:  # reads run in threads: one of them mints, the others wait
            if self._token is None or self.clock() >= self._renew_at:
                self._mint()
            assert self._token is not None
            return self._token

    def refresh(self, stale: str) -> bool:
        with self._lock:
            if stale == self._token:  # else another request already replaced it
                self._mint()
        return True

    def jwt(self) -> str:
        """The App's JWT: RS256, issued by the App, valid for about nine minutes."""
        now = int(self.clock())
        claims = {"iat": now - JWT_DRIFT, "exp": now + JWT_LIFE, "iss": self.credentials.app_id}
        try:
            return jwt.encode(claims, self.credentials.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise UsageError(
                f"the GitHub App {self.credentials.app_id}'s private key is not a readable "
                f"RSA key in PEM form ({type(exc).__name__}); nothing was done"
            ) from None

    def _mint(self) -> None:
        bearer = self.jwt()
        installation = self._installation(bearer)
        what = f"mint an installation token for org {self.org}"
        path = f"/app/installations/{installation}/access_tokens"
        response = self._call(what, "POST", path, bearer, {"permissions": PERMISSIONS})
        body = _object(what, response)
        token, expires_at = body.get("token"), body.get("expires_at")
        if not isinstance(token, str) or not isinstance(expires_at, str):
            raise TokenError(what, response.status_code, "the answer holds no token and expiry")
        now = self.clock()
        self._expires = _timestamp(expires_at, what)
        life = max(self._expires - now, 0.0)
        self._renew_at = self._expires - min(REFRESH_BEFORE, life / 4)
        self._token = token
        self.minted += 1

    def _installation(self, bearer: str) -> int:
        what = f"find the GitHub App {self.credentials.app_id}'s installation on org {self.org}"
        response = self._call(what, "GET", f"/orgs/{self.org}/installation", bearer)
        if response.status_code == 404:
            raise TokenError(
                what, 404, f"no installation for org {self.org}: is the App installed there?"
            )
        ident = _object(what, response).get("id")
        if not isinstance(ident, int):
            raise TokenError(what, response.status_code, "the answer names no installation id")
        return ident

    def _call(self, what: str, method: str, path: str, bearer: str, body: Any = None) -> Any:
        headers = {
            "Authorization": f"Bearer {bearer}",
            "Accept": "application/vnd.github+json",
        }
        try:
            return self._client.request(method, self.base + path, json=body, headers=headers)
        except httpx2.TransportError as exc:
            raise TokenError(what, None, f"no answer ({type(exc).__name__})") from None


class TokenError(GitHubError):
    """No installation token could be had. Its ``status`` is None whatever GitHub
    answered, so no caller reads it as the answer to the request that needed the token
    (a 404 taken for "there is none")."""

    def __init__(self, what: str, status: int | None, message: str) -> None:
        shown = f"HTTP {status}: " if status is not None else ""
        GrantopsError.__init__(self, f"{what}: {shown}{message}")
        self.what, self.status, self.message = what, None, message


def _object(what: str, response: Any) -> dict[str, Any]:
    """The JSON object of a successful answer; any other answer fails naming why."""
    if response.status_code >= 300:
        raise TokenError(what, response.status_code, _refusal(response))
    try:
        found = response.json()
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise TokenError(what, response.status_code, "the answer is not a JSON object")
    return found


def _refusal(response: Any) -> str:
    """GitHub's message, with a hint for the refusal of a JWT."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message) if isinstance(message, str) else f"HTTP {response.status_code}"
    if response.status_code == 401:
        text += " (the App's JWT was refused: check GRANTOPS_APP_ID, the key, and the clock)"
    return text


def _timestamp(value: str, what: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise TokenError(what, 201, f"expires_at is not a time: {value[:40]!r}") from None
