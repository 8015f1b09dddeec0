"""The org itself, as the audit log records it: owners, base role and coverage.

An auditor asks more than who holds access through grants: who owns the org (owners
can do anything, whatever the grants say), what its base role gives every member on
every repository, and how much of the org grantops manages at all. A run writes an
``org-facts`` line when these differ from the last one logged (see
:meth:`grantops.audit.record.Recorder.org_facts`), so the latest line at or before a
time is what held then. This module finds that line and renders it as a section of a
report (pure). Every value comes from GitHub or a log anyone can push to, so each is
escaped for Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from grantops.actual import OrgFacts
from grantops.audit.events import Entry, OrgFactsRecorded
from grantops.safetext import for_markdown_code
from grantops.values import format_timestamp


def latest(
    events: Iterable[Entry], until: datetime | None = None, org: str | None = None
) -> OrgFactsRecorded | None:
    """The last ``org-facts`` line written before ``until`` (any, without it), for
    ``org`` when given."""
    found = None
    for event in events:
        if not isinstance(event, OrgFactsRecorded):
            continue
        if until is not None and event.ts > until:
            continue
        if org is None or event.org.lower() == org.lower():
            found = event
    return found


def facts_of(event: OrgFactsRecorded) -> OrgFacts:
    """The facts a line records, to compare with what a read finds now."""
    return OrgFacts(
        owners=event.owners,
        base_permission=event.base_permission,
        repositories=event.repositories,
        managed=event.managed,
        unmanaged=event.unmanaged,
    )


def section(
    events: Iterable[Entry], until: datetime | None = None, since: datetime | None = None
) -> str:
    """``## Organisation``: the facts that held at ``until`` (the latest, without it), and
    when they were recorded; a report of the period from ``since`` says when that was
    before the period."""
    event = latest(events, until)
    if event is None:
        return _section("_No run has recorded the organisation's owners and settings yet._")
    recorded = f"run {for_markdown_code(event.run)} at {format_timestamp(event.ts)}"
    earlier = since is not None and event.ts < since
    when = ", before this period and unchanged since" if earlier else ""
    lines = [
        f"- Owners ({len(event.owners)}): {_names(event.owners) or '_none_'}",
        f"- Base permission: {for_markdown_code(event.base_permission)} for every member on "
        "every repository",
        f"- Coverage: {_coverage(event)}",
        "",
        f"_As recorded by {recorded}{when}._",
    ]
    return _section("\n".join(lines))


def _coverage(event: OrgFactsRecorded) -> str:
    """``4 of 5 repositories managed; not managed: `website` ``."""
    text = f"{event.managed} of {event.repositories} repositories managed"
    outside = event.repositories - event.managed
    if outside <= 0:
        return text
    if event.unmanaged:
        return f"{text}; not managed: {_names(event.unmanaged)}"
    return f"{text}; {outside} not managed"


def _names(names: Iterable[str]) -> str:
    return ", ".join(for_markdown_code(name) for name in names)


def _section(body: str) -> str:
    return f"## Organisation\n\n{body}\n"
