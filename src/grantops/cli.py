"""The ``grantops`` command line: the only place that prints, reads the environment or exits.

Every command is ``main(argv, environ, stdout, stderr) -> exit code`` so tests drive it
in-process. Exit codes: 0 ok, 1 errors, 2 usage, 3 unsafe plan refused, and
``plan --detailed-exitcode`` returns 4 when there are changes; each command's ``--help``
says which of them it uses (:mod:`grantops.commands.helptext`).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from typing import TextIO

from grantops import actions
from grantops.commands import (
    audit,
    demo,
    fromissue,
    health,
    init,
    reconcile,
    request,
    sandbox,
    schema,
    snapshot,
    validate,
    watch,
)
from grantops.commands.common import (
    EXIT_ERROR,
    Io,
    common_options,
    problem_json,
    problem_text,
)
from grantops.commands.helptext import add_epilogs
from grantops.constants import VERSION
from grantops.errors import GrantopsError, InvalidInput, Problem


def build_parser() -> argparse.ArgumentParser:
    """Every command with its options, examples and exit codes (``--help``)."""
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="grantops", description="Time-boxed, reviewed, audited GitHub access as code."
    )
    parser.add_argument("--version", action="version", version=f"grantops {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = (
        init,
        validate,
        reconcile,
        watch,
        request,
        snapshot,
        audit,
        health,
        schema,
        sandbox,
        demo,
    )
    for module in commands:
        module.register(sub, common)
    add_epilogs(parser)
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    reader = stdin if stdin is not None else (sys.stdin if stdout is None else None)
    io = Io(environ, stdout or sys.stdout, stderr or sys.stderr, reader)
    try:
        with redirect_stdout(io.stdout), redirect_stderr(io.stderr):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    now = getattr(args, "now", None) or datetime.now(UTC)
    try:
        return _dispatch(args, now, io)
    except InvalidInput as exc:
        _report_problems(io, args, exc.problems)
        return EXIT_ERROR
    except GrantopsError as exc:
        io.err(f"grantops: error: {exc}")
        return exc.exit_code
    except Exception as exc:  # a bug: its traceback may quote input, so it goes out safely
        for chunk in traceback.format_exception(exc):
            io.err(chunk.rstrip("\n"))
        io.err("grantops: internal error (a bug); please report it with the lines above")
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace, now: datetime, io: Io) -> int:
    if args.command == "demo":

        def nested(argv: list[str], environ: dict[str, str]) -> int:
            return main(argv, {**io.environ, **environ}, io.stdout, io.stderr)

        return demo.run(args, now, io, nested)
    handlers = {
        "init": init.run,
        "validate": validate.run,
        "plan": reconcile.run_plan,
        "apply": reconcile.run_apply,
        "watch": watch.run,
        "snapshot": snapshot.run,
        "schema": schema.run,
        "sandbox": sandbox.run,
        "audit": audit.run,
        "health": health.run,
        "request": fromissue.run if fromissue.wanted(args) else request.run_request,
        "extend": request.run_extend,
        "revoke": request.run_revoke,
    }
    return handlers[args.command](args, now, io)


def _report_problems(io: Io, args: argparse.Namespace, problems: Sequence[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if getattr(args, "json", False):
        io.json({"valid": not errors, "problems": [problem_json(p) for p in problems]})
    else:
        for problem in problems:
            io.err(problem_text(problem))
        if errors:
            io.err(f"grantops: {len(errors)} error(s); nothing was planned or changed")
    if io.in_actions:
        for line in actions.annotation_lines(problems):
            io.out(line)
        body = actions.problems_summary(problems)
        title = "grant files have errors" if errors else "grant files are valid"
        actions.append_summary(io.environ, f"### grantops validate: {title}\n\n{body}")
