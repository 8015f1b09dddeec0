"""``audit/report.md``: the state of access and what changed, for people and auditors.

Rendered from plain data (pure): access now in managed scope, active grants with time
left and who approved them, this run's changes, drift removed, grants ending within a
day, grants that ended recently with what the grantee did meanwhile, unapproved
grants, and a Mermaid timeline of the last 14 days and the next 7.

Every value in it comes from grant files, GitHub or the audit log, which anyone who can
push may edit, so each is escaped for Markdown by :mod:`grantops.safetext`: a reason or
a commit title cannot add a heading, HTML, a link, a mention or a table cell.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tabulate import tabulate

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState
from grantops.audit import orgfacts
from grantops.audit.changes import readable
from grantops.audit.events import Entry, GrantApproved, OutcomeEvent
from grantops.audit.history import CLOSING, OPENING
from grantops.desired import DesiredState
from grantops.github.activity import Activity
from grantops.model import Grant, Grantable, Policy, window_open
from grantops.plan import Outcome, Plan
from grantops.safetext import for_markdown, for_markdown_cell, for_markdown_code, one_line
from grantops.values import format_duration, format_timestamp

PAST = timedelta(days=14)
AHEAD = timedelta(days=7)
SOON = timedelta(hours=24)


@dataclass(frozen=True)
class GrantRecord:
    """One grant as the report knows it: from its file, or from the log once deleted."""

    source: str
    grantables: tuple[Grantable, ...]
    starts: datetime | None
    expires: datetime
    reason: str
    approvers: tuple[str, ...] = ()
    pull: int | None = None
    author: str | None = None
    """Who opened the pull request, when the log's ``grant-approved`` says."""
    opened: datetime | None = None
    """When the log shows the grant first gave access (or was first proven): where a
    grant without ``starts`` begins."""
    revoked: datetime | None = None
    """When the log shows its access removed as revoked: the grant ended there."""

    @property
    def who(self) -> str:
        return ", ".join(sorted({str(p) for p, _, _ in self.grantables}))

    @property
    def what(self) -> str:
        return ", ".join(f"{level} on {target}" for _, target, level in self.grantables)

    def active_at(self, now: datetime) -> bool:
        """Inside its window (:func:`grantops.model.window_open`): a record may come from
        the log alone, without a grant file to ask."""
        return window_open(self.starts, self.expires, now)

    @property
    def opens(self) -> datetime:
        """Where the timeline starts its bar: ``starts``, else when the log shows it
        opened, else an hour before the end (or the end itself for a window that ends in
        the first hour of year 1)."""
        if self.starts is not None or self.opened is not None:
            return min(t for t in (self.starts, self.opened) if t is not None)
        try:
            return self.expires - timedelta(hours=1)
        except OverflowError:
            return self.expires

    @property
    def closes(self) -> datetime:
        """Where its access ended: when it was revoked, else when it expires."""
        return min(self.revoked, self.expires) if self.revoked else self.expires

    def revoked_by(self, now: datetime) -> bool:
        return self.revoked is not None and self.revoked <= now

    def ended_recently(self, now: datetime) -> bool:
        """Ended, within :data:`PAST`: the report shows what was done meanwhile, and the
        grant's pull request is told its access has ended."""
        return self.expires <= now and now - self.expires <= PAST


def grant_records(
    grants: Sequence[Grant], events: Sequence[Entry], org: str, honoured: Collection[str]
) -> list[GrantRecord]:
    """Grants from the log's approvals, updated by the current files that are honoured."""
    opened, revoked = _opened_and_revoked(events)
    found: dict[str, GrantRecord] = {}
    for event in events:
        if not isinstance(event, GrantApproved):
            continue
        found[event.source] = GrantRecord(
            source=event.source,
            grantables=event.grantables,
            starts=event.starts,
            expires=event.expires,
            reason=event.reason or "",
            approvers=event.approvers,
            pull=event.pull,
            author=event.author,
            opened=opened.get(event.source),
            revoked=revoked.get(event.source),
        )
    for grant in grants:
        expires = grant.expires
        if grant.path not in honoured or expires is None:  # pending: no window to show yet
            continue
        logged = found.get(grant.path)
        found[grant.path] = GrantRecord(
            source=grant.path,
            grantables=tuple(grant.grantables(org)),
            starts=grant.starts,
            expires=expires,
            reason=grant.spec.reason,
            approvers=logged.approvers if logged else (),
            pull=logged.pull if logged else None,
            author=logged.author if logged else None,
            opened=opened.get(grant.path),
            revoked=revoked.get(grant.path),
        )
    return sorted(found.values(), key=lambda r: (r.expires, r.source))


