"""``grantops sandbox serve``: run the sandbox GitHub for manual tries and other tools."""

from __future__ import annotations

import argparse
import json
import signal
from datetime import datetime
from pathlib import Path
from types import FrameType

from grantops.commands.common import EXIT_OK, Io
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.statefile import read_state_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("sandbox", help="a local GitHub that speaks the REST API grantops uses")
    actions = parser.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="serve a state file over HTTP until interrupted")
    serve.add_argument("--state", type=Path, required=True, help="the org's state file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay added to each request")
    serve.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fraction of requests failing with 500, 502 or a timeout",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed for the fault dice")
    serve.add_argument("--token", help="accept only this token (default: any token)")
    serve.add_argument("--save", action="store_true", help="write the state back on exit")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    state = read_state_file(args.state, SandboxState)
    settings = Settings(
        latency_ms=args.latency_ms, fault_rate=args.fault_rate, seed=args.seed, token=args.token
    )
    sandbox = Sandbox(state, host=args.host, port=args.port, settings=settings)
    io.out(f"Sandbox GitHub for org {state.org} listening on {sandbox.url}")
    io.out(f"Try: GITHUB_TOKEN=any grantops plan --api-url {sandbox.url}")
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
        if args.save:
            args.state.write_text(json.dumps(sandbox.state().model_dump(), indent=2) + "\n")
            io.out(f"saved the sandbox's state to {args.state}")
    return EXIT_OK
