"""``grantops audit verify`` and ``grantops audit report``: check and read the audit trail."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from grantops.audit import history
from grantops.audit.log import LOG_PATH, read_events, verify
from grantops.commands.common import EXIT_ERROR, EXIT_OK, Io
from grantops.values import format_timestamp, parse_timestamp


def _timestamp(value: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("audit", help="verify the audit log or report access history")
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = actions.add_parser("verify", parents=[common], help="recompute the log's hash chain")
    check.add_argument("--log", type=Path, help=f"the log (default: ROOT/{LOG_PATH})")
    report = actions.add_parser("report", parents=[common], help="who had which access, when, why")
    report.add_argument("--log", type=Path, help=f"the log (default: ROOT/{LOG_PATH})")
    report.add_argument("--since", type=_timestamp, required=True, help="start (RFC 3339)")
    report.add_argument("--until", type=_timestamp, help="end (default: now)")
    report.add_argument("--format", choices=("md", "csv", "json"), default="md")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    path: Path = args.log or args.root / LOG_PATH
    shown = path.as_posix()
    result = verify(path)
    if args.audit_command == "verify":
        if not result.ok:
            io.err(f"{shown}:{result.bad_line}: broken chain: {result.reason}")
            return EXIT_ERROR
        io.out(f"{shown}: {result.lines} entries, hash chain intact.")
        for intent in result.open_intents:
            io.err(
                f"{shown}: {intent.get('action')} {intent.get('principal')} on "
                f"{intent.get('target')} was started by run {intent.get('run')} at "
                f"{intent.get('ts')} and has no outcome: check it on GitHub"
            )
        return EXIT_OK
    if not result.ok:
        io.err(f"{shown}:{result.bad_line}: broken chain: {result.reason}; not reporting from it")
        return EXIT_ERROR
    until = args.until or now
    periods = history.access_periods(read_events(path), args.since, until)
    render = {"md": history.markdown, "csv": history.csv_text, "json": history.json_text}[
        args.format
    ]
    io.out(render(periods, args.since, until).rstrip("\n"))
    return EXIT_OK


__all__ = ["format_timestamp", "register", "run"]
