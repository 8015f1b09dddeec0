"""The sections of ``grantops audit report``, each one table of plain records (pure).

Every section is built from the same :class:`Facts` by one function in
:data:`BUILDERS`, in the order a reviewer reads them, and each format renders the same
records (:mod:`grantops.audit.export`): Markdown, one CSV table per section, or one
JSON document. A new section is one more builder: a function of the facts that returns
a :class:`Section`, or None when the question it answers was not asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from grantops.audit import changes, orgfacts, pointintime
from grantops.audit.events import Entry
from grantops.audit.history import Version, access_periods, versions
from grantops.audit.policyfacts import PolicyAt, PolicyReview
from grantops.constants import EVIDENCE_PATH, POLICY_PATH
from grantops.values import format_duration, format_timestamp

Value = str | int | bool | list[str] | None
Record = dict[str, Value]


@dataclass(frozen=True)
class Section:
    name: str
    """How ``--section`` and the JSON document name it."""
    title: str
    columns: tuple[tuple[str, str], ...]
    """(header, record key), in the order shown."""
    records: list[Record]
    empty: str
    """What Markdown says when there are no records."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What the report is built from: the log, the question asked, and the policy."""

    events: Sequence[Entry]
    since: datetime | None
    """Start of the window; None when only a point in time was asked about."""
    until: datetime
    at: datetime | None = None
    policy_at: PolicyAt | None = None
    review: PolicyReview | None = None


