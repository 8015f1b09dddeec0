"""``grantops schema``: write or check ``schema/*.json``."""

from __future__ import annotations

import argparse
from datetime import datetime

from grantops.commands.common import EXIT_ERROR, EXIT_OK, Io
from grantops.schema import stale_schemas, write_schemas


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("schema", parents=[common], help="generate schema/*.json")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the schema files")
    mode.add_argument("--check", action="store_true", help="fail when they are out of date")


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    if args.write:
        for path in write_schemas(args.root):
            io.out(f"wrote {path}")
        return EXIT_OK
    stale = stale_schemas(args.root)
    for name in stale:
        io.err(f"schema/{name} is out of date; run: grantops schema --write")
    return EXIT_ERROR if stale else EXIT_OK
