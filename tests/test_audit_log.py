"""The hash-chained audit log: verification names the first bad line, whatever was done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grantops.access import Principal, Target
from grantops.audit.events import (
    AccessAdded,
    AccessRemoved,
    Event,
    GrantApproved,
    InvitationSent,
)
from grantops.audit.log import GENESIS, AuditLog, read_events, verify
from grantops.plan import Change
from grantops.sandbox import FaultRule
from grantops.values import parse_timestamp

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run


def _log(tmp_path: Path, count: int = 5) -> Path:
    path = tmp_path / "audit" / "log.jsonl"
    log = AuditLog(path)
    for i in range(count):
        log.append({"ts": f"2026-11-30T12:00:0{i}Z", "event": "access-added", "n": i})
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_an_untouched_log_verifies_and_chains_from_genesis(tmp_path: Path) -> None:
    path = _log(tmp_path)
    result = verify(path)
    assert result.ok and result.lines == 5
    events = read_events(path)
    assert events[0]["prev"] == GENESIS
    assert all(e["prev"] != GENESIS for e in events[1:])
    AuditLog(path).append({"event": "run-end"})  # a new writer continues the chain
    assert verify(path).ok and verify(path).lines == 6


@pytest.mark.parametrize(
    ("tamper", "line", "reason"),
    [
        (
            lambda ls: [ls[0], ls[1], ls[2].replace('"n":2', '"n":9'), ls[3], ls[4]],
            3,
            "the line was edited",
        ),
        (lambda ls: [ls[0], ls[1], ls[3], ls[4]], 3, "lines were removed, inserted or reordered"),
        (
            lambda ls: [ls[0], ls[2], ls[1], ls[3], ls[4]],
            2,
            "lines were removed, inserted or reordered",
        ),
        (lambda ls: [*ls[:4], ls[4][:40]], 5, "truncated"),
        (lambda ls: [*ls[:4], ls[4][:-1] + ", oops\n"], 5, "not a complete JSON object"),
        (lambda ls: ls[1:], 1, "lines were removed, inserted or reordered"),
    ],
    ids=["edited", "deleted", "swapped", "truncated mid-line", "garbled", "first line removed"],
)
def test_tampering_is_found_at_the_first_bad_line(
    tmp_path: Path, tamper: object, line: int, reason: str
) -> None:
    path = _log(tmp_path)
    path.write_text("".join(tamper(_lines(path))))  # type: ignore[operator]
    result = verify(path)
    assert not result.ok
    assert result.bad_line == line
    assert reason in result.reason
    code, _, err = run("audit", "verify", "--log", str(path))
    assert code == 1
    assert err.startswith(f"{path.as_posix()}:{line}: broken chain:")


def test_a_crash_between_intent_and_outcome_leaves_a_log_that_verifies(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    stall = FaultRule("PUT /repos/acme/payments-api/collaborators/octocat", 0, times=-1)
    sandbox = start_sandbox(with_access_repo(repo), faults=[stall], stall_seconds=30)
    environ = {**os.environ, **access_env(sandbox.url)}
    log = repo.root / "audit" / "log.jsonl"
    command = [
        sys.executable,
        "-m",
        "grantops",
        "apply",
        "--root",
        str(repo.root),
        "--now",
        "2026-11-30T12:00:00Z",
        "--yes",
        "--mutation-interval",
        "0",
    ]
    with subprocess.Popen(
        command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as apply:
        deadline = time.time() + 20
        while time.time() < deadline and (
            not log.exists() or "change-started" not in log.read_text()
        ):
            time.sleep(0.05)
        apply.send_signal(signal.SIGKILL)  # the run dies while GitHub has not answered
        apply.wait(timeout=10)
    result = verify(log)
    assert result.ok
    assert [
        (i.change.action, str(i.change.principal), str(i.change.target))
        for i in result.open_intents
    ] == [("add", "user:octocat", "repo:acme/payments-api")]
    code, out, err = run("audit", "verify", "--root", str(repo.root))
    assert code == 0
    assert "hash chain intact" in out
    assert "add user:octocat on repo:acme/payments-api was started by run" in err
    assert "has no outcome: check it on GitHub" in err


def test_audit_report_formats(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = AuditLog(path)
    octocat, payments = Principal.user("octocat"), Target.repo("acme", "payments-api")
    events: list[Event] = [
        GrantApproved(
            ts=parse_timestamp("2026-11-29T08:00:00Z"),
            run="r1",
            source="grants/g.yaml",
            expires=parse_timestamp("2026-11-29T18:00:00Z"),
            approvers=("alice",),
            pull=7,
            reason="INC-1 hotfix",
        ),
        AccessAdded(
            ts=parse_timestamp("2026-11-29T09:00:00Z"),
            run="r1",
            change_id="r1#1",
            change=Change("add", octocat, payments, None, "push", "grant", "grants/g.yaml"),
            pull=7,
        ),
        AccessRemoved(
            ts=parse_timestamp("2026-11-29T17:00:00Z"),
            run="r2",
            change_id="r2#1",
            change=Change("remove", octocat, payments, "push", None, "expired", "grants/g.yaml"),
        ),
        InvitationSent(
            ts=parse_timestamp("2026-11-30T01:00:00Z"),
            run="r3",
            change_id="r3#1",
            change=Change(
                "add",
                Principal.user("dana"),
                Target.repo("acme", "ledger"),
                None,
                "pull",
                "baseline",
                None,
            ),
        ),
    ]
    for event in events:
        log.append(event.to_json())
    window = [
        "--log",
        str(path),
        "--since",
        "2026-11-29T00:00:00Z",
        "--until",
        "2026-11-30T00:00:00Z",
    ]
    code, out, _ = run("audit", "report", *window, "--format", "json")
    assert code == 0
    assert json.loads(out)["sections"]["periods"]["rows"] == [
        {
            "principal": "user:octocat",
            "level": "push",
            "target": "repo:acme/payments-api",
            "start": "2026-11-29T09:00:00Z",
            "end": "2026-11-29T17:00:00Z",
            "ended": "expired",
            "source": "grants/g.yaml",
            "commit": None,
            "pull": 7,
            "requester": None,
            "approvers": ["alice"],
            "approved_at": None,
            "merged_at": None,
            "merged_by": None,
            "reason": "INC-1 hotfix",
        }
    ]  # dana's invitation falls after the window
    code, out, _ = run("audit", "report", *window, "--format", "csv")
    assert out.splitlines() == [
        "who,access,on,from,until,ended,grant,PR,requested by,approved by,why",
        "user:octocat,push,repo:acme/payments-api,2026-11-29T09:00:00Z,2026-11-29T17:00:00Z,"
        "expired,grants/g.yaml,#7,,alice,INC-1 hotfix",
    ]
    code, out, _ = run(
        "audit",
        "report",
        *window[:2],
        "--since",
        "2026-11-29T12:00:00Z",
        "--until",
        "2026-12-01T00:00:00Z",
    )
    assert "| user:dana    | pull (invited) | repo:acme/ledger" in out
    assert "| still open |" in out
    assert "2026-11-29T12:00:00Z | 2026-11-29T17:00:00Z" in out  # clipped to the window
    ago = ("--now", "2026-12-01T00:00:00Z", "--since", "1d12h")
    assert (
        run("audit", "report", *window[:2], *ago, "--until", "1m")[1]
        == run(
            "audit",
            "report",
            *window[:2],
            "--since",
            "2026-11-29T12:00:00Z",
            "--until",
            "2026-11-30T23:59:00Z",
        )[1]
    )  # durations count back from --now
    code, _, err = run("audit", "report", *window[:2], "--since", "fortnight")
    assert code == 2 and "neither an RFC 3339 time nor a duration such as 14d" in err


@pytest.mark.parametrize(
    "line",
    [
        {"event": "run-start", "run": ["x"]},
        {"event": "change-started", "change_id": {"x": 1}},
        {"event": "invitation-sent", "source": ["grants/g.yaml"]},
        {"event": "grant-unapproved", "reason": 7},
        {"event": "grant-approved", "pull": "2"},
        {"event": "grant-approved", "pull": True},
        {"event": "grant-approved", "grantables": "user:octocat"},
    ],
)
def test_a_field_of_the_wrong_type_breaks_the_chain_instead_of_a_run(
    tmp_path: Path, line: dict[str, object]
) -> None:
    """Well chained, but a list where a name belongs: a break, never a crash later."""
    path = _log(tmp_path, 2)
    AuditLog(path).append({"ts": "2026-11-30T12:00:09Z", **line})
    result = verify(path)
    assert not result.ok and result.bad_line == 3
    assert "has the wrong type" in result.reason
    assert len(result.events) == 2


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\r"])
def test_a_line_separator_inside_a_value_does_not_split_the_line(
    tmp_path: Path, separator: str
) -> None:
    path = _log(tmp_path, 1)
    AuditLog(path).append({"ts": "t", "event": "change-started", "source": f"a{separator}b"})
    AuditLog(path).append({"ts": "t", "event": "run-end"})  # chains onto the whole line
    assert verify(path).ok
    assert [e["event"] for e in read_events(path)] == ["access-added", "change-started", "run-end"]
