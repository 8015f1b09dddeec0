"""Access a failed read must not take away: grants *held* while they cannot be checked (pure).

A GitHub lookup that fails (a 502, a timeout, the rate limit) leaves a grant's review
*undecided*, which is not a refusal. Removing the access it gives would let a flaky API
end an incident responder's access mid-incident, so the access a proven version of that
grant file gives is kept while that version's window is open, and nothing new is added
for it. Which version, and whether it was proven, comes from the audit log's
``grant-approved`` lines (the commit of the newest proven version of each file), read
from git and judged again (:class:`grantops.proof.prover.Logged`).

A log line can be written by anyone who can push, so a version counts only when it is
proven again now, or, when that check failed too, when a line MACed with
``GRANTOPS_EVIDENCE_KEY`` names it (lines from before the key was set do not count). Whether
access has *ended* never depends on the log: see :meth:`grantops.proof.prover.Prover.expiries`.

A ``duration:`` window opens at an approving merge that only GitHub can tell. When that
read fails too, the window a run computed when it first proved the version (the
``expires`` of its ``grant-approved`` line) still ends the hold, so a flaky API can
never keep such access open past its computed end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from grantops.access import AccessKey
from grantops.audit.events import Entry, GrantApproved
from grantops.proof.prover import Logged
from grantops.proof.review import Judgement
from grantops.values import parse_timestamp


def logged_ends(events: Iterable[Entry]) -> dict[tuple[str, str], datetime]:
    """Per (grant file, commit), the earliest end any ``grant-approved`` line gives it.

    The earliest, because a line only ever shortens a hold: a pushed line with a later
    end than the run's own changes nothing, and one with an earlier end only gives up
    access that deleting the file would end as well."""
    ends: dict[tuple[str, str], datetime] = {}
    for event in events:
        if isinstance(event, GrantApproved) and event.commit:
            key = (event.source, event.commit)
            ends[key] = min(ends.get(key, event.expires), event.expires)
    return ends


def logged_versions(events: Iterable[Entry]) -> dict[str, str]:
    """Per grant file, the commit of the newest version a run logged as proven."""
    newest: dict[str, str] = {}
    for event in events:
        if isinstance(event, GrantApproved) and event.commit:
            newest[event.source] = event.commit
    return newest


@dataclass(frozen=True)
class Hold:
    """Access kept although its grant gives nothing this run, and why."""

    source: str
    reason: str


def held(
    verdicts: Mapping[str, Judgement],
    logged: Mapping[str, Logged],
    org: str,
    now: datetime,
    vouched: Mapping[str, str],
    ends: Mapping[tuple[str, str], datetime] | None = None,
) -> dict[AccessKey, Hold]:
    """Access kept because a grant's review could not be checked this run.

    Only for a verdict that is *undecided*, never for a refusal, and only for what the
    newest logged version of that file gives, while its window is open. That version
    counts when it is proven again now, or when that check failed too and a log line
    the key vouches for names it (``vouched``: file -> commit, from the MACed part of
    the log only). A ``duration:`` version whose window could not be computed this run
    is held until the end ``ends`` (from :func:`logged_ends`) gives it, and no longer.
    """
    kept: dict[AccessKey, Hold] = {}
    for path, verdict in sorted(verdicts.items()):
        version = logged.get(path)
        if not verdict.undecided or version is None or version.grant is None:
            continue
        named = vouched.get(path) == version.commit
        proven = version.verdict.approved or (version.verdict.undecided and named)
        if not proven or not _open(version, path, now, ends or {}):
            continue
        reason = (
            f"kept: the review of {path} could not be checked ({verdict.reason}); "
            f"its version of {version.commit[:7]} was proven and its window is open"
        )
        for principal, target, _level in version.grant.grantables(org):
            kept.setdefault((principal, target), Hold(path, reason))
    return kept


def _open(
    version: Logged, path: str, now: datetime, ends: Mapping[tuple[str, str], datetime]
) -> bool:
    """Whether the logged version's window is open at ``now``.

    A pending ``duration:`` version (its approving merge could not be read) is open
    until the end its ``grant-approved`` line gives, capped by its own merge plus its
    duration when it was proven now: its window cannot have opened later than that.
    """
    grant = version.grant
    if grant is None or not grant.pending:
        return grant is not None and grant.active_at(now)
    end = ends.get((path, version.commit))
    merged = version.verdict.evidence.merged_at if version.verdict.evidence else None
    if version.verdict.approved and merged is not None:
        bound = grant.opened(parse_timestamp(merged)).expires
        end = bound if end is None or bound is None else min(end, bound)
    return end is not None and now < end
