"""``grantops audit report`` read as an auditor reads it, from log lines a run writes.

Each test builds the lines apply would write for one story (an extension, drift, a
failed add, a revoke) and asks the report what an access review asks.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grantops.access import Principal, Target
from grantops.audit.events import (
    AccessAdded,
    AccessRemoved,
    ChangeFailed,
    DriftRemoved,
    Event,
    GrantApproved,
)
from grantops.audit.log import AuditLog
from grantops.audit.report import GrantRecord, grant_records, timeline
from grantops.plan import Cause, Change

from .builders import repo, user
from .test_cli import run

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
OCTOCAT, PAYMENTS = Principal.user("octocat"), Target.repo("acme", "payments-api")
SOURCE = "grants/octocat.yaml"


def _approved(hours: int, run_id: str, pull: int, approver: str, expires: int) -> GrantApproved:
    return GrantApproved(
        ts=T0 + timedelta(hours=hours),
        run=run_id,
        source=SOURCE,
        expires=T0 + timedelta(hours=expires),
        grantables=((OCTOCAT, PAYMENTS, "push"),),
        commit=f"{pull}" * 40,
        pull=pull,
        approvers=(approver,),
        author="octocat",
        merged_at=f"2026-11-20T0{pull}:00:00Z",
        reason=f"INC-{pull}",
    )


def _outcome(
    kind: type[Event], hours: float, run_id: str, change: Change, **extra: object
) -> Event:
    return kind(  # type: ignore[call-arg]
        ts=T0 + timedelta(hours=hours), run=run_id, change_id=f"{run_id}#1", change=change, **extra
    )


def _removal(cause: Cause, source: str | None = SOURCE) -> Change:
    return Change("remove", OCTOCAT, PAYMENTS, "push", None, cause, source)


ADD = Change("add", OCTOCAT, PAYMENTS, None, "push", "grant", SOURCE)

EXTENDED: list[Event] = [
    # run 1 adds octocat's access, then logs the version it proved (alice, #3)
    _outcome(AccessAdded, 0, "r1", ADD, pull=3),
    _approved(0, "r1", 3, "alice", expires=8),
    # run 2 proves the extension (bob, #6): nothing changes on GitHub
    _approved(6, "r2", 6, "bob", expires=30),
    # run 3 removes the access 45 minutes after the extension ended
    _outcome(AccessRemoved, 30.75, "r3", _removal("expired")),
]


def _write(tmp_path: Path, events: list[Event]) -> Path:
    path = tmp_path / "log.jsonl"
    log = AuditLog(path)
    for event in events:
        log.append(event.to_json())
    return path


def _report(log: Path, *args: str) -> str:
    code, out, err = run("audit", "report", "--log", str(log), *args)
    assert code == 0, err
    return out


def _json(log: Path, *args: str) -> dict[str, list[dict[str, object]]]:
    document = json.loads(_report(log, *args, "--format", "json"))
    return {name: section["rows"] for name, section in document["sections"].items()}


WINDOW = ("--since", "2026-11-19T00:00:00Z", "--until", "2026-11-23T00:00:00Z")


def test_an_extension_is_credited_to_its_own_approver_and_pull_request(tmp_path: Path) -> None:
    sections = _json(_write(tmp_path, EXTENDED), *WINDOW)
    periods = [(p["start"], p["end"], p["pull"], p["approvers"]) for p in sections["periods"]]
    assert periods == [
        ("2026-11-20T09:00:00Z", "2026-11-20T15:00:00Z", 3, ["alice"]),
        ("2026-11-20T15:00:00Z", "2026-11-21T15:45:00Z", 6, ["bob"]),
    ]
    assert [p["ended"] for p in sections["periods"]] == ["next version", "expired"]
    assert [(v["pull"], v["approvers"], v["expires"]) for v in sections["versions"]] == [
        (3, ["alice"], "2026-11-20T17:00:00Z"),
        (6, ["bob"], "2026-11-21T15:00:00Z"),
    ]


def test_lateness_runs_from_the_versions_end_to_the_logged_removal(tmp_path: Path) -> None:
    (removal,) = _json(_write(tmp_path, EXTENDED), *WINDOW)["removals"]
    assert (removal["why"], removal["expires"], removal["late"], removal["pull"]) == (
        "expired",
        "2026-11-21T15:00:00Z",
        "45m",
        6,
    )
    assert "| 2026-11-21T15:00:00Z | 45m" in _report(_write(tmp_path, EXTENDED), *WINDOW)


def test_drift_revokes_and_failures_are_listed_never_nothing(tmp_path: Path) -> None:
    bob, website = Principal.user("bob"), Target.repo("acme", "ledger")
    mistyped = Change("add", Principal.user("octocatt"), PAYMENTS, None, "push", "grant", "g.yaml")
    log = _write(
        tmp_path,
        [
            *EXTENDED[:2],
            _outcome(
                DriftRemoved,
                1,
                "r2",
                Change("remove", bob, website, "admin", None, "undeclared", None),
            ),
            _outcome(ChangeFailed, 1, "r2", mistyped, detail="PUT /x: HTTP 404: Not Found"),
            _outcome(AccessRemoved, 2, "r3", _removal("revoked")),
        ],
    )
    sections = _json(log, *WINDOW)
    assert [(r["principal"], r["why"]) for r in sections["removals"]] == [
        ("user:bob", "drift removed"),
        ("user:octocat", "revoked"),
    ]
    assert [p["ended"] for p in sections["periods"]] == ["revoked"]
    (failed,) = sections["failed"]
    assert failed["principal"] == "user:octocatt"
    assert failed["answer"] == (
        "GitHub found no such account, team or repository (a mistyped name?) "
        "(PUT /x: HTTP 404: Not Found)"
    )
    assert all(p["principal"] != "user:octocatt" for p in sections["periods"])
    text = _report(log, *WINDOW)
    assert "No access" not in text and "- Removals: **2** (1 drift removed, 1 revoked)" in text


def test_a_grant_without_starts_opens_at_its_first_add_and_a_revoke_ends_it() -> None:
    events = [*EXTENDED[:2], _outcome(AccessRemoved, 2, "r3", _removal("revoked"))]
    (record,) = grant_records([], events, "acme", ())
    assert (record.opens, record.closes) == (T0, T0 + timedelta(hours=2))
    chart = timeline([record], T0 + timedelta(hours=3))
    assert "user octocat push :done, g0_0, 2026-11-20T09:00, 2026-11-20T11:00" in chart


def test_a_record_without_a_logged_start_keeps_its_hour_bar() -> None:
    ends = T0 + timedelta(hours=5)
    record = GrantRecord(SOURCE, ((user("octocat"), repo("payments-api"), "push"),), None, ends, "")
    assert (record.opens, record.closes) == (ends - timedelta(hours=1), ends)


def test_csv_is_one_section_and_every_section_can_be_chosen(tmp_path: Path) -> None:
    log = _write(tmp_path, EXTENDED)
    rows = list(csv.reader(io.StringIO(_report(log, *WINDOW, "--format", "csv"))))
    assert rows[0][:3] == ["who", "access", "on"] and len(rows) == 3
    removals = _report(log, *WINDOW, "--format", "csv", "--section", "removals")
    assert removals.splitlines()[0] == "when,who,on,had,why,grant,PR,expired at,removed after"
    only = _report(log, *WINDOW, "--section", "versions")
    assert "## Grant versions" in only and "## Access periods" not in only
    code, _, err = run("audit", "report", "--log", str(log), *WINDOW, "--section", "at")
    assert code == 2 and "section 'at' needs --at" in err
    code, _, err = run("audit", "report", "--log", str(log))
    assert code == 2 and "give --since (a window), --at (a point in time), or both" in err
