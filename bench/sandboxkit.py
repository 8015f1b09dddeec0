"""What the benches that drive a sandbox share: its token, calls to its control and
API routes, and the environment of a ``grantops`` process pointed at it."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

TOKEN = "ghs_benchtoken0123456789"


def sandbox_call(url: str, method: str, path: str) -> Any:
    """One request to the sandbox, answered as JSON."""
    request = urllib.request.Request(url + path, method=method)
    request.add_header("Authorization", f"token {TOKEN}")
    with urllib.request.urlopen(request) as response:
        body = response.read()
    return json.loads(body) if body else None


def grantops_environ(url: str) -> dict[str, str]:
    """This process's environment for a grantops run against the sandbox at ``url``, as
    outside CI (so progress and annotations behave as at a terminal's pipe)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "CI")}
    return environ | {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": url}


def split_extra(argv: list[str]) -> tuple[list[str], list[str]]:
    """The bench's own arguments, and what follows ``--`` for grantops."""
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]
