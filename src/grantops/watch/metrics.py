"""What a running ``grantops watch`` has done, as Prometheus metrics and a health answer.

The watcher reports to one :class:`Metrics` from its loop while the HTTP endpoint reads
it from another thread, so every method holds one lock. Nothing here reads the clock:
times are given, so the answers depend only on what the watcher reported. Only counts,
stages, results and times are kept, never a name, a token or a grant's reason, so
nothing an endpoint serves can be secret.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, get_args

from grantops.plan import Result
from grantops.values import format_timestamp

LATENESS_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0, 900.0)
"""Upper bounds (seconds) of the lateness histogram: seconds to a quarter of an hour, the
range between an on-time watcher and a late scheduled run."""

EDGES: Final = ("start", "end")
STAGES: Final = ("read", "apply", "pull", "reconcile", "auth")
"""Where a failure happened. Known labels start at zero so a rate over them is defined
before the first failure."""

Health = tuple[int, dict[str, object]]
"""An HTTP status (200 healthy, 503 otherwise) and the JSON body that explains it."""


@dataclass
class _Histogram:
    """Cumulative counts per bound of :data:`LATENESS_BUCKETS`, as Prometheus exposes them."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENESS_BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        for index, bound in enumerate(LATENESS_BUCKETS):
            if value <= bound:
                self.buckets[index] += 1
        self.total += value
        self.count += 1


class Metrics:
    """The watcher's counters and gauges; safe to update and read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: Counter[str] = Counter(dict.fromkeys(get_args(Result), 0))
        self._failures: Counter[str] = Counter(dict.fromkeys(STAGES, 0))
        self._lateness = {edge: _Histogram() for edge in EDGES}
        self._budget: int | None = None
        self._reconciled: datetime | None = None
        self._next: datetime | None = None
        self._refused = False

    def changed(self, result: str) -> None:
        """One change was applied, with this outcome (``done``, ``invited``, ``failed``)."""
        with self._lock:
            self._changes[result] += 1

    def late(self, edge: str, seconds: float) -> None:
        """A window's ``start`` or ``end`` took effect this long after the time in its file."""
        with self._lock:
            self._lateness.setdefault(edge, _Histogram()).observe(seconds)

    def failed(self, stage: str) -> None:
        """Something failed at this stage: one of :data:`STAGES`."""
        with self._lock:
            self._failures[stage] += 1

    def budget(self, remaining: int | None) -> None:
        """What GitHub last said is left of the rate limit; ``None`` while it has not said."""
        with self._lock:
            self._budget = remaining

    def reconciled(self, at: datetime) -> None:
        """A full reconcile completed at ``at``: what health is measured from."""
        with self._lock:
            self._reconciled = at

    def next_change(self, at: datetime | None) -> None:
        """When the next start or end is due; ``None`` when none is."""
        with self._lock:
            self._next = at

    def refused(self, refusing: bool) -> None:
        """Whether the last refresh of the access repository was refused (history
        rewritten upstream): the watch then sees no new commit, so it is not healthy."""
        with self._lock:
            self._refused = refusing

    def render(self) -> str:
        """The Prometheus text exposition (format 0.0.4) of everything reported so far."""
        with self._lock:
            parts = [
                _counter(CHANGES, "result", self._changes),
                _histogram(self._lateness),
                _counter(FAILURES, "stage", self._failures),
                _gauge(BUDGET, self._budget),
                _gauge(LAST_RECONCILE, _seconds(self._reconciled)),
                _gauge(NEXT_CHANGE, _seconds(self._next)),
            ]
        return "".join(parts)

    def health(self, now: datetime, stale_after: timedelta) -> Health:
        """200 while the last full reconcile is at most ``stale_after`` old, else 503.

        Before the first one the status is ``starting``; afterwards, ``stale`` once it is
        too old: a watcher that cannot complete a reconcile is not taken for a healthy one.
        ``refused`` while the access repository's new history is refused.
        """
        with self._lock:
            last, upcoming = self._reconciled, self._next
            failures = sum(self._failures.values())
            refused = self._refused
        status = "refused" if refused else _status(last, now, stale_after)
        body: dict[str, object] = {
            "status": status,
            "last_reconcile": None if last is None else format_timestamp(last),
            "next_change": None if upcoming is None else format_timestamp(upcoming),
            "failures": failures,
        }
        return (200 if status == "ok" else 503), body


def _status(last: datetime | None, now: datetime, stale_after: timedelta) -> str:
    if last is None:
        return "starting"
    return "ok" if now - last <= stale_after else "stale"


@dataclass(frozen=True)
class _Family:
    name: str
    kind: str
    help: str


CHANGES = _Family("grantops_changes_total", "counter", "Changes applied, by result.")
LATENESS = _Family(
    "grantops_window_lateness_seconds",
    "histogram",
    "Seconds from a window's start or end in its grant file to the change on GitHub.",
)
FAILURES = _Family("grantops_failures_total", "counter", "Failures, by stage.")
BUDGET = _Family("grantops_rate_limit_remaining", "gauge", "Requests left in GitHub's rate limit.")
LAST_RECONCILE = _Family(
    "grantops_last_reconcile_timestamp_seconds",
    "gauge",
    "Unix time of the last full reconcile that completed.",
)
NEXT_CHANGE = _Family(
    "grantops_next_change_timestamp_seconds",
    "gauge",
    "Unix time of the next start or end of a grant's window.",
)


def _header(family: _Family) -> str:
    return f"# HELP {family.name} {family.help}\n# TYPE {family.name} {family.kind}\n"


def _counter(family: _Family, label: str, counts: Counter[str]) -> str:
    lines = [f"{family.name}{{{label}={_quoted(key)}}} {counts[key]}\n" for key in sorted(counts)]
    return _header(family) + "".join(lines)


def _histogram(lateness: dict[str, _Histogram]) -> str:
    name, lines = LATENESS.name, []
    for edge in sorted(lateness):
        observed, label = lateness[edge], f"edge={_quoted(edge)}"
        bounds = [*(f"{bound:g}" for bound in LATENESS_BUCKETS), "+Inf"]
        for bound, count in zip(bounds, [*observed.buckets, observed.count], strict=True):
            lines.append(f'{name}_bucket{{{label},le="{bound}"}} {count}\n')
        lines.append(f"{name}_sum{{{label}}} {observed.total!r}\n")
        lines.append(f"{name}_count{{{label}}} {observed.count}\n")
    return _header(LATENESS) + "".join(lines)


def _gauge(family: _Family, value: float | None) -> str:
    """A gauge with no value is left out altogether: unknown is not zero."""
    return "" if value is None else f"{_header(family)}{family.name} {value!r}\n"


def _seconds(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _quoted(value: str) -> str:
    """A label value as the text format escapes it (backslash, quote, line feed)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
