"""What runs do with an audit log someone with push access (but not the key) changed.

The log's checks (the hash chain, the MACs made with ``GRANTOPS_EVIDENCE_KEY`` and its
git history) make tampering visible; these tests hold the runs to what follows from
that: a log that fails its checks informs no decision, is never anchored by a run, is
not written to on idle runs, and posts no notice again. Real git histories, the
sandbox GitHub and the CLI.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grantops.audit.log import verify
from grantops.constants import LOG_PATH
from grantops.sandbox import Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, POLICY
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_audit_anchor import _canonical, _recompute
from .test_cli import run

KEY = "the reconcile workflow's secret"
OPEN_AT = "2026-11-30T12:00:00Z"
LATER = "2026-12-01T12:00:00Z"


def _apply(sandbox: Sandbox, repo: ReviewedRepo, now: str) -> tuple[int, str, str]:
    argv = ["apply", "--root", str(repo.root), "--now", now, "--yes", "--mutation-interval", "0"]
    return run(*argv, environ=access_env(sandbox.url, GRANTOPS_EVIDENCE_KEY=KEY))


def _keyed_run(
    start_sandbox: StartSandbox, tmp_path: Path, policy: str = POLICY
) -> tuple[ReviewedRepo, Sandbox]:
    """octocat's reviewed grant applied by a keyed run, and audit/ committed."""
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT}, policy)
    sandbox = start_sandbox(with_access_repo(repo))
    code, _, err = _apply(sandbox, repo, OPEN_AT)
    assert code == 0, err
    _commit_audit(repo, "audit: reconcile run 1")
    return repo, sandbox


def _commit_audit(repo: ReviewedRepo, message: str) -> None:
    repo.git("add", "-A", "audit")
    repo.git("commit", "--quiet", "--allow-empty", "-m", message)


def _log(repo: ReviewedRepo) -> Path:
    return repo.root / LOG_PATH


def _events(repo: ReviewedRepo) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _log(repo).read_text().splitlines()]


