"""The command line, driven in-process with its world (environment, streams) passed in."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grantops.actions import annotation
from grantops.cli import main
from grantops.errors import Problem

from .conftest import GRANT, WriteRepo

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE_STATE = PROJECT / "src" / "grantops" / "examples" / "acme-state.json"
AT = "2026-11-30T12:00:00Z"


def run(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ or {}, out, err)
    return code, out.getvalue(), err.getvalue()


def test_validate_the_shipped_examples() -> None:
    code, out, err = run("validate", "--root", str(PROJECT), "--now", AT)
    assert code == 0, err
    assert out.strip() == (
        "Valid: policy for org acme and 5 grant(s): 3 active, 1 upcoming, 1 ended (at 2026-11-30T12:00:00Z)."
    )
    assert "grants/mona/2026-11-27-ledger.yaml:7: warning: expired" in err


def test_validate_reports_errors_with_path_and_line(write_repo: WriteRepo) -> None:
    root = write_repo({"bad.yaml": GRANT.replace("permission: push", "permission: admin")})
    code, out, err = run("validate", "--root", str(root), "--now", AT)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "grants/bad.yaml:3: error: permission 'admin' is not grantable; limits.permissions: "
        "pull, triage, push, maintain, security-auditor",
        "grantops: 1 error(s); nothing was planned or changed",
    ]


def test_validate_in_github_actions_annotates_and_summarises(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    root = write_repo({"bad.yaml": GRANT.replace("repo: payments-api", "repo: website")})
    summary = tmp_path / "summary.md"
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    code, out, _ = run("validate", "--root", str(root), "--now", AT, environ=environ)
    assert code == 1
    assert out.splitlines() == [
        "::error file=grants/bad.yaml,line=2::repository 'website' is not in managed.repos "
        "(payments-api, ledger, deploy-*)"
    ]
    text = summary.read_text()
    assert text.startswith("### grantops validate: grant files have errors")
    assert "`grants/bad.yaml:2` error: repository 'website'" in text


def test_annotation_escapes_workflow_commands() -> None:
    line = annotation(Problem("grants/a,b:c.yaml", 3, "bad\n::set-output name=x::y 100%"))
    assert line == "::error file=grants/a%2Cb%3Ac.yaml,line=3::bad%0A::set-output name=x::y 100%25"
    assert "\n" not in line


def test_validate_json(write_repo: WriteRepo) -> None:
    root = write_repo({"bad.yaml": GRANT.replace("user: octocat", "user: x-")})
    code, out, _ = run("validate", "--root", str(root), "--now", AT, "--json")
    assert code == 1
    document = json.loads(out)
    assert document["valid"] is False
    assert document["problems"][0]["path"] == "grants/bad.yaml"
    assert document["problems"][0]["line"] == 1


def test_plan_against_the_example_state() -> None:
    code, out, err = run("plan", "--root", str(PROJECT), "--state", str(EXAMPLE_STATE), "--now", AT)
    assert code == 0, err
    assert "repo:acme/ledger" in out
    assert "- remove" in out and "expired" in out and "grants/mona/2026-11-27-ledger.yaml" in out
    assert "user:acme-admin-bot on repo:acme/payments-api (admin): protected account" in out
    assert out.rstrip().endswith(
        "Plan: 4 to add, 1 to change, 3 to remove, 1 invitation to cancel."
    )


def test_plan_json_and_detailed_exit_code() -> None:
    code, out, _ = run(
        "plan",
        "--root",
        str(PROJECT),
        "--state",
        str(EXAMPLE_STATE),
        "--now",
        AT,
        "--json",
        "--detailed-exitcode",
    )
    assert code == 4
    document: dict[str, Any] = json.loads(out)
    assert document["summary"] == {"add": 4, "update": 1, "remove": 3, "cancel_invitation": 1}
    assert {c["cause"] for c in document["changes"]} == {
        "grant",
        "baseline",
        "expired",
        "undeclared",
    }
    assert all(
        set(c) == {"action", "principal", "target", "from", "to", "cause", "source"}
        for c in document["changes"]
    )


def test_plan_with_nothing_to_do_exits_zero_even_with_detailed_exitcode(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    root = write_repo({})
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "org": "ACME",
                "repos": {
                    "payments-api": {
                        "collaborators": {"release-bot": "push"},
                        "teams": {"platform": "maintain"},
                    }
                },
            }
        )
    )
    code, out, _ = run(
        "plan", "--root", str(root), "--state", str(state), "--now", AT, "--detailed-exitcode"
    )
    assert code == 0
    assert out.rstrip().endswith("No changes: access matches the policy and grants.")


def test_an_invalid_grant_gives_nothing_and_the_plan_goes_on(write_repo: WriteRepo) -> None:
    root = write_repo({"bad.yaml": GRANT + "expire: soon\n", "good.yaml": GRANT})
    code, out, err = run("plan", "--root", str(root), "--state", str(EXAMPLE_STATE), "--now", AT)
    assert code == 1  # the plan is made, and the run still says something is wrong
    assert "grants/bad.yaml:7: error: unknown key 'expire'" in err
    assert "1 error(s) in grant files; each such file gives nothing" in err
    assert "grants/good.yaml" in out
    assert "grants/bad.yaml" not in out


def test_an_invalid_policy_stops_an_offline_plan(write_repo: WriteRepo) -> None:
    root = write_repo({"good.yaml": GRANT})
    (root / "grants" / "policy.yaml").write_text("org: [\n")
    code, out, err = run("plan", "--root", str(root), "--state", str(EXAMPLE_STATE), "--now", AT)
    assert code == 1
    assert out == ""
    assert "grants/policy.yaml:" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "state.json:1: error: not valid JSON"),
        ("[" * 100_000, "state.json:1: error: not valid JSON: nested too deeply"),
        (
            '{"org": "acme", "repos": {"x": {"collaborators": ["a"]}}}',
            "state.json:1: error: repos.x.collaborators: expected a mapping",
        ),
    ],
)
def test_bad_state_file(write_repo: WriteRepo, tmp_path: Path, content: str, expected: str) -> None:
    root = write_repo({})
    state = tmp_path / "state.json"
    state.write_text(content)
    code, _, err = run("plan", "--root", str(root), "--state", str(state), "--now", AT)
    assert code == 1
    assert err.startswith(str(tmp_path) + "/" + expected), err


def test_state_for_another_org_is_refused(write_repo: WriteRepo, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"org": "globex"}')
    code, _, err = run("plan", "--root", str(write_repo({})), "--state", str(state), "--now", AT)
    assert code == 2
    assert "the state file is for org 'globex' but the policy manages 'acme'" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["validate", "--now", "2026-11-30"], "usage: grantops"),
        (["frobnicate"], "usage: grantops"),
        (["plan", "--root", str(PROJECT)], "set GITHUB_TOKEN or GH_TOKEN"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], fragment: str) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert fragment in err


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grantops", "validate", "--root", str(PROJECT), "--now", AT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Valid: policy for org acme")
