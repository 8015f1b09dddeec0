"""The audit log attacked by someone who can push but does not hold the key.

Each attack is committed to a real git repository, as a push to the access repository
would be. The hash chain alone lets every one of them through: the attacker recomputes
SHA-256. The MACs and the log's git history must not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grantops.audit.committed import check
from grantops.audit.keyed import KEY_VARIABLE
from grantops.audit.log import AuditLog, verify
from grantops.audit.record import Recorder
from grantops.constants import LOG_PATH
from grantops.desired import desired_access
from grantops.plan import make_plan
from grantops.safety import Verdict
from grantops.sandbox.reviewed import ReviewedRepo

from .builders import actual, policy
from .data import NOW
from .sandbox_fixtures import new_access_repo
from .test_cli import run

KEY = b"the reconcile workflow's secret"
ENV = {KEY_VARIABLE: KEY.decode()}
SINCE = ("--since", "2026-11-01T00:00:00Z", "--until", "2026-12-31T00:00:00Z")

Lines = list[dict[str, object]]


def _run_events(run: int) -> Lines:
    """What one apply run writes: an approval, the access it gave, its end."""
    ts = f"2026-11-{run + 20}T12:00:00Z"
    return [
        {"ts": ts, "run": f"r{run}", "event": "run-start", "now": ts},
        {
            "ts": ts,
            "run": f"r{run}",
            "event": "grant-approved",
            "source": f"grants/g{run}.yaml",
            "approvers": ["alice"],
            "pull": run,
            "reason": f"INC-{run}",
            "expires": f"2026-11-{run + 20}T18:00:00Z",
        },
        {
            "ts": ts,
            "run": f"r{run}",
            "event": "access-added",
            "change_id": f"r{run}#1",
            "action": "add",
            "cause": "grant",
            "principal": "user:octocat",
            "target": f"repo:acme/r{run}",
            "to": "push",
            "source": f"grants/g{run}.yaml",
            "pull": run,
        },
    ]


@pytest.fixture
def access(tmp_path: Path) -> ReviewedRepo:
    """An access repository whose log two keyed runs wrote, each committed."""
    repo = new_access_repo(tmp_path / "access")
    for number in (1, 2):
        log = AuditLog(repo.root / LOG_PATH, KEY)
        for event in _run_events(number):
            log.append(event)
        repo.git("add", "audit")
        repo.git("commit", "--quiet", "-m", f"audit: reconcile run {number}")
    return repo


def _lines(repo: ReviewedRepo) -> list[str]:
    return (repo.root / LOG_PATH).read_text().splitlines()


def _recompute(events: Lines) -> str:
    """The chain as an attacker without the key writes it: SHA-256, no MAC."""
    prev, out = "0" * 64, []
    for event in events:
        body = {k: v for k, v in event.items() if k not in ("prev", "hash", "mac")}
        body["prev"] = prev
        body["hash"] = hashlib.sha256(_canonical(body).encode()).hexdigest()
        line = _canonical(body)
        out.append(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
    return "".join(out)


def _canonical(event: dict[str, object]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _events(repo: ReviewedRepo) -> Lines:
    return [json.loads(line) for line in _lines(repo)]


def _forge_approver(events: Lines) -> Lines:
    return [
        {**e, "approvers": ["mallory-friend"]} if e["event"] == "grant-approved" else e
        for e in events
    ]


def _swap_middle(events: Lines) -> Lines:
    return [{**e, "to": "admin"} if i == 2 else e for i, e in enumerate(events)]


Attack = Callable[[ReviewedRepo], str]


def _truncate(repo: ReviewedRepo) -> str:
    return "".join(line + "\n" for line in _lines(repo)[:3])


def _delete(repo: ReviewedRepo) -> str:
    return ""


def _rewrite(repo: ReviewedRepo) -> str:
    return _recompute(_events(repo))


def _forge(repo: ReviewedRepo) -> str:
    return _recompute(_forge_approver(_events(repo)))


def _middle(repo: ReviewedRepo) -> str:
    return _recompute(_swap_middle(_events(repo)))


@pytest.mark.parametrize(
    ("attack", "found"),
    [
        (_truncate, "cut off lines 4-6 of the version before it"),
        (_delete, "deleted the log (6 committed lines)"),
        (_rewrite, "rewrote the log from line 1 of the version before it"),
        (_forge, "rewrote the log from line 1 of the version before it"),
        (_middle, "rewrote the log from line 1 of the version before it"),
    ],
    ids=["truncate last run", "delete", "recompute chain", "forge approver", "rewrite middle"],
)
def test_a_committed_attack_fails_verify_naming_the_commit(
    access: ReviewedRepo, attack: Attack, found: str
) -> None:
    text = attack(access)
    log = access.root / LOG_PATH
    if text:
        log.write_text(text)
        access.git("add", "audit")
    else:
        access.git("rm", "--quiet", "--", LOG_PATH)
    access.git("commit", "--quiet", "-m", "audit: tidy up")
    sha = access.head()[:12]
    for environ in (ENV, {}):  # the git history needs no key
        code, out, err = run("audit", "verify", "--root", str(access.root), environ=environ)
        assert code == 1, out
        assert f"{LOG_PATH}: not append-only: commit {sha} (audit: tidy up) {found}" in err
    code, out, err = run("audit", "report", "--root", str(access.root), *SINCE, environ=ENV)
    assert code == 1 and out == ""
    assert "fails grantops audit verify; not reporting from it" in err


def test_the_same_attacks_uncommitted_are_found_in_the_working_copy(
    access: ReviewedRepo,
) -> None:
    log = access.root / LOG_PATH
    log.write_text(_truncate(access))
    code, _, err = run("audit", "verify", "--root", str(access.root), environ=ENV)
    assert code == 1
    assert "the working copy (not committed) cut off lines 4-6" in err
    log.unlink()
    code, _, err = run("audit", "verify", "--root", str(access.root), environ=ENV)
    assert code == 1
    assert "the working copy (not committed) deleted the log (6 committed lines)" in err


@pytest.mark.parametrize(
    ("attack", "line", "reason"),
    [
        (_rewrite, 1, "not anchored: no line carries a MAC although GRANTOPS_EVIDENCE_KEY"),
        (_forge, 1, "not anchored: no line carries a MAC"),
        (_middle, 1, "not anchored: no line carries a MAC"),
    ],
    ids=["recompute chain", "forge approver", "rewrite middle"],
)
def test_a_recomputed_chain_fails_the_mac_even_with_history_rewritten(
    tmp_path: Path, access: ReviewedRepo, attack: Attack, line: int, reason: str
) -> None:
    """A force push could rewrite git history too; then the MACs are what is left."""
    log = tmp_path / "exported.jsonl"  # outside any git repository: no history to compare
    log.write_text(attack(access))
    assert verify(log).ok  # the chain alone is fooled
    code, _, err = run("audit", "verify", "--log", str(log), environ=ENV)
    assert code == 1
    assert reason in err
    code, out, err = run("audit", "report", "--log", str(log), *SINCE, environ=ENV)
    assert code == 1 and "mallory-friend" not in out


def test_a_forged_line_among_keyed_ones_is_named(tmp_path: Path, access: ReviewedRepo) -> None:
    """Keep the MACed lines 1-4 and chain a forged approval onto them as line 5."""
    keyed = _lines(access)
    forged = {**_forge_approver(_events(access))[4]}
    forged.pop("mac")
    forged["prev"] = hashlib.sha256(keyed[3].encode()).hexdigest()
    forged["hash"] = hashlib.sha256(
        _canonical({k: v for k, v in forged.items() if k != "hash"}).encode()
    ).hexdigest()
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join([*keyed[:4], _canonical(forged)]) + "\n")
    assert verify(log).ok  # the chain alone is fooled
    result = verify(log, KEY)
    assert not result.ok and result.bad_line == 5
    assert "carries no MAC although line 1 does" in result.reason
    assert len(result.events) == 4  # decisions see only what the key vouches for
    forged["mac"] = "0" * 64
    log.write_text("\n".join([*keyed[:4], _canonical(forged)]) + "\n")
    assert "its MAC does not match" in verify(log, KEY).reason
    code, out, err = run("audit", "report", "--log", str(log), *SINCE, environ=ENV)
    assert code == 1 and "mallory-friend" not in out
    assert f"{log.as_posix()}:5: broken chain: its MAC does not match" in err


def test_an_intact_keyed_log_verifies_and_reports(access: ReviewedRepo) -> None:
    code, out, err = run("audit", "verify", "--root", str(access.root), environ=ENV)
    assert code == 0, err
    shown = (access.root / LOG_PATH).as_posix()
    assert out.splitlines() == [
        f"{shown}: 6 entries, hash chain intact.",
        f"{shown}: every entry is anchored by a MAC made with GRANTOPS_EVIDENCE_KEY.",
        f"{shown}: 2 committed version(s) in git, each a prefix of the next and of the "
        "working copy.",
    ]
    assert err == ""
    code, out, _ = run("audit", "report", "--root", str(access.root), *SINCE, environ=ENV)
    assert code == 0 and "alice" in out
    assert check(access.root / LOG_PATH).versions == 2


def test_without_the_key_the_log_is_said_to_be_unanchored(access: ReviewedRepo) -> None:
    code, out, err = run("audit", "verify", "--root", str(access.root))
    assert code == 0
    assert out.splitlines()[0].endswith(": 6 entries, hash chain intact.")
    assert "MAC" not in out
    assert "unanchored: GRANTOPS_EVIDENCE_KEY is not set" in err


def test_a_changed_key_fails_at_the_first_line(access: ReviewedRepo) -> None:
    code, _, err = run(
        "audit", "verify", "--root", str(access.root), environ={KEY_VARIABLE: "another"}
    )
    assert code == 1
    assert f"{LOG_PATH}:1: broken chain: its MAC does not match" in err


def test_a_log_written_before_the_key_is_anchored_once(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    legacy = AuditLog(path)
    for event in _run_events(1):
        legacy.append(event)
    assert legacy.unanchored == 0  # no key, nothing to anchor
    result = verify(path, KEY)
    assert result.ok and result.anchored is False and not result.trusted
    keyed = AuditLog(path, KEY)
    assert keyed.unanchored == 3
    keyed.append({"event": "log-anchored", "lines": 3})
    assert AuditLog(path, KEY).unanchored == 0
    result = verify(path, KEY)
    assert result.trusted and result.anchored_from == 4
    code, _, err = run("audit", "verify", "--log", str(path), environ=ENV)
    assert code == 0
    assert "lines 1-3 were written without GRANTOPS_EVIDENCE_KEY; line 4 (log-anchored" in err
    AuditLog(path).append({"event": "run-end"})  # a run without the key, after that
    result = verify(path, KEY)
    assert not result.ok and result.bad_line == 5


def test_the_first_keyed_run_anchors_a_legacy_log_even_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    legacy = AuditLog(path)
    for event in _run_events(1):
        legacy.append(event)
    p = policy()
    idle = make_plan(p, desired_access(p, [], NOW), actual(), NOW)

    def clock() -> datetime:
        return datetime(2026, 11, 30, 12, tzinfo=UTC)

    recorder = Recorder(AuditLog(path, KEY), "r2", clock)
    recorder.run_start(idle, Verdict(()), [])
    recorder.run_end([])
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event"] for e in events[3:]] == ["run-start", "log-anchored", "run-end"]
    assert events[4]["lines"] == 3
    assert verify(path, KEY).trusted
    size = path.stat().st_size
    again = Recorder(AuditLog(path, KEY), "r3", clock)
    again.run_start(idle, Verdict(()), [])
    again.run_end([])
    assert path.stat().st_size == size  # anchored once; later idle runs write nothing
