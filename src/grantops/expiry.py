"""What has ended and what must be kept, from what runs proved before (pure).

Access has to end on time even on a bad day: a broken file, a policy change not yet
proven, a GitHub read that failed. So an expiry is decided from evidence nobody can
edit after the fact, not from the file as it stands: the newest version of each grant
file that the audit log shows proven (its commit), read from git and judged again
(:class:`grantops.prove.Logged`). Editing or breaking the file afterwards cannot move
that version's window.

The other way round, a failed read must never take access away: a grant whose review
could not be checked this time, but whose proven version the log knows and whose
window is still open, keeps its access (it is *held*) until the check succeeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from grantops.access import AccessKey
from grantops.approval import Approval
from grantops.audit.log import Event
from grantops.plan import Honoured
from grantops.prove import Logged


def logged_versions(events: Iterable[Event]) -> dict[str, str]:
    """Per grant file, the commit of the newest version a run logged as proven."""
    newest: dict[str, str] = {}
    for event in events:
        source, commit = event.get("source"), event.get("commit")
        approved = event.get("event") == "grant-approved"
        if approved and isinstance(source, str) and isinstance(commit, str) and commit:
            newest[source] = commit
    return newest


def logged_expiries(
    logged: Mapping[str, Logged],
    honoured: AbstractSet[Honoured],
    org: str,
    now: datetime,
) -> dict[AccessKey, str]:
    """Access that a proven, logged grant version gave, whose window has closed.

    Each key maps to its grant file. A version counts only when it is proven now and
    the log shows its access honoured while it held (``honoured``); a version proven
    only after it ended never gave anything.
    """
    ended: dict[AccessKey, str] = {}
    for path, version in sorted(logged.items()):
        grant = version.grant
        if not version.verdict.approved or grant is None or now < grant.expires:
            continue
        for principal, target, _level in grant.grantables(org):
            if (path, principal, target) in honoured:
                ended.setdefault((principal, target), path)
    return ended


@dataclass(frozen=True)
class Hold:
    """Access kept although its grant gives nothing this run, and why."""

    source: str
    reason: str


def held(
    verdicts: Mapping[str, Approval],
    logged: Mapping[str, Logged],
    org: str,
    now: datetime,
) -> dict[AccessKey, Hold]:
    """Access kept because a grant's review could not be checked this run.

    Only for a verdict that is *undecided* (a GitHub read failed), never for a refusal,
    and only for what the newest logged proven version of that file gives, while its
    window is open. That version counts when it is proven again now, or when that
    check failed too: the log already holds the proof, and keeping access a proven
    grant gave, inside its window, adds nothing anyone did not approve.
    """
    kept: dict[AccessKey, Hold] = {}
    for path, verdict in sorted(verdicts.items()):
        version = logged.get(path)
        if not verdict.undecided or version is None or version.grant is None:
            continue
        if not (version.verdict.approved or version.verdict.undecided):
            continue
        if not version.grant.active_at(now):
            continue
        reason = (
            f"kept: the review of {path} could not be checked ({verdict.reason}); "
            f"a run proved it at {version.commit[:7]} and its window is open"
        )
        for principal, target, _level in version.grant.grantables(org):
            kept.setdefault((principal, target), Hold(path, reason))
    return kept
