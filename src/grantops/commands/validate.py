"""``grantops validate``: check the policy and every grant file."""

from __future__ import annotations

import argparse
from datetime import datetime

from grantops import actions
from grantops.commands.common import EXIT_OK, Io, problem_json, show_warnings
from grantops.load import load_repo
from grantops.planning import merge_windows
from grantops.planview import window_lines
from grantops.safetext import for_markdown, for_terminal
from grantops.values import format_timestamp


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    sub.add_parser("validate", parents=[common], help="check the policy and every grant file")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    loaded = load_repo(args.root, now)
    active = sum(1 for g in loaded.grants if g.active_at(now))
    upcoming = sum(1 for g in loaded.grants if g.starts is not None and now < g.starts)
    windows = merge_windows(loaded)  # validate reads no merge: every one is pending
    ended = len(loaded.grants) - active - upcoming - len(windows)
    if args.json:
        io.json(
            {
                "valid": True,
                "now": format_timestamp(now),
                "grants": {
                    "active": active,
                    "upcoming": upcoming,
                    "pending": len(windows),
                    "ended": ended,
                },
                "windows": [w.to_json() for w in windows],
                "problems": [problem_json(p) for p in loaded.warnings],
            }
        )
        return EXIT_OK
    show_warnings(io, loaded.warnings)
    summary = (
        f"Valid: policy for org {loaded.policy.org} and {len(loaded.grants)} grant(s): "
        f"{active} active, {upcoming} upcoming, "
        + (f"{len(windows)} pending, " if windows else "")
        + f"{ended} ended (at {format_timestamp(now)})."
    )
    io.out(summary)
    for line in window_lines(windows):
        io.out(f"  {for_terminal(line)}")
    if io.in_actions:
        actions.append_summary(io.environ, f"### grantops validate\n\n{for_markdown(summary)}")
    return EXIT_OK
