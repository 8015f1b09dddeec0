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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from grantops.access import AccessKey
from grantops.audit.events import Entry, GrantApproved
from grantops.proof.prover import Logged
from grantops.proof.review import Judgement


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
) -> dict[AccessKey, Hold]:
    """Access kept because a grant's review could not be checked this run.

    Only for a verdict that is *undecided*, never for a refusal, and only for what the
    newest logged version of that file gives, while its window is open. That version
    counts when it is proven again now, or when that check failed too and a log line
    the key vouches for names it (``vouched``: file -> commit, from the MACed part of
    the log only).
    """
    kept: dict[AccessKey, Hold] = {}
    for path, verdict in sorted(verdicts.items()):
        version = logged.get(path)
        if not verdict.undecided or version is None or version.grant is None:
            continue
        named = vouched.get(path) == version.commit
        proven = version.verdict.approved or (version.verdict.undecided and named)
        if not proven or not version.grant.active_at(now):
            continue
        reason = (
            f"kept: the review of {path} could not be checked ({verdict.reason}); "
            f"its version of {version.commit[:7]} was proven and its window is open"
        )
        for principal, target, _level in version.grant.grantables(org):
            kept.setdefault((principal, target), Hold(path, reason))
    return kept
