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


def due(
    records: Sequence[GrantRecord],
    events: Sequence[Entry],
    now: datetime,
    before: timedelta,
    org: str,
    failed_sources: frozenset[str] = frozenset(),
    mention_teams: bool = False,
) -> list[Notice]:
    sent = {(e.source, e.pull, e.kind) for e in events if isinstance(e, NotificationSent)}
    notices = []
    for record in records:
        if record.pull is None:
            continue  # no reviewed pull request to comment on
        what, ends = for_markdown_cell(record.what), format_timestamp(record.expires)
        who, cc = _addressed(record, org, mention_teams)
        wanted: list[tuple[Kind, str]] = []
        if record.active_at(now) and record.source not in failed_sources:
            source = for_markdown_code(record.source)
            wanted.append(("started", f"access is open: {what}, until {ends} ({source})."))
            if record.expires - now <= before:
                left = format_duration(record.expires - now)
                wanted.append(("ending", f"heads-up: {what} ends at {ends}, in {left}."))
        elif record.ended_recently(now) and (record.source, record.pull, "started") in sent:
            wanted.append(("ended", f"access has ended and was removed: {what} (ended {ends})."))
        notices += [
            Notice(kind, record.source, record.pull, f"{who} {text}{cc}")
            for kind, text in wanted
            if (record.source, record.pull, kind) not in sent
        ]
    return notices
