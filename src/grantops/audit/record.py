"""What apply writes to the audit log, event by event.

``change-started`` is written (and synced) before each mutation and an outcome event
after it, both carrying the same ``change_id``; a run that dies in between leaves an
intent without an outcome, which ``grantops audit verify`` reports.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from grantops.audit.log import AuditLog, Event
from grantops.model import Grant
from grantops.plan import Change, Outcome, Plan
from grantops.proof.review import Judgement
from grantops.safety import Verdict
from grantops.values import format_timestamp

OUTCOME_EVENTS = {
    ("add", "done"): "access-added",
    ("add", "invited"): "invitation-sent",
    ("update", "done"): "access-changed",
    ("update", "invited"): "invitation-sent",
    ("cancel_invitation", "done"): "invitation-cancelled",
}


def outcome_event(outcome: Outcome) -> str:
    change = outcome.change
    if outcome.result == "failed":
        return "change-failed"
    if change.action == "remove":
        return "drift-removed" if change.cause == "undeclared" else "access-removed"
    return OUTCOME_EVENTS[(change.action, outcome.result)]


def change_fields(change: Change) -> dict[str, Any]:
    return {
        "principal": str(change.principal),
        "target": str(change.target),
        "from": change.before,
        "to": change.after,
        "cause": change.cause,
        "source": change.source,
    }


class Recorder:
    """Writes one run's events with a shared run id and a clock for timestamps."""

    def __init__(self, log: AuditLog, run: str, clock: Callable[[], datetime]) -> None:
        self.log, self.run, self.clock = log, run, clock
        self._ids = itertools.count(1)
        self._opening: dict[str, Any] | None = None
        self.started = False
        self.written: list[Event] = []

    def event(self, name: str, /, **fields: Any) -> Event:
        if self._opening is not None and name != "run-start":
            opening, self._opening = self._opening, None
            self.event("run-start", **opening)
        clean = {k: v for k, v in fields.items() if v is not None}
        self.started = True
        event = self.log.append(
            {"ts": format_timestamp(self.clock()), "run": self.run, "event": name, **clean}
        )
        self.written.append(event)
        return event

    def run_start(self, plan: Plan, verdict: Verdict, notes: Iterable[str]) -> None:
        """Open the run; written with the run's first event, so idle runs leave no lines.

        The first run with the key on a log that has no MAC yet anchors it at once, so
        ``audit verify`` need not wait for something to happen.
        """
        self._opening = {
            "now": format_timestamp(plan.now),
            "org": plan.org,
            "planned": plan.summary,
            "mass_removal_override": [r.message for r in verdict.refusals]
            if verdict.overridden
            else None,
            "notes": list(notes) or None,
        }
        if self.log.unanchored:
            self.event("log-anchored", lines=self.log.unanchored)

    def approvals(
        self,
        grants: Iterable[Grant],
        verdicts: dict[str, Judgement],
        previous: list[Event],
        org: str,
    ) -> None:
        """Log each newly proven grant once per file commit, and each new refusal once."""
        seen = {
            (e.get("source"), e.get("commit"), "grant-approved", None)
            if e.get("event") == "grant-approved"
            else (e.get("source"), e.get("commit"), "grant-unapproved", e.get("reason"))
            for e in previous
            if e.get("event") in ("grant-approved", "grant-unapproved")
        }
        for grant in grants:
            verdict = verdicts.get(grant.path)
            if verdict is None:
                continue
            evidence = verdict.evidence
            commit = evidence.commit if evidence else None
            if verdict.approved and evidence is not None:
                if (grant.path, commit, "grant-approved", None) in seen:
                    continue
                self.event(
                    "grant-approved",
                    source=grant.path,
                    commit=commit,
                    pull=evidence.pull,
                    approvers=list(evidence.approvers),
                    merge_commit=evidence.merge_commit,
                    author=evidence.author,
                    grantables=[[str(p), str(t), level] for p, t, level in grant.grantables(org)],
                    starts=format_timestamp(grant.starts) if grant.starts else None,
                    expires=format_timestamp(grant.expires),
                    reason=grant.spec.reason,
                )
            elif (
                not verdict.approved
                and (grant.path, commit, "grant-unapproved", verdict.reason) not in seen
            ):
                self.event(
                    "grant-unapproved", source=grant.path, commit=commit, reason=verdict.reason
                )

    def change_started(self, change: Change, pull: int | None) -> str:
        change_id = f"{self.run}#{next(self._ids)}"
        self.event(
            "change-started",
            change_id=change_id,
            action=change.action,
            pull=pull,
            **change_fields(change),
        )
        return change_id

    def outcome(self, outcome: Outcome, change_id: str, pull: int | None) -> None:
        self.event(
            outcome_event(outcome),
            change_id=change_id,
            action=outcome.change.action,
            pull=pull,
            detail=outcome.detail or None,
            **change_fields(outcome.change),
        )

    def run_end(self, outcomes: list[Outcome]) -> None:
        if not self.started:
            return
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
        self.event("run-end", results=counts)


def run_id(environ: dict[str, str] | Any, now: datetime) -> str:
    """The Actions run URL when there is one, else a local id."""
    server, repo, run = (
        environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"
    return f"local-{now.strftime('%Y%m%dT%H%M%SZ')}"
