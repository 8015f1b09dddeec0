"""The run object, driven as ``apply`` and ``watch`` drive it, against the fake GitHub.

No HTTP here: :class:`FakeGitHub` answers from the sandbox's model of the org (held to
the real client by ``test_github_contract.py``), so these tests are about the run's
steps and what each leaves behind: GitHub's state, the audit log, the report.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from grantops.access import Principal, Target
from grantops.constants import LOCK_NAME, LOG_PATH, REPORT_PATH
from grantops.github.fake import FakeGitHub
from grantops.lock import Locked, apply_lock, lock_path
from grantops.proof.prover import AccessRepo
from grantops.run import Planned, Run, RunSettings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, NOW, POLICY
from .sandbox_fixtures import BASE_STATE, reviewed, with_access_repo

ACCESS = AccessRepo("acme", "access", "main")
OCTOCAT = (Principal.user("octocat"), Target.repo("acme", "payments-api"))
ENDED = GRANT.replace("2026-11-30T09:00:00Z", "2026-11-29T09:00:00Z").replace(
    "2026-11-30T18:00:00Z", "2026-11-29T18:00:00Z"
)


def _setup(
    tmp_path: Path, grants: dict[str, str], state: dict[str, Any] | None = None
) -> tuple[ReviewedRepo, FakeGitHub]:
    repo = reviewed(tmp_path / "access", grants)
    world = SandboxState.model_validate(with_access_repo(repo, state or BASE_STATE))
    return repo, FakeGitHub.from_state(world, NOW)


def _run(repo: ReviewedRepo, github: FakeGitHub, **settings: Any) -> Run:
    return Run(RunSettings(root=repo.root, now=NOW, repo=ACCESS, **settings), github)


def _events(root: Path) -> list[str]:
    path = root / LOG_PATH
    if not path.exists():
        return []
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


def _collaborators(github: FakeGitHub, repo: str) -> dict[str, str]:
    return github.world.to_state().repos[repo].collaborators


def test_plan_changes_nothing_anywhere(tmp_path: Path) -> None:
    repo, github = _setup(tmp_path, {"octocat.yaml": GRANT})
    before = github.world.to_state()
    planned = _run(repo, github).plan()
    assert [(c.action, c.principal, c.target) for c in planned.plan.changes] == [("add", *OCTOCAT)]
    assert github.world.to_state() == before
    assert not (repo.root / "audit").exists()


def test_apply_makes_the_plan_records_it_and_converges(tmp_path: Path) -> None:
    repo, github = _setup(tmp_path, {"octocat.yaml": GRANT})
    run = _run(repo, github)
    heard: list[str] = []
    applied = run.apply(run.plan(), lambda outcome: heard.append(outcome.result))
    assert heard == ["done"] and not applied.failed
    assert _collaborators(github, "payments-api")["octocat"] == "push"
    events = _events(repo.root)
    assert events[0] == "run-start" and events[-1] == "run-end"
    assert [e for e in events if e.startswith(("change", "access"))] == [
        "change-started",
        "access-added",
    ]
    assert (repo.root / REPORT_PATH).exists() and applied.finished.recorded
    again = _run(repo, github).plan()
    assert again.plan.changes == ()


def test_an_ended_grant_is_removed_as_an_expiry(tmp_path: Path) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["payments-api"]["collaborators"]["octocat"] = "push"
    repo, github = _setup(tmp_path, {"octocat.yaml": ENDED}, state)
    planned = _run(repo, github).plan()
    assert [(c.action, c.cause) for c in planned.plan.changes] == [("remove", "expired")]
    _run(repo, github).apply(planned)
    assert "octocat" not in _collaborators(github, "payments-api")
    assert "access-removed" in _events(repo.root)


def test_a_failed_change_is_recorded_and_the_rest_still_happens(tmp_path: Path) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"collaborators": {"mallory": "admin"}}
    repo, github = _setup(tmp_path, {"octocat.yaml": GRANT}, state)
    github.failing[OCTOCAT] = "HTTP 502: Bad Gateway"
    run = _run(repo, github)
    applied = run.apply(run.plan())
    assert applied.failed
    assert sorted(o.result for o in applied.outcomes) == ["done", "failed"]
    assert "mallory" not in _collaborators(github, "ledger")  # the drift still went
    assert {"change-failed", "drift-removed"} <= set(_events(repo.root))


def test_an_unreadable_target_is_left_alone(tmp_path: Path) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"collaborators": {"mallory": "admin"}}
    repo, github = _setup(tmp_path, {}, state)
    github.unreadable[Target.repo("acme", "ledger")] = "HTTP 502: Bad Gateway"
    planned = _run(repo, github).plan()
    assert planned.incomplete
    assert all(c.target.name != "ledger" for c in planned.plan.changes)


def test_an_unreviewed_grant_gives_nothing(tmp_path: Path) -> None:
    repo, github = _setup(tmp_path, {})
    repo.commit({"grants/octocat.yaml": GRANT}, author="octocat", message="push straight to main")
    planned = _run(repo, github).plan()
    assert planned.plan.changes == ()
    assert [u.source for u in planned.plan.unapproved] == ["grants/octocat.yaml"]


def test_a_preview_assumes_every_grant_approved(tmp_path: Path) -> None:
    repo, github = _setup(tmp_path, {})
    repo.commit({"grants/octocat.yaml": GRANT}, author="octocat", message="the head")
    preview = Run(RunSettings(root=repo.root, now=NOW, repo=None), github).plan()
    assert [(c.action, c.principal, c.target) for c in preview.plan.changes] == [("add", *OCTOCAT)]


def test_brakes_keep_only_expiries(tmp_path: Path) -> None:
    state = copy.deepcopy(BASE_STATE)
    people = [f"intruder{i:02d}" for i in range(11)]
    state["members"] = [*state["members"], *people]
    state["repos"]["ledger"] = {"collaborators": dict.fromkeys(people, "push")}
    state["repos"]["payments-api"]["collaborators"]["octocat"] = "push"
    repo, github = _setup(tmp_path, {"octocat.yaml": ENDED}, state)
    planned = _run(repo, github).plan()
    assert not planned.verdict.safe
    assert [(c.action, c.cause) for c in planned.plan.changes] == [("remove", "expired")]
    assert len(planned.plan.withheld) == 11
    overridden = _run(repo, github, allow_mass_removal=True).plan()
    assert len(overridden.plan.changes) == 12


def test_apply_waits_for_no_one_while_another_run_holds_the_lock(tmp_path: Path) -> None:
    repo, github = _setup(tmp_path, {"octocat.yaml": GRANT})
    run = _run(repo, github)
    planned = run.plan()
    with apply_lock(repo.root, NOW), pytest.raises(Locked):
        run.apply(planned)
    assert OCTOCAT[0].name not in _collaborators(github, "payments-api")
    assert _events(repo.root) == []


def test_apply_cancels_an_invitation_by_the_id_its_plan_read(tmp_path: Path) -> None:
    """What apply needs from the read comes with the plan, not from the client's memory."""
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"invitations": {"carol": "push"}}
    every_run = POLICY + "invitations: {sweep: 1h, window: 1h}\n"  # lists them all
    repo = reviewed(tmp_path / "access", {}, every_run)
    github = FakeGitHub.from_state(SandboxState.model_validate(with_access_repo(repo, state)), NOW)
    planned: Planned = _run(repo, github).plan()
    assert [c.action for c in planned.plan.changes] == ["cancel_invitation"]
    fresh = FakeGitHub(github.world)  # a client that never read anything
    Run(RunSettings(root=repo.root, now=NOW, repo=ACCESS), fresh).apply(planned)
    assert github.world.to_state().repos["ledger"].invitations == {}


