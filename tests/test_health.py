"""``grantops health``: one issue while the scheduled reconcile fails or stops, closed after.

The verdict and the step are pure (table-driven below); the command runs against the
sandbox over real HTTP, whose answers the contract check holds to GitHub's description.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grantops.audit.events import RunEnd, RunStart
from grantops.audit.lastrun import last_recorded
from grantops.health import (
    MARKER,
    HealthIssue,
    RecordedRun,
    WorkflowRun,
    decide,
    judge,
    ours,
    unknown,
)
from grantops.healthtext import text
from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.fixtures import WorkflowRunState

from .sandbox_fixtures import BASE_STATE, TOKEN, StartSandbox
from .test_cli import run

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AT = "2026-11-30T12:00:00Z"
HOUR = timedelta(hours=1)


def _run(ident: int, conclusion: str | None, minutes_ago: int, status: str = "completed") -> Any:
    """A run as the state file holds it, finished ``minutes_ago`` before NOW."""
    at = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": ident,
        "workflow": "reconcile.yml",
        "run_number": ident,
        "status": status,
        "conclusion": conclusion,
        "created_at": at,
        "updated_at": at,
    }


def _value(ident: int, conclusion: str | None, minutes_ago: int) -> WorkflowRun:
    at = NOW - timedelta(minutes=minutes_ago)
    url = f"https://github.com/acme/access/actions/runs/{ident}"
    status = "completed" if conclusion else "in_progress"
    return WorkflowRun(ident, ident, "schedule", status, conclusion, at, at, url)


# ----- the verdict (pure) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("runs", "state"),
    [
        ([_value(2, "success", 10), _value(1, "failure", 25)], "healthy"),
        ([_value(2, "failure", 10), _value(1, "success", 25)], "failed"),
        ([_value(2, "timed_out", 10)], "failed"),
        ([_value(2, "startup_failure", 10), _value(1, "success", 25)], "failed"),
        ([_value(2, "success", 61)], "missing"),
        ([_value(3, "cancelled", 5), _value(2, "success", 90)], "missing"),
        ([_value(3, None, 5), _value(2, "success", 30)], "healthy"),  # one still running
        ([], "missing"),
    ],
)
def test_judge(runs: list[WorkflowRun], state: str) -> None:
    assert judge(runs, None, NOW, HOUR).state == state


def test_a_failed_change_the_log_records_after_the_last_success_is_a_failure() -> None:
    runs = [_value(2, "success", 20)]
    late = RecordedRun("local-x", NOW - timedelta(minutes=10), ended=True, failed=1)
    early = RecordedRun("local-y", NOW - timedelta(minutes=30), ended=True, failed=1)
    unended = RecordedRun("local-z", NOW - timedelta(minutes=10), ended=False, failed=0)
    clean = RecordedRun("local-w", NOW - timedelta(minutes=10), ended=True, failed=0)
    assert judge(runs, late, NOW, HOUR).state == "failed"
    assert judge(runs, unended, NOW, HOUR).state == "failed"
    assert judge(runs, early, NOW, HOUR).state == "healthy"  # a later run succeeded
    assert judge(runs, clean, NOW, HOUR).state == "healthy"


def test_last_recorded_reads_the_last_runs_end() -> None:
    start = RunStart(ts=NOW, run="r2", now=NOW)
    events = [
        RunStart(ts=NOW - HOUR, run="r1", now=NOW - HOUR),
        RunEnd(ts=NOW - HOUR, run="r1", results={"failed": 2}),
        start,
        RunEnd(ts=NOW, run="r2", results={"done": 1, "failed": 1}),
    ]
    assert last_recorded(events) == RecordedRun("r2", NOW, True, 1)
    assert last_recorded(events[:3]) == RecordedRun("r2", NOW, False, 0)
    assert last_recorded([]) is None


def test_the_issue_is_commented_only_when_there_is_something_new() -> None:
    failed = judge([_value(5, "failure", 5)], None, NOW, HOUR)
    opened = decide(failed, None, "t", "x")
    assert opened.action == "open" and opened.body.startswith(MARKER)
    issue = HealthIssue(7, opened.body, "u")
    assert decide(failed, issue, "t", "x").action == "none"
    again = judge([_value(6, "failure", 1), _value(5, "failure", 5)], None, NOW, HOUR)
    assert decide(again, issue, "t", "x").action == "comment"
    assert decide(unknown("HTTP 502"), issue, "t", "x").action == "none"


def test_only_an_issue_with_the_marker_is_ours() -> None:
    labelled = [HealthIssue(3, "labelled by hand", "u"), HealthIssue(9, MARKER, "u")]
    assert ours(labelled) == HealthIssue(9, MARKER, "u")
    assert ours(labelled[:1]) is None


def test_the_issue_text_escapes_what_it_did_not_write() -> None:
    hostile = WorkflowRun(
        1,
        1,
        "@everyone [x](https://evil.example)",
        "completed",
        "failure`",
        NOW,
        NOW,
        "javascript:alert(1)",
    )
    logged = RecordedRun("<!-- --> @mallory", NOW, False, 0)
    health = judge([hostile], logged, NOW, HOUR)
    said = text(health, "reconcile.yml", HOUR)
    assert "javascript:" not in said and "](https://evil" not in said
    assert "@everyone" not in said.replace("`@everyone", "")  # only inside a code span
    assert said.count("<!--") == 1 and "`<!-- --> @mallory`" in said  # shown, not HTML
    body = decide(health, None, "t", said).body
    assert body.count("grantops-health-state") == 1 and body.startswith(MARKER)


# ----- the command against the sandbox ---------------------------------------------


def _state(*runs: Any, issues: list[Any] | None = None) -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["access"] = {"runs": list(runs), "issues": issues or []}
    return state


def _health(sandbox: Sandbox, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": sandbox.url}
    args = ["health", "--root", str(tmp_path), "--now", AT, "--access-repo", "acme/access"]
    return run(*args, "--attempts", "1", *extra, environ=environ)


def _issues(sandbox: Sandbox) -> list[Any]:
    return sandbox.state().repos["access"].issues


def _comments(sandbox: Sandbox, number: int) -> list[str]:
    return [c.body for c in sandbox.state().repos["access"].comments if c.issue == number]


def _then(sandbox: Sandbox, *runs: Any) -> None:
    """Newer runs happen (the newest first)."""
    sandbox.world.repos["access"].runs[:0] = [WorkflowRunState.model_validate(r) for r in runs]


def test_failed_run_opens_one_issue_comments_then_closes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox = start_sandbox(_state(_run(2, "failure", 5), _run(1, "success", 20)))
    code, out, err = _health(sandbox, tmp_path)
    assert code == 1, err
    [issue] = _issues(sandbox)
    assert issue.state == "open" and issue.labels == ["grantops-health"]
    assert issue.title == "grantops: the reconcile run failed"
    assert MARKER in issue.body and "run 2" in issue.body
    assert "health: failed" in out and f"open an issue: {issue.title}" in out

    code, _, _ = _health(sandbox, tmp_path)  # nothing new: no comment
    assert code == 1 and _comments(sandbox, issue.number) == []

    _then(sandbox, _run(3, "failure", 1))
    code, out, _ = _health(sandbox, tmp_path)
    assert code == 1 and f"comment on issue #{issue.number}" in out
    [still] = _issues(sandbox)
    assert still.state == "open" and "run 3" in still.body
    assert len(_comments(sandbox, issue.number)) == 1

    _then(sandbox, _run(4, "success", 0))
    code, out, _ = _health(sandbox, tmp_path)
    assert code == 0 and f"close issue #{issue.number}" in out
    [closed] = _issues(sandbox)
    assert closed.state == "closed"
    assert "healthy again" in _comments(sandbox, issue.number)[-1]


def test_a_missing_run_opens_the_issue(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    sandbox = start_sandbox(_state(_run(1, "success", 95)))
    code, out, _ = _health(sandbox, tmp_path, "--json")
    assert code == 1
    document = json.loads(out)
    assert document["state"] == "missing" and document["issue"]["action"] == "open"
    [issue] = _issues(sandbox)
    assert issue.title == "grantops: no successful reconcile run for over 1h"


def test_a_longer_max_age_keeps_a_late_run_healthy(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox = start_sandbox(_state(_run(1, "success", 95)))
    code, _, _ = _health(sandbox, tmp_path, "--max-age", "2h")
    assert code == 0 and _issues(sandbox) == []


def test_dry_run_changes_nothing(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    sandbox = start_sandbox(_state(_run(1, "failure", 5)))
    before = sandbox.state()
    code, out, _ = _health(sandbox, tmp_path, "--dry-run")
    assert code == 1 and "would open an issue" in out
    assert sandbox.state() == before
    assert not any(k.split(" ")[0] in ("POST", "PATCH") for k in sandbox.stats)


def test_unreadable_runs_leave_an_open_issue_open(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Fail closed: health that cannot be read is not health, so nothing is closed."""
    issue = {
        "number": 1,
        "author": "grantops-bot",
        "title": "grantops: the reconcile run failed",
        "body": f"{MARKER}\n<!-- grantops-health-state: failed 1 -->\nfailed",
        "labels": ["grantops-health"],
    }
    fault = FaultRule("GET /repos/acme/access/actions/", 502, times=-1)
    sandbox = start_sandbox(_state(_run(2, "success", 1), issues=[issue]), faults=[fault])
    code, out, _ = _health(sandbox, tmp_path)
    assert code == 1
    assert "health unknown: list runs of reconcile.yml in acme/access: HTTP 502" in out
    assert _issues(sandbox)[0].state == "open"
    assert _comments(sandbox, 1) == []


def test_an_issue_someone_else_labelled_is_left_alone(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    theirs = {"number": 1, "author": "mallory", "title": "t", "labels": ["grantops-health"]}
    sandbox = start_sandbox(_state(_run(2, "failure", 1), issues=[theirs]))
    code, _, _ = _health(sandbox, tmp_path)
    assert code == 1
    first, ours_ = _issues(sandbox)
    assert first.state == "open" and _comments(sandbox, 1) == []
    assert ours_.number == 2 and MARKER in ours_.body


def test_the_access_repository_comes_from_actions_only_in_actions(tmp_path: Path) -> None:
    environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "octocat/Hello-World"}
    code, _, err = run("health", "--root", str(tmp_path), environ=environ)
    assert code == 2 and "set --access-repo OWNER/NAME" in err
    code, _, err = run("health", "--root", str(tmp_path), "--access-repo", "a/b/c", environ=environ)
    assert code == 2 and "'a/b/c' is not OWNER/NAME" in err
