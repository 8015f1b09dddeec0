"""Which notices are due on each grant's pull request (pure).

A notice is posted when access starts, when it is about to end (``notify.before``
ahead) and when it has ended, each once per grant version (its pull request); the
audit log remembers what was sent, so repeated runs never repeat a notice.

A notice mentions the grantee users, each once, and copies the pull request's author;
a team is named, and mentioned only when the policy asks (``mention_teams``): pinging
a whole team on every grant teaches people to ignore grantops. A comment is Markdown,
and its names come from the audit log, which anyone who can push may edit: only valid
logins are mentioned, and everything else is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeGuard

from grantops.audit.events import Entry, NotificationSent
from grantops.audit.report import GrantRecord
from grantops.safetext import for_markdown, for_markdown_cell, for_markdown_code
from grantops.values import LOGIN_PATTERN, TEAM_SLUG_PATTERN, format_duration, format_timestamp

Kind = Literal["started", "ending", "ended"]


@dataclass(frozen=True)
class Notice:
    kind: Kind
    source: str
    pull: int
    text: str


def _is_login(name: object) -> TypeGuard[str]:
    """Whether ``name`` can only be a GitHub login (so mentioning it pings that person)."""
    return isinstance(name, str) and len(name) <= 39 and bool(re.fullmatch(LOGIN_PATTERN, name))


def _addressed(record: GrantRecord, org: str, mention_teams: bool) -> tuple[str, str]:
    """Who the notice is for (grantee users mentioned once each, teams named) and a
    closing ``cc`` of the pull request's author, unless they are a grantee."""
    names: list[str] = []
    mentioned: set[str] = set()
    for principal in sorted({p for p, _, _ in record.grantables}, key=lambda p: str(p).lower()):
        name = principal.name
        if principal.kind == "user" and _is_login(name):
            if name.lower() not in mentioned:
                names.append(f"@{name}")
                mentioned.add(name.lower())
        elif principal.kind == "team" and re.fullmatch(TEAM_SLUG_PATTERN, name) and _is_login(org):
            names.append(f"@{org}/{name}" if mention_teams else f"team {org}/{name}")
        else:
            names.append(for_markdown(str(principal)))
    author = record.author
    cc = f" cc @{author}" if _is_login(author) and author.lower() not in mentioned else ""
    return " ".join(names), cc


def wanted(
    records: Sequence[GrantRecord],
    events: Sequence[Entry],
    now: datetime,
    before: timedelta,
    failed_sources: frozenset[str] = frozenset(),
) -> list[tuple[GrantRecord, Kind]]:
    """Every notice each grant's window calls for now, on any channel, sent or not.

    A grant whose access failed to start gets no ``started``; ``ended`` follows only a
    ``started`` delivered somewhere, so grants that ended before grantops noticed them
    are not announced."""
    started = {
        (e.source, e.pull)
        for e in events
        if isinstance(e, NotificationSent) and e.kind == "started"
    }
    found: list[tuple[GrantRecord, Kind]] = []
    for record in records:
        if record.pull is None:
            continue  # no reviewed pull request: nothing to announce about it
        if record.active_at(now) and record.source not in failed_sources:
            found.append((record, "started"))
            if record.expires - now <= before:
                found.append((record, "ending"))
        elif record.ended_recently(now) and (record.source, record.pull) in started:
            found.append((record, "ended"))
    return found


def delivered(events: Sequence[Entry], channel: str | None) -> set[tuple[str, int | None, str]]:
    """The notices the log says were delivered on ``channel``: source, pull, kind."""
    return {
        (e.source, e.pull, e.kind)
        for e in events
        if isinstance(e, NotificationSent) and e.channel == channel
    }


def _comment(kind: Kind, record: GrantRecord, now: datetime) -> str:
    what, ends = for_markdown_cell(record.what), format_timestamp(record.expires)
    if kind == "started":
        return f"access is open: {what}, until {ends} ({for_markdown_code(record.source)})."
    if kind == "ending":
        left = format_duration(record.expires - now)
        return f"heads-up: {what} ends at {ends}, in {left}."
    return f"access has ended and was removed: {what} (ended {ends})."


def due(
    records: Sequence[GrantRecord],
    events: Sequence[Entry],
    now: datetime,
    before: timedelta,
    org: str,
    failed_sources: frozenset[str] = frozenset(),
    mention_teams: bool = False,
) -> list[Notice]:
    """The comments due on grant pull requests: each notice not yet posted there."""
    sent = delivered(events, None)
    notices = []
    for record, kind in wanted(records, events, now, before, failed_sources):
        if record.pull is None or (record.source, record.pull, kind) in sent:
            continue
        who, cc = _addressed(record, org, mention_teams)
        text = f"{who} {_comment(kind, record, now)}{cc}"
        notices.append(Notice(kind, record.source, record.pull, text))
    return notices
