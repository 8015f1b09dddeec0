"""After the changes: notices on grant pull requests and in chat, grantees' activity,
the report.

Runs inside apply's lock, after the changes. Everything it learns from GitHub that
will not change again (what a grantee did during an ended grant, which notices were
sent) goes into the audit log, so later runs read it from there instead of asking.

``audit/report.md`` is rewritten only by a run that wrote to the log (or when it is
missing): it shows access as of the last run that did something, and a run that
changes and learns nothing leaves ``audit/`` untouched, so there is nothing to commit.
The report's summary is still returned for the Actions job summary of every run.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from grantops import chat, notify
from grantops.access import Target
from grantops.actual import ActualState
from grantops.audit.events import ActivityRecorded, Done, Entry, NotificationFailed
from grantops.audit.log import first_named
from grantops.audit.record import Recorder
from grantops.audit.report import (
    GrantRecord,
    ReportInput,
    access_after,
    changes_section,
    grant_records,
    render,
)
from grantops.audit.report import summary as report_summary
from grantops.constants import REPORT_PATH
from grantops.github.activity import Activity
from grantops.github.api import ActivitySource, Conversation
from grantops.github.transport import GitHubError
from grantops.load import Loaded
from grantops.plan import Outcome
from grantops.planning import Planning
from grantops.proof.prover import AccessRepo, Proof
from grantops.safetext import for_markdown
from grantops.webhook import Webhook, WebhookError


class Aftermath(Conversation, ActivitySource, Protocol):
    """What the aftermath asks of GitHub: comments, and grantees' activity."""


@dataclass(frozen=True)
class Finished:
    notices: int
    report: Path
    recorded: bool
    """Whether this run wrote to the audit log (and so rewrote the report)."""
    summary: str
    """The report's summary and this run's changes, in Markdown, for the job summary."""
    warnings: list[str] = field(default_factory=list)
    """What could not be done (a notice, an activity read); none of it stops the run."""


@dataclass(frozen=True)
class Before:
    """What the run knew before its changes: the plan and what it was made from."""

    loaded: Loaded
    planning: Planning
    actual: ActualState
    proof: Proof | None
    events: Sequence[Entry]
    trusted: bool
    """The log passed its checks: what it says was sent or recorded can be relied on."""


def finish(
    root: Path,
    now: datetime,
    before: Before,
    repo: AccessRepo | None,
    github: Aftermath,
    outcomes: Sequence[Outcome],
    recorder: Recorder,
    webhook: Webhook | None = None,
) -> Finished:
    """Post due notices (on pull requests, and to ``webhook`` when there is one), record
    what grantees did, and write the report.

    With a log that fails its checks, what it says was sent or recorded cannot be
    relied on: no notice is posted and no activity recorded, so a broken log neither
    spams pull requests nor makes every run write to it.
    """
    policy = before.loaded.policy
    logged = [*before.events, *recorder.written]  # the log as it stands, without reading it
    records = grant_records(before.loaded.grants, logged, policy.org, before.planning.honoured)
    warnings: list[str] = []
    sent = 0
    if policy.notify is not None and repo is not None and before.trusted:
        failed = frozenset(
            o.change.source for o in outcomes if o.result == "failed" and o.change.source
        )
        sent = _notices(records, logged, now, failed, repo, github, recorder, before, warnings)
    if webhook is not None and policy.notify is not None and before.trusted:
        asked = chat.Asked(
            records,
            [*before.events, *recorder.written],
            before.planning.plan,
            {path: e.pull for path, e in before.proof.proven.items()} if before.proof else {},
            frozenset(
                o.change.source for o in outcomes if o.result == "failed" and o.change.source
            ),
        )
        due = chat.due(asked, now, policy.notify.before, policy.notify.chat)
        sent += _chat(due, asked.events, webhook, recorder, warnings)
    activity = {}
    if before.trusted:  # the log now holds the notices just sent, too
        logged = [*before.events, *recorder.written]
        activity = _activity(records, logged, now, github, recorder, warnings)
    data = ReportInput(
        now=now,
        run=recorder.run,
        policy=policy,
        plan=before.planning.plan,
        desired=before.planning.desired,
        access=access_after(before.actual, outcomes),
        outcomes=outcomes,
        records=records,
        activity=activity,
        events=[*before.events, *recorder.written],
    )
    path = _write_report(root, data, recorder.started, before.trusted)
    summary = report_summary(data) + "\n" + changes_section(data)
    summary += "".join(f"\n> {for_markdown(w)}\n" for w in warnings if w.startswith(CHAT_OFF))
    return Finished(sent, path, recorder.started, summary, warnings)


