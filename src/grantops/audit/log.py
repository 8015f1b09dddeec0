"""``audit/log.jsonl``: an append-only, hash-chained log of everything apply does.

Each line is one JSON object. ``prev`` is the SHA-256 of the previous line (a fixed
genesis value for the first) and ``hash`` the SHA-256 of the line's own content
without ``hash`` and ``mac``. Editing a line breaks its own hash; removing, reordering
or inserting lines breaks the next ``prev``; a line cut off mid-way is not JSON. Lines
are only ever appended, and each write is flushed and synced before the change it
announces is made, so a crash leaves a visible intent without an outcome.

Anyone who can push can recompute SHA-256, so with ``GRANTOPS_EVIDENCE_KEY`` each line
also carries ``mac``: an HMAC of the line with its ``prev`` and ``hash``. Since ``prev``
covers the line before, MAC included, one valid MAC vouches for every line above it.
Once a line carries a MAC, every later line must: one without is a break. A log whose
lines carry no MAC at all is *unanchored*; the first run with the key anchors it once
(``log-anchored``). Cutting lines off the end or deleting the file leaves a valid
chain: :mod:`grantops.audit.committed` finds those in git history.
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
from grantops.audit.committed import check_log_path
from grantops.audit.keyed import KEY_VARIABLE, sign, signed
from grantops.gitrepo import GitError
from grantops.values import parse_timestamp

GENESIS = "0" * 64

Event = dict[str, Any]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(event: Event) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_MAC_CONTEXT = b"grantops audit log\n"
"""Put before every MACed line, so a MAC made for approval evidence never fits a line."""


def _signed_text(body: Event) -> bytes:
    """What a line's MAC covers: the line with its ``prev`` and ``hash``, without ``mac``."""
    return _MAC_CONTEXT + _canonical(body).encode("utf-8")


def _seal(event: Event, prev: str, key: bytes | None) -> str:
    body = {k: v for k, v in event.items() if k not in ("prev", "hash", "mac")}
    body["prev"] = prev
    body["hash"] = _digest(_canonical(body))
    if key is not None:
        body["mac"] = sign(key, _signed_text(body))
    return _canonical(body)


