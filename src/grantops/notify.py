"""Which notices are due on each grant's pull request (pure).

A notice is posted when access starts, when it is about to end (``notify.before``
ahead) and when it has ended, each once per grant version (its pull request); the
audit log remembers what was sent, so repeated runs never repeat a notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from grantops.audit.log import Event
from grantops.audit.report import PAST, GrantRecord
from grantops.values import format_duration, format_timestamp

Kind = Literal["started", "ending", "ended"]


@dataclass(frozen=True)
class Notice:
    kind: Kind
    source: str
    pull: int
    text: str


def _mentions(record: GrantRecord, org: str) -> str:
    names = []
    for principal in sorted({p for p, _, _ in record.grantables}):
        kind, _, name = principal.partition(":")
        names.append(f"@{name}" if kind == "user" else f"@{org}/{name}")
    return " ".join(names)


def due(
    records: Sequence[GrantRecord],
    events: Sequence[Event],
    now: datetime,
    before: timedelta,
    org: str,
    failed_sources: frozenset[str] = frozenset(),
) -> list[Notice]:
    sent = {
        (e.get("source"), e.get("pull"), e.get("kind"))
        for e in events
        if e.get("event") == "notification-sent"
    }
    notices = []
    for record in records:
        if record.pull is None:
            continue  # no reviewed pull request to comment on
        opened = record.starts is None or record.starts <= now
        is_open = opened and now < record.expires
        who, what, ends = _mentions(record, org), record.what, format_timestamp(record.expires)
        wanted: list[tuple[Kind, str]] = []
        if is_open and record.source not in failed_sources:
            wanted.append(("started", f"access is open: {what}, until {ends} (`{record.source}`)."))
            if record.expires - now <= before:
                left = format_duration(record.expires - now)
                wanted.append(("ending", f"heads-up: {what} ends at {ends}, in {left}."))
        elif (
            record.expires <= now
            and now - record.expires <= PAST
            and (record.source, record.pull, "started") in sent
        ):
            wanted.append(("ended", f"access has ended and was removed: {what} (ended {ends})."))
        notices += [
            Notice(kind, record.source, record.pull, f"{who} {text}")
            for kind, text in wanted
            if (record.source, record.pull, kind) not in sent
        ]
    return notices