def _time(value: datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def _version(version: Version | None) -> Record:
    """Who asked for, approved and merged the grant version behind a row."""
    if version is None:
        keys = ("commit", "pull", "requester", "approved_at", "merged_at", "merged_by", "reason")
        return dict.fromkeys(keys) | {"approvers": []}
    return {
        "commit": version.commit,
        "pull": version.pull,
        "requester": version.requester,
        "approvers": list(version.approvers),
        "approved_at": version.approved_at,
        "merged_at": version.merged_at,
        "merged_by": version.merged_by,
        "reason": version.reason,
    }


def periods_section(facts: Facts) -> Section | None:
    if facts.since is None:
        return None
    rows = [
        {
            "principal": p.principal,
            "level": p.level + (" (invited)" if p.pending else ""),
            "target": p.target,
            "start": _time(p.start),
            "end": _time(p.end),
            "ended": p.ended,
            "source": p.source or "baseline",
            **_version(p.version),
        }
        for p in access_periods(facts.events, facts.since, facts.until)
    ]
    columns = (
        ("who", "principal"),
        ("access", "level"),
        ("on", "target"),
        ("from", "start"),
        ("until", "end"),
        ("ended", "ended"),
        ("grant", "source"),
        ("PR", "pull"),
        ("requested by", "requester"),
        ("approved by", "approvers"),
        ("why", "reason"),
    )
    return Section("periods", "Access periods", columns, rows, "No access was held in this window.")


def versions_section(facts: Facts) -> Section | None:
    """Each reviewed version of a grant that was proven in the window or still open in it."""
    if facts.since is None:
        return None
    since, until = facts.since, facts.until
    shown = [
        v
        for v in versions(facts.events)
        if v.logged < until and (v.expires > since or v.logged >= since)
    ]
    rows = [
        {
            "source": v.source,
            **_version(v),
            "proven": _time(v.logged),
            "starts": _time(v.starts) or "at merge",
            "expires": _time(v.expires),
            "access": [f"{p} {level} on {t}" for p, t, level in v.grantables],
        }
        for v in shown
    ]
    columns = (
        ("grant", "source"),
        ("PR", "pull"),
        ("requested by", "requester"),
        ("approved by", "approvers"),
        ("approved", "approved_at"),
        ("merged", "merged_at"),
        ("merged by", "merged_by"),
        ("proven", "proven"),
        ("starts", "starts"),
        ("expires", "expires"),
        ("gives", "access"),
        ("why", "reason"),
    )
    return Section("versions", "Grant versions", columns, rows, "No grant version in this window.")


def removals_section(facts: Facts) -> Section | None:
    if facts.since is None:
        return None
    rows: list[Record] = [
        {
            "at": _time(r.at),
            "principal": r.principal,
            "target": r.target,
            "had": r.had,
            "why": r.why,
            "source": r.source,
            "pull": r.pull,
            "expires": _time(r.expires),
            "late": format_duration(r.late) if r.late is not None else None,
        }
        for r in changes.removals(facts.events, facts.since, facts.until)
    ]
    columns = (
        ("when", "at"),
        ("who", "principal"),
        ("on", "target"),
        ("had", "had"),
        ("why", "why"),
        ("grant", "source"),
        ("PR", "pull"),
        ("expired at", "expires"),
        ("removed after", "late"),
    )
    notes = (
        "Drift removed: access nothing declared, found and removed by a run. "
        "Removed after: from a grant's end to the run that removed its access.",
    )
    return Section(
        "removals", "Access removed", columns, rows, "Nothing was removed in this window.", notes
    )


def failed_section(facts: Facts) -> Section | None:
    if facts.since is None:
        return None
    rows: list[Record] = [
        {
            "at": _time(f.at),
            "action": f.action,
            "principal": f.principal,
            "target": f.target,
            "level": f.level,
            "source": f.source,
            "answer": f.answer,
        }
        for f in changes.failures(facts.events, facts.since, facts.until)
    ]
    columns = (
        ("when", "at"),
        ("change", "action"),
        ("who", "principal"),
        ("on", "target"),
        ("access", "level"),
        ("grant", "source"),
        ("GitHub said", "answer"),
    )
    notes = ("A failed change gave nobody anything; a run tries it again.",)
    empty = "No change failed in this window."
    return Section("failed", "Failed changes", columns, rows, empty, notes)


def review_section(facts: Facts) -> Section | None:
    """When the baseline was last reviewed, and by whom."""
    if facts.since is None:
        return None
    review = facts.review
    columns = (
        ("commit", "commit"),
        ("PR", "pull"),
        ("requested by", "requester"),
        ("approved by", "approvers"),
        ("merged", "merged_at"),
        ("vouched by HMAC", "vouched"),
        ("still current", "current"),
    )
    title = "Baseline review"
    if review is None:
        empty = f"No review of {POLICY_PATH} is kept in {EVIDENCE_PATH}."
        return Section("baseline-review", title, columns, [], empty)
    row: Record = {
        "commit": review.commit[:12],
        "pull": review.pull,
        "requester": review.requester,
        "approvers": list(review.approvers),
        "merged_at": review.merged_at,
        "vouched": review.vouched,
        "current": review.current,
    }
    notes = [f"The last reviewed version of {POLICY_PATH}, which declares the baseline."]
    if not review.current:
        notes.append("The policy changed after this review: its newest version is not proven.")
    return Section("baseline-review", title, columns, [row], "", tuple(notes))


def organisation_section(facts: Facts) -> Section | None:
    """Who owned the org, its base role and how much of it was managed, as the last run
    before the end of the period (or the point in time) recorded them."""
    when = facts.at or facts.until
    event = orgfacts.latest(facts.events, when)
    columns = (
        ("owners", "owners"),
        ("base permission", "base_permission"),
        ("repositories", "repositories"),
        ("managed", "managed"),
        ("not managed", "unmanaged"),
        ("recorded", "recorded"),
    )
    title = "Organisation"
    if event is None:
        empty = "No run has recorded the organisation's owners and settings yet."
        return Section("organisation", title, columns, [], empty)
    row: Record = {
        "owners": list(event.owners),
        "base_permission": event.base_permission,
        "repositories": event.repositories,
        "managed": event.managed,
        "unmanaged": list(event.unmanaged) if event.unmanaged is not None else None,
        "recorded": format_timestamp(event.ts),
    }
    notes = [
        "Owners can change any access, whatever the grants say; the base permission "
        "applies to every member on every repository."
    ]
    if event.unmanaged is None:
        notes.append(
            f"{event.repositories - event.managed} repositories are not managed (too many to name)."
        )
    return Section("organisation", title, columns, [row], "", tuple(notes))


def at_section(facts: Facts) -> Section | None:
    """Who had access to what at one moment, the baseline included and teams expanded."""
    if facts.at is None:
        return None
    policy = facts.policy_at.policy if facts.policy_at else None
    held = pointintime.access_at(policy, facts.events, facts.at)
    rows = [
        {
            "principal": h.principal,
            "level": h.level,
            "target": h.target,
            "via": h.via,
            "since": _time(h.since),
            **_version(h.version),
        }
        for h in held
    ]
    columns = (
        ("who", "principal"),
        ("access", "level"),
        ("on", "target"),
        ("through", "via"),
        ("since", "since"),
        ("PR", "pull"),
        ("approved by", "approvers"),
    )
    notes = [f"Baseline from {facts.policy_at.source}." if facts.policy_at else ""]
    notes += [
        f"{team}: its members are in neither the policy nor the log; GitHub knows them."
        for team in pointintime.teams_without_members(held)
    ]
    notes.append("Access added by hand shows only once a run found it (see drift removed).")
    title = f"Access at {format_timestamp(facts.at)}"
    return Section("at", title, columns, rows, "Nobody had access.", tuple(n for n in notes if n))


Builder = Callable[[Facts], Section | None]

BUILDERS: tuple[Builder, ...] = (
    periods_section,
    versions_section,
    removals_section,
    failed_section,
    review_section,
    organisation_section,
    at_section,
)
"""Every section, in the order shown; add a builder here for a new one."""

NAMES = (
    "periods",
    "versions",
    "removals",
    "failed",
    "baseline-review",
    "organisation",
    "at",
)
"""The sections ``--section`` may choose, as their builders name them."""


def build(facts: Facts) -> list[Section]:
    """The sections the facts answer (those whose question was asked)."""
    return [section for builder in BUILDERS if (section := builder(facts)) is not None]
