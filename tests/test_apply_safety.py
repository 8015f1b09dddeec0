"""apply's guards end to end: brakes, fail-closed reads, reviewed plan files, the lock."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from grantops.constants import LOCK_NAME
from grantops.lock import Locked, apply_lock
from grantops.sandbox import FaultRule, Sandbox

from .data import GRANT, NOW
from .sandbox_fixtures import BASE_STATE, StartSandbox, access_env, live_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
ENDED = GRANT.replace("2026-11-30T09:00:00Z", "2026-11-29T09:00:00Z").replace(
    "2026-11-30T18:00:00Z", "2026-11-29T18:00:00Z"
)


def _drifted(count: int) -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    people = [f"intruder{i:02d}" for i in range(count)]
    state["members"] = [*state["members"], *people]
    state["repos"]["ledger"] = {"collaborators": dict.fromkeys(people, "push")}
    return state


def test_mass_removal_is_refused_and_changes_nothing(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {}, _drifted(11))
    before = sandbox.state()
    code, _, err = run(
        "apply", "--root", str(root), "--now", AT, "--yes", environ=access_env(sandbox.url)
    )
    assert code == 3
    assert "Refused: 11 undeclared removals > max 10 (safety.max_removals)" in err
    assert "Limited: the removal brakes refused the plan (11 undeclared removals" in err
    assert "only expiries were planned" in err
    assert sandbox.state() == before  # none of the eleven was an expiry


def test_the_override_applies_and_is_recorded(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {}, _drifted(11))
    code, out, _ = run(
        "apply",
        "--root",
        str(root),
        "--now",
        AT,
        "--yes",
        "--json",
        "--allow-mass-removal",
        "--mutation-interval",
        "0",
        environ=access_env(sandbox.url),
    )
    assert code == 0
    document = json.loads(out)
    assert document["safety"]["overridden"] is True
    assert (
        document["safety"]["refusals"][0]["message"]
        == "11 undeclared removals > max 10 (safety.max_removals)"
    )
    assert sandbox.state().repos["ledger"].collaborators == {}


def test_a_persistent_502_fails_closed_on_that_repo_only(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"collaborators": {"mona": "push", "bob": "admin"}}
    grants = {
        "old.yaml": ENDED.replace("octocat", "mona").replace("payments-api", "ledger"),
        "new.yaml": GRANT,
        "led.yaml": GRANT.replace("payments-api", "ledger").replace("octocat", "dana"),
    }
    fault = FaultRule("GET /repos/acme/ledger/collaborators", 502, times=-1)
    # GraphQL refuses ledger, so its collaborators are listed through REST
    root, sandbox = live_repo(
        start_sandbox,
        tmp_path,
        grants,
        state,
        faults=[fault],
        graphql_forbidden=["repository:ledger"],
    )
    env = access_env(sandbox.url)
    steps = ["--root", str(root), "--yes", "--mutation-interval", "0", "--attempts", "1"]
    # A day earlier, while mona's grant was open, apply proved it and the audit log says
    # so: only such an expiry is removed without a complete read.
    assert run("apply", *steps, "--now", "2026-11-29T12:00:00Z", environ=env)[0] == 1
    assert sandbox.state().repos["ledger"].collaborators == {"mona": "push", "bob": "admin"}
    code, out, err = run("apply", *steps, "--now", AT, environ=env)
    assert code == 1
    assert "ok      add user:octocat on repo:acme/payments-api (push)" in out
    assert "repo:acme/ledger: list collaborators of acme/ledger: HTTP 502" in err
    ledger = sandbox.state().repos["ledger"]
    assert ledger.collaborators == {"bob": "admin"}  # mona's ended grant removed; bob untouched
    assert ledger.invitations == {}  # dana's new grant waits for a complete read
    assert (
        sandbox.state().repos["payments-api"].collaborators["octocat"] == "push"
    )  # the rest applied


def _plan_to(sandbox: Sandbox, root: Path, plan_file: Path) -> int:
    argv = ["plan", "--root", str(root), "--now", AT, "--out", str(plan_file)]
    return run(*argv, environ=access_env(sandbox.url))[0]


def _apply_from(sandbox: Sandbox, root: Path, plan_file: Path) -> tuple[int, str, str]:
    argv = ["apply", "--root", str(root), "--now", AT, "--plan", str(plan_file), "--yes"]
    return run(*argv, "--mutation-interval", "0", environ=access_env(sandbox.url))


def test_apply_runs_exactly_the_reviewed_plan(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    plan_file = tmp_path / "plan.json"
    assert _plan_to(sandbox, root, plan_file) == 0
    code, _, err = _apply_from(sandbox, root, plan_file)
    assert code == 0, err
    assert sandbox.state().repos["payments-api"].collaborators["octocat"] == "push"


def test_an_edited_plan_file_is_refused(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    plan_file = tmp_path / "plan.json"
    assert _plan_to(sandbox, root, plan_file) == 0
    document = json.loads(plan_file.read_text())
    document["plan"]["changes"][0]["to"] = "admin"
    plan_file.write_text(json.dumps(document))
    code, _, err = _apply_from(sandbox, root, plan_file)
    assert code == 3
    assert "was edited after it was written" in err
    assert "octocat" not in sandbox.state().repos["payments-api"].collaborators


def test_a_plan_is_refused_when_access_moved_underneath(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    plan_file = tmp_path / "plan.json"
    assert _plan_to(sandbox, root, plan_file) == 0
    with sandbox.lock:  # someone adds a collaborator by hand in the meantime
        sandbox.world.repos["ledger"].collaborators["bob"] = "push"
    code, _, err = _apply_from(sandbox, root, plan_file)
    assert code == 3
    assert "access on GitHub changed since" in err


def test_a_second_apply_is_detected_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with apply_lock(tmp_path, NOW):
        held = json.loads((tmp_path / LOCK_NAME).read_text())
        with pytest.raises(Locked, match="another apply is running"), apply_lock(tmp_path, NOW):
            pass
    assert not (tmp_path / LOCK_NAME).exists()
    assert held["expires"] == "2026-11-30T12:30:00Z"


def test_a_crashed_runs_lock_expires(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(
        json.dumps(
            {
                "holder": "ci-runner-7:4242",
                "acquired": "2026-11-30T10:00:00Z",
                "expires": "2026-11-30T10:30:00Z",
            }
        )
    )
    with apply_lock(tmp_path, NOW, ttl=timedelta(minutes=5)):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["expires"] == "2026-11-30T12:05:00Z"
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / LOCK_NAME).write_text(
        json.dumps(
            {
                "holder": f"{socket.gethostname()}:{done.stdout.strip()}",
                "acquired": AT,
                "expires": "2026-11-30T13:00:00Z",
            }
        )
    )
    with apply_lock(tmp_path, NOW):
        pass
