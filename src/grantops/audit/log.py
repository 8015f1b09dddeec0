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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grantops.access import Principal, Target
from grantops.values import parse_timestamp

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
        principal, target = _principal(event.get("principal")), _target(event.get("target"))
        if principal and principal.kind == "user" and target and target.kind == "repo":
            key = (principal, target, event.get("source"))
            counts[key] = counts.get(key, 0) + 1
    return counts


def honoured_grantables(events: Iterable[Event]) -> frozenset[tuple[str, Principal, Target]]:
    """(grant file, principal, target) that a run proved reviewed while the grant still held.

    Expiries never count toward the removal brakes, so ``expired`` has to mean what it
    says: access that a reviewed grant gave and whose window has closed. A grant file
    that merely *says* it has ended proves nothing: pushed straight to the branch already
    expired, it could name anyone, and their removal would slip past the brakes. The log
    knows better: apply writes ``grant-approved`` (with the file's ``grantables``) when
    it first proves a grant. An entry counts only when the run that wrote it (its
    ``run-start`` ``now``, else the event's ``ts``) was before the grant's ``expires``: a
    grant proven after its window closed was never honoured. A grant proven before its
    window opened counts, because apply does not log it again once it opens.
    """
    run_now: dict[object, object] = {}
    honoured: set[tuple[str, Principal, Target]] = set()
    for event in events:
        kind, source = event.get("event"), event.get("source")
        if kind == "run-start":
            run_now[event.get("run")] = event.get("now")
        elif kind == "grant-approved" and isinstance(source, str):
            proven_at = run_now.get(event.get("run"), event.get("ts"))
            if _before(proven_at, event.get("expires")):
                honoured.update((source, p, t) for p, t in _grantables(event.get("grantables")))
    return frozenset(honoured)


def _before(when: object, expires: object) -> bool:
    try:
        return parse_timestamp(when) < parse_timestamp(expires)
    except ValueError:
        return False


def _grantables(entries: object) -> list[tuple[Principal, Target]]:
    """The (principal, target) of each ``[principal, target, level]`` a log entry lists."""
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, list) and len(entry) == 3:
            principal, target = _principal(entry[0]), _target(entry[1])
            if principal and target:
                found.append((principal, target))
    return found


_PRINCIPALS = {"user": Principal.user, "team": Principal.team}
_TARGETS = {"repo": Target.repo, "team": Target.team}


def _principal(text: object) -> Principal | None:
    """``user:login`` or ``team:slug``, as the log writes them; None for anything else."""
    kind, _, name = str(text).partition(":")
    make = _PRINCIPALS.get(kind)
    return make(name) if make and name else None


def _target(text: object) -> Target | None:
    """``repo:org/name`` or ``team:org/slug``, as the log writes them; None for anything else."""
    kind, _, full = str(text).partition(":")
    org, _, name = full.partition("/")
    make = _TARGETS.get(kind)
    return make(org, name) if make and org and name else None
