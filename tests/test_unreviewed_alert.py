"""A grant on the protected branch without a valid review fails the run, loudly.

Getting such a grant there means branch protection was bypassed (a push by an admin, a
merge without the approvals): the grant gives nothing, but somebody has to look. So
``plan`` and ``apply`` reconcile everything else, then exit 1 with an error naming the
file (an ``::error`` annotation in GitHub Actions, a line in the job summary, a message
on stderr). A grant whose review could not be *read* (GitHub failed) is a warning: the
run exits 1 because it could not do everything, and a later run checks it again.
"""

from __future__ import annotations

import json
from pathlib import Path

from grantops.sandbox import FaultRule
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
HUBOT = GRANT.replace("octocat", "hubot")
MALLORY = GRANT.replace("octocat", "mallory").replace("permission: push", "permission: maintain")
BYPASSED = "merged to the protected branch without a valid review (direct push: commit"


def _repo(tmp_path: Path) -> ReviewedRepo:
    """hubot's grant reviewed; mallory's pushed straight to the branch."""
    repo = reviewed(tmp_path / "access", {"hubot.yaml": HUBOT})
    repo.commit({"grants/m.yaml": MALLORY}, "mallory", "Quick access")
    return repo


def _actions(tmp_path: Path, url: str) -> dict[str, str]:
    summary = tmp_path / "summary.md"
    return {**access_env(url), "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}


def _apply(root: Path, environ: dict[str, str], *extra: str) -> tuple[int, str, str]:
    argv = ["apply", "--root", str(root), "--now", AT, "--mutation-interval", "0", *extra]
    return run(*argv, environ=environ)


def test_apply_reconciles_the_rest_then_fails_naming_the_file(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    sandbox = start_sandbox(with_access_repo(repo))
    environ = _actions(tmp_path, sandbox.url)
    code, out, err = _apply(repo.root, environ, "--yes")
    assert code == 1, err
    pushers = sandbox.state().repos["payments-api"].collaborators
    assert pushers.get("hubot") == "push" and "mallory" not in pushers  # the rest went ahead
    assert f"::error file=grants/m.yaml,line=1::{BYPASSED}" in out
    assert f"grants/m.yaml:1: error: {BYPASSED}" in err
    assert "it gave no access. Branch protection may have been bypassed" in err
    assert err.rstrip().endswith(
        "grantops: 1 grant(s) on the protected branch without a valid review gave no access; "
        "the rest of the run went ahead"
    )
    summary = Path(environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "**Merged without a valid review (no access; branch protection may have" in summary
    assert "- `grants/m.yaml`: direct push: commit" in summary


def test_plan_fails_too_and_says_which_kind_in_text_and_json(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    sandbox = start_sandbox(with_access_repo(repo))
    argv = ["plan", "--root", str(repo.root), "--now", AT]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    assert code == 1, err
    assert "Merged without a valid review (no access; branch protection may have been" in out
    assert f"grants/m.yaml:1: error: {BYPASSED}" in err
    code, out, _ = run(*argv, "--json", environ=access_env(sandbox.url))
    assert code == 1
    unapproved = json.loads(out)["unapproved"]
    assert [(u["source"], u["status"]) for u in unapproved] == [("grants/m.yaml", "unreviewed")]


def test_a_review_that_cannot_be_read_is_a_warning_not_an_alarm(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """PR #2 (hubot's grant) cannot be listed: no verdict, so no accusation either."""
    repo = reviewed(tmp_path / "access", {"hubot.yaml": HUBOT})
    files = FaultRule("GET /repos/acme/access/pulls/2/files", 502, times=-1)
    sandbox = start_sandbox(with_access_repo(repo), faults=[files])
    environ = _actions(tmp_path, sandbox.url)
    code, out, err = _apply(repo.root, environ, "--attempts", "1")
    assert code == 1, err  # the run could not do everything it should
    assert "::warning file=grants/hubot.yaml,line=1::its review could not be checked" in out
    assert "::error" not in out
    assert "without a valid review" not in err
    assert "it gives no new access until a run can check it" in err
    summary = Path(environ["GITHUB_STEP_SUMMARY"]).read_text()
    assert "**Review not checked (no new access until a run can check it)**" in summary


def test_a_reviewed_branch_exits_zero_with_no_alarm(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"hubot.yaml": HUBOT})
    sandbox = start_sandbox(with_access_repo(repo))
    code, out, err = _apply(repo.root, _actions(tmp_path, sandbox.url))
    assert code == 0, err
    assert "::error" not in out and "::warning" not in out
    assert "review" not in err
