"""The sandbox as a GitHub App's host: JWTs checked, installation tokens issued and expired.

With an App configured (:class:`AppSettings`), the sandbox answers the two requests an
App makes before it can act, as GitHub does: ``GET /orgs/{org}/installation`` and
``POST /app/installations/{id}/access_tokens``, both only with the App's JWT. The JWT's
RS256 signature is checked against the App's public key and its times by GitHub's
rules (``exp`` in the future and no more than 10 minutes after ``iat``), against the
sandbox's clock, so a test can move time instead of waiting for it. Each ``ghs_`` token
issued lives ``token_lifetime`` seconds; after that, and for tokens never issued, every
request is refused with GitHub's 401 ``Bad credentials``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import jwt

from grantops.sandbox import bodies
from grantops.sandbox.routes import Call, Reply, Route

if TYPE_CHECKING:
    from grantops.sandbox.world import World

MAX_JWT_LIFE = 600
"""GitHub's bound on ``exp``: at most 10 minutes after ``iat`` and after now."""
INSTALLATION_PERMISSIONS = {
    "administration": "write",
    "members": "write",
    "organization_custom_roles": "read",
    "pull_requests": "write",
    "contents": "write",
    "metadata": "read",
    "issues": "write",
    "actions": "read",
}
"""What the sandbox's App was granted; a token may ask for these or less."""
_LEVELS = {"read": 1, "write": 2, "admin": 3}
_UNDECODABLE = "A JSON web token could not be decoded"
_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future "
    "time at which the assertion expires"
)
_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
_ISSUED_LATER = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the "
    "assertion was issued"
)


@dataclass
class AppSettings:
    """The GitHub App the sandbox knows: its id, public key (PEM) and installation."""

    app_id: int
    public_key: str
    installation: int = 1
    token_lifetime: int = 3600


class AppHost:
    """The App's JWT checks and the installation tokens issued so far."""

    def __init__(self, settings: AppSettings, clock: Callable[[], float]) -> None:
        self.settings, self.clock = settings, clock
        self.tokens: dict[str, float] = {}
        """Each issued token and when it expires."""

    def jwt_refusal(self, credential: str) -> str | None:
        """Why GitHub would refuse ``credential`` as the App's JWT; None to accept it."""
        try:
            claims = jwt.decode(
                credential,
                self.settings.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_iss": False},
            )
        except jwt.PyJWTError:
            return _UNDECODABLE
        iat, exp, now = claims.get("iat"), claims.get("exp"), self.clock()
        if not isinstance(iat, int) or iat > now + 60:
            return _ISSUED_LATER
        if not isinstance(exp, int) or exp <= now:
            return _EXPIRED
        if exp - iat > MAX_JWT_LIFE or exp > now + MAX_JWT_LIFE:
            return _TOO_FAR
        if str(claims.get("iss")) != str(self.settings.app_id):
            return "Integration not found"
        return None

    def token_valid(self, credential: str) -> bool:
        expires = self.tokens.get(credential)
        return expires is not None and self.clock() < expires

    def issue(self) -> tuple[str, float]:
        token = "ghs_" + secrets.token_hex(18)
        expires = float(int(self.clock()) + self.settings.token_lifetime)
        self.tokens[token] = expires
        return token, expires


def is_app_credential(authorization: str) -> bool:
    """An installation token (``ghs_``) or a JWT (three dotted parts) rather than the
    sandbox's own ``LOGIN:SECRET`` tokens."""
    credential = authorization.split(" ", 1)[-1]
    return credential.startswith("ghs_") or credential.count(".") == 2


def refusal(host: AppHost | None, authorization: str, route: Route | None) -> Reply | None:
    """The 401 (or 403) GitHub answers this credential on this route; None to go on."""
    credential = authorization.split(" ", 1)[-1]
    if route in APP_ROUTES:
        found = _UNDECODABLE if host is None else host.jwt_refusal(credential)
        return None if found is None else Reply(401, bodies.error(found))
    if host is None or not host.token_valid(credential):
        return Reply(401, bodies.error("Bad credentials"))
    if route is not None and route.operation == "users/get-authenticated":
        return Reply(403, bodies.error("Resource not accessible by integration"))
    return None


def _installation(call: Call) -> Reply:
    """GET /orgs/{org}/installation."""
    host, world = _host(call), call.sandbox.world
    if call.params["org"].lower() != world.org.lower():
        return Reply(404, bodies.error("Not Found"))
    return Reply(200, installation(call.base, world, host.settings))


def _access_token(call: Call) -> Reply:
    """POST /app/installations/{installation_id}/access_tokens."""
    host = _host(call)
    if call.params["installation_id"] != str(host.settings.installation):
        return Reply(404, bodies.error("Not Found"))
    asked = (call.body or {}).get("permissions") or INSTALLATION_PERMISSIONS
    if not isinstance(asked, dict) or not all(_granted(k, v) for k, v in asked.items()):
        message = "The permissions requested are not granted to this installation."
        return Reply(422, bodies.error(message))
    token, expires = host.issue()
    stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "token": token,
        "expires_at": stamp,
        "permissions": dict(asked),
        "repository_selection": "all",
    }
    return Reply(201, body)


def _granted(name: object, level: object) -> bool:
    held = INSTALLATION_PERMISSIONS.get(str(name))
    return held is not None and _LEVELS.get(str(level), 9) <= _LEVELS[held]


def _host(call: Call) -> AppHost:
    host = call.sandbox.app
    assert host is not None  # refusal() answered 401 when no App is configured
    return host


def installation(base: str, world: World, settings: AppSettings) -> bodies.Json:
    """GitHub's description of the App's installation on the org."""
    ident = settings.installation
    return {
        "id": ident,
        "account": bodies.organization_owner(base, world),
        "repository_selection": "all",
        "access_tokens_url": f"{base}/app/installations/{ident}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"https://github.com/organizations/{world.org}/settings/installations/{ident}",
        "app_id": settings.app_id,
        "app_slug": "grantops",
        "target_id": 1,
        "target_type": "Organization",
        "permissions": dict(INSTALLATION_PERMISSIONS),
        "events": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "single_file_name": None,
        "suspended_by": None,
        "suspended_at": None,
    }


APP_ROUTES = (
    Route(
        "GET",
        re.compile(r"/orgs/(?P<org>[^/]+)/installation"),
        "apps/get-org-installation",
        _installation,
    ),
    Route(
        "POST",
        re.compile(r"/app/installations/(?P<installation_id>[^/]+)/access_tokens"),
        "apps/create-installation-access-token",
        _access_token,
    ),
)
"""The App's own requests, answered only to its JWT."""
