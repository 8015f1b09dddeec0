"""What every command shares: its view of the world and how it reaches GitHub."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, TextIO

from grantops import actions
from grantops.errors import Problem, UsageError
from grantops.github import DEFAULT_API_URL, GitHub, RetryPolicy
from grantops.safetext import for_json, for_log, for_terminal

EXIT_OK, EXIT_ERROR, EXIT_UNSAFE, EXIT_CHANGES = 0, 1, 3, 4
# Usage errors exit 2: argparse's own convention, and UsageError.exit_code.


class Io:
    """The world a command may touch, passed in so tests can supply their own.

    Its streams are the terminal, and in GitHub Actions the job log, whose runner obeys
    any line starting with ``::``. So :meth:`out` and :meth:`err` keep every line they
    write from reading as a workflow command or driving the terminal, whatever a
    renderer let through; only an :class:`grantops.actions.Command` passes unchanged.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        stdout: TextIO,
        stderr: TextIO,
        stdin: TextIO | None = None,
    ) -> None:
        self.environ, self.stdout, self.stderr, self.stdin = environ, stdout, stderr, stdin

    def ask(self, question: str) -> str | None:
        """Ask a person at a terminal; None when nobody is there to answer."""
        if self.stdin is None or not self.stdin.isatty():
            return None
        print(f"{question}: ", end="", file=self.stdout, flush=True)
        answer = self.stdin.readline()
        return answer.strip() or None

    def out(self, text: str = "") -> None:
        print(_safe(text), file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        print(_safe(text), file=self.stderr, flush=True)

    def json(self, document: Any) -> None:
        self.out(for_json(document))

    @property
    def in_actions(self) -> bool:
        return actions.in_actions(self.environ)


def _safe(text: str) -> str:
    return text if isinstance(text, actions.Command) else for_log(text)


def problem_text(problem: Problem) -> str:
    """``PATH:LINE: severity: message`` on one line, whatever the path and message hold."""
    return (
        f"{for_terminal(problem.path)}:{problem.line}: {problem.severity}: "
        f"{for_terminal(problem.message)}"
    )


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "severity": problem.severity,
        "message": problem.message,
    }


def show_warnings(io: Io, warnings: tuple[Problem, ...]) -> None:
    for warning in warnings:
        io.err(problem_text(warning))
    if io.in_actions:
        for line in actions.annotation_lines(warnings):
            io.out(line)


def add_api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        help=f"GitHub API base URL (default: $GITHUB_API_URL or {DEFAULT_API_URL}; "
        "GitHub Enterprise Server: https://HOST/api/v3)",
    )
    parser.add_argument(
        "--mutation-interval",
        type=float,
        default=1.0,
        help="seconds between changes sent to GitHub (default: 1, as GitHub asks)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=5,
        help="tries per request on 5xx, timeouts and rate limits (default: 5)",
    )


def api_url(args: argparse.Namespace, io: Io) -> str:
    return str(args.api_url or io.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)


def github_client(args: argparse.Namespace, io: Io) -> GitHub:
    """A client for ``--api-url`` with the token from ``GITHUB_TOKEN`` or ``GH_TOKEN``."""
    token = io.environ.get("GITHUB_TOKEN") or io.environ.get("GH_TOKEN")
    if not token:
        raise UsageError("set GITHUB_TOKEN or GH_TOKEN to a token that may read the org's access")
    retry = RetryPolicy(
        attempts=max(args.attempts, 1), mutation_interval=max(args.mutation_interval, 0.0)
    )
    return GitHub(api_url(args, io), token, retry=retry)
