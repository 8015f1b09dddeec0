"""A run lives within GitHub's rate limits.

Writes: a big plan is made over several runs within GitHub's limits on
content-creating requests, what ends access first; nothing deferred is logged or fails
the run. Reads: a budget too small for a full read, as ``GET /rate_limit`` says at the
start, reads the targets where access ends first and says which it left unread; a
``/rate_limit`` that fails changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grantops.sandbox import FaultRule, Sandbox

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run
from .test_expiry import FAST, LATER, OCTOCAT_ENDS, OPEN_AT, _changes, _pushers

NEW = [f"deploy-{n:03d}" for n in range(150)]
"""Repositories hubot's grant opens at LATER: 150 adds."""
STRAYS = [f"deploy-{n:03d}" for n in range(150, 199)]
"""Repositories where mallory holds access nobody declared: 49 removals."""
HUBOT_EVERYWHERE = f"""\
user: hubot
repos: [{", ".join(NEW)}]
permission: push
starts: 2026-12-01T09:00:00Z
expires: 2026-12-01T18:00:00Z
reason: migration
"""


def _apply(sandbox: Sandbox, root: Path, now: str, *extra: str) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, "--allow-mass-removal", *FAST, *extra]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    return code, json.loads(out), err


def _logged_starts(root: Path) -> int:
    lines = (root / "audit" / "log.jsonl").read_text().splitlines()
    return sum(json.loads(line)["event"] == "change-started" for line in lines)


def test_two_hundred_changes_are_made_eighty_a_run_endings_first(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    state = with_access_repo(repo)
    state["repos"].update({name: {} for name in NEW})
    sandbox = start_sandbox(state)
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    # octocat's grant ends, hubot's opens on 150 repositories, mallory strays onto 49
    repo.merge({"grants/h.yaml": HUBOT_EVERYWHERE}, author="requester", approvers=["alice"])
    later = sandbox.state().model_dump()
    later["repos"]["access"] = repo.repo_state().model_dump()
    later["repos"].update({name: {"collaborators": {"mallory": "push"}} for name in STRAYS})
    sandbox = start_sandbox(later)
    made = _logged_starts(repo.root)

    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 0, err  # deferring is not a failure
    done = _changes(document)
    assert len(done) == 80 and len(document["deferred"]) == 120
    assert done[0] == OCTOCAT_ENDS
    assert [c[:2] for c in done[1:50]] == [("remove", "user:mallory")] * 49
    assert {c[0] for c in done[50:]} == {"add"}
    assert {c["action"] for c in document["deferred"]} == {"add"}
    assert document["deferral"] == (
        "deferred: 120 changes over GitHub's limit of 80 content-creating requests a minute; "
        "the next run makes them"
    )
    assert len(document["outcomes"]) == 80
    assert _logged_starts(repo.root) == made + 80  # the deferred were not attempted

    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 0, err
    assert len(document["changes"]) == 80 and len(document["deferred"]) == 40
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 0, err
    assert len(document["changes"]) == 40 and document["deferral"] is None
    repos = sandbox.state().repos
    assert all(repos[name].collaborators.get("hubot") == "push" for name in NEW)
    assert not any("mallory" in repos[name].collaborators for name in STRAYS)


def _listed(sandbox: Sandbox) -> list[str]:
    """The repositories whose collaborators the sandbox was asked for, in order."""
    return [
        e.path.split("/")[3]
        for e in sandbox.exchanges
        if e.method == "GET" and e.path.endswith("/collaborators")
    ]


def test_a_budget_too_small_for_a_full_read_reads_where_access_ends_first(
    start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one listing at a time, so the order of reads is the order of requests
    monkeypatch.setattr("grantops.github.read.READ_CONCURRENCY", 1)
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    state = with_access_repo(repo)
    state["repos"].update({name: {} for name in NEW[:120]})
    sandbox = start_sandbox(state)
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    later = sandbox.state().model_dump()
    later["repos"]["access"] = repo.repo_state().model_dump()
    sandbox = start_sandbox(later, rate_limit=300)
    code, document, err = _apply(sandbox, repo.root, LATER, "--read-api", "rest")
    assert code == 1, err  # access ended; the rest was not read and the run says so
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)
    skipped = {t for t, why in document["unreadable"].items() if "left at the start" in why}
    assert len(skipped) > 40
    assert "repo:acme/payments-api" not in skipped
    listed = _listed(sandbox)
    assert listed[0] == "payments-api"
    assert not {f"repo:acme/{name}" for name in listed} & skipped  # not even tried


def test_a_failing_rate_limit_read_changes_nothing(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    fault = FaultRule("GET /rate_limit", 502, times=-1)
    sandbox = start_sandbox(with_access_repo(repo), faults=[fault])
    code, document, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    assert [c[:3] for c in _changes(document)] == [
        ("add", "user:octocat", "repo:acme/payments-api")
    ]
    assert document["unreadable"] == {}
    asked = [e.status for e in sandbox.exchanges if e.path == "/rate_limit"]
    assert asked and set(asked) == {502}
