"""Serves a running watch's ``/healthz`` and ``/metrics`` over HTTP.

For a service manager's or an orchestrator's probe and for Prometheus. The server runs
in a daemon thread beside the watcher and only reads :class:`~grantops.watch.metrics.Metrics`,
which holds counts and times alone: nothing served is secret, so it needs no
authentication. It logs no requests (a scrape every few seconds would bury the
watcher's own output).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

from grantops.errors import UsageError
from grantops.watch.metrics import Metrics

METRICS_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_BRACKETED = re.compile(r"\[([^\]]*)\]:([^:]*)")
_EXAMPLE = "e.g. 127.0.0.1:9100, 0.0.0.0:9100, or an IPv6 address in brackets: [::1]:9100"

Clock = Callable[[], datetime]


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 address in brackets) as a host and a port; port 0 is any free one.

    Raises :class:`UsageError` saying what is wrong, before anything listens.
    """
    bracketed = _BRACKETED.fullmatch(value)
    host, colon, port = value.partition(":")
    if bracketed:
        host, port = _ipv6(bracketed[1], value), bracketed[2]
    elif not colon or not host or ":" in port:
        raise UsageError(f"--listen {_shown(value)} is not HOST:PORT ({_EXAMPLE})")
    elif not _HOST.fullmatch(host):
        raise UsageError(f"--listen {_shown(value)}: {_shown(host)} is not a host name or address")
    if not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise UsageError(f"--listen {_shown(value)}: the port must be a number from 0 to 65535")
    return host, int(port)


def _ipv6(host: str, value: str) -> str:
    try:
        return str(ipaddress.IPv6Address(host))
    except ValueError:
        raise UsageError(
            f"--listen {_shown(value)}: {_shown(host)} is not an IPv6 address"
        ) from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


class Endpoint:
    """A listening server; :meth:`close` stops it and waits for its thread."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` with the port actually bound (useful with port 0)."""
        host, port = self._server.server_address[:2]
        shown = f"[{host!s}]" if ":" in str(host) else f"{host!s}"
        return f"http://{shown}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve(address: str, metrics: Metrics, stale_after: timedelta, clock: Clock) -> Endpoint:
    """Listen on ``HOST:PORT`` and answer from ``metrics``; health is judged at ``clock()``.

    A bad address or one that cannot be bound (in use, not this machine's) is a
    :class:`UsageError`.
    """
    host, port = parse_listen(address)
    server_class = _Server6 if ":" in host else _Server
    try:
        server = server_class((host, port), _handler(metrics, stale_after, clock))
    except OSError as exc:
        raise UsageError(
            f"--listen {_shown(address)}: cannot listen there ({exc.strerror})"
        ) from None
    return Endpoint(server)


def _handler(
    metrics: Metrics, stale_after: timedelta, clock: Clock
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "grantops"
        sys_version = ""
        timeout = 10  # a client that stops talking does not hold a thread for ever

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: scrapes are not news."""

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/metrics":
                self._send(200, METRICS_TYPE, metrics.render())
            elif path == "/healthz":
                status, body = metrics.health(clock(), stale_after)
                self._send(status, "application/json", json.dumps(body, sort_keys=True) + "\n")
            else:
                self._send(
                    404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n"
                )

        def _refuse(self) -> None:
            self._send(405, "text/plain; charset=utf-8", "only GET is allowed\n", allow="GET")

        # The other common methods; anything more exotic gets http.server's 501.
        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse  # noqa: N815

        def _send(self, status: int, kind: str, text: str, allow: str | None = None) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if allow:
                self.send_header("Allow", allow)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler
