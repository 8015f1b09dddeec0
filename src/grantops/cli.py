"""The ``grantops`` command line: the only place that prints, reads the environment or exits.

Every command is ``main(argv, environ, stdout, stderr) -> exit code`` so tests drive it
in-process. Exit codes: 0 ok, 1 errors, 2 usage, 3 unsafe plan refused, and
``plan --detailed-exitcode`` returns 4 when there are changes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from grantops import __version__, actions, render
from grantops.errors import GrantopsError, InvalidInput, Problem, UsageError
from grantops.load import load_repo
from grantops.pipeline import build_plan
from grantops.schema import stale_schemas, write_schemas
from grantops.state import actual_from_state, read_state_file
from grantops.values import format_timestamp, parse_timestamp

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNSAFE, EXIT_CHANGES = 0, 1, 2, 3, 4


class _Io:
    """The world a command may touch, passed in so tests can supply their own."""

    def __init__(self, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> None:
        self.environ, self.stdout, self.stderr = environ, stdout, stderr

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)

    def json(self, document: Any) -> None:
        self.out(json.dumps(document, indent=2, sort_keys=False))


def _timestamp(value: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=Path(), help="access repository (default: .)")
    common.add_argument(
        "--now", type=_timestamp, help="evaluate at this RFC 3339 time instead of the clock"
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")

    parser = argparse.ArgumentParser(
        prog="grantops", description="Time-boxed, reviewed, audited GitHub access as code."
    )
    parser.add_argument("--version", action="version", version=f"grantops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("validate", parents=[common], help="check the policy and every grant file")

    plan = sub.add_parser("plan", parents=[common], help="show what apply would change")
    plan.add_argument(
        "--state", type=Path, required=True, help="read actual access from this state file"
    )
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 4 when the plan has changes"
    )

    schema = sub.add_parser("schema", parents=[common], help="generate schema/*.json")
    mode = schema.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the schema files")
    mode.add_argument("--check", action="store_true", help="fail when they are out of date")
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    io = _Io(os.environ if environ is None else environ, stdout or sys.stdout, stderr or sys.stderr)
    parser = _parser()
    try:
        with redirect_stdout(io.stdout), redirect_stderr(io.stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    now = args.now or datetime.now(UTC)
    handler = {"validate": _validate, "plan": _plan, "schema": _schema}[args.command]
    try:
        return handler(args, now, io)
    except InvalidInput as exc:
        _report_problems(io, args, exc.problems)
        return EXIT_ERROR
    except GrantopsError as exc:
        io.err(f"grantops: error: {exc}")
        return exc.exit_code


def _report_problems(io: _Io, args: argparse.Namespace, problems: Sequence[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if args.json:
        io.json({"valid": not errors, "problems": [_problem_json(p) for p in problems]})
    else:
        for problem in problems:
            io.err(str(problem))
        if errors:
            io.err(f"grantops: {len(errors)} error(s); nothing was planned or changed")
    if actions.in_actions(io.environ):
        for line in actions.annotation_lines(problems):
            io.out(line)
        body = "\n".join(f"- `{p.path}:{p.line}` {p.severity}: {p.message}" for p in problems)
        title = "grant files have errors" if errors else "grant files are valid"
        actions.append_summary(io.environ, f"### grantops validate: {title}\n\n{body}")


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "severity": problem.severity,
        "message": problem.message,
    }


def _validate(args: argparse.Namespace, now: datetime, io: _Io) -> int:
    loaded = load_repo(args.root, now)
    active = sum(1 for g in loaded.grants if g.active_at(now))
    upcoming = sum(1 for g in loaded.grants if g.starts is not None and now < g.starts)
    ended = len(loaded.grants) - active - upcoming
    if args.json:
        io.json(
            {
                "valid": True,
                "now": format_timestamp(now),
                "grants": {"active": active, "upcoming": upcoming, "ended": ended},
                "problems": [_problem_json(p) for p in loaded.warnings],
            }
        )
    else:
        for warning in loaded.warnings:
            io.err(str(warning))
        io.out(
            f"Valid: policy for org {loaded.policy.org} and {len(loaded.grants)} grant(s): "
            f"{active} active, {upcoming} upcoming, {ended} ended "
            f"(at {format_timestamp(now)})."
        )
    if actions.in_actions(io.environ):
        for line in actions.annotation_lines(loaded.warnings):
            io.out(line)
    return EXIT_OK


def _plan(args: argparse.Namespace, now: datetime, io: _Io) -> int:
    loaded = load_repo(args.root, now)
    state = read_state_file(args.state)
    if state.org.lower() != loaded.policy.org.lower():
        raise UsageError(
            f"the state file is for org '{state.org}' but the policy manages '{loaded.policy.org}'"
        )
    plan = build_plan(loaded, actual_from_state(state), now)
    for warning in loaded.warnings:
        io.err(str(warning))
    if args.json:
        io.json(plan.to_json())
    else:
        io.out(render.plan_text(plan))
    if actions.in_actions(io.environ):
        actions.append_summary(io.environ, render.plan_markdown(plan))
    if args.detailed_exitcode and plan.changes:
        return EXIT_CHANGES
    return EXIT_OK


def _schema(args: argparse.Namespace, now: datetime, io: _Io) -> int:
    if args.write:
        for path in write_schemas(args.root):
            io.out(f"wrote {path}")
        return EXIT_OK
    stale = stale_schemas(args.root)
    for name in stale:
        io.err(f"schema/{name} is out of date; run: grantops schema --write")
    return EXIT_ERROR if stale else EXIT_OK
