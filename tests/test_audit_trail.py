"""The audit trail across real runs: notices once each, activity in the window, the report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grantops.audit.events import OrgFactsRecorded
from grantops.audit.log import read_events, verify
from grantops.audit.report import GrantRecord, ReportInput, access_after, render
from grantops.desired import desired_access
from grantops.github.activity import Activity
from grantops.plan import Outcome, make_plan

from .builders import actual, grant, policy, repo, team, user
from .data import GRANT, NOW, POLICY
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run

GOLDEN = Path(__file__).with_name("golden")
NOTIFY = POLICY + "notify:\n  before: 1h\n"


def _commit(sha: str, author: str, at: str, message: str) -> dict[str, Any]:
    return {"sha": sha * 40, "author": author, "date": at, "message": message}


def apply_at(root: Path, at: str, environ: dict[str, str]) -> str:
    """``apply --yes`` at ``at``, which must succeed; its output."""
    code, out, err = run(
        "apply",
        "--root",
        str(root),
        "--now",
        at,
        "--yes",
        "--mutation-interval",
        "0",
        environ=environ,
    )
    assert code == 0, err
    return out


def test_notices_once_each_and_activity_in_the_window(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT}, policy=NOTIFY)
    state = with_access_repo(repo)
    state["repos"]["payments-api"]["commits"] = [
        _commit("a", "octocat", "2026-11-30T20:00:00Z", "after the window"),
        _commit("b", "bob", "2026-11-30T11:00:00Z", "someone else"),
        _commit("c", "octocat", "2026-11-30T10:00:00Z", "Fix payment retries\n\nINC-4821"),
    ]
    state["repos"]["payments-api"]["pulls"] = [
        {
            "number": 41,
            "author": "octocat",
            "title": "Retry payments with backoff",
            "head_sha": "d" * 40,
            "merged_at": "2026-11-30T15:00:00Z",
            "merge_commit_sha": "e" * 40,
        },
    ]
    sandbox = start_sandbox(state)
    env = access_env(sandbox.url)

    def apply(at: str) -> str:
        return apply_at(repo.root, at, env)

    assert "1 notice(s) posted" in apply("2026-11-30T12:00:00Z")
    assert "notice" not in apply("2026-11-30T12:30:00Z")
    assert "1 notice(s) posted" in apply("2026-11-30T17:30:00Z")
    sandbox.stats.clear()
    assert "1 notice(s) posted" in apply("2026-11-30T18:30:00Z")
    assert sandbox.stats["GET repos/list-commits"] == 1
    sandbox.stats.clear()
    assert "notice" not in apply("2026-11-30T19:00:00Z")
    assert sandbox.stats["GET repos/list-commits"] == 0  # activity comes from the log now

    comments = sandbox.state().repos["access"].comments
    assert [(c.issue, c.body.split(":")[0]) for c in comments] == [
        (2, "@octocat access is open"),
        (2, "@octocat heads-up"),
        (2, "@octocat access has ended and was removed"),
    ]
    assert "ends at 2026-11-30T18:00:00Z, in 30m" in comments[1].body
    report = (repo.root / "audit" / "report.md").read_text()
    ended = report.split("## Recently ended grants")[1].split("## Unapproved")[0]
    assert "| repo:acme/payments-api | commit | cccccc" in ended and "Fix payment retries" in ended
    assert "| repo:acme/payments-api | pull   | #41" in ended
    assert "after the window" not in ended and "someone else" not in ended
    events = read_events(repo.root / "audit" / "log.jsonl")
    assert [e["kind"] for e in events if e["event"] == "notification-sent"] == [
        "started",
        "ending",
        "ended",
    ]
    assert verify(repo.root / "audit" / "log.jsonl").ok


def test_no_notices_when_the_token_may_not_comment(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    from grantops.sandbox import FaultRule

    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT}, policy=NOTIFY)
    deny = FaultRule(
        "POST /repos/acme/access/issues/.*/comments",
        403,
        times=-1,
        message="Resource not accessible by integration",
    )
    sandbox = start_sandbox(with_access_repo(repo), faults=[deny])
    env = access_env(sandbox.url)
    code, _, err = run(
        "apply",
        "--root",
        str(repo.root),
        "--now",
        "2026-11-30T12:00:00Z",
        "--yes",
        "--mutation-interval",
        "0",
        environ=env,
    )
    assert code == 0
    assert "notices are off this run" in err and "Resource not accessible by integration" in err
    events = read_events(repo.root / "audit" / "log.jsonl")
    assert not [e for e in events if e["event"] == "notification-sent"]


def _report_input() -> ReportInput:
    p = policy()
    grants = [
        grant(
            "octocat/hotfix.yaml",
            user="octocat",
            repo="payments-api",
            permission="push",
            starts="2026-11-30T09:00:00Z",
            expires="2026-11-30T18:00:00Z",
        ),
        grant(
            "sre/ledger.yaml",
            team="sre",
            repos=["ledger", "deploy-api"],
            permission="maintain",
            starts="2026-11-29T12:00:00Z",
            expires="2026-12-02T09:00:00Z",
        ),
    ]
    state = actual(
        owners=["root-admin"],
        repos={
            "payments-api": {
                "collaborators": {"release-bot": "push", "bob": "admin", "acme-admin-bot": "admin"},
                "teams": {"platform": "maintain"},
            },
            "ledger": {"invitations": {"dana": "pull"}},
        },
    )
    desired = desired_access(p, grants, NOW)
    plan = make_plan(p, desired, state, NOW)
    outcomes = [Outcome(c, "done") for c in plan.changes]
    records = [
        GrantRecord(
            "grants/mona/ledger.yaml",
            ((user("mona"), repo("ledger"), "push"),),
            NOW - timedelta(days=3),
            NOW - timedelta(days=2),
            "INC-4790 ledger export",
            ("bob",),
            3,
        ),
        GrantRecord(
            "grants/octocat/hotfix.yaml",
            ((user("octocat"), repo("payments-api"), "push"),),
            NOW - timedelta(hours=3),
            NOW + timedelta(hours=6),
            "INC-4821 hotfix",
            ("alice",),
            7,
        ),
        GrantRecord(
            "grants/sre/ledger.yaml",
            (
                (team("sre"), repo("ledger"), "maintain"),
                (team("sre"), repo("deploy-api"), "maintain"),
            ),
            NOW - timedelta(days=1),
            NOW + timedelta(days=2),
            "INC-4830 migration",
            ("alice", "carol"),
            9,
        ),
    ]
    activity = {
        "grants/mona/ledger.yaml": [
            (
                repo("ledger"),
                [
                    Activity("commit", "cccccc1", "Export November ledger", "2026-11-27T14:00:00Z"),
                    Activity("pull", "#41", "Ledger export fixes", "2026-11-27T16:30:00Z"),
                ],
            )
        ]
    }
    return ReportInput(
        NOW,
        "https://github.com/acme/access/actions/runs/42",
        p,
        plan,
        desired,
        access_after(state, outcomes),
        outcomes,
        records,
        activity,
        events=[_org_facts(NOW - timedelta(days=5), 4), _org_facts(NOW - timedelta(days=1), 5)],
    )


def _org_facts(at: datetime, repositories: int) -> OrgFactsRecorded:
    """A line recording the org's facts; the report shows the latest."""
    return OrgFactsRecorded(
        ts=at,
        run="https://github.com/acme/access/actions/runs/41",
        org="acme",
        owners=("root-admin", "cto"),
        base_permission="pull",
        repositories=repositories,
        managed=3,
        unmanaged=("website", "handbook")[: repositories - 3],
    )


