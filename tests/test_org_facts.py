"""The org itself in the audit trail: owners, base permission and coverage are logged
by a run when they change, and the report says what held, from the log alone."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grantops.actual import UNMANAGED_NAMED, org_facts
from grantops.audit import orgfacts
from grantops.audit.events import OrgFactsRecorded, RunEnd, RunStart, Unknown, parse_event
from grantops.audit.log import AuditLog, read_events, verify
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_audit_trail import apply_at

TS = datetime(2026, 11, 30, 12, tzinfo=UTC)
RUN = {"ts": "2026-11-30T12:00:00Z", "run": "r1"}
FACTS = OrgFactsRecorded(
    ts=TS,
    run="r1",
    org="acme",
    owners=("root-admin",),
    base_permission="read",
    repositories=5,
    managed=4,
    unmanaged=("website",),
)
LINE = {
    **RUN,
    "event": "org-facts",
    "org": "acme",
    "owners": ["root-admin"],
    "base_permission": "read",
    "repositories": 5,
    "managed": 4,
    "unmanaged": ["website"],
}


def _access_repo(tmp_path: Path) -> tuple[ReviewedRepo, Path]:
    """A reviewed access repository with one grant, and where its log will be."""
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    return repo, repo.root / "audit" / "log.jsonl"


def _org_lines(log: Path) -> list[dict[str, Any]]:
    return [line for line in read_events(log) if line["event"] == "org-facts"]


def test_a_real_apply_records_the_org_and_the_report_shows_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, log = _access_repo(tmp_path)
    state = with_access_repo(repo)
    state["base_permission"] = "read"
    sandbox = start_sandbox(state)
    apply_at(repo.root, "2026-11-30T12:00:00Z", access_env(sandbox.url))
    [line] = _org_lines(log)
    assert {k: line[k] for k in ("org", "owners", "base_permission", "repositories")} == {
        "org": "acme",
        "owners": ["root-admin"],
        "base_permission": "pull",  # GitHub's "read" is the pull role
        "repositories": 5,
    }
    # managed: payments-api, ledger, deploy-api; not: website and the access repository
    assert (line["managed"], line["unmanaged"]) == (3, ["access", "website"])
    report = (repo.root / "audit" / "report.md").read_text()
    organisation = report.split("## Organisation")[1].split("\n## ")[0]
    assert "- Owners (1): `root-admin`" in organisation
    assert "- Base permission: `pull` for every member on every repository" in organisation
    assert "- Coverage: 3 of 5 repositories managed; not managed: `access`, `website`" in (
        organisation
    )
    assert verify(log).ok


def test_facts_are_logged_again_only_when_they_change(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, log = _access_repo(tmp_path)
    first = start_sandbox(with_access_repo(repo))
    apply_at(repo.root, "2026-11-30T12:00:00Z", access_env(first.url))
    apply_at(repo.root, "2026-11-30T12:15:00Z", access_env(first.url))
    assert len(_org_lines(log)) == 1  # nothing changed: the quiet run wrote nothing
    changed = copy.deepcopy(with_access_repo(repo))
    changed["owners"] = ["root-admin", "New-Owner"]
    changed["base_permission"] = "write"
    second = start_sandbox(changed)
    apply_at(repo.root, "2026-11-30T12:30:00Z", access_env(second.url))
    lines = _org_lines(log)
    assert [(line["owners"], line["base_permission"]) for line in lines] == [
        (["root-admin"], "none"),
        (["New-Owner", "root-admin"], "push"),
    ]
    assert verify(log).ok


def test_an_old_log_without_org_facts_still_parses_verifies_and_takes_them(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, log = _access_repo(tmp_path)
    old = AuditLog(log)
    old.append(RunStart(ts=TS - timedelta(days=1), run="old", now=TS).to_json())
    old.append(RunEnd(ts=TS - timedelta(days=1), run="old", results={}).to_json())
    before = log.read_text()
    assert orgfacts.latest(verify(log).events) is None
    sandbox = start_sandbox(with_access_repo(repo))
    apply_at(repo.root, "2026-11-30T12:00:00Z", access_env(sandbox.url))
    assert log.read_text().startswith(before)  # appended, never rewritten
    result = verify(log)
    assert result.ok
    assert [type(e).__name__ for e in result.events[:2]] == ["RunStart", "RunEnd"]
    found = orgfacts.latest(result.events)
    assert found is not None and found.owners == ("root-admin",)


def test_the_line_is_written_and_read_back_as_it_is() -> None:
    assert FACTS.to_json() == LINE
    assert parse_event(json.loads(json.dumps(LINE))) == FACTS
    many = {**LINE, "unmanaged": None}  # too many to name: only counted
    read = parse_event(many)
    assert isinstance(read, OrgFactsRecorded) and read.unmanaged is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param({k: v for k, v in LINE.items() if k != "owners"}, id="no owners"),
        pytest.param({**LINE, "owners": [7]}, id="an owner that is no name"),
        pytest.param({**LINE, "repositories": "5"}, id="a count that is text"),
        pytest.param({**LINE, "managed": True}, id="a count that is a boolean"),
        pytest.param({k: v for k, v in LINE.items() if k != "base_permission"}, id="no base"),
    ],
)
def test_a_line_missing_what_the_report_shows_is_unknown(line: dict[str, Any]) -> None:
    assert isinstance(parse_event(line), Unknown)


def test_a_pushed_line_with_a_field_of_the_wrong_type_breaks_the_chain(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    AuditLog(log).append({**LINE, "owners": "root-admin"})
    result = verify(log)
    assert not result.ok
    assert result.reason == "not a log entry ('owners' has the wrong type)"


def test_the_section_shows_the_latest_facts_up_to_the_end_of_the_period() -> None:
    older = OrgFactsRecorded(**{**FACTS.__dict__, "ts": TS - timedelta(days=30), "managed": 1})
    later = OrgFactsRecorded(**{**FACTS.__dict__, "ts": TS + timedelta(days=1), "managed": 2})
    events = [older, FACTS, later]
    text = orgfacts.section(events, TS, since=TS - timedelta(days=7))
    assert "- Coverage: 4 of 5 repositories managed; not managed: `website`" in text
    assert "_As recorded by run `r1` at 2026-11-30T12:00:00Z._" in text
    earlier = orgfacts.section(events, TS - timedelta(days=1), since=TS - timedelta(days=7))
    assert "1 of 5 repositories managed" in earlier
    assert "before this period and unchanged since" in earlier
    assert "No run has recorded" in orgfacts.section(events, TS - timedelta(days=31))
    assert orgfacts.latest(events, org="other") is None


def test_the_section_counts_what_it_cannot_name_and_escapes_what_anyone_could_push() -> None:
    hostile = OrgFactsRecorded(
        **{
            **FACTS.__dict__,
            "owners": ("root`admin", "<img src=x>"),
            "repositories": 40,
            "managed": 0,
            "unmanaged": None,
        }
    )
    text = orgfacts.section([hostile], TS)
    assert "- Coverage: 0 of 40 repositories managed; 40 not managed" in text
    assert "``root`admin``, `<img src=x>`" in text  # code spans: shown, never rendered
    everything = OrgFactsRecorded(**{**FACTS.__dict__, "managed": 5, "unmanaged": ()})
    assert "- Coverage: 5 of 5 repositories managed\n" in orgfacts.section([everything], TS)


def test_org_facts_name_few_unmanaged_repositories_and_count_many() -> None:
    few = org_facts(["b", "A"], "pull", ["ledger", "Website", "api"], lambda n: n == "ledger")
    assert few.owners == ("A", "b")
    assert (few.repositories, few.managed, few.unmanaged) == (3, 1, ("api", "Website"))
    names = [f"repo-{i}" for i in range(UNMANAGED_NAMED + 1)]
    many = org_facts([], "none", names, lambda n: False)
    assert (many.repositories, many.managed, many.unmanaged) == (UNMANAGED_NAMED + 1, 0, None)
