"""The audit log's lines as typed events: the same JSON as ever, read back as written,
and anything else (edited, forged, of another kind) read as Unknown, never a crash."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grantops.access import Principal, Target
from grantops.audit.events import (
    AccessAdded,
    AccessChanged,
    AccessRemoved,
    ActivityRecorded,
    ChangeFailed,
    ChangeStarted,
    DriftRemoved,
    Event,
    GrantApproved,
    GrantUnapproved,
    InvitationCancelled,
    InvitationSent,
    LogAnchored,
    NotificationFailed,
    NotificationSent,
    RunEnd,
    RunStart,
    Unknown,
    parse_event,
)
from grantops.audit.log import AuditLog, verify
from grantops.audit.record import Recorder, outcome_kind
from grantops.desired import desired_access
from grantops.github.activity import Activity
from grantops.plan import Change, Outcome, make_plan
from grantops.proof.review import Evidence, Judgement
from grantops.safety import Verdict

from .builders import actual, grant, policy

TS = datetime(2026, 11, 30, 12, tzinfo=UTC)
OCTOCAT, PAYMENTS = Principal.user("OctoCat"), Target.repo("acme", "payments-api")
ADD = Change("add", OCTOCAT, PAYMENTS, None, "push", "grant", "grants/g.yaml")
CHANGE = {
    "action": "add",
    "principal": "user:OctoCat",
    "target": "repo:acme/payments-api",
    "to": "push",
    "cause": "grant",
    "source": "grants/g.yaml",
}
RUN = {"ts": "2026-11-30T12:00:00Z", "run": "r1"}
COMMIT = "c" * 40

# Each kind, and the line it has always been written as (before prev, hash and mac).
KINDS: list[tuple[Event, dict[str, Any]]] = [
    (
        RunStart(
            ts=TS,
            run="r1",
            now=TS,
            org="acme",
            planned={"add": 1, "update": 0, "remove": 0, "cancel_invitation": 0},
            notes=("limited: only expiries",),
        ),
        {
            **RUN,
            "event": "run-start",
            "now": "2026-11-30T12:00:00Z",
            "org": "acme",
            "planned": {"add": 1, "update": 0, "remove": 0, "cancel_invitation": 0},
            "notes": ["limited: only expiries"],
        },
    ),
    (
        RunEnd(ts=TS, run="r1", results={"done": 1}),
        {**RUN, "event": "run-end", "results": {"done": 1}},
    ),
    (LogAnchored(ts=TS, run="r1", lines=3), {**RUN, "event": "log-anchored", "lines": 3}),
    (
        GrantApproved(
            ts=TS,
            run="r1",
            source="grants/g.yaml",
            expires=TS + timedelta(hours=6),
            grantables=((OCTOCAT, PAYMENTS, "push"),),
            starts=TS,
            commit=COMMIT,
            pull=7,
            approvers=("alice",),
            merge_commit="m" * 40,
            author="octocat",
            reason="INC-4821",
        ),
        {
            **RUN,
            "event": "grant-approved",
            "source": "grants/g.yaml",
            "commit": COMMIT,
            "pull": 7,
            "approvers": ["alice"],
            "merge_commit": "m" * 40,
            "author": "octocat",
            "grantables": [["user:OctoCat", "repo:acme/payments-api", "push"]],
            "starts": "2026-11-30T12:00:00Z",
            "expires": "2026-11-30T18:00:00Z",
            "reason": "INC-4821",
        },
    ),
    (
        GrantUnapproved(ts=TS, run="r1", source="grants/g.yaml", reason="no review"),
        {**RUN, "event": "grant-unapproved", "source": "grants/g.yaml", "reason": "no review"},
    ),
    (
        ChangeStarted(ts=TS, run="r1", change_id="r1#1", change=ADD, pull=7),
        {**RUN, "event": "change-started", "change_id": "r1#1", "pull": 7, **CHANGE},
    ),
    *(
        (
            kind(ts=TS, run="r1", change_id="r1#1", change=ADD),
            {**RUN, "event": kind.name, "change_id": "r1#1", **CHANGE},
        )
        for kind in (
            AccessAdded,
            InvitationSent,
            AccessChanged,
            InvitationCancelled,
            AccessRemoved,
            DriftRemoved,
        )
    ),
    (
        ChangeFailed(ts=TS, run="r1", change_id="r1#1", change=ADD, detail="403 Forbidden"),
        {**RUN, "event": "change-failed", "change_id": "r1#1", "detail": "403 Forbidden", **CHANGE},
    ),
    (
        NotificationSent(
            ts=TS, run="r1", source="grants/g.yaml", pull=7, kind="started", text="@octocat hi"
        ),
        {
            **RUN,
            "event": "notification-sent",
            "source": "grants/g.yaml",
            "pull": 7,
            "kind": "started",
            "text": "@octocat hi",
        },
    ),
    (
        NotificationSent(
            ts=TS, run="r1", source="grants/m.yaml", pull=None, kind="refused", channel="chat"
        ),
        {
            **RUN,
            "event": "notification-sent",
            "source": "grants/m.yaml",
            "kind": "refused",
            "channel": "chat",
        },
    ),
    (
        NotificationFailed(
            ts=TS,
            run="r1",
            source="grants/g.yaml",
            pull=7,
            kind="started",
            channel="chat",
            detail="the chat webhook answered 500 Internal Server Error",
        ),
        {
            **RUN,
            "event": "notification-failed",
            "source": "grants/g.yaml",
            "pull": 7,
            "kind": "started",
            "detail": "the chat webhook answered 500 Internal Server Error",
            "channel": "chat",
        },
    ),
    (
        ActivityRecorded(
            ts=TS,
            run="r1",
            source="grants/g.yaml",
            pull=None,
            activity=((PAYMENTS, (Activity("commit", "abc1234", "Fix", "2026-11-30T10:00:00Z"),)),),
        ),
        {
            **RUN,
            "event": "activity-recorded",
            "source": "grants/g.yaml",
            "activity": [
                [
                    "repo:acme/payments-api",
                    [
                        {
                            "kind": "commit",
                            "ref": "abc1234",
                            "title": "Fix",
                            "at": "2026-11-30T10:00:00Z",
                        }
                    ],
                ]
            ],
        },
    ),
]


@pytest.mark.parametrize(("event", "line"), KINDS, ids=[e.name for e, _ in KINDS])
def test_each_kind_writes_the_line_it_always_has_and_reads_it_back(
    event: Event, line: dict[str, Any]
) -> None:
    """The chain and the MACs are computed over these fields: they must never change."""
    assert event.to_json() == line
    assert parse_event(json.loads(json.dumps(line))) == event


def test_a_recorded_run_reads_back_as_the_events_written(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    p = policy()
    hotfix = grant(
        "g.yaml",
        user="octocat",
        repo="payments-api",
        permission="push",
        expires="2026-11-30T18:00:00Z",
    )
    plan = make_plan(p, desired_access(p, [hotfix], TS), actual(), TS)
    evidence = Evidence("grants/g.yaml", COMMIT, "b" * 40, 7, ("alice",), None, "rules")
    ticks = iter(range(100))
    recorder = Recorder(AuditLog(path, b"key"), "r1", lambda: TS + timedelta(seconds=next(ticks)))
    recorder.run_start(plan, Verdict(()), ["a note"])
    recorder.approvals([hotfix], {"grants/g.yaml": Judgement(True, "ok", evidence)}, [], "acme")
    outcomes = []
    for change in plan.changes:
        change_id = recorder.change_started(change, 7)
        outcomes.append(Outcome(change, "done"))
        recorder.outcome(outcomes[-1], change_id, 7)
    recorder.run_end(outcomes)
    result = verify(path, b"key")
    assert result.trusted
    assert result.events == recorder.written
    names = [e.name for e in recorder.written]
    assert names == [
        "run-start",
        "grant-approved",
        *(["change-started", "access-added"] * len(plan.changes)),
        "run-end",
    ]
    # Recorded again from the same log, nothing is new: the approval is known.
    again = Recorder(AuditLog(path, b"key"), "r2", lambda: TS)
    again.approvals(
        [hotfix], {"grants/g.yaml": Judgement(True, "ok", evidence)}, result.events, "acme"
    )
    assert again.written == []


APPROVED = {
    **RUN,
    "event": "grant-approved",
    "source": "grants/g.yaml",
    "expires": "2026-11-30T18:00:00Z",
    "grantables": [["user:octocat", "repo:acme/payments-api", "push"]],
}
ADDED = {**RUN, "event": "access-added", "change_id": "r1#1", **CHANGE}


@pytest.mark.parametrize(
    "line",
    [
        pytest.param({**APPROVED, "event": "note"}, id="a kind grantops does not write"),
        pytest.param({**APPROVED, "event": ["grant-approved"]}, id="a kind that is not text"),
        pytest.param({k: v for k, v in APPROVED.items() if k != "ts"}, id="no time"),
        pytest.param({**APPROVED, "ts": "yesterday"}, id="a time that is not one"),
        pytest.param({**APPROVED, "run": 7}, id="a run that is not text"),
        pytest.param({k: v for k, v in APPROVED.items() if k != "source"}, id="no grant file"),
        pytest.param({**APPROVED, "expires": "2026-11-30"}, id="an end without a time"),
        pytest.param(
            {**APPROVED, "grantables": [["# @acme/all", "repo:acme/a", "push"]]},
            id="a grantee that is no principal",
        ),
        pytest.param(
            {**APPROVED, "grantables": [["user:octocat", "repo:acme", "push"]]},
            id="a repository without its org",
        ),
        pytest.param({**APPROVED, "grantables": ["user:octocat"]}, id="a grantable that is text"),
        pytest.param({**APPROVED, "approvers": [7]}, id="an approver that is no name"),
        pytest.param({**APPROVED, "pull": True}, id="a pull request that is a boolean"),
        pytest.param({**ADDED, "action": "grant"}, id="an action grantops never takes"),
        pytest.param({**ADDED, "cause": None}, id="a change without its cause"),
        pytest.param({**ADDED, "principal": "octocat"}, id="a principal without its kind"),
        pytest.param(
            {k: v for k, v in ADDED.items() if k != "change_id"}, id="a change without id"
        ),
        pytest.param(
            {**RUN, "event": "notification-sent", "source": "g", "kind": "started"},
            id="a notice without its pull request",
        ),
        pytest.param(
            {**RUN, "event": "notification-failed", "source": "g", "kind": "started"},
            id="a failed comment without its pull request",
        ),
        pytest.param(
            {
                **RUN,
                "event": "activity-recorded",
                "source": "g",
                "activity": [["repo:acme/a", [{"kind": "commit"}]]],
            },
            id="activity missing its fields",
        ),
        pytest.param(
            {**RUN, "event": "run-start", "now": "2026-11-30T12:00:00Z", "planned": {"add": "1"}},
            id="a count that is not a number",
        ),
    ],
)
def test_a_line_no_reader_may_act_on_is_unknown(line: dict[str, Any]) -> None:
    """Anyone who can push can write a line: one that is not whole informs nothing."""
    read = parse_event(line)
    assert isinstance(read, Unknown)
    assert read.fields == line


def test_what_no_reader_acts_on_may_be_missing() -> None:
    """Lines written by hand, or by earlier versions, are read for what they do say."""
    read = parse_event(
        {**RUN, "event": "grant-approved", "source": "g.yaml", "expires": "2026-11-30T18:00:00Z"}
    )
    assert isinstance(read, GrantApproved)
    assert (read.grantables, read.approvers, read.reason, read.commit) == ((), (), None, None)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "ts",
        "run",
        "now",
        "source",
        "commit",
        "pull",
        "expires",
        "starts",
        "grantables",
        "approvers",
        "principal",
        "target",
        "action",
        "cause",
        "change_id",
        "kind",
        "activity",
        "planned",
        "results",
        "lines",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([e.name for e, _ in KINDS]),
    base=st.sampled_from([line for _, line in KINDS]),
    changes=st.dictionaries(FIELDS, JSON, max_size=4),
)
def test_any_json_line_reads_as_an_event_or_unknown_never_a_crash(
    kind: str, base: dict[str, Any], changes: dict[str, Any]
) -> None:
    read = parse_event({**base, **changes, "event": kind})
    assert isinstance(read, Event | Unknown)


def test_a_revoke_is_an_access_removed_line_with_its_cause() -> None:
    """Not drift: a reviewed pull request deleted the grant. Older logs never say
    ``revoked``, and read as they always have."""
    revoke = Change("remove", OCTOCAT, PAYMENTS, "push", None, "revoked", "grants/g.yaml")
    assert outcome_kind(Outcome(revoke, "done")) is AccessRemoved
    drift = replace(revoke, cause="undeclared", source=None)
    assert outcome_kind(Outcome(drift, "done")) is DriftRemoved
    line = AccessRemoved(ts=TS, run="r1", change_id="r1#1", change=revoke, pull=7).to_json()
    assert (line["event"], line["cause"], line["source"]) == (
        "access-removed",
        "revoked",
        "grants/g.yaml",
    )
    assert parse_event(json.loads(json.dumps(line))) == AccessRemoved(
        ts=TS, run="r1", change_id="r1#1", change=revoke, pull=7
    )