def test_a_log_rewritten_without_the_key_is_never_anchored_by_a_run(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _keyed_run(start_sandbox, tmp_path)
    forged = [
        {**e, "approvers": ["mallory-friend"]} if e["event"] == "grant-approved" else e
        for e in _events(repo)
    ]
    _log(repo).write_text(_recompute(forged))
    _commit_audit(repo, "audit: tidy")
    code, out, err = _apply(sandbox, repo, LATER)  # octocat's grant has ended
    assert code == 3, err
    assert "Limited: audit/log.jsonl fails its checks" in err
    assert "remove user:octocat" in out  # the expiry still happens ...
    # ... and is recorded, but without a MAC: one would vouch for the forgery above it
    trail = verify(_log(repo), KEY.encode())
    assert trail.anchored is False and not trail.trusted
    assert not any(e["event"] == "log-anchored" for e in _events(repo))
    env = {"GRANTOPS_EVIDENCE_KEY": KEY}
    assert run("audit", "verify", "--root", str(repo.root), environ=env)[0] == 1
    code, out, _ = run(
        "audit", "report", "--root", str(repo.root), "--since", "2026-11-01T00:00:00Z", environ=env
    )
    assert code == 1 and "mallory-friend" not in out


def test_an_unkeyed_line_in_a_keyed_log_stops_notices_instead_of_repeating_them(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _keyed_run(start_sandbox, tmp_path, POLICY + "notify:\n  before: 1h\n")
    last = _log(repo).read_text().splitlines()[-1]
    junk: dict[str, Any] = {"ts": OPEN_AT, "run": "x", "event": "note"}
    junk["prev"] = hashlib.sha256(last.encode()).hexdigest()
    junk["hash"] = hashlib.sha256(_canonical(junk).encode()).hexdigest()
    with _log(repo).open("a") as handle:
        handle.write(_canonical(junk) + "\n")
    _commit_audit(repo, "audit: note")
    posted = len(sandbox.state().repos["access"].comments)
    for now in ("2026-11-30T17:30:00Z", "2026-11-30T17:35:00Z", "2026-11-30T17:40:00Z"):
        code, _, err = _apply(sandbox, repo, now)
        assert code == 3 and "fails its checks (it carries no MAC" in err
    assert len(sandbox.state().repos["access"].comments) == posted  # no heads-up, three times


def test_runs_on_a_broken_log_leave_audit_alone_when_idle(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _keyed_run(start_sandbox, tmp_path)
    _log(repo).write_text(_log(repo).read_text().replace('"org":"acme"', '"org":"acmf"', 1))
    _commit_audit(repo, "audit: tamper")
    for now in ("2026-11-30T12:15:00Z", "2026-11-30T12:30:00Z"):
        code, out, err = _apply(sandbox, repo, now)
        assert code == 3, err
        assert "nothing new to record" in out
        assert repo.git("status", "--porcelain", "--", "audit") == ""


def test_an_audit_folder_that_is_a_link_fails_verify(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """git would follow the link and check another file's history than the one cut."""
    repo, sandbox = _keyed_run(start_sandbox, tmp_path)
    shadow = repo.root / "shadow"
    shadow.mkdir()
    (shadow / "log.jsonl").write_text("".join(_log(repo).read_text().splitlines(True)[:2]))
    repo.git("rm", "-r", "--quiet", "audit")
    (repo.root / "audit").symlink_to("shadow")
    repo.git("add", "audit", "shadow")
    repo.git("commit", "--quiet", "-m", "tidy: move audit files")
    code, _, err = run(
        "audit", "verify", "--root", str(repo.root), environ={"GRANTOPS_EVIDENCE_KEY": KEY}
    )
    assert code == 1 and "is a symbolic link" in err
    code, _, err = _apply(sandbox, repo, LATER)  # an expiry is due, but it cannot be recorded
    assert code != 0 and "is a symbolic link" in err
    assert sandbox.state().repos["payments-api"].collaborators["octocat"] == "push"


def _replace_log(repo: ReviewedRepo, make: Callable[[Path], None]) -> None:
    path = _log(repo)
    repo.git("rm", "-r", "--quiet", "audit/log.jsonl")
    make(path)
    _commit_audit(repo, "audit: tidy")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b'{"event":"run-start"}\xff\xfe\n'), id="not-utf8"),
        pytest.param(lambda p: (p / "x").mkdir(parents=True), id="a-folder"),
        pytest.param(
            lambda p: (shutil.rmtree(p.parent), p.parent.write_text("x\n")), id="audit-is-a-file"
        ),
    ],
)
def test_a_damaged_log_is_reported_and_never_crashes_a_run(
    start_sandbox: StartSandbox, tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    repo, sandbox = _keyed_run(start_sandbox, tmp_path)
    _replace_log(repo, lambda path: damage(path) and None)
    env = {"GRANTOPS_EVIDENCE_KEY": KEY}
    code, _, err = run("audit", "verify", "--root", str(repo.root), environ=env)
    assert code == 1 and "Traceback" not in err
    code, _, err = _apply(sandbox, repo, "2026-11-30T12:15:00Z")  # nothing to change
    assert code == 3 and "Traceback" not in err, err
    assert "Limited: audit/log.jsonl" in err


def test_a_mac_that_is_not_ascii_is_no_mac(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """compare_digest raises on other text; a pushed file must not crash keyed runs."""
    repo, sandbox = _keyed_run(start_sandbox, tmp_path)
    approvals = repo.root / "audit" / "approvals.json"
    approvals.write_text(approvals.read_text().replace('"mac": "', '"mac": "\u00e9', 1))
    events = _events(repo)
    events[-1]["mac"] = "\u00e9"
    body = {k: v for k, v in events[-1].items() if k != "hash"}
    events[-1]["hash"] = hashlib.sha256(
        _canonical({k: v for k, v in body.items() if k != "mac"}).encode()
    ).hexdigest()
    lines = _log(repo).read_text().splitlines(keepends=True)
    _log(repo).write_text("".join(lines[:-1]) + _canonical(events[-1]) + "\n")
    code, _, err = _apply(sandbox, repo, "2026-11-30T12:15:00Z")
    assert code == 3 and "Traceback" not in err, err
    assert "its MAC does not match" in err or "MAC" in err
