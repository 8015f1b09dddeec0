"""A ``duration:`` window opens at the approving merge, by GitHub's clock, and ends on time.

Each test builds a real access repository in git whose pull requests the sandbox
serves, with ``merged_at`` set by the test, and runs the CLI as the reconcile
workflow does. Someone with push access tries to move the window: a commit backdated
or postdated in git, an approved edit that would restart the clock, a review lookup
that fails once the window should have closed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grantops.audit.events import GrantApproved
from grantops.proof.holds import logged_ends
from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .data import DURATION, POLICY
from .sandbox_fixtures import StartSandbox, access_env, new_access_repo, with_access_repo
from .test_cli import run

MERGED = "2026-11-30T10:00:00Z"
"""When GitHub merged DURATION's pull request: its 48h run to 2 December, 10:00."""
FAST = ["--json", "--attempts", "1"]
KEY = {"GRANTOPS_EVIDENCE_KEY": "the-workflow-secret"}
OCTOCAT = ("user:octocat", "repo:acme/payments-api")


def _repo(tmp_path: Path) -> ReviewedRepo:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    return repo


def _request(repo: ReviewedRepo, text: str = DURATION, **merge: Any) -> None:
    repo.merge({"grants/g.yaml": text}, author="requester", approvers=["alice"], **merge)


def _sandbox(
    start: StartSandbox, repo: ReviewedRepo, old: Sandbox | None = None, **settings: Any
) -> Sandbox:
    """The org (as ``old`` left it, if given), aware of ``repo``'s pull requests."""
    state = old.state().model_dump() if old else with_access_repo(repo)
    state["repos"]["access"] = repo.repo_state().model_dump()
    return start(state, **settings)


def _run(
    command: str, sandbox: Sandbox, root: Path, now: str, *extra: str, **env: str
) -> tuple[int, Any, str]:
    pace = ["--mutation-interval", "0"] if command == "apply" else []  # only apply changes access
    argv = [command, "--root", str(root), "--now", now, *FAST, *pace, *extra]
    code, out, err = run(*argv, environ=access_env(sandbox.url, **env))
    return code, json.loads(out), err


def _changes(document: Any) -> list[tuple[str, str, str, str]]:
    return [(c["action"], c["principal"], c["target"], c["cause"]) for c in document["changes"]]


def _pushers(sandbox: Sandbox) -> dict[str, str]:
    return sandbox.state().repos["payments-api"].collaborators


def test_the_window_is_counted_from_merged_at_and_the_plan_shows_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    _request(repo, merged_at=MERGED)
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("plan", sandbox, repo.root, "2026-11-30T12:00:00Z")
    assert code == 0, err
    assert _changes(document) == [("add", *OCTOCAT, "grant")]
    assert document["windows"] == [
        {
            "source": "grants/g.yaml",
            "duration": "48h",
            "starts": MERGED,
            "expires": "2026-12-02T10:00:00Z",
        }
    ]
    argv = ["plan", "--root", str(repo.root), "--now", "2026-11-30T12:00:00Z"]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    assert code == 0, err
    assert "grants/g.yaml: 48h, from 2026-11-30T10:00:00Z until 2026-12-02T10:00:00Z" in out


def test_before_the_merge_the_window_is_pending(tmp_path: Path) -> None:
    """On the pull request nothing is merged yet: validate and plan say when it will open."""
    repo = _repo(tmp_path)
    repo.write({"grants/g.yaml": DURATION})
    code, out, err = run("validate", "--root", str(repo.root), "--now", "2030-01-01T00:00:00Z")
    assert code == 0, err
    assert "1 pending, 0 ended" in out
    assert "grants/g.yaml: 48h, starts at the approving merge, ends 48h after" in out


