"""After apply: notices on grant pull requests, activity of ended grants, the report.

Runs inside apply's lock, after the changes. Everything it learns from GitHub that
will not change again (what a grantee did during an ended grant, which notices were
sent) goes into the audit log, so later runs read it from there instead of asking.

``audit/report.md`` is rewritten only by a run that wrote to the log (or when it is
missing): it shows access as of the last run that did something, and a run that
changes and learns nothing leaves ``audit/`` untouched, so there is nothing to commit.
Every run still adds the report's summary to the Actions job summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grantops import actions, notify
from grantops.access import Target
from grantops.actual import ActualState
from grantops.audit.events import ActivityRecorded, Done, Entry
from grantops.audit.log import first_named
from grantops.audit.record import Recorder
from grantops.audit.report import (
    PAST,
    GrantRecord,
    ReportInput,
    access_after,
    changes_section,
    grant_records,
    render,
)
from grantops.audit.report import summary as report_summary
from grantops.commands.common import Io
from grantops.constants import REPORT_PATH
from grantops.github import GitHub, GitHubError
from grantops.github.activity import Activity
from grantops.load import Loaded
from grantops.plan import Outcome
from grantops.planning import Planning
from grantops.proof.prover import AccessRepo, Proof


@dataclass(frozen=True)
class Finished:
    notices: int
    report: Path
    recorded: bool
    """Whether this run wrote to the audit log (and so rewrote the report)."""


def finish(
    *,
    root: Path,
    now: datetime,
    io: Io,
    loaded: Loaded,
    planning: Planning,
    actual: ActualState,
    proof: Proof | None,
    repo: AccessRepo | None,
    github: GitHub,
    outcomes: Sequence[Outcome],
    recorder: Recorder,
    events: Sequence[Entry],
    trusted: bool = True,
) -> Finished:
    """Post due notices, record what grantees did, and write the report.

    With a log that fails its checks (``trusted`` False), what it says was sent or
    recorded cannot be relied on: no notice is posted and no activity recorded, so a
    broken log neither spams pull requests nor makes every run write to it.
    """
    policy = loaded.policy
    honoured = {
        g.path
        for g in loaded.grants
        if proof is None
        or not g.active_at(now)
        or (g.path in proof.grants and proof.grants[g.path].approved)
    }
    logged = [*events, *recorder.written]  # the log as it stands, without reading it again
    records = grant_records(loaded.grants, logged, policy.org, honoured)
    sent = 0
    if policy.notify is not None and repo is not None and trusted:
        failed = frozenset(
            o.change.source for o in outcomes if o.result == "failed" and o.change.source
        )
        due = notify.due(
            records,
            logged,
            now,
            policy.notify.before,
            policy.org,
            failed,
            mention_teams=policy.notify.mention_teams,
        )
        for notice in due:
            try:
                github.comment(repo.owner, repo.name, notice.pull, notice.text)
            except GitHubError as exc:
                io.err(
                    f"notices are off this run: {exc} (the token may not comment on pull requests)"
                )
                break
            recorder.notification_sent(notice)
            sent += 1
    activity = (
        _activity(records, [*events, *recorder.written], now, github, recorder, io)
        if trusted
        else {}
    )
    data = ReportInput(
        now=now,
        run=recorder.run,
        policy=policy,
        plan=planning.plan,
        desired=planning.desired,
        access=access_after(actual, outcomes),
        outcomes=outcomes,
        records=records,
        activity=activity,
    )
    path = root / REPORT_PATH
    if recorder.started or (trusted and not path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(data), encoding="utf-8")
    if io.in_actions:
        actions.append_summary(io.environ, report_summary(data) + "\n" + changes_section(data))
    return Finished(sent, path, recorder.started)


def _activity(
    records: Sequence[GrantRecord],
    events: Sequence[Entry],
    now: datetime,
    github: GitHub,
    recorder: Recorder,
    io: Io,
) -> dict[str, Done]:
    """What each grantee did in ended grants' windows: from the log, else asked once."""
    known = {(e.source, e.pull): e for e in events if isinstance(e, ActivityRecorded)}
    found: dict[str, Done] = {}
    for record in records:
        if not (record.expires <= now and now - record.expires <= PAST):
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
            io.err(f"could not read activity for {record.source}: {exc}")
            continue
        recorder.activity_recorded(record.source, record.pull, tuple(done))
        found[record.source] = tuple(done)
    return found
