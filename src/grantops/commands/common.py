"""What every command shares: its view of the world and how it reaches GitHub."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from grantops import actions, gitrepo
from grantops.commands.credentials import credentials
from grantops.errors import Problem
from grantops.github import DEFAULT_API_URL, GitHub, RetryPolicy
from grantops.github.graphql import graphql_url
from grantops.progress import Progress, choose_mode
from grantops.safetext import for_json, for_log, for_terminal
from grantops.values import parse_duration, parse_timestamp

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
        """Ask a person at a terminal; None when nobody is there to answer.

        The question goes to standard error, so standard output holds only the
        command's result (one JSON document with ``--json``).
        """
        if self.stdin is None or not self.stdin.isatty():
            return None
        print(f"{_safe(question)}: ", end="", file=self.stderr, flush=True)
        answer = self.stdin.readline()
        return answer.strip() or None

    def out(self, text: str = "") -> None:
        print(_safe(text), file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        print(_safe(text), file=self.stderr, flush=True)

    def json(self, document: Any) -> None:
        self.out(for_json(document))

    def progress(self) -> Progress:
        """Progress of long work on standard error: rewritten in place at a terminal, a
        line every few seconds in CI, nothing elsewhere (see :mod:`grantops.progress`)."""

        def write(text: str) -> None:
            self.stderr.write(text)
            self.stderr.flush()

        return Progress(write, choose_mode(self.stderr, self.environ))

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


def add_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, default=Path(), metavar="DIR", help="access repository (default: .)"
    )


def add_now_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        type=timestamp_option,
        metavar="TIME",
        help="evaluate at this RFC 3339 time instead of the clock (a time, never a duration)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )


def common_options() -> argparse.ArgumentParser:
    """``--root``, ``--now`` and ``--json``: a parent for commands that use all three."""
    common = argparse.ArgumentParser(add_help=False)
    for add in (add_root_option, add_now_option, add_json_option):
        add(common)
    return common


def duration_option(value: str) -> timedelta:
    """An argparse type: a duration (``30m``, ``1d12h``), or a usage error saying why."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def timestamp_option(value: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def time_or_duration(value: str) -> datetime | timedelta:
    """An RFC 3339 time, or a duration (``14d``) that the option counts from ``--now``.

    Which way a duration counts is the option's: back for one that looks back
    (``audit report --since``), forward for one that looks ahead (``request --starts``).
    """
    try:
        return parse_duration(value)
    except ValueError:
        if value[:1].isdigit() and value[-1:] in ("w", "d", "h", "m"):  # meant as a duration
            raise
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        if value[:4].isdigit() and value[4:5] == "-":  # meant as a time: say what is wrong
            raise
        raise ValueError(
            f"'{value}' is neither an RFC 3339 time nor a duration such as 14d or 4h "
            "(a time: 2026-11-30T18:00:00Z)"
        ) from exc


class MovedToAccessRepo(argparse.Action):
    """``--repo`` where it once named the access repository: a usage error saying where
    that went, so an old command line is never read as naming a target repository."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"--repo names a target repository (grantops request --repo); here the "
            f"access repository is --access-repo {values}"
        )


def add_api_options(parser: argparse.ArgumentParser) -> None:
    """How a command reaches GitHub: for every command that reads from it."""
    parser.add_argument(
        "--api-url",
        help=f"GitHub API base URL (default: $GITHUB_API_URL or {DEFAULT_API_URL}; "
        "GitHub Enterprise Server: https://HOST/api/v3)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=RetryPolicy.attempts,
        help="tries per request on 5xx, timeouts and rate limits (default: 5)",
    )


READ_APIS = ("graphql", "rest")
DEFAULT_READ_API = "graphql"


def add_read_api_option(parser: argparse.ArgumentParser) -> None:
    """Which GitHub API reads access: for the commands that read the managed scope."""
    parser.add_argument(
        "--read-api",
        choices=READ_APIS,
        default=DEFAULT_READ_API,
        help="read access, and the pull requests that approve grants, through GitHub's "
        "GraphQL API in batches (REST where GraphQL cannot say) or through REST listings "
        f"only (default: {DEFAULT_READ_API})",
    )


def add_mutation_options(
    parser: argparse.ArgumentParser,
    default: float = RetryPolicy.mutation_interval,
    why: str = "as GitHub asks",
) -> None:
    """How fast a command changes access: only for the commands that change it."""
    parser.add_argument(
        "--mutation-interval",
        type=float,
        default=default,
        metavar="SECONDS",
        help=f"seconds between changes sent to GitHub (default: {default:g}, {why})",
    )


def access_repo_slug(args: argparse.Namespace, io: Io, remote: str = "origin") -> str | None:
    """``OWNER/NAME`` of the access repository: ``--access-repo``, else
    ``$GITHUB_REPOSITORY`` inside GitHub Actions only (elsewhere it may be left over from
    anything, and tools set it for their own tests), else the checkout's GitHub remote."""
    if getattr(args, "access_repo", None):
        return str(args.access_repo)
    if io.in_actions and io.environ.get("GITHUB_REPOSITORY"):
        return io.environ["GITHUB_REPOSITORY"]
    try:
        has = gitrepo.has_remote(args.root, remote)
        return gitrepo.remote_slug(args.root, remote) if has else None
    except gitrepo.GitError:
        return None


def api_url(args: argparse.Namespace, io: Io) -> str:
    return str(args.api_url or io.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)


def github_client(args: argparse.Namespace, io: Io) -> GitHub:
    """A client for ``--api-url`` with the token from ``GITHUB_TOKEN`` or ``GH_TOKEN``,
    or the installation tokens of the GitHub App ``GRANTOPS_APP_ID`` names."""
    url = api_url(args, io)
    token = credentials(args, io.environ, url)
    interval = getattr(args, "mutation_interval", RetryPolicy.mutation_interval)
    retry = RetryPolicy(attempts=max(args.attempts, 1), mutation_interval=max(interval, 0.0))
    read_api = getattr(args, "read_api", DEFAULT_READ_API)
    graphql = graphql_url(url, io.environ)
    return GitHub(
        url, token, retry=retry, progress=io.progress(), read_api=read_api, graphql=graphql
    )
