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
from grantops.actual import ActualState
from grantops.audit.log import Event
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
from grantops.values import parse_timestamp


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
    events: Sequence[Event],
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
            recorder.event(
                "notification-sent",
                source=notice.source,
                pull=notice.pull,
                kind=notice.kind,
                text=notice.text,
            )
            sent += 1
    activity = (
        _activity(records, [*events, *recorder.written], now, policy.org, github, recorder, io)
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
    events: Sequence[Event],
    now: datetime,
    org: str,
    github: GitHub,
    recorder: Recorder,
    io: Io,
) -> dict[str, list[tuple[str, list[Activity]]]]:
    """What each grantee did in ended grants' windows: from the log, else asked once."""
    known = {
        (e.get("source"), e.get("pull")): e for e in events if e.get("event") == "activity-recorded"
    }
    found: dict[str, list[tuple[str, list[Activity]]]] = {}
    for record in records:
        if not (record.expires <= now and now - record.expires <= PAST):
            continue
        logged = known.get((record.source, record.pull))
        if logged is not None:
            found[record.source] = [
                (target, [Activity(**item) for item in items])
                for target, items in logged.get("activity", [])
            ]
            continue
        since = record.starts or parse_timestamp(
            next(
                (e["ts"] for e in events if e.get("source") == record.source),
                record.expires.isoformat(),
            )
        )
        done: list[tuple[str, list[Activity]]] = []
        try:
            for principal, target, _level in record.grantables:
                kind, _, login = principal.partition(":")
                if kind != "user" or not target.startswith("repo:"):
                    continue
                owner, _, name = target.removeprefix("repo:").partition("/")
                done.append(
                    (target, github.activity(owner or org, name, login, since, record.expires))
                )
        except GitHubError as exc:
            io.err(f"could not read activity for {record.source}: {exc}")
            continue
        recorder.event(
            "activity-recorded",
            source=record.source,
            pull=record.pull,
            activity=[[t, [vars(a) for a in items]] for t, items in done],
        )
        found[record.source] = done
    return found
