"""``grantops schema``: write or check ``schema/*.json``."""

from __future__ import annotations

import argparse
from datetime import datetime

from grantops.commands.common import (
    EXIT_ERROR,
    EXIT_OK,
    Io,
    add_json_option,
    add_root_option,
)
from grantops.schema import stale_schemas, write_schemas


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("schema", help="generate schema/*.json")
    add_root_option(parser)
    add_json_option(parser)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the schema files")
    mode.add_argument("--check", action="store_true", help="fail when they are out of date")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    """``--json``: ``{"written": [paths]}`` or ``{"stale": [names]}``."""
    if args.write:
        written = [str(path) for path in write_schemas(args.root)]
        if args.json:
            io.json({"written": written})
        else:
            for path in written:
                io.out(f"wrote {path}")
        return EXIT_OK
    stale = stale_schemas(args.root)
    if args.json:
        io.json({"stale": [f"schema/{name}" for name in stale]})
    else:
        for name in stale:
            io.err(f"schema/{name} is out of date; run: grantops schema --write")
    return EXIT_ERROR if stale else EXIT_OK