def _opened_and_revoked(
    events: Sequence[Entry],
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Per grant file, when the log first shows it (proven or giving access), and when
    its access was removed as revoked after its newest version was proven."""
    opened: dict[str, datetime] = {}
    revoked: dict[str, datetime] = {}
    for event in events:
        if isinstance(event, GrantApproved):
            opened.setdefault(event.source, event.ts)
            revoked.pop(event.source, None)
        elif isinstance(event, OutcomeEvent) and event.source:
            if isinstance(event, OPENING):
                opened.setdefault(event.source, event.ts)
            elif isinstance(event, CLOSING) and event.change.cause == "revoked":
                revoked.setdefault(event.source, event.ts)
    return opened, revoked


def access_after(actual: ActualState, outcomes: Sequence[Outcome]) -> ActualState:
    """Actual access once this run's successful changes took effect."""
    access, invitations = dict(actual.access), dict(actual.invitations)
    for outcome in outcomes:
        change = outcome.change
        key = (change.principal, change.target)
        if outcome.result == "failed":
            continue
        if change.action == "remove":
            access.pop(key, None)
        elif change.action == "cancel_invitation":
            invitations.pop(key, None)
        elif outcome.result == "invited":
            invitations[key] = change.after or ""
        else:
            access[key] = change.after or ""
    return ActualState(actual.org, access, invitations, actual.owners)


@dataclass(frozen=True)
class ReportInput:
    now: datetime
    run: str
    policy: Policy
    plan: Plan
    desired: DesiredState
    access: ActualState
    outcomes: Sequence[Outcome]
    records: Sequence[GrantRecord]
    activity: Mapping[str, Sequence[tuple[Target, Sequence[Activity]]]] = field(
        default_factory=dict
    )
    events: Sequence[Entry] = ()
    """The audit log as it stands after this run."""


def _table(rows: list[list[str]], headers: list[str], empty: str) -> str:
    """A GitHub table of escaped cells (tabulate must not read ``+1`` as a number)."""
    if not rows:
        return f"_{empty}_"
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _code(text: object) -> str:
    return for_markdown_code(str(text), cell=True) if text else ""


def _cell(text: object) -> str:
    return for_markdown_cell(str(text)) if text is not None else ""


def _ref(text: str) -> str:
    """A pull request ``#N`` or a commit sha, shown as GitHub links it; else plain text."""
    return text if re.fullmatch(r"#\d+|[0-9a-f]{7,40}", text) else _cell(text)


def _left(until: datetime, now: datetime) -> str:
    return format_duration(until - now) if until > now else "ended"


def _section(title: str, body: str) -> str:
    return f"## {title}\n\n{body}\n"


def _open(data: ReportInput) -> list[GrantRecord]:
    """Grants inside their window and not revoked."""
    return [r for r in data.records if r.active_at(data.now) and not r.revoked_by(data.now)]


def _in_place(record: GrantRecord, access: ActualState) -> bool:
    """Whether GitHub gives (or has invited to) everything the grant gives."""
    held = access.access.keys() | access.invitations.keys()
    return all((principal, target) in held for principal, target, _ in record.grantables)


def _active(data: ReportInput) -> list[GrantRecord]:
    """Open grants whose access is in place: only those are access."""
    return [r for r in _open(data) if _in_place(r, data.access)]


def _not_in_place(data: ReportInput) -> list[GrantRecord]:
    return [r for r in _open(data) if not _in_place(r, data.access)]


def summary(data: ReportInput) -> str:
    counts = {
        r: sum(1 for o in data.outcomes if o.result == r) for r in ("done", "invited", "failed")
    }
    drift = [o for o in data.outcomes if o.change.cause == "undeclared" and o.result != "failed"]
    return (
        f"# Access report: {for_markdown(data.policy.org)}\n\n"
        f"Generated at {format_timestamp(data.now)} by run {for_markdown_code(data.run)}.\n\n"
        f"- Grants open now: **{len(_active(data))}**\n"
        f"- Open grants not in place: **{len(_not_in_place(data))}**\n"
        f"- Changes this run: **{len(data.outcomes)}** ({counts['done']} done, "
        f"{counts['invited']} awaiting acceptance, {counts['failed']} failed)\n"
        f"- Drift removed this run: **{len(drift)}**\n"
        f"- Unapproved grants: **{len(data.plan.unapproved)}**\n"
    )


def changes_section(data: ReportInput) -> str:
    rows = [
        [
            o.change.action.replace("_", " "),
            _code(o.change.principal),
            _code(o.change.target),
            _cell(o.change.before),
            _cell(o.change.after),
            o.change.cause,
            _code(o.change.source),
            o.result,
        ]
        for o in data.outcomes
    ]
    headers = ["change", "who", "target", "from", "to", "cause", "grant", "result"]
    return _section("Changes made by this run", _table(rows, headers, "No changes."))


def render(data: ReportInput) -> str:
    """The whole report: the summary, then each section in the order readers look."""
    sections = (
        summary,
        lambda data: orgfacts.section(data.events),
        _access_section,
        _active_section,
        _not_in_place_section,
        changes_section,
        _drift_section,
        _ending_section,
        _ended_section,
        _unapproved_section,
        _timeline_section,
    )
    return "\n".join(section(data) for section in sections)


def _by_target(item: tuple[AccessKey, str]) -> tuple[Target, Principal]:
    (principal, target), _level = item
    return target, principal


def _access_section(data: ReportInput) -> str:
    """Access in managed scope, and what declares it (or why it is left alone)."""
    kept = {(k.principal, k.target): _cell(f"left alone: {k.reason}") for k in data.plan.kept}
    rows = []
    for (principal, target), level in sorted(data.access.access.items(), key=_by_target):
        if not data.policy.in_scope(target):
            continue
        source = data.desired.access.get((principal, target))
        declared = _code(source.source) if source else kept.get((principal, target), "not declared")
        rows.append([_code(target), _code(principal), _cell(level), declared])
    for (principal, target), level in sorted(data.access.invitations.items(), key=_by_target):
        if data.policy.in_scope(target):
            invited = _cell(f"{level} (invited)")
            rows.append([_code(target), _code(principal), invited, "pending acceptance"])
    headers = ["target", "who", "access", "declared by"]
    return _section("Access now in managed scope", _table(rows, headers, "No access in scope."))


def _grant_row(record: GrantRecord, now: datetime) -> list[str]:
    """A grant, who it is for, what it gives, when it ends and how long that is from now."""
    return [
        _code(record.source),
        _cell(record.who),
        _cell(record.what),
        format_timestamp(record.expires),
        _left(record.expires, now),
    ]


def _active_section(data: ReportInput) -> str:
    rows = [
        [
            *_grant_row(r, data.now),
            _cell(", ".join(r.approvers)),
            f"#{r.pull}" if isinstance(r.pull, int) else "",  # a number: a link, not text
        ]
        for r in _active(data)
    ]
    headers = ["grant", "who", "access", "ends", "time left", "approved by", "PR"]
    return _section("Active grants", _table(rows, headers, "No grant is open."))


def _not_in_place_section(data: ReportInput) -> str:
    """Open grants GitHub does not give: a failed add is never shown as access."""
    failed = {o.change.source: o for o in data.outcomes if o.result == "failed"}
    rows = []
    for record in _not_in_place(data):
        outcome = failed.get(record.source)
        why = readable(outcome.detail) if outcome else "not applied yet (see the plan's notes)"
        rows.append([_code(record.source), _cell(record.who), _cell(record.what), _cell(why)])
    headers = ["grant", "who", "access", "why it is not in place"]
    table = _table(rows, headers, "Every open grant is in place.")
    return _section("Open grants not in place", table)


def _drift_section(data: ReportInput) -> str:
    rows = [
        [
            _code(o.change.principal),
            _code(o.change.target),
            _cell(o.change.before),
            o.change.action.replace("_", " "),
            o.result,
        ]
        for o in data.outcomes
        if o.change.cause == "undeclared"
    ]
    headers = ["who", "target", "had", "action", "result"]
    table = _table(rows, headers, "No undeclared access was found.")
    return _section("Drift found and removed", table)


def _ending_section(data: ReportInput) -> str:
    soon = [r for r in _active(data) if r.expires - data.now <= SOON]
    rows = [_grant_row(r, data.now) for r in soon]
    headers = ["grant", "who", "access", "ends", "time left"]
    table = _table(rows, headers, "Nothing ends within a day.")
    return _section("Ending in the next 24 hours", table)


def _ended_section(data: ReportInput) -> str:
    ended = [r for r in data.records if r.ended_recently(data.now)]
    parts = [_ended_grant(r, data.activity.get(r.source, [])) for r in ended]
    body = "\n".join(parts or ["_No grant ended in the last 14 days._"])
    return f"## Recently ended grants and what was done with them\n\n{body}"


def _ended_grant(record: GrantRecord, done: Sequence[tuple[Target, Sequence[Activity]]]) -> str:
    """One ended grant: its window, why and who approved it, and what the grantee did."""
    opened = format_timestamp(record.starts) if record.starts else "merge"
    window = f"{opened} to {format_timestamp(record.expires)}"
    title = f"{for_markdown_code(record.source)}: {_cell(record.who)}, {_cell(record.what)}"
    approvers = _cell(", ".join(record.approvers)) or "n/a"
    rows = [
        [_cell(target), _cell(a.kind), _ref(a.ref), _cell(a.title), _cell(a.at)]
        for target, items in done
        for a in items
    ]
    table = _table(
        rows,
        ["repository", "kind", "ref", "title", "at"],
        "Nothing was committed or merged by the grantee in the window.",
    )
    return f"### {title}\n{window}; {_cell(record.reason)}; approved by {approvers}.\n\n{table}\n"


def _unapproved_section(data: ReportInput) -> str:
    rows = [[_code(u.source), _cell(u.reason)] for u in data.plan.unapproved]
    headers = ["grant", "why it gives no access"]
    return _section("Unapproved grants", _table(rows, headers, "Every open grant is approved."))


def _timeline_section(data: ReportInput) -> str:
    return _section("Timeline", timeline(data.records, data.now))


def timeline(records: Sequence[GrantRecord], now: datetime) -> str:
    """A Mermaid gantt chart of grants from 14 days ago to 7 days ahead."""
    start, end = now - PAST, now + AHEAD
    shown = [r for r in records if r.opens < end and r.closes > start]
    lines = [
        "```mermaid",
        "gantt",
        f"    title Grants from {format_timestamp(start)[:10]} to {format_timestamp(end)[:10]}",
        "    dateFormat YYYY-MM-DDTHH:mm",
        "    axisFormat %m-%d",
        "    todayMarker off",
    ]
    by_target: dict[str, list[tuple[str, GrantRecord]]] = {}
    for record in shown:
        for principal, target, level in record.grantables:
            by_target.setdefault(str(target), []).append((f"{principal} {level}", record))
    for index, (section, items) in enumerate(sorted(by_target.items())):
        lines.append(f"    section {_mermaid(section)}")
        for number, (label, record) in enumerate(items):
            opens, closes = record.opens, record.closes
            state = "done" if closes <= now else "active" if opens <= now else ""
            tag = ", ".join(x for x in (state, f"g{index}_{number}") if x)
            span = f"{opens:%Y-%m-%dT%H:%M}, {closes:%Y-%m-%dT%H:%M}"
            lines.append(f"    {_mermaid(label)} :{tag}, {span}")
    lines.append("    section now")
    lines.append(f"    now :milestone, m0, {now:%Y-%m-%dT%H:%M}, 0m")
    lines.append("```")
    return "\n".join(lines)


def _mermaid(text: str) -> str:
    """Gantt labels may not contain ':' or '#' (they separate fields), nor end the line
    (a label from the log could otherwise close the code block)."""
    return one_line(text).replace(":", " ").replace("#", "")
