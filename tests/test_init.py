"""``grantops init`` on a sandbox org: a policy whose first plan changes nothing."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grantops.constants import VERSION

from .sandbox_fixtures import (
    BASE_STATE,
    StartSandbox,
    access_env,
    new_access_repo,
    with_access_repo,
)
from .test_cli import run

NOW = "2026-12-06T20:00:00Z"
OWNERS = ("--owners", "@acme/security")

STATE: dict[str, Any] = {
    **copy.deepcopy(BASE_STATE),
    "repos": {
        "payments-api": {
            "collaborators": {
                "release-bot": "push",
                "acme-admin-bot": "admin",
                "root-admin": "admin",
            },
            "teams": {"platform": "maintain", "sre": "security-auditor"},
        },
        "ledger": {"teams": {"platform": "push"}},
        "deploy-api": {"collaborators": {"bob": "push"}, "teams": {"platform": "push"}},
        "website": {"collaborators": {"bob": "admin", "mona": "security-auditor"}},
        "empty": {},
    },
    "teams": {
        "prod-deployers": {},
        "platform": {"members": {"alice": "member", "mona": "maintainer"}},
        "sre": {"members": {"bob": "maintainer", "hubot": "member"}},
        "readers": {"members": {"octocat": "member"}},
    },
}
"""An org with every kind of access init writes: collaborators (one at a custom role, one
an org owner), teams on repositories (one at a custom role), members and maintainers,
a team that only groups people, and a repository nobody holds direct access to."""


def _init(root: Path, *argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    return run("init", "--root", str(root), "--now", NOW, *argv, environ=environ)


def _policy(root: Path) -> str:
    return (root / "grants" / "policy.yaml").read_text()


def test_the_first_plan_of_the_policy_init_writes_is_empty(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    today = start_sandbox(copy.deepcopy(STATE))
    repo = new_access_repo(tmp_path / "access")
    code, out, err = _init(
        repo.root, "--org", "acme", *OWNERS, "--team", "readers", environ=access_env(today.url)
    )
    assert code == 0, err
    assert "wrote grants/policy.yaml" in out and "wrote .github/workflows/reconcile.yml" in out
    policy = _policy(repo.root)
    for line in (
        "  - {user: mona, repo: website, permission: security-auditor}",
        "  - {team: sre, repo: payments-api, permission: security-auditor}",
        "  - {team: platform, repos: [deploy-api, ledger], permission: push}",
        "  - {user: mona, team: platform, role: maintainer}",
        "  - {user: octocat, team: readers, role: member}",
        "  security-auditor: triage",
        "    - empty",
        f"# from the access it had at {NOW} (read through the GitHub API at {today.url}).",
    ):
        assert line in policy.splitlines()
    assert "{user: root-admin" not in policy  # an org owner: left alone, not baseline
    assert "#   root-admin" in policy
    files = {p: (repo.root / p).read_text() for p in _written(repo.root)}
    repo.merge(files, author="security-lead", approvers=["ciso"])
    assert run("validate", "--root", str(repo.root), "--now", NOW)[0] == 0
    org = start_sandbox(with_access_repo(repo, copy.deepcopy(STATE)))
    code, out, err = run(
        "plan",
        "--root",
        str(repo.root),
        "--now",
        NOW,
        "--json",
        "--detailed-exitcode",
        environ=access_env(org.url),
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["changes"] == [] and plan["unreadable"] == {} and plan["problems"] == []
    assert {k["principal"] for k in plan["kept"]} == {"user:root-admin"}


def _written(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
    )


def test_pending_invitations_are_comments_that_the_first_plan_cancels(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    state = copy.deepcopy(STATE)
    state["repos"]["ledger"]["invitations"] = {"carol": "push"}
    state["teams"]["sre"]["pending"] = {"dana": "member"}
    offline = tmp_path / "today.json"
    offline.write_text(json.dumps(state))
    root = tmp_path / "access"
    assert _init(root, "--state", str(offline), *OWNERS)[0] == 0
    policy = _policy(root)
    assert "#   - {user: carol, repo: ledger, permission: push}" in policy.splitlines()
    assert "#   - {user: dana, team: sre, role: member}" in policy.splitlines()
    code, out, _ = run("plan", "--root", str(root), "--now", NOW, "--json", "--state", str(offline))
    assert code == 0  # offline, without --detailed-exitcode
    changes = json.loads(out)["changes"]
    assert [(c["action"], c["principal"], c["target"]) for c in changes] == [
        ("cancel_invitation", "user:carol", "repo:acme/ledger"),
        ("cancel_invitation", "user:dana", "team:acme/sre"),
    ]


def test_offline_from_a_state_file_gives_the_policy_the_api_read_gives(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox = start_sandbox(copy.deepcopy(STATE))
    teams = ("--team", "readers", "--team", "prod-deployers")
    api, offline = tmp_path / "api", tmp_path / "offline"
    assert _init(api, "--org", "acme", *OWNERS, *teams, environ=access_env(sandbox.url))[0] == 0
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    assert _init(offline, "--state", str(state), *OWNERS, *teams)[0] == 0

    def without_origin(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("# from the access")]

    assert without_origin(_policy(api)) == without_origin(_policy(offline))
    assert "# from the access it had at 2026-12-06T20:00:00Z (the state file today.json)." in (
        _policy(offline)
    )
    assert _written(api) == _written(offline)


def test_refuses_to_overwrite_and_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    root = tmp_path / "access"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "CODEOWNERS").write_text("* @someone\n")
    (root / ".gitignore").write_text("mine\n")
    code, out, err = _init(root, "--state", str(state), *OWNERS)
    assert code == 1
    assert err.splitlines() == [
        "grantops: error: these files exist; nothing was written (--force overwrites):",
        "  .github/CODEOWNERS",
        "  .gitignore",
    ]
    assert _written(root) == [".github/CODEOWNERS", ".gitignore"]
    assert (root / ".gitignore").read_text() == "mine\n"
    code, out, _ = _init(root, "--state", str(state), *OWNERS, "--force")
    assert code == 0
    assert "wrote .gitignore (overwrites)" in out
    assert "/*.json" in (root / ".gitignore").read_text()


def test_a_dry_run_lists_the_files_and_writes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    root = tmp_path / "access"
    code, out, _ = _init(root, "--state", str(state), *OWNERS, "--dry-run", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["written"] == [] and document["refused"] is False
    assert "grants/policy.yaml" in document["would_write"]
    assert not root.exists()
    code, out, _ = _init(root, "--state", str(state), *OWNERS, "--dry-run")
    assert "would write grants/policy.yaml" in out and not root.exists()


def test_json_lists_the_files_written_and_text_ends_with_the_next_steps(tmp_path: Path) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    code, out, _ = _init(tmp_path / "a", "--state", str(state), *OWNERS, "--json")
    assert code == 0
    assert json.loads(out)["written"] == [
        "grants/policy.yaml",
        ".github/CODEOWNERS",
        ".gitignore",
        ".github/workflows/health.yml",
        ".github/workflows/reconcile.yml",
        ".github/workflows/request.yml",
        ".github/workflows/validate.yml",
        ".github/ISSUE_TEMPLATE/access-request.yml",
        "schema/grant.schema.json",
        "schema/policy.schema.json",
    ]
    assert _written(tmp_path / "a") == sorted(json.loads(out)["written"])
    code, out, _ = _init(tmp_path / "b", "--state", str(state), *OWNERS)
    steps = out.split("Next steps:\n", 1)[1].splitlines()
    assert steps[0].startswith("  1. Review grants/policy.yaml")
    assert (
        steps[-1]
        == "  7. When the plan is right, set the repository variable GRANTOPS_ENFORCE to true."
    )
    assert run("schema", "--check", "--root", str(tmp_path / "b"))[0] == 0


def test_the_workflows_install_this_release_and_run_on_the_given_branch(tmp_path: Path) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    assert _init(tmp_path, "--state", str(state), *OWNERS, "--branch", "trunk")[0] == 0
    for name in ("reconcile.yml", "validate.yml"):
        text = (tmp_path / ".github" / "workflows" / name).read_text()
        assert f"- name: Install grantops {VERSION}, every file pinned by its hash\n" in text
        install = "python -P -m pip install --require-hashes --no-deps -r"
        assert f"run: {install} .github/grantops-requirements.txt\n" in text
        assert f"gh release download v{VERSION} --repo OWNER/grantops" in text
        assert "pip install ." not in text and "@" + "INSTALL" not in text
    reconcile = (tmp_path / ".github" / "workflows" / "reconcile.yml").read_text()
    assert "    branches: [trunk]" in reconcile


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "--owners: name the security owners"),
        (("--owners", "acme/security"), "--owners: code owners must be @org/team or @login"),
        (("--owners", "@acme/security", "--branch", "a b"), "--branch: not a branch name"),
        (("--owners", "@acme/security", "--org", "other"), "but the state file is for org"),
    ],
)
def test_usage_errors_write_nothing(tmp_path: Path, argv: tuple[str, ...], message: str) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    root = tmp_path / "access"
    code, _, err = _init(root, "--state", str(state), *argv)
    assert code == 2 and message in err
    assert not root.exists()


def test_needs_an_org_or_a_state_file(tmp_path: Path) -> None:
    code, _, err = _init(tmp_path, *OWNERS, environ={"GITHUB_TOKEN": "x"})
    assert code == 2 and "--org: name the organisation" in err


def test_a_team_that_cannot_be_read_stops_init(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    sandbox = start_sandbox(copy.deepcopy(STATE))
    code, _, err = _init(
        tmp_path / "access",
        "--org",
        "acme",
        *OWNERS,
        "--team",
        "no-such-team",
        environ=access_env(sandbox.url),
    )
    assert code == 1
    assert "team:acme/no-such-team: team acme/no-such-team not found" in err
    assert "nothing was written" in err and not (tmp_path / "access").exists()


def test_a_custom_role_without_its_base_role_is_refused(tmp_path: Path) -> None:
    state = copy.deepcopy(STATE)
    state["custom_roles"] = {}
    path = tmp_path / "today.json"
    path.write_text(json.dumps(state))
    code, _, err = _init(tmp_path / "access", "--state", str(path), *OWNERS)
    assert code == 1 and "custom role 'security-auditor' is in use" in err
    assert not (tmp_path / "access").exists()


def test_odd_names_are_quoted_so_every_yaml_reader_reads_them_as_written(tmp_path: Path) -> None:
    state = {"org": "acme", "repos": {"1.10": {"collaborators": {"no": "push"}}, "on": {}}}
    path = tmp_path / "today.json"
    path.write_text(json.dumps(state))
    assert _init(tmp_path / "access", "--state", str(path), *OWNERS)[0] == 0
    policy = _policy(tmp_path / "access")
    assert '  - {user: "no", repo: "1.10", permission: push}' in policy.splitlines()
    assert run("validate", "--root", str(tmp_path / "access"), "--now", NOW)[0] == 0


def test_the_generated_workflows_pass_actionlint_and_zizmor(tmp_path: Path) -> None:
    state = tmp_path / "today.json"
    state.write_text(json.dumps(STATE))
    root = tmp_path / "access"
    assert _init(root, "--state", str(state), *OWNERS)[0] == 0
    workflows = sorted(str(p) for p in (root / ".github" / "workflows").glob("*.yml"))
    actionlint, zizmor = shutil.which("actionlint"), shutil.which("zizmor")
    assert actionlint and zizmor, "both come with the test extra"
    done = subprocess.run([actionlint, "-no-color", *workflows], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [zizmor, "--offline", "--no-config", "--min-severity", "informational", *workflows],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
