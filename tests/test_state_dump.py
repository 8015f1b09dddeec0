"""State files say only what is there: no empty fixtures, no defaults spelled out."""

from __future__ import annotations

import json
from pathlib import Path

from grantops.sandbox.fixtures import SandboxState
from grantops.statefile import dump_state, read_state_file

from .data import GRANT, POLICY
from .sandbox_fixtures import BASE_STATE, StartSandbox, access_env, live_repo, new_access_repo
from .test_cli import run


def test_an_empty_fixture_or_default_is_not_written() -> None:
    state = SandboxState.model_validate(BASE_STATE)
    written = json.loads(dump_state(state))
    assert written["repos"]["ledger"] == {}  # the repository stays, with nothing in it
    assert written["repos"]["payments-api"] == {
        "collaborators": {"release-bot": "push", "acme-admin-bot": "admin"},
        "teams": {"platform": "maintain"},
    }
    assert "base_permission" not in written and "bots" not in written


def test_a_reviewed_pull_request_keeps_what_proof_reads(tmp_path: Path) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    state = SandboxState.model_validate({"org": "acme", "repos": {"access": repo.repo_state()}})
    pull = json.loads(dump_state(state))["repos"]["access"]["pulls"][0]
    assert set(pull) == {
        "number",
        "author",
        "head_ref",
        "head_sha",
        "merged_at",
        "merge_commit_sha",
        "merged_by",
        "commits",
        "reviews",
        "files",
    }
    assert SandboxState.model_validate_json(dump_state(state)) == state


def test_an_old_file_that_spells_everything_out_reads_the_same(tmp_path: Path) -> None:
    old = {
        **BASE_STATE,
        "bots": [],
        "base_permission": "none",
        "repos": {
            name: {
                "collaborators": {},
                "invitations": {},
                "expired_invitations": {},
                "teams": {},
                "pulls": [],
                "commits": [],
                "comments": [],
                **repo,
            }
            for name, repo in BASE_STATE["repos"].items()
        },
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    assert read_state_file(path, SandboxState) == SandboxState.model_validate(BASE_STATE)


def test_snapshot_writes_no_empty_listings(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    code, out, err = run("snapshot", "--root", str(root), environ=access_env(sandbox.url))
    assert code == 0, err
    assert "{}" not in out.replace('"ledger": {}', "").replace('"deploy-api": {}', "")
    assert "[]" not in out
