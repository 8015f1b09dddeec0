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

The log holds text only: a lone surrogate (a file name that is not UTF-8, or a JSON
escape like ``"\\udcff"`` from anywhere) is written as the text of its escape, so a line
can always be encoded, hashed and read back to the same digest. A line anyone pushed
that cannot be read or hashed (a lone surrogate, nesting too deep to parse) fails its
check at that line, like any other edit: the run is limited, never stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grantops.access import Principal, Target
from grantops.audit.committed import check_log_path
from grantops.audit.events import (
    ChangeStarted,
    Entry,
    Fields,
    GrantApproved,
    InvitationSent,
    RunStart,
    Sourced,
    parse_event,
)
from grantops.audit.keyed import KEY_VARIABLE, sign, signed
from grantops.gitrepo import GitError
from grantops.safetext import unicode_only

GENESIS = "0" * 64


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(event: Mapping[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_MAC_CONTEXT = b"grantops audit log\n"
"""Put before every MACed line, so a MAC made for approval evidence never fits a line."""


def _signed_text(body: Fields) -> bytes:
    """What a line's MAC covers: the line with its ``prev`` and ``hash``, without ``mac``."""
    return _MAC_CONTEXT + _canonical(body).encode("utf-8")


def _seal(event: Mapping[str, Any], prev: str, key: bytes | None) -> str:
    # text only: a lone surrogate could not be encoded to be hashed (see the module doc)
    body = {k: v for k, v in unicode_only(event).items() if k not in ("prev", "hash", "mac")}
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
        if key is not None and lines and not any("mac" in _fields(line) for line in lines):
            self.unanchored = len(lines)

    def append(self, fields: Mapping[str, Any]) -> None:
        """Write one line: an event's ``to_json()`` (or, in tests, any JSON object)."""
        check_log_path(self.path)  # never write through a link, nor into something else
        line = _seal(fields, self._last, self.key)
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


def _fields(line: str) -> Fields:
    try:
        fields = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return fields if isinstance(fields, dict) else {}


def read_events(path: Path) -> list[Fields]:
    """Every line of a log that verifies as it stands, ``prev`` and ``hash`` included:
    for looking at the file itself (decisions read :attr:`Verification.events`)."""
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
    open_intents: list[ChangeStarted] = field(default_factory=list)
    events: list[Entry] = field(default_factory=list)
    """Every entry read, typed (up to the first bad line when the chain is broken)."""
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
    started: dict[str, ChangeStarted] = {}
    events: list[Entry] = []
    first_mac: int | None = None
    for number, line in enumerate(complete, start=1):
        fields, problem = _check_line(line, prev)
        if problem is None and key is not None:
            problem, first_mac = _check_mac(fields, key, number, first_mac)
        if problem:
            return Verification(
                False, len(complete), number, problem, events=events, anchored_from=first_mac
            )
        event = parse_event(fields)
        events.append(event)
        # Any line with the change's id is its outcome, even one no reader acts on.
        change = fields.get("change_id")
        if isinstance(event, ChangeStarted) and event.change_id:
            started[event.change_id] = event
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


def _check_line(line: str, prev: str) -> tuple[Fields, str | None]:
    """The line's fields, and its problem (None: it is whole and follows ``prev``).

    Reading and hashing a line anyone pushed can fail in more ways than bad JSON:
    nesting deep enough raises RecursionError, and a lone surrogate (a JSON escape such
    as ``"\\ud800"``) decodes but cannot be encoded to be hashed. Each is a problem of
    that line, never an error of the run.
    """
    try:
        event = json.loads(line)
    except RecursionError:
        return {}, "nested too deeply to be a log entry (edited)"
    except ValueError:
        return {}, "not a complete JSON object (edited or truncated)"
    if not isinstance(event, dict) or "hash" not in event or "prev" not in event:
        return {}, "not a log entry (no prev/hash)"
    wrong = _wrong_types(event)
    if wrong:
        return {}, f"not a log entry ({wrong} has the wrong type)"
    body = {k: v for k, v in event.items() if k not in ("hash", "mac")}
    try:
        digest = _digest(_canonical(body))
    except UnicodeError:
        return {}, "it holds a lone surrogate, which is not text: grantops never writes one"
    except RecursionError:
        return {}, "nested too deeply to be a log entry (edited)"
    if digest != event["hash"]:
        return event, "its content does not match its hash (the line was edited)"
    if event["prev"] != prev:
        return event, (
            "it does not follow the line before it (lines were removed, inserted or reordered)"
        )
    return event, None


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
            "channel",
            "expires",
            "starts",
            "merge_commit",
            "author",
            "merged_at",
            "merged_by",
            "approved_at",
            "base_permission",
            "prev",
            "hash",
            "mac",
        ),
        (str, type(None)),
    ),
    "pull": (int, type(None)),
    **dict.fromkeys(("lines", "repositories", "managed"), (int,)),
    **dict.fromkeys(
        ("approvers", "grantables", "notes", "mass_removal_override", "owners"), (list,)
    ),
    "unmanaged": (list, type(None)),
    **dict.fromkeys(("planned", "results"), (dict,)),
}
"""What each field the log's readers use must hold. A line anyone pushed with a list
where a name belongs must break the chain, not crash the run that would end access."""


