"""``grantops validate``: check the policy and every grant file."""

from __future__ import annotations

import argparse
from datetime import datetime

from grantops import actions
from grantops.commands.common import EXIT_OK, Io, problem_json, show_warnings
from grantops.load import load_repo
from grantops.safetext import for_markdown
from grantops.values import format_timestamp


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    sub.add_parser("validate", parents=[common], help="check the policy and every grant file")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
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
                "problems": [problem_json(p) for p in loaded.warnings],
            }
        )
        return EXIT_OK
    show_warnings(io, loaded.warnings)
    summary = (
        f"Valid: policy for org {loaded.policy.org} and {len(loaded.grants)} grant(s): "
        f"{active} active, {upcoming} upcoming, {ended} ended (at {format_timestamp(now)})."
    )
    io.out(summary)
    if io.in_actions:
        actions.append_summary(io.environ, f"### grantops validate\n\n{for_markdown(summary)}")
    return EXIT_OK
