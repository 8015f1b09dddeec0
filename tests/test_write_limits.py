"""A big plan is made over several runs within GitHub's limits on content-creating
requests, what ends access first; nothing deferred is logged or fails the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grantops.sandbox import Sandbox

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run
from .test_expiry import FAST, LATER, OCTOCAT_ENDS, OPEN_AT, _changes

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


def _apply(sandbox: Sandbox, root: Path, now: str) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, "--allow-mass-removal", *FAST]
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
