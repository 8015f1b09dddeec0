"""Queries to GitHub's GraphQL API: where it lives, what an answer means, what it cost.

GraphQL answers ``200`` with ``data`` and, beside it, ``errors`` for the parts it could
not read (each with the ``path`` of the field that failed). A field that failed is
null in ``data``: :class:`Answer` keeps both, so a reader can tell "this repository
could not be read" from "this repository has nobody". Every query asks for
``rateLimit { cost remaining resetAt }``; the points left are remembered beside the
REST budget, since GitHub counts the two apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from grantops.github.transport import DEFAULT_API_URL, GitHubError, Transport

RATE_LIMIT = "rateLimit { cost remaining resetAt }"
"""Selected by every query, so each answer says what it cost and what is left."""


def graphql_url(api_url: str, environ: Mapping[str, str] | None = None) -> str:
    """The GraphQL endpoint that goes with a REST base URL.

    github.com answers at ``https://api.github.com/graphql``; GitHub Enterprise Server
    at ``https://HOST/api/graphql`` (beside, not under, its REST base
    ``https://HOST/api/v3``); anything else (the sandbox) at ``BASE/graphql``. Actions
    runners say where it is in ``GITHUB_GRAPHQL_URL``, used when set.
    """
    given = (environ or {}).get("GITHUB_GRAPHQL_URL")
    if given:
        return given
    base = api_url.rstrip("/")
    if base == DEFAULT_API_URL:
        return f"{DEFAULT_API_URL}/graphql"
    if urlsplit(base).path.rstrip("/").endswith("/api/v3"):
        return f"{base[: -len('/v3')]}/graphql"
    return f"{base}/graphql"


@dataclass(frozen=True)
class Answer:
    """One answer: its data, and the errors GitHub gave for parts of it."""

    data: dict[str, Any]
    errors: tuple[dict[str, Any], ...] = ()

    def error_at(self, *path: str | int, inside: bool = True) -> dict[str, Any] | None:
        """Why the field at ``path`` was not read (an error for it, for a field around
        it, or with ``inside`` for anything inside it); else None."""
        for error in self.errors:
            where = tuple(error.get("path") or ())
            if not inside and len(where) > len(path):
                continue
            shared = min(len(where), len(path))
            if where[:shared] == path[:shared]:
                return error
        return None


@dataclass
class GraphQL:
    """Sends queries to one GraphQL endpoint through a :class:`Transport`."""

    transport: Transport
    url: str
    remaining: int | None = None
    reset_at: float | None = None
    costs: list[int] = field(default_factory=list)

    def query(self, what: str, text: str, variables: Mapping[str, Any]) -> Answer:
        """Run ``text``; an answer with no data at all raises :class:`GitHubError`."""
        body = self.transport.post_query(
            what, self.url, {"query": text, "variables": dict(variables)}
        )
        if not isinstance(body, dict):
            raise GitHubError(what, 200, "GraphQL answered without a JSON object")
        errors = tuple(e for e in body.get("errors") or () if isinstance(e, dict))
        data = body.get("data")
        if not isinstance(data, dict):
            reason = describe(errors[0]) if errors else "no data"
            raise GitHubError(what, 200, reason)
        self._note(data.get("rateLimit"))
        return Answer(data, errors)

    def short_of(self, reserve: int, now: float) -> int | None:
        """Points left when no more than ``reserve`` are and the window resets later
        than ``transport.retry.max_wait`` from ``now``; else None (plenty, or unknown)."""
        left, reset = self.remaining, self.reset_at
        if left is None or left > reserve:
            return None
        if reset is not None and reset - now <= self.transport.retry.max_wait:
            return None
        return left

    def _note(self, limit: Any) -> None:
        if not isinstance(limit, dict):
            return
        self.costs.append(int(limit.get("cost") or 0))
        self.remaining = int(limit["remaining"]) if "remaining" in limit else self.remaining
        reset = limit.get("resetAt")
        if isinstance(reset, str):
            self.reset_at = datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp()


def describe(error: Mapping[str, Any]) -> str:
    """An error as ``TYPE: message`` (``FORBIDDEN: Resource not accessible...``)."""
    kind = error.get("type")
    message = str(error.get("message") or "error")
    return f"{kind}: {message}" if kind else message
