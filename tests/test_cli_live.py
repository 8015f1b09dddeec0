"""The CLI against a sandbox GitHub over real HTTP: plan, apply, snapshot, demo, serve."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from grantops.cli import main

from .conftest import GRANT
from .sandbox_fixtures import TOKEN, StartSandbox, access_env, live_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"


def test_plan_reads_github_and_never_mutates(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    code, out, err = run(
        "plan",
        "--root",
        str(root),
        "--now",
        AT,
        "--detailed-exitcode",
        environ=access_env(sandbox.url),
    )
    assert code == 4, err
    assert [line.split() for line in out.splitlines() if "user:octocat" in line] == [
        ["repo:acme/payments-api", "+", "add", "user:octocat", "push", "grant", "grants/g.yaml"]
    ]
    assert not any(k.split(" ")[0] in ("PUT", "DELETE") for k in sandbox.stats)


def test_apply_is_a_dry_run_without_yes(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    before = sandbox.state()
    code, out, _ = run("apply", "--root", str(root), "--now", AT, environ=access_env(sandbox.url))
    assert code == 0
    assert "Dry run: nothing was changed. Run with --yes to apply 1 change(s)." in out
    assert sandbox.state() == before


def test_apply_yes_converges_and_reports(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    grants = {"g.yaml": GRANT, "d.yaml": GRANT.replace("octocat", "dana")}
    root, sandbox = live_repo(start_sandbox, tmp_path, grants)
    summary = tmp_path / "summary.md"
    environ = {
        **access_env(sandbox.url),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    code, out, err = run(
        "apply",
        "--root",
        str(root),
        "--now",
        AT,
        "--yes",
        "--mutation-interval",
        "0",
        environ=environ,
    )
    assert code == 0, err
    assert "  ok      add user:octocat on repo:acme/payments-api (push)" in out
    assert "  invited add user:dana on repo:acme/payments-api (push): invitation sent" in out
    assert "Applied 2 change(s): 1 done, 1 awaiting acceptance, 0 failed." in out
    assert "# Access report: acme" in summary.read_text()
    assert "## Changes made by this run" in summary.read_text()
    code, out, _ = run(
        "plan",
        "--root",
        str(root),
        "--now",
        AT,
        "--detailed-exitcode",
        environ=access_env(sandbox.url),
    )
    assert code == 0
    assert "No changes" in out


def test_apply_json(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    code, out, _ = run(
        "apply",
        "--root",
        str(root),
        "--now",
        AT,
        "--yes",
        "--json",
        "--mutation-interval",
        "0",
        environ=access_env(sandbox.url),
    )
    assert code == 0
    document = json.loads(out)
    assert document["applied"] is True
    assert document["outcomes"] == [
        {
            "action": "add",
            "principal": "user:octocat",
            "target": "repo:acme/payments-api",
            "from": None,
            "to": "push",
            "cause": "grant",
            "source": "grants/g.yaml",
            "result": "done",
            "detail": "",
        }
    ]
    assert document["unreadable"] == {}


@pytest.mark.parametrize("read_api", ["graphql", "rest"])
def test_unreadable_repo_is_reported_and_exits_1(
    start_sandbox: StartSandbox, tmp_path: Path, read_api: str
) -> None:
    from grantops.sandbox import FaultRule

    fault = FaultRule("GET /repos/acme/ledger/teams", 404, times=-1)
    # GraphQL refuses ledger, so its teams are listed through REST too
    root, sandbox = live_repo(
        start_sandbox,
        tmp_path,
        {"g.yaml": GRANT},
        faults=[fault],
        graphql_forbidden=["repository:ledger"],
    )
    args = ("plan", "--root", str(root), "--now", AT, "--read-api", read_api)
    code, out, err = run(*args, environ=access_env(sandbox.url))
    assert code == 1
    assert "Not read completely, so left untouched this run:" in err
    assert "repo:acme/ledger: list teams of acme/ledger: HTTP 404: Not Found" in err
    assert "user:octocat" in out  # the rest is still planned


def test_the_token_never_appears_in_output(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT}, token="some-other-token")
    code, out, err = run("plan", "--root", str(root), "--now", AT, environ=access_env(sandbox.url))
    assert code == 1
    assert "HTTP 401: Requires authentication" in err
    assert TOKEN not in out + err


def test_snapshot_writes_a_state_file_that_plans_the_same(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    snapshot = tmp_path / "snapshot.json"
    code, _, err = run(
        "snapshot", "--root", str(root), "--out", str(snapshot), environ=access_env(sandbox.url)
    )
    assert code == 0, err
    state = json.loads(snapshot.read_text())
    assert state["repos"]["payments-api"]["collaborators"] == {
        "acme-admin-bot": "admin",
        "release-bot": "push",
    }
    assert "website" not in state["repos"]  # outside managed scope
    assert "alice" in state["members"]
    offline = run("plan", "--root", str(root), "--now", AT, "--json", "--state", str(snapshot))
    live = run("plan", "--root", str(root), "--now", AT, "--json", environ=access_env(sandbox.url))
    assert json.loads(offline[1])["changes"] == json.loads(live[1])["changes"]
    assert json.loads(offline[1])["notes"] == [
        "approval not checked: an offline plan trusts every grant on the branch"
    ]


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    code, out, err = run("demo", "--keep")
    assert code == 0, err
    steps = [line for line in out.splitlines() if line.startswith("== Step")]
    assert len(steps) == 9
    assert "user: octocat\nrepo: payments-api\npermission: push\n" in out  # one grant file
    rehearsed = out.split("== Step 6")[1]
    assert "Opened pull request #9" in rehearsed
    assert "alice approved acme/access#9" in rehearsed and "alice merged acme/access#9" in rehearsed
    last = rehearsed.split("== Step 9")[1]
    assert "user:octocat  push      grant    grants/octocat/" in last
    assert "Applied 10 change(s): 9 done, 1 awaiting acceptance, 0 failed." in out
    assert "grants/eve/payments-api-shortcut.yaml: PR #8 has 0 of 1 required approvals" in out
    assert out.split("== Step 4")[1].count("No changes: access matches the policy and grants.") == 1
    assert "entries, hash chain intact." in out
    assert "# Access report: acme" in out  # the demo ends by showing the report it wrote
    kept = Path(out.rsplit("kept at ", 1)[1].strip())
    try:
        log = kept / "audit" / "log.jsonl"
        assert run("audit", "verify", "--log", str(log))[0] == 0
        tampered = tmp_path / "log.jsonl"
        tampered.write_text(log.read_text().replace('"to":"push"', '"to":"admin"', 1))
        code, _, err = run("audit", "verify", "--log", str(tampered))
        assert code == 1
        assert "the line was edited" in err
    finally:
        shutil.rmtree(kept.parent)


def test_sandbox_serve_answers_and_saves(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"org": "acme", "members": ["alice"], "repos": {"ledger": {}}}))
    command = [
        sys.executable,
        "-m",
        "grantops",
        "sandbox",
        "serve",
        "--state",
        str(state),
        "--save",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            url = first.rsplit(" ", 1)[-1].strip()
            assert first.startswith("Sandbox GitHub for org acme listening on http://127.0.0.1:")
            with httpx2.Client(base_url=url, headers={"Authorization": "token t"}) as http:
                answer = http.put(
                    "/repos/acme/ledger/collaborators/alice", json={"permission": "triage"}
                )
                assert answer.status_code == 204
        finally:
            server.terminate()
            server.wait(timeout=10)
    deadline = time.time() + 5
    while "triage" not in state.read_text() and time.time() < deadline:
        time.sleep(0.05)
    assert json.loads(state.read_text())["repos"]["ledger"]["collaborators"] == {"alice": "triage"}


def test_main_defaults_to_process_streams(capsys: object) -> None:
    assert main(["--version"]) == 0


def test_plan_preview_assumes_the_pull_requests_grants_approved(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {})
    (root / "grants" / "new.yaml").write_text(GRANT)  # on the PR branch, not merged yet
    code, out, err = run(
        "plan", "--root", str(root), "--now", AT, "--preview", environ=access_env(sandbox.url)
    )
    assert code == 0, err
    assert "preview: every grant is assumed approved" in err
    assert "user:octocat" in out and "Unapproved" not in out
    code, out, _ = run("plan", "--root", str(root), "--now", AT, environ=access_env(sandbox.url))
    assert "grants/new.yaml: not committed" in out  # without --preview it is refused


def test_importing_grantops_leaves_the_environment_alone() -> None:
    """ghapi fills in GITHUB_REPOSITORY=octocat/Hello-World (and others) when it is unset;
    grantops reads it to find the access repository, so that value must never appear."""
    environ = {k: v for k, v in os.environ.items() if k != "GITHUB_REPOSITORY"}
    probe = "import os, grantops.cli; print(sorted(os.environ))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=environ, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(sorted(environ))


def test_plan_finds_the_access_repository_from_the_origin_remote(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Outside Actions, with neither --access-repo nor GITHUB_REPOSITORY, the remote names it."""
    root, sandbox = live_repo(start_sandbox, tmp_path, {"octocat.yaml": GRANT})
    subprocess.run(
        ["git", "-C", str(root), "remote", "set-url", "origin", "git@github.com:acme/access.git"],
        check=True,
    )
    environ = {k: v for k, v in access_env(sandbox.url).items() if k != "GITHUB_REPOSITORY"}
    code, out, err = run("plan", "--root", str(root), "--now", AT, environ=environ)
    assert code == 0, err
    assert "octocat" in out and "not proven" not in err
    bare = tmp_path / "elsewhere"
    subprocess.run(["git", "-C", str(root), "remote", "set-url", "origin", str(bare)], check=True)
    code, _, err = run("plan", "--root", str(root), "--now", AT, environ=environ)
    assert code == 2 and "no GitHub remote 'origin' names it" in err
