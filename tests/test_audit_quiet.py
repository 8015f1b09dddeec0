"""A run that changes nothing and learns nothing new leaves ``audit/`` as it was.

The reconcile job commits ``audit/`` when it changed; an idle run every 15 minutes
must not make a commit every 15 minutes.
"""

from __future__ import annotations

from pathlib import Path

from grantops.audit.log import read_events, verify

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_audit_trail import apply_at


def _snapshot(audit: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(audit.iterdir())}


def test_an_idle_run_writes_nothing_to_audit(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url, GRANTOPS_EVIDENCE_KEY="k1")
    audit = repo.root / "audit"

    def apply(at: str) -> None:
        apply_at(repo.root, at, env)

    apply("2026-11-30T12:00:00Z")  # octocat's access opens: something to record
    assert sorted(p.name for p in audit.iterdir()) == ["approvals.json", "log.jsonl", "report.md"]
    repo.git("add", "audit")
    repo.git("commit", "--quiet", "-m", "audit: reconcile run 1")
    before = _snapshot(audit)

    apply("2026-11-30T12:15:00Z")  # nothing to change, nothing new to learn
    assert _snapshot(audit) == before
    assert repo.git("status", "--porcelain", "--", "audit") == ""

    apply("2026-11-30T18:30:00Z")  # the grant has ended: its removal is recorded
    assert repo.git("status", "--porcelain", "--", "audit").split() == [
        "M",
        "audit/log.jsonl",
        "M",
        "audit/report.md",
    ]
    events = read_events(audit / "log.jsonl")
    assert [e["event"] for e in events] == [
        "run-start",
        "grant-approved",
        "org-facts",  # the first run records the org; later ones only when it changes
        "change-started",
        "access-added",
        "run-end",
        "run-start",
        "change-started",
        "access-removed",
        "activity-recorded",
        "run-end",
    ]
    assert verify(audit / "log.jsonl").ok
    assert "Generated at 2026-11-30T18:30:00Z" in (audit / "report.md").read_text()
