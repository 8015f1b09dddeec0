"""A revoke is a reviewed deletion of a grant file: it ends access as ``revoked``, never as drift.

Each test builds a real access repository in git (reviewed pull requests through the
sandbox), applies a grant while it is open (so the audit log shows it honoured), then
deletes the grant file, through a reviewed pull request or the ways someone with push
access could try instead: a direct push, a self-approved or stale-approved pull
request, a deletion slipped into a merge commit, a backdated commit. Only the reviewed
deletion is a revoke, which the removal brakes let pass; every other one still removes
the access (removing is the safe direction) but as ``undeclared``, counted by the brakes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .data import DURATION, GRANT
from .sandbox_fixtures import StartSandbox, access_env, restarted, reviewed, with_access_repo
from .test_cli import run

OPEN_AT = "2026-11-30T12:00:00Z"
"""GRANT's window is 2026-11-30 09:00 to 18:00."""
REVOKED_AT = "2026-11-30T13:00:00Z"
"""When GitHub merged the revoke, by its own clock."""
STILL_OPEN = "2026-11-30T15:00:00Z"
MERGED_AT = "2026-11-30T10:00:00Z"
"""When GitHub merged DURATION's pull request: its window opens there."""
FAST = ["--yes", "--json", "--mutation-interval", "0", "--attempts", "1"]
GONE = ["grants/g.yaml"]
OCTOCAT = ("remove", "user:octocat", "repo:acme/payments-api")


def _apply(sandbox: Sandbox, root: Path, now: str = STILL_OPEN) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, *FAST]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    return code, json.loads(out), err


def _changes(document: Any) -> list[tuple[str, str, str, str]]:
    return [(c["action"], c["principal"], c["target"], c["cause"]) for c in document["changes"]]


def _honoured(
    start_sandbox: StartSandbox, tmp_path: Path, grants: dict[str, str] | None = None
) -> tuple[ReviewedRepo, Sandbox]:
    """Reviewed grants (octocat's by default), applied while open: the log knows them."""
    repo = reviewed(tmp_path / "access", grants or {"g.yaml": GRANT})
    state = with_access_repo(repo)
    state["members"] = [*state["members"], *CREW]
    sandbox = start_sandbox(state)
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    return repo, sandbox


_again = restarted


def _log_lines(repo: ReviewedRepo) -> list[dict[str, Any]]:
    text = (repo.root / "audit" / "log.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


# ----- the reviewed revoke -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["squash", "merge", "rebase"])
def test_a_reviewed_deletion_is_logged_as_revoked(
    start_sandbox: StartSandbox, tmp_path: Path, method: Any
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.merge({}, "requester", ["alice"], remove=GONE, method=method, merged_at=REVOKED_AT)
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root)
    assert code == 0, err
    assert _changes(document) == [(*OCTOCAT, "revoked")]
    assert document["changes"][0]["source"] == "grants/g.yaml"
    assert "octocat" not in sandbox.state().repos["payments-api"].collaborators
    removed = [line for line in _log_lines(repo) if line["event"] in REMOVALS]
    assert [(line["event"], line["cause"]) for line in removed] == [("access-removed", "revoked")]


REMOVALS = ("access-removed", "drift-removed")


def test_the_plan_shows_a_revoke_as_revoked(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.merge({}, "requester", ["alice"], remove=GONE, merged_at=REVOKED_AT)
    sandbox = _again(start_sandbox, sandbox, repo)
    argv = ["plan", "--root", str(repo.root), "--now", STILL_OPEN]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    assert code == 0, err
    row = next(line for line in out.splitlines() if "user:octocat" in line)
    assert row.split()[-2:] == ["revoked", "grants/g.yaml"]


CREW = [f"crew{i:02d}" for i in range(11)]
LONG = GRANT.replace("2026-11-30T18:00:00Z", "2026-12-02T18:00:00Z").replace(
    "payments-api", "ledger"
)
CREW_GRANTS = {f"{c}.yaml": LONG.replace("octocat", c) for c in CREW}


def test_a_reviewed_mass_revoke_passes_the_brakes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path, CREW_GRANTS)
    assert sandbox.state().repos["ledger"].collaborators == dict.fromkeys(CREW, "push")
    gone = [f"grants/{c}.yaml" for c in CREW]
    repo.merge({}, "requester", ["alice"], remove=gone, merged_at=REVOKED_AT)
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root)
    assert code == 0, err
    assert document["safety"]["refusals"] == []
    assert {c[3] for c in _changes(document)} == {"revoked"}
    assert len(document["changes"]) == len(CREW)
    assert sandbox.state().repos["ledger"].collaborators == {}


def test_the_same_mass_deletion_pushed_directly_trips_the_brakes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path, CREW_GRANTS)
    repo.commit({}, "mallory", "Tidy", remove=[f"grants/{c}.yaml" for c in CREW])
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root)
    assert code == 3, err
    assert document["limits"][0].startswith("the removal brakes refused the plan (11 undeclared")
    assert {c["cause"] for c in document["withheld"]} == {"undeclared"}
    assert sandbox.state().repos["ledger"].collaborators == dict.fromkeys(CREW, "push")


# ----- deletions that are not reviewed revokes -----------------------------------------------


def _direct_push(repo: ReviewedRepo) -> None:
    repo.commit({}, "mallory", "Tidy", remove=GONE)


def _backdated_push(repo: ReviewedRepo) -> None:
    repo.commit({}, "mallory", "Tidy", remove=GONE, date="2026-11-30T13:00:00Z")


