"""One pushed line in ``audit/``: a failed check that limits the run, never a crash.

Anyone who can push may edit ``audit/log.jsonl`` and ``audit/approvals.json``. Two lines
went past the checks and crashed every run, so no expiry was ever made until someone
repaired the file: a JSON escape of a lone surrogate (``"\\ud800"``), which decodes but
cannot be encoded to be hashed, and nesting deep enough that ``json.loads`` raises
RecursionError rather than ValueError. Now a log line that cannot be read or hashed
fails its check at that line, and evidence that cannot be read is no evidence.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from grantops.audit.events import Unknown
from grantops.audit.log import AuditLog, verify
from grantops.constants import EVIDENCE_PATH, LOG_PATH
from grantops.github.fake import FakeGitHub
from grantops.proof import evidence
from grantops.proof.prover import AccessRepo
from grantops.run import Run, RunSettings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, NOW
from .sandbox_fixtures import BASE_STATE, reviewed, with_access_repo

ACCESS = AccessRepo("acme", "access", "main")
KEY = b"k" * 32
ENDED = GRANT.replace("2026-11-30T09:00:00Z", "2026-11-29T09:00:00Z").replace(
    "2026-11-30T18:00:00Z", "2026-11-29T18:00:00Z"
)
NESTED = "[" * 100_000 + "]" * 100_000
SURROGATE = '{"event":"run-start","hash":"0","prev":"0","reason":"\\ud800"}'
PUSHED = [
    pytest.param(SURROGATE, "lone surrogate", id="surrogate"),
    pytest.param(NESTED, "nested too deeply", id="nesting"),
]


def _with_octocat() -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["payments-api"]["collaborators"]["octocat"] = "push"
    return state


def _pushed(tmp_path: Path, files: dict[str, str]) -> tuple[ReviewedRepo, FakeGitHub, Run]:
    """octocat's grant has ended; then someone without the key pushes ``files``."""
    repo = reviewed(tmp_path / "access", {"octocat.yaml": ENDED})
    repo.commit(files, "mallory", "audit: tidy")
    world = SandboxState.model_validate(with_access_repo(repo, _with_octocat()))
    github = FakeGitHub.from_state(world, NOW)
    return repo, github, Run(RunSettings(root=repo.root, now=NOW, repo=ACCESS, key=KEY), github)


def _collaborators(github: FakeGitHub) -> dict[str, str]:
    return github.world.to_state().repos["payments-api"].collaborators


def _keyed_log(path: Path, lines: int) -> None:
    log = AuditLog(path, KEY)
    for number in range(lines):
        log.append({"event": "note", "text": f"line {number + 1}"})


# ----- verify --------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, None], ids=["keyed", "no key"])
@pytest.mark.parametrize(("line", "reason"), PUSHED)
def test_verify_names_the_line_that_cannot_be_read(
    tmp_path: Path, line: str, reason: str, key: bytes | None
) -> None:
    path = tmp_path / "log.jsonl"
    _keyed_log(path, 2)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    result = verify(path, key)
    assert not result.ok and not result.trusted
    assert (result.bad_line, result.lines) == (3, 3)
    assert reason in result.reason
    assert [e.fields["text"] for e in result.events if isinstance(e, Unknown)] == [
        "line 1",
        "line 2",
    ]


def test_nesting_near_the_recursion_limit_fails_the_line_whatever_the_stack(
    tmp_path: Path,
) -> None:
    """Parsing and hashing a line each recurse once per level, from frames a little
    apart: at some depth the line is read but cannot be hashed. Every depth near the
    limit is tried, so that depth is among them wherever this test's stack ends."""
    path = tmp_path / "log.jsonl"
    limit = sys.getrecursionlimit()
    reasons = set()
    for depth in range(limit - 300, limit + 10):
        nested = "[" * depth + "]" * depth
        path.write_text(f'{{"event":"note","hash":"0","prev":"0","x":{nested}}}\n')
        result = verify(path, KEY)
        assert (result.ok, result.bad_line) == (False, 1), depth
        reasons.add(result.reason)
    assert reasons == {
        "its content does not match its hash (the line was edited)",
        "nested too deeply to be a log entry (edited)",
    }


def test_a_log_ending_in_such_a_line_can_still_be_opened(tmp_path: Path) -> None:
    """Opening the log with the key looks for MACs in every line before writing one."""
    path = tmp_path / "log.jsonl"
    path.write_text(NESTED + "\n" + SURROGATE + "\n")
    log = AuditLog(path, KEY)
    assert log.unanchored == 2
    log.append({"event": "note"})
    assert verify(path, KEY).bad_line == 1


# ----- kept approval evidence ----------------------------------------------------------


@pytest.mark.parametrize("text", [NESTED, '{"proven": [' + NESTED + "]}"], ids=["bare", "inside"])
def test_evidence_nested_too_deeply_is_no_evidence(tmp_path: Path, text: str) -> None:
    (tmp_path / EVIDENCE_PATH).parent.mkdir()
    (tmp_path / EVIDENCE_PATH).write_text(text)
    assert evidence.load(tmp_path, KEY) == {}


# ----- whole runs ----------------------------------------------------------------------


@pytest.mark.parametrize(("line", "reason"), PUSHED)
def test_a_pushed_log_line_limits_the_run_to_expiries(
    tmp_path: Path, line: str, reason: str
) -> None:
    _repo, github, run = _pushed(tmp_path, {LOG_PATH: line + "\n"})
    planned = run.plan()
    [limit] = planned.plan.limits
    assert limit.startswith(f"{LOG_PATH}:1 fails its checks (") and reason in limit
    run.apply(planned)
    assert "octocat" not in _collaborators(github)


def test_pushed_approval_evidence_does_not_stop_an_expiry(tmp_path: Path) -> None:
    repo, github, run = _pushed(tmp_path, {EVIDENCE_PATH: NESTED})
    run.apply(run.plan())
    assert "octocat" not in _collaborators(github)
    saved = json.loads((repo.root / EVIDENCE_PATH).read_text())
    assert isinstance(saved, dict) and "proven" in saved  # rewritten from what was proven