def _wrong_types(event: Fields) -> str | None:
    for name, value in event.items():
        allowed = _FIELD_TYPES.get(name)
        if allowed is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            return f"'{name}'"
    return None


def _check_mac(
    event: Fields, key: bytes, number: int, first_mac: int | None
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


def invitations_sent(events: Iterable[Entry]) -> dict[tuple[Principal, Target, str | None], int]:
    """How many invitations the log says were sent per (user, repository, grant file)."""
    counts: dict[tuple[Principal, Target, str | None], int] = {}
    for event in events:
        if not isinstance(event, InvitationSent):
            continue
        change = event.change
        if change.principal.kind == "user" and change.target.kind == "repo":
            key = (change.principal, change.target, change.source)
            counts[key] = counts.get(key, 0) + 1
    return counts


INVITATION_LIFETIME = timedelta(days=7)
"""GitHub expires a repository invitation nobody accepted after seven days."""


def invitations_sent_since(
    events: Iterable[Entry], since: datetime
) -> frozenset[tuple[Principal, Target, str | None]]:
    """(user, repository, grant file) of the invitations the log says were sent at or
    after ``since``: those that may still be pending."""
    return frozenset(
        (e.change.principal, e.change.target, e.change.source)
        for e in events
        if isinstance(e, InvitationSent) and e.ts >= since
    )


def honoured_grantables(events: Iterable[Entry]) -> frozenset[tuple[str, Principal, Target]]:
    """(grant file, principal, target) that a run logged as proven while the grant held.

    apply writes ``grant-approved`` (with the file's ``grantables``) when it first proves
    a grant; an entry counts only when the run that wrote it (its ``run-start`` ``now``,
    else the event's ``ts``) was before the grant's ``expires``. Anyone who can push can
    write such a line, so this only tells a run where access may be about to end (read
    those targets first); whether access has ended is decided from git and the reviews
    (:meth:`grantops.proof.prover.Prover.expiries`).
    """
    run_now: dict[str, datetime] = {}
    honoured: set[tuple[str, Principal, Target]] = set()
    for event in events:
        if isinstance(event, RunStart):
            run_now[event.run] = event.now
        elif isinstance(event, GrantApproved) and run_now.get(event.run, event.ts) < event.expires:
            honoured.update((event.source, p, t) for p, t, _level in event.grantables)
    return frozenset(honoured)


def first_named(events: Iterable[Entry], source: str) -> datetime | None:
    """When the log first names the grant file ``source`` (None: it never does)."""
    return next((e.ts for e in events if isinstance(e, Sourced) and e.source == source), None)
