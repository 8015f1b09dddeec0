"""``request --open-pr`` checks everything before it pushes, and a retry picks up.

Each test has a real access repository, a bare remote it pushes to, and a sandbox
GitHub that serves that remote's branches (``Settings.git``), so what is checked is
what GitHub would see.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grantops import gitrepo
from grantops.sandbox import Sandbox
from grantops.sandbox.reviewed import ReviewedRepo
from grantops.sandbox.server import FaultRule

from .sandbox_fixtures import StartSandbox, with_access_repo, with_remote
from .test_cli import run
from .test_request import REQUEST as BASE_REQUEST

BRANCH = "grant/octocat/2026-11-30-payments-api"
FILE = "grants/octocat/2026-11-30-payments-api.yaml"
REQUEST = [*BASE_REQUEST, "--open-pr"]


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _setup(start_sandbox: StartSandbox, tmp_path: Path) -> tuple[ReviewedRepo, Path, Sandbox]:
    """The access repository, its bare remote, and a sandbox serving it as acme/access."""
    repo, remote = with_remote(tmp_path)
    return repo, remote, start_sandbox(with_access_repo(repo), git={"access": remote})


def _request(repo: ReviewedRepo, sandbox: Sandbox, *extra: str, **env: str) -> tuple[int, str, str]:
    environ = {"GITHUB_TOKEN": "t", "GITHUB_API_URL": sandbox.url, **env}
    return run(*REQUEST, "--root", str(repo.root), *extra, environ=environ)


def _branches(root: Path) -> list[str]:
    return _git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def _open_pulls(sandbox: Sandbox) -> list[tuple[int, str]]:
    pulls = sandbox.state().repos["access"].pulls
    return [(p.number, p.head_ref) for p in pulls if p.merged_at is None]


def test_a_wrong_access_repository_is_found_before_anything_is_pushed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    code, out, err = _request(repo, sandbox, "--access-repo", "acme/no-such-repo")
    assert code == 1
    assert "cannot open a pull request in acme/no-such-repo" in err
    assert "HTTP 404" in err and "Nothing was written or pushed." in err
    assert _branches(remote) == ["main"] and _branches(repo.root) == ["main"]
    assert not (repo.root / FILE).exists()
    # the retry with the right repository just works
    code, out, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 0, err
    assert "Opened pull request #2: https://github.com/acme/access/pull/2" in out
    assert _open_pulls(sandbox) == [(2, BRANCH)]


def test_github_repository_outside_actions_is_not_the_access_repository(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Tools set GITHUB_REPOSITORY for their own tests (ghapi: octocat/Hello-World)."""
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    code, _, err = _request(repo, sandbox, GITHUB_REPOSITORY="octocat/Hello-World")
    assert code == 2
    assert "set --access-repo OWNER/NAME: the remote 'origin' is not a GitHub repository" in err
    assert not (repo.root / FILE).exists() and _branches(remote) == ["main"]
    # inside GitHub Actions, the workflow's repository is the one
    code, out, err = _request(repo, sandbox, GITHUB_REPOSITORY="acme/access", GITHUB_ACTIONS="true")
    assert code == 0, err
    assert "Opened pull request #2" in out


def test_a_base_branch_github_lacks_is_found_before_anything_is_pushed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    _git(repo.root, "switch", "--quiet", "-c", "local-only")
    code, _, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 1
    assert "acme/access has no branch 'local-only' for the pull request to go into" in err
    assert _branches(remote) == ["main"] and BRANCH not in _branches(repo.root)
    assert not (repo.root / FILE).exists()


