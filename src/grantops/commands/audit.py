"""``grantops audit verify`` and ``grantops audit report``: check and read the audit trail."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

from grantops.audit import committed, export, sections
from grantops.audit.keyed import KEY_VARIABLE, key_from
from grantops.audit.log import Verification, verify
from grantops.audit.policyfacts import last_review, policy_at
from grantops.commands.common import EXIT_ERROR, EXIT_OK, Io, time_or_duration
from grantops.constants import LOG_PATH, POLICY_PATH
from grantops.errors import UsageError
from grantops.load import read_tree
from grantops.values import format_timestamp

EXIT_USAGE = 2
"""As argparse exits on a usage error: the question asked of the report is incomplete."""


def _when(value: str) -> datetime | timedelta:
    """An RFC 3339 time, or a duration back from ``--now`` (``14d``: fourteen days ago)."""
    try:
        return time_or_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _at(when: datetime | timedelta | None, now: datetime) -> datetime:
    return now - when if isinstance(when, timedelta) else when or now


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("audit", help="verify the audit log or report access history")
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "verify", parents=[common], help="check the log's hash chain, MACs and git history"
    )
    check.add_argument("--log", type=Path, help=f"the log (default: ROOT/{LOG_PATH})")
    report = actions.add_parser("report", parents=[common], help="who had which access, when, why")
    report.add_argument("--log", type=Path, help=f"the log (default: ROOT/{LOG_PATH})")
    report.add_argument(
        "--since",
        type=_when,
        metavar="TIME",
        help="window start: an RFC 3339 time, or a duration ago (14d: fourteen days before --now)",
    )
    report.add_argument(
        "--until", type=_when, metavar="TIME", help="window end, likewise (default: --now)"
    )
    report.add_argument(
        "--at",
        type=_when,
        metavar="TIME",
        help="who had access to what at this time, likewise (3d)",
    )
    report.add_argument(
        "--format",
        choices=FORMATS,
        help="md: every section; csv: one section's table; json: one document, as --json "
        "(default md)",
    )
    report.add_argument(
        "--section",
        choices=sections.NAMES,
        help="only this section (csv default: periods, or at with only --at)",
    )


FORMATS = ("md", "csv", "json")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    path: Path = args.log or args.root / LOG_PATH
    shown = path.as_posix()
    result = verify(path, key_from(io.environ))
    history = committed.check(path)
    problems = _problems(shown, result, history)
    if args.audit_command == "verify":
        return _verify(io, args.json, shown, (result, history), problems)
    for problem in problems:
        io.err(problem)
    if problems:
        io.err(f"{shown}: fails grantops audit verify; not reporting from it")
        return EXIT_ERROR
    for note in _notes(shown, result, history):
        io.err(note)
    return _report(args, now, io, result)


def _verify(
    io: Io,
    as_json: bool,
    shown: str,
    checked: tuple[Verification, committed.Committed],
    problems: list[str],
) -> int:
    """``--json``: the log, its entry count, ``intact``, ``anchored`` (null: no key to
    check MACs), ``git_versions`` (null: not checked), problems, notes, open intents."""
    result, history = checked
    notes = _notes(shown, result, history) + _open_intents(shown, result)
    if as_json:
        io.json(
            {
                "log": shown,
                "intact": not problems,
                "entries": result.lines,
                "anchored": result.anchored,
                "git_versions": history.versions if history.checked else None,
                "problems": problems,
                "notes": notes,
            }
        )
        return EXIT_ERROR if problems else EXIT_OK
    for problem in problems:
        io.err(problem)
    if problems:
        return EXIT_ERROR
    io.out(f"{shown}: {result.lines} entries, hash chain intact.")
    if result.anchored and result.lines:
        io.out(f"{shown}: every entry is anchored by a MAC made with {KEY_VARIABLE}.")
    if history.checked:
        io.out(
            f"{shown}: {history.versions} committed version(s) in git, each a prefix of "
            "the next and of the working copy."
        )
    for note in notes:
        io.err(note)
    return EXIT_OK


def _open_intents(shown: str, result: Verification) -> list[str]:
    """Changes a run started and never recorded the outcome of: check them on GitHub."""
    return [
        f"{shown}: {i.change.action} {i.change.principal} on {i.change.target} was started by "
        f"run {i.run} at {format_timestamp(i.ts)} and has no outcome: check it on GitHub"
        for i in result.open_intents
    ]


def _report(args: argparse.Namespace, now: datetime, io: Io, result: Verification) -> int:
    """The sections asked for, in the format asked for (``--json`` is ``--format json``)."""
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json is --format json; drop one of --json and --format {args.format}")
    form = "json" if args.json else args.format or "md"
    if args.since is None and args.at is None:
        io.err("audit report: give --since (a window), --at (a point in time), or both")
        return EXIT_USAGE
    facts = _facts(args, now, io, result)
    shown = sections.build(facts)
    wanted = args.section or (None if form != "csv" else shown[0].name)
    if wanted is not None:
        shown = [s for s in shown if s.name == wanted]
        if not shown:
            io.err(f"audit report: section '{wanted}' needs {_needs(wanted)}")
            return EXIT_USAGE
    if form == "csv":
        io.out(export.csv_text(shown[0]).rstrip("\n"))
    elif form == "json":
        io.out(export.json_text(shown, facts))
    else:
        io.out(export.markdown(shown, facts).rstrip("\n"))
    return EXIT_OK


def _needs(section: str) -> str:
    return "--at" if section == "at" else "--since"


def _facts(args: argparse.Namespace, now: datetime, io: Io, result: Verification) -> sections.Facts:
    """The log, the window and moment asked about, and the policy's facts from git."""
    since = _at(args.since, now) if args.since is not None else None
    at = _at(args.at, now) if args.at is not None else None
    root: Path = args.root
    in_force = None
    if at is not None:
        current = read_tree(root, now).policy if (root / POLICY_PATH).exists() else None
        in_force = policy_at(root, at, current)
    review = last_review(root, key_from(io.environ)) if since is not None else None
    return sections.Facts(result.events, since, _at(args.until, now), at, in_force, review)


def _problems(shown: str, result: Verification, history: committed.Committed) -> list[str]:
    """Everything that makes the log untrustworthy, one message each."""
    problems = []
    if not result.ok:
        problems.append(f"{shown}:{result.bad_line}: broken chain: {result.reason}")
    elif result.anchored is False:
        problems.append(f"{shown}: not anchored: {result.reason}")
    problems += [f"{shown}: not append-only: {rewrite}" for rewrite in history.rewrites]
    return problems


def _notes(shown: str, result: Verification, history: committed.Committed) -> list[str]:
    """What the checks could not cover, for a reader to weigh."""
    notes = []
    if result.anchored is None:
        notes.append(
            f"{shown}: unanchored: {KEY_VARIABLE} is not set, so MACs were not checked and "
            "a chain recomputed by someone who can push would pass"
        )
    if result.anchored_from is not None and result.anchored_from > 1:
        first = result.events[result.anchored_from - 1]
        notes.append(
            f"{shown}: lines 1-{result.anchored_from - 1} were written without "
            f"{KEY_VARIABLE}; line {result.anchored_from} ({first.describe()}) anchors them "
            "as they were then"
        )
    if not history.checked:
        notes.append(
            f"{shown}: {history.note}: git history not checked, so lines cut off the end "
            "or a deleted log would go unnoticed"
        )
    return notes


__all__ = ["format_timestamp", "register", "run"]
