"""``grantops snapshot``: write today's access in managed scope as a state file.

Bootstraps an access repository: the snapshot shows who has what, from which the
policy's ``baseline`` is written, and it is the format ``plan --state`` reads.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from grantops.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    Io,
    add_api_options,
    add_read_api_option,
    add_root_option,
    github_client,
)
from grantops.load import load_repo
from grantops.planview import unreadable_text
from grantops.statefile import dump_state, state_from_read


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("snapshot", help="write actual access as a state file (JSON)")
    add_root_option(parser)
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write here instead of standard output"
    )
    add_api_options(parser)
    add_read_api_option(parser)


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    loaded = load_repo(args.root, now)
    github = github_client(args, io)
    try:
        result = github.read(loaded.policy, with_members=True)
    finally:
        github.close()
    state = state_from_read(
        result.actual, result.members, result.base_permission, result.role_bases
    )
    text = dump_state(state)
    if args.out is None:
        io.out(text.rstrip("\n"))
    else:
        args.out.write_text(text, encoding="utf-8")
        io.err(f"wrote {args.out}")
    if result.actual.unreadable:
        io.err(unreadable_text(result.actual.unreadable))
        return EXIT_ERROR
    return EXIT_OK
