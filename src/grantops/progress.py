"""Progress of long work (reading every managed target, applying changes), on stderr.

Reading a large org takes minutes, and a run that prints nothing meanwhile looks hung.
Progress is shown only where someone watches, and never where it would get in the way:

* at a terminal, one line rewritten in place (a carriage return, no escape codes) a few
  times a second, ended with a newline once the work is done;
* in CI (GitHub Actions, or ``$CI`` set), whose logs keep every line, a plain line at
  most every :data:`CI_INTERVAL` seconds, and a closing one only after such a line, so
  a short run adds nothing to the log;
* anywhere else (a pipe, a file, a test), nothing at all.

Standard output is untouched, so ``--json`` still prints one document. The clock and the
writer are given, so tests drive time without sleeping; updates may come from several
threads, and one lock keeps each line whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal, TextIO

Mode = Literal["terminal", "ci", "off"]

TERMINAL_INTERVAL = 0.1
"""Seconds between rewrites of the terminal line: fast enough to look alive, cheap
enough for thousands of updates."""

CI_INTERVAL = 10.0
"""Seconds between lines in a CI log: enough to show the run is alive, never a flood."""


def choose_mode(stream: TextIO, environ: Mapping[str, str]) -> Mode:
    """``terminal`` when ``stream`` is one, ``ci`` in a CI job, else ``off``."""
    if stream.isatty():
        return "terminal"
    in_ci = environ.get("GITHUB_ACTIONS") == "true" or environ.get("CI", "").lower() in (
        "true",
        "1",
    )
    return "ci" if in_ci else "off"


def progress_text(verb: str, done: int, total: int, unit: str, budget: int | None) -> str:
    """``read 120 of 2000 targets; 4812 requests left``: the budget only when known."""
    text = f"{verb} {done} of {total} {unit}"
    return text if budget is None else f"{text}; {budget} requests left"


class Progress:
    """Reports how far a long piece of work has got, as :func:`choose_mode` decided."""

    def __init__(
        self,
        write: Callable[[str], None],
        mode: Mode,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        self.write, self.mode, self.clock = write, mode, clock
        self.interval = interval if interval is not None else _default_interval(mode)
        self._lock = threading.Lock()
        self._since: float | None = None
        """When the work under way began, or its last line was written."""
        self._showing = ""
        """Terminal: the text on the current line. CI: the last line written for the work."""

    def update(
        self, verb: str, done: int, total: int, unit: str, budget: int | None = None
    ) -> None:
        """``done`` of ``total`` ``unit`` are ``verb`` (done == total: the work is over)."""
        if self.mode == "off":
            return
        text = progress_text(verb, done, total, unit, budget)
        with self._lock:
            now = self.clock()
            final = done >= total
            # New work shows at once at a terminal (compared exactly: ``now - (now -
            # interval)`` can round below ``interval``); in CI, after an interval.
            fresh = self._since is None
            if self._since is None:
                self._since = now
            due = (fresh and self.mode == "terminal") or now - self._since >= self.interval
            if self.mode == "terminal":
                self._terminal(text, now, due, final)
            else:
                self._ci(text, now, due, final)

    def clear(self) -> None:
        """Erase a terminal line still showing, so other output starts on a clean line;
        the next update shows at once. In CI, lines are whole and nothing is erased."""
        with self._lock:
            if self.mode == "terminal" and self._showing:
                self.write("\r" + " " * len(self._showing) + "\r")
                self._showing, self._since = "", None

    def stop(self) -> None:
        """The work is over, perhaps cut short: a terminal line still showing is ended
        where it got to, and the next work starts afresh."""
        with self._lock:
            if self.mode == "terminal" and self._showing:
                self.write("\n")
            self._showing, self._since = "", None

    def _terminal(self, text: str, now: float, due: bool, final: bool) -> None:
        if not (due or final):
            return
        self.write("\r" + text.ljust(len(self._showing)) + ("\n" if final else ""))
        self._showing, self._since = ("", None) if final else (text, now)

    def _ci(self, text: str, now: float, due: bool, final: bool) -> None:
        if final:
            if self._showing and self._showing != text:
                self.write(text + "\n")
            self._showing, self._since = "", None
        elif due:
            self.write(text + "\n")
            self._showing, self._since = text, now


def _default_interval(mode: Mode) -> float:
    return TERMINAL_INTERVAL if mode == "terminal" else CI_INTERVAL