def _write_report(root: Path, data: ReportInput, recorded: bool, trusted: bool) -> Path:
    """Rewrite the report when this run wrote to the log; write one when there is none
    (and the log can be believed), so ``audit/`` changes only when something happened."""
    path = root / REPORT_PATH
    if recorded or (trusted and not path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(data), encoding="utf-8")
    return path


def _notices(
    records: Sequence[GrantRecord],
    logged: Sequence[Entry],
    now: datetime,
    failed: Collection[str],
    repo: AccessRepo,
    github: Conversation,
    recorder: Recorder,
    before: Before,
    warnings: list[str],
) -> int:
    """Post the notices that are due; the first refusal turns them off for this run."""
    settings = before.loaded.policy.notify
    assert settings is not None
    due = notify.due(
        records,
        logged,
        now,
        settings.before,
        before.loaded.policy.org,
        frozenset(failed),
        mention_teams=settings.mention_teams,
    )
    sent = 0
    for notice in due:
        try:
            github.comment(repo.owner, repo.name, notice.pull, notice.text)
        except GitHubError as exc:
            warnings.append(
                f"notices are off this run: {exc} (the token may not comment on pull requests)"
            )
            break
        recorder.notification_sent(notice)
        sent += 1
    return sent


CHAT_OFF = "chat notices are off this run"


def _chat(
    due: Sequence[chat.ChatNotice],
    events: Sequence[Entry],
    webhook: Webhook,
    recorder: Recorder,
    warnings: list[str],
) -> int:
    """Post the chat notices that are due, each recorded once delivered. The first that
    fails stops the rest (they wait for the next run) and is recorded as failed, once
    until it is delivered, so a webhook that stays down adds no line to every run."""
    failed = {e.key for e in events if isinstance(e, NotificationFailed)}
    for sent, notice in enumerate(due):
        try:
            webhook.post(chat.payload(notice))
        except WebhookError as exc:
            left = len(due) - sent
            warnings.append(f"{CHAT_OFF}: {exc}; {left} notice(s) wait for the next run")
            if notice.key not in failed:
                recorder.notification_failed(notice, chat.CHANNEL, str(exc))
            return sent
        recorder.notification_sent(notice, chat.CHANNEL)
    return len(due)


def _activity(
    records: Sequence[GrantRecord],
    events: Sequence[Entry],
    now: datetime,
    github: ActivitySource,
    recorder: Recorder,
    warnings: list[str],
) -> dict[str, Done]:
    """What each grantee did in ended grants' windows: from the log, else asked once."""
    known = {(e.source, e.pull): e for e in events if isinstance(e, ActivityRecorded)}
    found: dict[str, Done] = {}
    for record in records:
        if not record.ended_recently(now):
            continue
        logged = known.get((record.source, record.pull))
        if logged is not None:
            found[record.source] = logged.activity
            continue
        since = record.starts or first_named(events, record.source) or record.expires
        done: list[tuple[Target, tuple[Activity, ...]]] = []
        try:
            for principal, target, _level in record.grantables:
                if principal.kind != "user" or target.kind != "repo":
                    continue
                did = github.activity(
                    target.org, target.name, principal.name, since, record.expires
                )
                done.append((target, tuple(did)))
        except GitHubError as exc:
            warnings.append(f"could not read activity for {record.source}: {exc}")
            continue
        recorder.activity_recorded(record.source, record.pull, tuple(done))
        found[record.source] = tuple(done)
    return found
