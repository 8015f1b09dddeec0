"""What apply writes to the audit log, event by event.

``change-started`` is written (and synced) before each mutation and an outcome event
after it, both carrying the same ``change_id``; a run that dies in between leaves an
intent without an outcome, which ``grantops audit verify`` reports.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from grantops.actual import OrgFacts
from grantops.audit import orgfacts
from grantops.audit.events import (
    AccessAdded,
    AccessChanged,
    AccessRemoved,
    ActivityRecorded,
    ChangeFailed,
    ChangeStarted,
    Done,
    DriftRemoved,
    Entry,
    Event,
    GrantApproved,
    GrantUnapproved,
    InvitationCancelled,
    InvitationSent,
    LogAnchored,
    NotificationFailed,
    NotificationSent,
    OrgFactsRecorded,
    OutcomeEvent,
    RunEnd,
    RunStart,
)
from grantops.audit.log import AuditLog
from grantops.chat import ChatNotice
from grantops.model import Grant
from grantops.notify import Notice
from grantops.plan import Action, Change, Outcome, Plan, Result
from grantops.proof.review import Evidence, Judgement
from grantops.safety import Verdict

OUTCOMES: dict[tuple[Action, Result], type[OutcomeEvent]] = {
    ("add", "done"): AccessAdded,
    ("add", "invited"): InvitationSent,
    ("update", "done"): AccessChanged,
    ("update", "invited"): InvitationSent,
    ("cancel_invitation", "done"): InvitationCancelled,
}


def outcome_kind(outcome: Outcome) -> type[OutcomeEvent]:
    """The kind of line that says what came of a change."""
    change = outcome.change
    if outcome.result == "failed":
        return ChangeFailed
    if change.action == "remove":
        return DriftRemoved if change.cause == "undeclared" else AccessRemoved
    return OUTCOMES[(change.action, outcome.result)]


class Recorder:
    """Writes one run's events with a shared run id and a clock for timestamps."""

    def __init__(self, log: AuditLog, run: str, clock: Callable[[], datetime]) -> None:
        self.log, self.run, self.clock = log, run, clock
        self._ids = itertools.count(1)
        self._opening: Callable[[datetime], RunStart] | None = None
        self.started = False
        self.written: list[Event] = []

    def _stamp(self) -> datetime:
        """The time for the next event. The run's ``run-start`` is written first when it
        is still due, so no event of a run is ever stamped before its run starts."""
        if self._opening is not None:
            opening, self._opening = self._opening, None
            self._append(opening(self.clock()))
        return self.clock()

    def _append(self, event: Event) -> None:
        self.log.append(event.to_json())
        self.started = True
        self.written.append(event)

    def run_start(self, plan: Plan, verdict: Verdict, notes: Iterable[str]) -> None:
        """Open the run; written with the run's first event, so idle runs leave no lines.

        The first run with the key on a log that has no MAC yet anchors it at once, so
        ``audit verify`` need not wait for something to happen.
        """
        overridden = tuple(r.message for r in verdict.refusals) if verdict.overridden else None
        said = tuple(notes) or None
        self._opening = lambda ts: RunStart(
            ts=ts,
            run=self.run,
            now=plan.now,
            org=plan.org,
            planned=plan.summary,
            mass_removal_override=overridden,
            notes=said,
        )
        if self.log.unanchored:
            lines = self.log.unanchored  # read first: the run-start written by _stamp resets it
            self._append(LogAnchored(ts=self._stamp(), run=self.run, lines=lines))

    def approvals(
        self,
        grants: Iterable[Grant],
        verdicts: dict[str, Judgement],
        previous: Iterable[Entry],
        org: str,
    ) -> None:
        """Log each newly proven grant once per file commit, and each new refusal once."""
        logged = list(previous)
        approved = {(e.source, e.commit) for e in logged if isinstance(e, GrantApproved)}
        refused = {(e.source, e.commit, e.reason) for e in logged if isinstance(e, GrantUnapproved)}
        for grant in grants:
            verdict = verdicts.get(grant.path)
            if verdict is None:
                continue
            evidence = verdict.evidence
            commit = evidence.commit if evidence else None
            if verdict.approved and evidence is not None:
                if (grant.path, commit) not in approved and grant.expires is not None:
                    self._append(self._approved(grant, grant.expires, evidence, org))
            elif not verdict.approved and (grant.path, commit, verdict.reason) not in refused:
                self._append(
                    GrantUnapproved(
                        ts=self._stamp(),
                        run=self.run,
                        source=grant.path,
                        commit=commit,
                        reason=verdict.reason,
                    )
                )

    def org_facts(self, facts: OrgFacts, previous: Iterable[Entry], org: str) -> None:
        """Log the org's owners, base role and coverage when they differ from the last
        line that did (or none did), so a quiet org adds no line per run."""
        last = orgfacts.latest(previous, org=org)
        if last is not None and orgfacts.facts_of(last) == facts:
            return
        self._append(
            OrgFactsRecorded(
                ts=self._stamp(),
                run=self.run,
                org=org,
                owners=facts.owners,
                base_permission=facts.base_permission,
                repositories=facts.repositories,
                managed=facts.managed,
                unmanaged=facts.unmanaged,
            )
        )

    def _approved(
        self, grant: Grant, expires: datetime, evidence: Evidence, org: str
    ) -> GrantApproved:
        """What the log keeps of a proven grant: enough to report on it, and to notify,
        once its file is gone. A ``duration:`` grant's window is kept as computed from
        its approving merge, so a run that later cannot read that merge still ends the
        access it kept on time (:func:`grantops.proof.holds.held`)."""
        return GrantApproved(
            ts=self._stamp(),
            run=self.run,
            source=grant.path,
            commit=evidence.commit,
            pull=evidence.pull,
            approvers=evidence.approvers,
            merge_commit=evidence.merge_commit,
            author=evidence.author,
            merged_at=evidence.merged_at,
            merged_by=evidence.merged_by,
            approved_at=evidence.approved_at,
            grantables=tuple(grant.grantables(org)),
            starts=grant.starts,
            expires=expires,
            reason=grant.spec.reason,
        )

    def change_started(self, change: Change, pull: int | None) -> str:
        change_id = f"{self.run}#{next(self._ids)}"
        self._append(
            ChangeStarted(
                ts=self._stamp(), run=self.run, change_id=change_id, change=change, pull=pull
            )
        )
        return change_id

    def outcome(self, outcome: Outcome, change_id: str, pull: int | None) -> None:
        self._append(
            outcome_kind(outcome)(
                ts=self._stamp(),
                run=self.run,
                change_id=change_id,
                change=outcome.change,
                pull=pull,
                detail=outcome.detail or None,
            )
        )

    def notification_sent(self, notice: Notice | ChatNotice, channel: str | None = None) -> None:
        """A notice delivered: on the grant's pull request (``channel`` None), or elsewhere."""
        self._append(NotificationSent(text=notice.text, **self._notice(notice, channel)))

    def notification_failed(self, notice: ChatNotice, channel: str, detail: str) -> None:
        """A notice not delivered, and why (never the webhook's address)."""
        self._append(NotificationFailed(detail=detail, **self._notice(notice, channel)))

    def _notice(self, notice: Notice | ChatNotice, channel: str | None) -> dict[str, Any]:
        return {
            "ts": self._stamp(),
            "run": self.run,
            "source": notice.source,
            "pull": notice.pull,
            "kind": notice.kind,
            "channel": channel,
        }

    def activity_recorded(self, source: str, pull: int | None, activity: Done) -> None:
        self._append(
            ActivityRecorded(
                ts=self._stamp(), run=self.run, source=source, pull=pull, activity=activity
            )
        )

    def run_end(self, outcomes: Sequence[Outcome]) -> None:
        if not self.started:
            return
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
        self._append(RunEnd(ts=self._stamp(), run=self.run, results=counts))


def run_id(environ: dict[str, str] | Any, now: datetime) -> str:
    """The Actions run URL when there is one, else a local id."""
    server, repo, run = (
        environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"
    return f"local-{now.strftime('%Y%m%dT%H%M%SZ')}"