class AuditLog:
    """Appends events to one log file, keeping the chain (and MACing it with a key)."""

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path, self.key = path, key
        try:
            check_log_path(path)
        except GitError:
            lines = []  # unusable: append() says why, before the first change is made
        else:
            lines = _lines(path)
        self._last = _digest(lines[-1]) if lines else GENESIS
        self.unanchored = 0
        """Lines a keyed run should anchor: all of them, when none carries a MAC."""
        if key is not None and lines and not any("mac" in _entry(line) for line in lines):
            self.unanchored = len(lines)

    def append(self, event: Event) -> Event:
        check_log_path(self.path)  # never write through a link, nor into something else
        line = _seal(event, self._last, self.key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _sync_directory(self.path.parent)
        self._last = _digest(line)
        self.unanchored = 0
        return dict(json.loads(line))


def _sync_directory(path: Path) -> None:
    """Make a new file's directory entry durable too (where the platform allows it)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    # Read as verify reads: "\n" only (str.splitlines() would also split at U+2028 or
    # U+0085 inside a value), and bytes that are not UTF-8 replaced, never a crash.
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [line for line in text.split("\n") if line.strip()]


def _entry(line: str) -> Event:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def read_events(path: Path) -> list[Event]:
    """Every event of a log that verifies (call :func:`verify` first when it matters)."""
    if not path.exists():
        return []
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [json.loads(line) for line in text.split("\n") if line]


@dataclass(frozen=True)
class Verification:
    ok: bool
    """The chain is intact and, with a key, every line from the first MACed one is MACed."""
    lines: int
    bad_line: int | None = None
    reason: str = ""
    open_intents: list[Event] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    """Every entry read (up to the first bad line when the chain is broken)."""
    anchored: bool | None = None
    """None: no key was given, so MACs were not checked. False: a key was given but no
    line carries a MAC (``reason`` says so): the log may have been rewritten by anyone
    who can push, and must not be trusted as anchored."""
    anchored_from: int | None = None
    """The first line with a MAC; the lines above it were written without the key."""

    @property
    def trusted(self) -> bool:
        """Intact, and anchored unless no key was given: what decisions may rely on."""
        return self.ok and self.anchored is not False


def verify(path: Path, key: bytes | None = None) -> Verification:
    """Recompute the chain (and each MAC, given the key); name the first bad line and why."""
    try:
        check_log_path(path)
    except GitError as exc:
        return Verification(False, 0, 1, str(exc), anchored=None if key is None else False)
    if not path.exists():
        return Verification(True, 0, anchored=None if key is None else True)
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    complete = lines[:-1]  # the part after the last newline is empty for a whole file
    trailing = lines[-1]
    prev = GENESIS
    started: dict[str, Event] = {}
    events: list[Event] = []
    first_mac: int | None = None
    for number, line in enumerate(complete, start=1):
        problem = _check_line(line, prev)
        if problem is None and key is not None:
            problem, first_mac = _check_mac(json.loads(line), key, number, first_mac)
        if problem:
            return Verification(
                False, len(complete), number, problem, events=events, anchored_from=first_mac
            )
        event = json.loads(line)
        events.append(event)
        change = event.get("change_id")
        if event.get("event") == "change-started" and change:
            started[change] = event
        elif change:
            started.pop(change, None)
        prev = _digest(line)
    if trailing:
        return Verification(
            False,
            len(complete) + 1,
            len(complete) + 1,
            "the file ends in the middle of a line (truncated)",
            events=events,
            anchored_from=first_mac,
        )
    anchored = None if key is None else (first_mac is not None or not complete)
    return Verification(
        True,
        len(complete),
        reason=""
        if anchored is not False
        else f"no line carries a MAC although {KEY_VARIABLE} is set: written before the key "
        "was set, or rewritten without it",
        open_intents=list(started.values()),
        events=events,
        anchored=anchored,
        anchored_from=first_mac,
    )


def _check_line(line: str, prev: str) -> str | None:
    try:
        event = json.loads(line)
    except ValueError:
        return "not a complete JSON object (edited or truncated)"
    if not isinstance(event, dict) or "hash" not in event or "prev" not in event:
        return "not a log entry (no prev/hash)"
    wrong = _wrong_types(event)
    if wrong:
        return f"not a log entry ({wrong} has the wrong type)"
    body = {k: v for k, v in event.items() if k not in ("hash", "mac")}
    if _digest(_canonical(body)) != event["hash"]:
        return "its content does not match its hash (the line was edited)"
    if event["prev"] != prev:
        return "it does not follow the line before it (lines were removed, inserted or reordered)"
    return None


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "ts",
            "run",
            "event",
            "now",
            "org",
            "source",
            "commit",
            "principal",
            "target",
            "from",
            "to",
            "cause",
            "change_id",
            "action",
            "reason",
            "detail",
            "kind",
            "text",
            "expires",
            "starts",
            "merge_commit",
            "author",
            "prev",
            "hash",
            "mac",
        ),
        (str, type(None)),
    ),
    "pull": (int, type(None)),
    "lines": (int,),
    **dict.fromkeys(("approvers", "grantables", "notes", "mass_removal_override"), (list,)),
    **dict.fromkeys(("planned", "results"), (dict,)),
}
"""What each field the log's readers use must hold. A line anyone pushed with a list
where a name belongs must break the chain, not crash the run that would end access."""


def _wrong_types(event: Event) -> str | None:
    for name, value in event.items():
        allowed = _FIELD_TYPES.get(name)
        if allowed is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            return f"'{name}'"
    return None


def _check_mac(
    event: Event, key: bytes, number: int, first_mac: int | None
) -> tuple[str | None, int | None]:
    """A problem with the line's MAC (None: fine), and the first line with a MAC so far."""
    mac = event.get("mac")
    if mac is None:
        if first_mac is None:
            return None, None
        return (
            f"it carries no MAC although line {first_mac} does: written without "
            f"{KEY_VARIABLE}, or forged",
            first_mac,
        )
    body = {k: v for k, v in event.items() if k != "mac"}
    if not signed(key, _signed_text(body), mac):
        return (
            f"its MAC does not match: written without {KEY_VARIABLE} (a recomputed chain), "
            "or the key has changed",
            first_mac or number,
        )
    return None, first_mac or number


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
    """(grant file, principal, target) that a run logged as proven while the grant held.

    apply writes ``grant-approved`` (with the file's ``grantables``) when it first proves
    a grant; an entry counts only when the run that wrote it (its ``run-start`` ``now``,
    else the event's ``ts``) was before the grant's ``expires``. Anyone who can push can
    write such a line, so this only tells a run where access may be about to end (read
    those targets first); whether access has ended is decided from git and the reviews
    (:meth:`grantops.proof.prover.Prover.expiries`).
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
