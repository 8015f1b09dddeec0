"""``grantops watch``: a long-running reconciler that honours windows to the second.

Parses the arguments, builds the :class:`grantops.watch.watcher.Watcher` and shows what
it does; the loop itself lives there. SIGTERM and SIGINT stop it between changes: the
change in flight is finished and recorded, and the command exits 0.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from types import FrameType

from grantops import planview
from grantops.commands.common import (
    Io,
    add_mutation_options,
    add_root_option,
    duration_option,
    github_client,
    timestamp_option,
)
from grantops.commands.reconcile import (
    add_reconcile_options,
    alert,
    run_settings,
    show_applied,
    show_plan,
)
from grantops.errors import UsageError
from grantops.plan import Outcome
from grantops.run import Applied, Planned
from grantops.watch.endpoint import serve
from grantops.watch.gitsync import Upstream
from grantops.watch.metrics import Metrics
from grantops.watch.watcher import Watcher, WatchSettings

WATCH_MUTATION_INTERVAL = 0.75
"""Seconds between a watch's changes: GitHub's secondary limit of 80 content-creating
requests a minute, evenly spaced. The pacing spans runs (one client for the whole
watch), so edges seconds apart can never exceed it; ``apply`` keeps GitHub's one second,
as its runs start with many changes at once."""

STALE_AFTER = 2
"""``/healthz`` reports stale once no full reconcile completed for this many periods."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    watch = sub.add_parser(
        "watch", help="keep reconciling: access starts and ends within seconds of its window"
    )
    add_root_option(watch)
    add_reconcile_options(watch)
    add_mutation_options(watch, WATCH_MUTATION_INTERVAL, "GitHub's 80 a minute, evenly spaced")
    watch.add_argument("--yes", action="store_true", help="really change access (default: dry run)")
    watch.add_argument(
        "--reconcile-every",
        type=interval_option,
        default=timedelta(minutes=15),
        metavar="DURATION",
        help="full reconcile, drift included, this often (default: 15m)",
    )
    watch.add_argument(
        "--pull-every",
        type=interval_option,
        default=timedelta(minutes=1),
        metavar="DURATION",
        help="fetch the access repository this often; new commits reconcile at once "
        "(default: 1m; only when the checkout tracks a remote branch)",
    )
    life = watch.add_mutually_exclusive_group()
    life.add_argument("--for", dest="for_", type=interval_option, metavar="DURATION",
                      help="stop after this long")  # fmt: skip
    life.add_argument("--until", type=timestamp_option, metavar="TIME", help="stop at this time")
    watch.add_argument(
        "--horizon",
        type=interval_option,
        metavar="DURATION",
        help="stop as soon as no start or end falls within this of now (GitHub Actions: "
        "stay only for windows due before the next scheduled run)",
    )
    watch.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="serve /healthz and /metrics (Prometheus) here",
    )
    watch.add_argument(
        "--push-audit",
        action="store_true",
        help="commit audit/ after each run that changed it and push it (the checkout's own "
        "git credentials)",
    )


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    args.json = False  # a watch prints as it goes; apply --json is the one-shot document
    settings = _watch_settings(args, now)
    upstream = Upstream.of(args.root)
    if args.push_audit and upstream is None:
        raise UsageError("--push-audit: the checkout's branch tracks no remote branch")
    metrics = Metrics()
    stop = threading.Event()
    stale = args.reconcile_every * STALE_AFTER
    clock = _clock
    listening = serve(args.listen, metrics, stale, clock) if args.listen else nullcontext()
    with github_client(args, io) as github, listening as endpoint, _stopped_by_signals(stop):
        if endpoint is not None:
            io.err(f"grantops watch: serving /healthz and /metrics at {endpoint.url}")
        watcher = Watcher(
            run_settings(args, now, io),
            settings,
            github,
            show=_Shown(io, args),
            events=metrics,
            upstream=upstream,
            stop=stop,
            clock=clock,
            budget=lambda: github.rate_limit_remaining,
        )
        code = watcher.run()
    io.err("grantops watch: stopped" + (" by a signal" if stop.is_set() else ""))
    return code


def interval_option(value: str) -> timedelta:
    """An argparse type: a duration as grant files write them (``15m``), or whole seconds
    (``30s``), which a watch's intervals may need and a grant's window never does."""
    if value.endswith("s") and value[:-1].isdigit():
        return timedelta(seconds=int(value[:-1]))
    return duration_option(value)


def _watch_settings(args: argparse.Namespace, now: datetime) -> WatchSettings:
    if args.reconcile_every <= timedelta(0) or args.pull_every <= timedelta(0):
        raise UsageError("--reconcile-every and --pull-every must be longer than 0")
    until = now + args.for_ if args.for_ is not None else args.until
    if until is not None and until <= now:
        raise UsageError("--until: that time has passed; a watch needs one still to come")
    return WatchSettings(
        apply=args.yes,
        reconcile_every=args.reconcile_every,
        pull_every=args.pull_every,
        until=until,
        horizon=args.horizon,
        push_audit=args.push_audit,
    )


def _clock() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the watcher finishes the change in flight."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; a caller elsewhere stops it itself
        return
    kept = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, previous in kept.items():
            signal.signal(sig, previous)


class _Shown:
    """The watch as text: full reconciles as ``apply`` shows them, edges in a line each."""

    def __init__(self, io: Io, args: argparse.Namespace) -> None:
        self.io, self.args = io, args

    def full(self, planned: Planned, applied: Applied | None) -> None:
        self.io.out(f"\n{_stamp(planned.plan.now)} full reconcile")
        show_plan(self.io, self.args, planned)
        if applied is not None:
            show_applied(self.io, self.args, planned, applied)
        alert(self.io, planned)

    def edge(self, planned: Planned, applied: Applied | None) -> None:
        changes = planned.plan.changes
        if applied is None and changes:
            self.io.out(f"{_stamp(planned.plan.now)} due (dry run, nothing changed):")
            for change in changes:
                self.io.out(f"  would {change.action} {change.principal} on {change.target}")
        elif not changes and not planned.plan.withheld:
            self.io.out(f"{_stamp(planned.plan.now)} window edge: nothing to change")
        for change in planned.plan.withheld:
            why = "; ".join(planned.plan.limits) or "limited"
            self.io.err(
                f"  withheld: {change.action} {change.principal} on {change.target} ({why}); "
                "will try again"
            )
        for unreadable in sorted(planned.actual.unreadable.items()):
            self.io.err(f"  could not read {unreadable[0]}: {unreadable[1]}; will try again")

    def outcome(self, outcome: Outcome, late: float | None) -> None:
        after = f" ({late:.1f} s after the time in the file)" if late is not None else ""
        self.io.out(f"{_stamp(_clock())}{planview.outcome_line(outcome)}{after}")

    def problem(self, text: str) -> None:
        self.io.err(f"grantops watch: {text}")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%SZ")