def _self_approved(repo: ReviewedRepo) -> None:
    repo.merge({}, "mallory", ["mallory"], remove=GONE, merged_at=REVOKED_AT)


def _approved_earlier_commit(repo: ReviewedRepo) -> None:
    repo.merge({}, "mallory", stale_approvers=["alice"], remove=GONE, merged_at=REVOKED_AT)


def _hidden_in_a_merge_commit(repo: ReviewedRepo) -> None:
    """An approved PR that changes nothing of g.yaml, merged by a pushed merge commit
    that also deletes it: GitHub marks the PR merged, its diff never showed the deletion."""
    pull = repo.merge(
        {"notes.md": "harmless\n"}, "mallory", ["alice"], method="merge", merged_at=REVOKED_AT
    )
    repo.git("rm", "--quiet", "--", *GONE)
    repo.git("commit", "--quiet", "--amend", "--no-edit")
    repo.pulls[-1] = pull.model_copy(update={"merge_commit_sha": repo.head()})


def _merged_after_the_window(repo: ReviewedRepo) -> None:
    """Reviewed, but merged (by GitHub's clock) after the window closed: no revoke."""
    repo.merge({}, "requester", ["alice"], remove=GONE, merged_at="2026-11-30T19:00:00Z")


def _of_an_unreviewed_version(repo: ReviewedRepo) -> None:
    """A pushed edit of the grant, then a reviewed clean-up deleting it: the version it
    deleted was never proven, so it revoked nothing that grantops honoured."""
    repo.commit({"grants/g.yaml": GRANT + "# edited\n"}, "mallory", "Edit")
    repo.merge({}, "requester", ["alice"], remove=GONE, merged_at=REVOKED_AT)


UNREVIEWED: list[tuple[str, Callable[[ReviewedRepo], None]]] = [
    ("direct push", _direct_push),
    ("backdated direct push", _backdated_push),
    ("self-approved", _self_approved),
    ("approved on an earlier commit", _approved_earlier_commit),
    ("hidden in a merge commit", _hidden_in_a_merge_commit),
    ("merged after the window", _merged_after_the_window),
    ("of an unreviewed version", _of_an_unreviewed_version),
]


@pytest.mark.parametrize("delete", [c[1] for c in UNREVIEWED], ids=[c[0] for c in UNREVIEWED])
def test_an_unreviewed_deletion_still_removes_but_as_drift(
    start_sandbox: StartSandbox, tmp_path: Path, delete: Callable[[ReviewedRepo], None]
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    delete(repo)
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root)
    assert code == 0, err
    assert _changes(document) == [(*OCTOCAT, "undeclared")]
    assert "octocat" not in sandbox.state().repos["payments-api"].collaborators
    removed = [line for line in _log_lines(repo) if line["event"] in REMOVALS]
    assert [line["event"] for line in removed] == ["drift-removed"]


def test_a_deletion_whose_review_cannot_be_read_is_drift_and_said(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    pull = repo.merge({}, "requester", ["alice"], remove=GONE, merged_at=REVOKED_AT)
    files = FaultRule(f"GET /repos/acme/access/pulls/{pull.number}/files", 502, times=-1)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[files])
    code, document, err = _apply(sandbox, repo.root)
    assert code == 1, err  # removed, and the run says what it could not check
    assert _changes(document) == [(*OCTOCAT, "undeclared")]
    assert "WARNING: could not check whether access ended: grants/g.yaml, deleted at" in err
    assert "could not check the review" in err


def test_a_log_that_never_honoured_the_grant_makes_no_revoke(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """What the log does not know is not looked for: drift, as before revokes existed."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    (repo.root / "audit" / "log.jsonl").unlink()
    repo.merge({}, "requester", ["alice"], remove=GONE, merged_at=REVOKED_AT)
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root)
    assert code == 0, err
    assert _changes(document) == [(*OCTOCAT, "undeclared")]


def test_a_duration_grant_revoked_in_its_window_is_revoked(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Its window opens at its approving merge (10:00), so a revoke merged at 13:00 is
    inside it, whatever the deleted file says about times."""
    repo = reviewed(tmp_path / "access", {})
    repo.merge({"grants/d.yaml": DURATION}, "requester", ["alice"], merged_at=MERGED_AT)
    sandbox = start_sandbox(with_access_repo(repo))
    assert _apply(sandbox, repo.root, OPEN_AT)[0] == 0
    repo.merge({}, "requester", ["alice"], remove=["grants/d.yaml"], merged_at=REVOKED_AT)
    code, document, err = _apply(_again(start_sandbox, sandbox, repo), repo.root)
    assert code == 0, err
    assert _changes(document) == [(*OCTOCAT, "revoked")]


def test_a_revoke_before_the_window_opened_took_nothing_it_gave(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Merged (by GitHub's clock) before the approving merge of the version it deletes:
    whatever octocat holds did not come from that version."""
    repo = reviewed(tmp_path / "access", {})
    repo.merge({"grants/d.yaml": DURATION}, "requester", ["alice"], merged_at=MERGED_AT)
    sandbox = start_sandbox(with_access_repo(repo))
    assert _apply(sandbox, repo.root, OPEN_AT)[0] == 0
    early = "2026-11-30T08:00:00Z"
    repo.merge({}, "requester", ["alice"], remove=["grants/d.yaml"], merged_at=early)
    code, document, err = _apply(_again(start_sandbox, sandbox, repo), repo.root)
    assert code == 0, err
    assert _changes(document) == [(*OCTOCAT, "undeclared")]
