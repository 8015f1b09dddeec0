"""``audit/log.jsonl``: an append-only, hash-chained log of everything apply does.

Each line is one JSON object. ``prev`` is the SHA-256 of the previous line (a fixed
genesis value for the first) and ``hash`` the SHA-256 of the line's own content
without ``hash``. Editing a line breaks its own hash; removing, reordering or
inserting lines breaks the next ``prev``; a line cut off mid-way is not JSON. Lines
are only ever appended, and each write is flushed and synced before the change it
announces is made, so a crash leaves a visible intent without an outcome.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grantops.access import Principal, Target

LOG_PATH = "audit/log.jsonl"
GENESIS = "0" * 64

Event = dict[str, Any]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(event: Event) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _seal(event: Event, prev: str) -> str:
    body = {k: v for k, v in event.items() if k not in ("prev", "hash")}
    body["prev"] = prev
    body["hash"] = _digest(_canonical(body))
    return _canonical(body)


class AuditLog:
    """Appends events to one log file, keeping the chain."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = _last_line_digest(path)

    def append(self, event: Event) -> Event:
        line = _seal(event, self._last)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._last = _digest(line)
        return dict(json.loads(line))


def _last_line_digest(path: Path) -> str:
    if not path.exists():
        return GENESIS
    last = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            last = line
    return _digest(last) if last else GENESIS


def read_events(path: Path) -> list[Event]:
    """Every event of a log that verifies (call :func:`verify` first when it matters)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass(frozen=True)
class Verification:
    ok: bool
    lines: int
    bad_line: int | None = None
    reason: str = ""
    open_intents: list[Event] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    """Every entry read (up to the first bad line when the chain is broken)."""


def verify(path: Path) -> Verification:
    """Recompute the chain; name the first line that breaks it, and why."""
    if not path.exists():
        return Verification(True, 0)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    complete = lines[:-1]  # the part after the last newline is empty for a whole file
    trailing = lines[-1]
    prev = GENESIS
    started: dict[str, Event] = {}
    events: list[Event] = []
    for number, line in enumerate(complete, start=1):
        problem = _check_line(line, prev)
        if problem:
            return Verification(False, len(complete), number, problem, events=events)
        event = json.loads(line)
        events.append(event)
        key = event.get("change_id")
        if event.get("event") == "change-started" and key:
            started[key] = event
        elif key:
            started.pop(key, None)
        prev = _digest(line)
    if trailing:
        return Verification(
            False,
            len(complete) + 1,
            len(complete) + 1,
            "the file ends in the middle of a line (truncated)",
            events=events,
        )
    return Verification(True, len(complete), open_intents=list(started.values()), events=events)


def _check_line(line: str, prev: str) -> str | None:
    try:
        event = json.loads(line)
    except ValueError:
        return "not a complete JSON object (edited or truncated)"
    if not isinstance(event, dict) or "hash" not in event or "prev" not in event:
        return "not a log entry (no prev/hash)"
    body = {k: v for k, v in event.items() if k != "hash"}
    if _digest(_canonical(body)) != event["hash"]:
        return "its content does not match its hash (the line was edited)"
    if event["prev"] != prev:
        return "it does not follow the line before it (lines were removed, inserted or reordered)"
    return None


def invitations_sent(events: list[Event]) -> dict[tuple[Principal, Target, str | None], int]:
    """How many invitations the log says were sent per (user, repository, grant file)."""
    counts: dict[tuple[Principal, Target, str | None], int] = {}
    for event in events:
        if event.get("event") != "invitation-sent":
            continue
        kind, _, login = str(event.get("principal")).partition(":")
        where, _, full = str(event.get("target")).partition(":")
        org, _, name = full.partition("/")
        if kind == "user" and where == "repo" and name:
            key = (Principal.user(login), Target.repo(org, name), event.get("source"))
            counts[key] = counts.get(key, 0) + 1
    return counts
