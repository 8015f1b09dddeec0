"""Posting to a chat's incoming webhook: the one module that talks to it.

The webhook's address is a secret (anyone who has it can post to the channel), so it
comes only from the environment (``GRANTOPS_CHAT_WEBHOOK_URL``, set from a secret),
never from the repository, and is never printed, logged or put in an error: every
error here names "the chat webhook" and what went wrong, not where.

Only ``https`` addresses are used (``http`` only to this machine, for tests). A post has
a timeout, is retried once when the webhook is busy (5xx, 429, after its
``Retry-After``) and never follows a redirect: a redirect could carry the message, or the
address, somewhere else.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from grantops.errors import GrantopsError

ENV = "GRANTOPS_CHAT_WEBHOOK_URL"
TIMEOUT = 10.0
"""Seconds to wait for the webhook to answer: a notice never holds up a run for long."""
MAX_WAIT = 30.0
"""The longest ``Retry-After`` honoured before the one retry."""
_LOCAL = frozenset(("localhost", "127.0.0.1", "::1"))


class WebhookError(GrantopsError):
    """A notice the chat webhook did not take; the message never holds its address."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Webhook:
    """A chat webhook to post notices to. ``repr`` hides the address."""

    url: str = field(repr=False)
    timeout: float = TIMEOUT
    sleep: Callable[[float], object] = field(default=time.sleep, repr=False)

    def post(self, payload: Mapping[str, Any]) -> None:
        """Post one message as JSON; raises :class:`WebhookError` unless it was taken."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "grantops"}
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        for attempt in (1, 2):
            try:
                with _OPENER.open(request, timeout=self.timeout) as answer:
                    answer.read()
                    return
            except urllib.error.HTTPError as exc:
                exc.close()  # the answer's body is not read: release its connection
                busy = exc.code == 429 or exc.code >= 500
                if not busy or attempt == 2:
                    raise WebhookError(self._answered(exc)) from None
                self.sleep(_retry_after(exc.headers.get("Retry-After")))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                # HTTPException: an answer that is not HTTP, or is cut short
                raise WebhookError(f"could not reach the chat webhook: {self._why(exc)}") from None

    def _answered(self, exc: urllib.error.HTTPError) -> str:
        said = f"the chat webhook answered {exc.code} {self._scrub(str(exc.reason))}".strip()
        return said + (" (redirects are not followed)" if 300 <= exc.code < 400 else "")

    def _why(self, exc: Exception) -> str:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return self._scrub(str(reason) or type(reason).__name__)

    def _scrub(self, text: str) -> str:
        """``text`` without the address or its host, wherever a library put them."""
        host = urlsplit(self.url).hostname or self.url
        return text.replace(self.url, "<webhook>").replace(host, "<webhook host>")


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), MAX_WAIT)
    except ValueError:
        return 1.0


def address_problem(url: str) -> str | None:
    """Why ``url`` is no webhook grantops posts to (None: it is one); never quotes it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{ENV} is not a URL: chat notices are off"
    # http.client sends the address as ASCII: anything else fails there, not here
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in url) or not host:
        return f"{ENV} is not a URL: chat notices are off"
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL):
        return None
    return f"{ENV} must be an https URL: chat notices are off"


def from_environ(environ: Mapping[str, str]) -> tuple[Webhook | None, str | None]:
    """The webhook the environment names, or None; and what is wrong with it, if anything
    (a warning: a bad address turns chat notices off, never the run)."""
    url = environ.get(ENV, "").strip()
    if not url:
        return None, None
    problem = address_problem(url)
    return (None, problem) if problem else (Webhook(url), None)