def _with_octocat() -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["payments-api"]["collaborators"]["octocat"] = "push"
    return state


def test_a_lock_file_committed_to_the_checkout_stops_nothing(tmp_path: Path) -> None:
    """Anyone who can push could commit a lock "held" until 9999 by another host; the lock
    lives in .git/, so every run would otherwise be stopped before its expiries."""
    repo, github = _setup(tmp_path, {"octocat.yaml": ENDED}, _with_octocat())
    held = {"holder": "elsewhere:1", "acquired": "2026-11-30T00:00:00Z"}
    repo.write({LOCK_NAME: json.dumps({**held, "expires": "9999-12-31T23:59:59Z"})})
    repo.git("add", "-f", LOCK_NAME)
    repo.git("commit", "--quiet", "-m", "a lock nobody holds")
    run = _run(repo, github)
    run.apply(run.plan())
    assert "octocat" not in _collaborators(github, "payments-api")
    assert lock_path(repo.root).parent.name == ".git"


def test_a_grant_that_ended_in_year_one_is_reported_not_crashed_on(tmp_path: Path) -> None:
    """An ended grant needs no review, so anyone could push one ending at 0001-01-01."""
    repo, github = _setup(tmp_path, {"octocat.yaml": ENDED}, _with_octocat())
    old = "user: mallory\nrepo: ledger\npermission: pull\nexpires: 0001-01-01T00:30:00Z\nreason: old\n"
    repo.commit({"grants/mallory/old.yaml": old}, author="mallory", message="an old grant")
    run = _run(repo, github)
    run.apply(run.plan())
    assert "octocat" not in _collaborators(github, "payments-api")
    assert _events(repo.root)[-1] == "run-end"


def test_a_commit_with_an_empty_message_does_not_hide_what_a_grantee_did(
    tmp_path: Path,
) -> None:
    """git allows an empty commit message; the grantee's other commits are still shown."""
    state = _with_octocat()
    state["repos"]["payments-api"]["commits"] = [
        {
            "sha": "a" * 40,
            "author": "octocat",
            "date": "2026-11-29T12:00:00Z",
            "message": "Disable the payments audit hook",
        },
        {"sha": "b" * 40, "author": "octocat", "date": "2026-11-29T11:00:00Z", "message": ""},
    ]
    repo, github = _setup(tmp_path, {"octocat.yaml": ENDED}, state)
    run = _run(repo, github)
    run.apply(run.plan())
    assert "activity-recorded" in _events(repo.root)
    assert "Disable the payments audit hook" in (repo.root / REPORT_PATH).read_text()