def test_a_backdated_commit_does_not_move_the_start(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Whoever pushes sets a commit's dates; only GitHub's merged_at opens the window.

    The grant's commit says 28 November, so counted from git its 48h would already be
    over at noon on the 30th, and counted from a date set in the future it would
    never end; both are ignored.
    """
    repo = _repo(tmp_path)
    _request(repo, method="rebase", date="2026-11-28T00:00:00Z", merged_at=MERGED)
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("plan", sandbox, repo.root, "2026-11-30T12:00:00Z")
    assert code == 0, err
    assert _changes(document) == [("add", *OCTOCAT, "grant")]
    assert document["windows"][0]["starts"] == MERGED
    repo = _repo(tmp_path / "later")
    _request(repo, method="rebase", date="2027-06-01T00:00:00Z", merged_at=MERGED)
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("plan", sandbox, repo.root, "2026-12-02T10:00:00Z")
    assert code == 0, err
    assert _changes(document) == []  # ended on time, nothing to add
    assert document["windows"][0]["expires"] == "2026-12-02T10:00:00Z"


def test_an_approved_edit_does_not_restart_the_clock(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """An extension from 48h to 50h, approved a day later, adds 2h, not a new 50h."""
    repo = _repo(tmp_path)
    _request(repo, merged_at="2026-11-29T10:00:00Z")
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("apply", sandbox, repo.root, "2026-11-30T09:00:00Z", "--yes")
    assert code == 0, err
    assert _pushers(sandbox)["octocat"] == "push"
    _request(repo, DURATION.replace("48h", "50h"), merged_at="2026-11-30T11:00:00Z")
    sandbox = _sandbox(start_sandbox, repo, sandbox)
    code, document, err = _run("apply", sandbox, repo.root, "2026-12-01T11:00:00Z", "--yes")
    assert code == 0, err
    assert document["windows"] == [
        {
            "source": "grants/g.yaml",
            "duration": "50h",
            "starts": "2026-11-29T10:00:00Z",
            "expires": "2026-12-01T12:00:00Z",
        }
    ]
    assert _pushers(sandbox)["octocat"] == "push"  # the 2h the edit added
    code, document, err = _run("apply", sandbox, repo.root, "2026-12-01T12:00:00Z", "--yes")
    assert code == 0, err
    assert _changes(document) == [("remove", *OCTOCAT, "expired")]
    assert "octocat" not in _pushers(sandbox)


def test_a_deleted_and_re_added_file_is_a_new_window(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A revoke ends the old window; a grant added again is reviewed as a new one."""
    repo = _repo(tmp_path)
    _request(repo, merged_at="2026-11-20T10:00:00Z")
    repo.merge({}, author="requester", approvers=["alice"], remove=["grants/g.yaml"])
    _request(repo, merged_at=MERGED)
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("plan", sandbox, repo.root, "2026-11-30T12:00:00Z")
    assert code == 0, err
    assert document["windows"][0]["starts"] == MERGED


def test_an_unproven_merge_gives_nothing(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """A grant pushed without a pull request has no approving merge: it never opens."""
    repo = _repo(tmp_path)
    repo.commit({"grants/g.yaml": DURATION}, "mallory", "sneak in")
    sandbox = _sandbox(start_sandbox, repo)
    code, document, err = _run("plan", sandbox, repo.root, "2026-11-30T12:00:00Z")
    assert code == 1, err  # on the branch without a valid review: loud
    assert _changes(document) == []
    assert [u["source"] for u in document["unapproved"]] == ["grants/g.yaml"]
    assert document["windows"][0]["starts"] is None


def _lookups_fail(number: int) -> FaultRule:
    return FaultRule(f"GET /repos/acme/access/pulls/{number}/files", 502, times=-1)


def test_a_failed_read_keeps_access_only_until_the_logged_end(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Once applied, the log holds the computed window. A run that cannot read the merge
    again keeps the access while that window is open, and ends it on time after."""
    repo = _repo(tmp_path)
    _request(repo, merged_at=MERGED)
    sandbox = _sandbox(start_sandbox, repo)
    code, _, err = _run("apply", sandbox, repo.root, "2026-11-30T12:00:00Z", "--yes", **KEY)
    assert code == 0, err
    (repo.root / "audit" / "approvals.json").unlink()  # no kept evidence to fall back on
    sandbox = _sandbox(start_sandbox, repo, sandbox, faults=[_lookups_fail(2)])
    code, document, err = _run("apply", sandbox, repo.root, "2026-12-02T09:59:00Z", "--yes", **KEY)
    assert code == 1, err
    assert _changes(document) == []
    assert document["windows"][0]["starts"] is None  # the merge could not be read
    kept = {(k["principal"], k["target"]): k["reason"] for k in document["kept"]}
    assert kept[OCTOCAT].startswith("kept: the review of grants/g.yaml could not be checked")
    code, document, err = _run("apply", sandbox, repo.root, "2026-12-02T10:00:00Z", "--yes", **KEY)
    assert code == 1, err
    assert [c[:3] for c in _changes(document)] == [("remove", *OCTOCAT)]
    assert "octocat" not in _pushers(sandbox)


def test_a_logged_end_only_ever_shortens_a_hold() -> None:
    """A pushed line with a later end changes nothing; old lines read as they always did."""
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def line(expires: datetime) -> GrantApproved:
        return GrantApproved(ts=at, run="r", source="grants/g.yaml", commit="c", expires=expires)

    late, early = at.replace(hour=23), at.replace(hour=13)
    assert logged_ends([line(early), line(late)]) == {("grants/g.yaml", "c"): early}
    assert logged_ends([line(late), line(early)]) == {("grants/g.yaml", "c"): early}


EDITED = "2026-12-02T08:00:00Z"  # a harmless, reviewed edit near the end of the window
CLOSED = "2026-12-02T20:00:00Z"  # the 48h window the first merge opened has closed


def test_an_approver_losing_write_access_never_moves_the_start_later(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The first version's approver leaves (or tighter rules stop counting them): that
    version still opened the window. Judged by today's rules, it would be passed over
    and a later edit's merge would restart the clock with nobody reviewing an extension."""
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": DURATION}, "requester", ["alice"], merged_at=MERGED)
    edit = DURATION.replace("INC-4821 hotfix", "INC-4821 hotfix (typo)")
    repo.merge({"grants/g.yaml": edit}, "requester", ["bob"], merged_at=EDITED)
    for alice_may_write in (True, False):
        if not alice_may_write:
            repo.writers.discard("alice")
        code, document, err = _run("plan", _sandbox(start_sandbox, repo), repo.root, CLOSED)
        assert code == 0, err
        assert ("add", *OCTOCAT, "grant") not in _changes(document)
        assert [w["starts"] for w in document["windows"]] == [MERGED]


def test_a_reviewed_move_keeps_the_window_of_the_file_it_replaced(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A rename shows the reviewer nothing to read; the moved grant keeps its window."""
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": DURATION}, "requester", ["alice"], merged_at=MERGED)
    moved = {"grants/h.yaml": DURATION}
    repo.merge(moved, "requester", ["bob"], remove=["grants/g.yaml"], merged_at=EDITED)
    code, document, err = _run("plan", _sandbox(start_sandbox, repo), repo.root, CLOSED)
    assert code == 0, err
    assert ("add", *OCTOCAT, "grant") not in _changes(document)
    assert [w["starts"] for w in document["windows"]] == [MERGED]