def test_no_token_is_found_before_anything_is_written(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, _remote, sandbox = _setup(start_sandbox, tmp_path)
    env = {"GITHUB_API_URL": sandbox.url}
    code, _, err = run(
        *REQUEST, "--root", str(repo.root), "--access-repo", "acme/access", environ=env
    )
    assert code == 2 and "set GITHUB_TOKEN or GH_TOKEN" in err
    assert not (repo.root / FILE).exists() and _branches(repo.root) == ["main"]


def test_a_retry_after_the_pull_request_failed_reuses_the_pushed_branch(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    sandbox.settings.faults.append(_fault("POST /repos/acme/access/pulls$", 500))
    code, _, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 1
    assert f"The branch {BRANCH} is pushed; run this again" in err
    pushed = _git(remote, "rev-parse", BRANCH)
    code, out, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 0, err
    assert f"Branch {BRANCH} already holds this change (an earlier attempt): reusing it." in out
    assert "Opened pull request #2" in out
    assert _git(remote, "rev-parse", BRANCH) == pushed  # the same commit, not a new one
    assert not (repo.root / FILE).exists()  # the working tree is as it was
    assert _git(repo.root, "status", "--porcelain") == ""


def test_a_pull_request_github_opened_although_it_answered_an_error_is_reported(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, _remote, sandbox = _setup(start_sandbox, tmp_path)
    fault = _fault("POST /repos/acme/access/pulls$", 502)
    fault.after_apply = True  # GitHub opened it, then the answer was lost
    sandbox.settings.faults.append(fault)
    assert _request(repo, sandbox, "--access-repo", "acme/access")[0] == 1
    code, out, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 0, err
    assert f"Pull request #2 is already open for {BRANCH}" in out
    assert _open_pulls(sandbox) == [(2, BRANCH)]


def test_a_local_branch_with_other_changes_is_left_alone(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    _git(repo.root, "branch", BRANCH)
    _git(repo.root, "switch", "--quiet", BRANCH)
    repo.commit({FILE: "user: octocat\n"}, "octocat", "someone's own draft")
    _git(repo.root, "switch", "--quiet", "main")
    theirs = _git(repo.root, "rev-parse", BRANCH)
    code, _, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 2
    assert f"a branch named '{BRANCH}' already exists with other changes" in err
    assert f"git branch -D {BRANCH}" in err
    assert _git(repo.root, "rev-parse", BRANCH) == theirs
    assert not (repo.root / FILE).exists() and _branches(remote) == ["main"]


def test_a_remote_branch_with_other_commits_is_never_overwritten(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, remote, sandbox = _setup(start_sandbox, tmp_path)
    other = tmp_path / "other"
    _git(tmp_path, "clone", "--quiet", str(remote), str(other))
    _git(other, "switch", "--quiet", "-c", BRANCH)
    _git(other, "-c", "user.name=X", "-c", "user.email=x@x", "commit", "--allow-empty", "-qm", "x")
    _git(other, "push", "--quiet", "origin", BRANCH)
    theirs = _git(remote, "rev-parse", BRANCH)
    code, _, err = _request(repo, sandbox, "--access-repo", "acme/access")
    assert code == 1
    assert "nothing on 'origin' was overwritten" in err
    assert _git(remote, "rev-parse", BRANCH) == theirs
    assert _open_pulls(sandbox) == []


def _fault(pattern: str, status: int) -> FaultRule:
    return FaultRule(pattern, status=status, times=1)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/acme/access.git", "acme/access"),
        ("git@github.com:acme/access.git", "acme/access"),
        ("ssh://git@github.example.com:22/acme/access", "acme/access"),
        ("/srv/test_github_repos/remote.git", None),
        ("../github/acme/access.git", None),
        ("file:///srv/github/acme/access.git", None),
        ("https://git.acme.example/acme/access.git", "acme/access"),  # GHES on its own host
    ],
)
def test_only_a_remote_url_names_the_access_repository(
    tmp_path: Path, url: str, slug: str | None
) -> None:
    _git(tmp_path, "init", "--quiet", str(tmp_path / "r"))
    _git(tmp_path / "r", "remote", "add", "origin", url)
    assert gitrepo.remote_slug(tmp_path / "r", "origin") == slug