def test_report_matches_the_reviewed_golden_file(update_golden: bool) -> None:
    text = render(_report_input())
    golden = GOLDEN / "report.md"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), "review the change, then: pytest --update-golden"


def test_report_facts() -> None:
    text = render(_report_input())
    assert "- Drift removed this run: **2**" in text  # bob's hand-added admin, dana's invitation
    now_section = text.split("## Access now")[1].split("## Active grants")[0]
    assert "user:bob" not in now_section and "user:octocat" in now_section
    assert (
        "| `repo:acme/payments-api` | `user:acme-admin-bot` | admin    | left alone: protected account"
        in text
    )
    assert "octocat push :active" in text and "user mona push :done" in text
    assert "now :milestone, m0, 2026-11-30T12:00, 0m" in text


def test_an_expired_invitation_is_sent_again_at_most_three_times(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    dana = GRANT.replace("octocat", "dana").replace("payments-api", "ledger")
    repo = reviewed(tmp_path / "access", {"d.yaml": dana})
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url)
    argv = [
        "apply",
        "--root",
        str(repo.root),
        "--now",
        "2026-11-30T12:00:00Z",
        "--yes",
        "--mutation-interval",
        "0",
    ]
    for _ in range(4):
        code, out, err = run(*argv, environ=env)
        assert code == 0, err
        with sandbox.lock:
            sandbox.world.expire_invitations()  # dana never accepts
    assert sandbox.stats["PUT repos/add-collaborator"] == 3
    assert (
        "user:dana on repo:acme/ledger (push): invitation expired unaccepted 3 times; not sent again"
        in out
    )


def test_a_tampered_log_is_reported_on_every_run(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    sandbox = start_sandbox(with_access_repo(repo))
    argv = ["--root", str(repo.root), "--now", "2026-11-30T12:00:00Z"]
    assert (
        run("apply", *argv, "--yes", "--mutation-interval", "0", environ=access_env(sandbox.url))[0]
        == 0
    )
    log = repo.root / "audit" / "log.jsonl"
    log.write_text(log.read_text().replace('"to":"push"', '"to":"pull"', 1))
    code, _, err = run("plan", *argv, environ=access_env(sandbox.url))
    assert code == 3  # only expiries until the log is repaired
    assert "Limited: audit/log.jsonl:" in err
    assert "fails its checks (its content does not match" in err
