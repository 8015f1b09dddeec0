"""Whether the scheduled reconcile job is healthy, and what its health issue should do (pure).

A reconcile run that fails, or stops running, changes nothing: expired grants keep their
access and approved ones never get it. GitHub mails a failed scheduled run only to whoever
last edited the schedule, and says nothing when a schedule stops (GitHub disables one in
a repository without activity for 60 days; a revoked App key stops every run before
grantops starts). So ``grantops health`` keeps one issue in the access repository open,
with a comment for each new failure, for as long as the job is unhealthy, and closes it
once a run succeeds.

:func:`judge` decides from the workflow's recent runs, the last run the committed audit
log records (:func:`grantops.audit.lastrun.last_recorded`) and ``now``; :func:`decide`
turns that verdict and the open issue into one step. Nothing here talks to GitHub.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

State = Literal["healthy", "failed", "missing", "unknown"]
Action = Literal["open", "comment", "close", "none"]

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
"""Conclusions that mean the job ran and did not do its work. ``cancelled``, ``skipped``
and the like are neither failure nor success: only the age of the last success counts."""

LABEL = "grantops-health"
MARKER = "<!-- grantops-health -->"
"""Marks grantops's own health issue: a label alone could be put on any issue."""
_REPORTED = re.compile(r"<!-- grantops-health-state: ([a-z0-9 ]+) -->")


@dataclass(frozen=True)
class WorkflowRun:
    """One run of the reconcile workflow, as GitHub lists it."""

    id: int
    number: int
    event: str
    status: str
    conclusion: str | None
    created_at: datetime
    updated_at: datetime
    url: str


@dataclass(frozen=True)
class RecordedRun:
    """The last run the audit log records: its id, when it started, whether it wrote its
    end, and how many of its changes failed."""

    run: str
    started: datetime
    ended: bool
    failed: int

    @property
    def troubled(self) -> bool:
        return not self.ended or self.failed > 0


@dataclass(frozen=True)
class HealthIssue:
    """An open issue in the access repository that may be the health issue."""

    number: int
    body: str
    url: str


@dataclass(frozen=True)
class Health:
    """The verdict, with what it rests on. ``key`` names what there is to report: the
    issue is commented on only when it changes, so a long outage is not one comment an
    hour."""

    state: State
    key: str
    last_run: WorkflowRun | None = None
    last_success: WorkflowRun | None = None
    recorded: RecordedRun | None = None
    why: str = ""
    """For ``unknown``: what could not be read."""


@dataclass(frozen=True)
class Step:
    """What to do with the health issue: ``number`` is the issue acted on (None to open
    one); ``body`` the issue's text when opened or updated; ``comment`` what is said."""

    action: Action
    number: int | None = None
    title: str = ""
    body: str = ""
    comment: str = ""


def unknown(why: str) -> Health:
    """The verdict when the runs could not be read: nothing is opened or closed."""
    return Health("unknown", "unknown", why=why)


def judge(
    runs: Sequence[WorkflowRun], recorded: RecordedRun | None, now: datetime, max_age: timedelta
) -> Health:
    """``failed`` when the last finished run failed, or the audit log's last run (newer
    than the last success) ended with failed changes or never ended; else ``missing``
    when no run succeeded within ``max_age``; else ``healthy``."""
    finished = sorted(
        (r for r in runs if r.status == "completed" and _counts(r)),
        key=lambda r: (r.created_at, r.id),
        reverse=True,
    )
    last = finished[0] if finished else None
    success = next((r for r in finished if r.conclusion == "success"), None)
    facts = partial(Health, last_run=last, last_success=success)
    if last is not None and last.conclusion in FAILED_CONCLUSIONS:
        return facts("failed", f"failed {last.id}")
    troubled = _unfinished(recorded, success)
    if troubled is not None:
        logged = hashlib.sha256(troubled.run.encode()).hexdigest()[:12]
        return facts("failed", f"failed log {logged}", recorded=troubled)
    if success is None or now - success.updated_at > max_age:
        return facts("missing", f"missing {success.id if success else 'none'}")
    return facts("healthy", "healthy")


def _unfinished(recorded: RecordedRun | None, success: WorkflowRun | None) -> RecordedRun | None:
    """The log's last run if it did not finish its work and started after the last
    successful run did (a later success has done that work since); else None."""
    if recorded is None or not recorded.troubled:
        return None
    if success is not None and recorded.started < success.created_at:
        return None
    return recorded


def _counts(run: WorkflowRun) -> bool:
    return run.conclusion == "success" or run.conclusion in FAILED_CONCLUSIONS


def ours(issues: Sequence[HealthIssue]) -> HealthIssue | None:
    """The health issue among open labelled issues: the oldest with the marker."""
    marked = [i for i in issues if MARKER in i.body]
    return min(marked, key=lambda i: i.number) if marked else None


def reported(issue: HealthIssue) -> str | None:
    """What the issue last reported (:attr:`Health.key`), from its hidden state line."""
    found = _REPORTED.search(issue.body)
    return found.group(1) if found else None


def decide(health: Health, issue: HealthIssue | None, title: str, text: str) -> Step:
    """One step: open an issue for a new problem, comment when there is something new to
    say, close it (with a comment) once healthy; never act on an unknown verdict.
    ``title`` and ``text`` describe the problem (see :mod:`grantops.healthtext`)."""
    if health.state == "unknown":
        return Step("none", issue.number if issue else None)
    if health.state == "healthy":
        if issue is None:
            return Step("none")
        return Step("close", issue.number, comment=text)
    body = f"{MARKER}\n<!-- grantops-health-state: {health.key} -->\n{text}"
    if issue is None:
        return Step("open", None, title=title, body=body)
    if reported(issue) == health.key:
        return Step("none", issue.number)
    return Step("comment", issue.number, body=body, comment=text)
