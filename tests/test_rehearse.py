"""The whole review loop, rehearsed on the sandbox: request, approve, merge, plan.

A real access repository pushes to a bare remote that the sandbox serves as
``acme/access`` (``--git``), so the pull request has a real head, the approval names
that commit, and the merge is a real merge commit on ``main`` that the next plan
judges exactly as it would judge one made by GitHub.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

from grantops.sandbox import Sandbox

from .data import POLICY
from .sandbox_fixtures import BASE_STATE, StartSandbox, with_access_repo, with_remote
from .test_cli import run

ASK = [
    "request",
    "--repo",
    "payments-api",
    "--permission",
    "push",
    "--for",
    "4h",
    "--reason",
    "INC-4821 hotfix for payment retries",
    "--open-pr",
    "--access-repo",
    "acme/access",
]


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _rehearsal(start_sandbox: StartSandbox, tmp_path: Path) -> tuple[Path, Path, Sandbox]:
    """octocat's clone of the access repository, its bare remote, and a sandbox serving
    it, where bob (not octocat) has write access to approve."""
    repo, remote = with_remote(tmp_path)
    state = copy.deepcopy(with_access_repo(repo))
    state["repos"]["access"]["collaborators"]["bob"] = "push"
    return repo.root, remote, start_sandbox(state, git={"access": remote})


def _as(sandbox: Sandbox, login: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": f"{login}:secret", "GITHUB_API_URL": sandbox.url}


def _review(
    sandbox: Sandbox, root: Path, action: str, login: str, pull: str = "2"
) -> tuple[int, str, str]:
    argv = ["sandbox", action, "--pull", pull, "--as", login, "--access-repo", "acme/access"]
    return run(*argv, "--root", str(root), environ=_as(sandbox, login))


def test_request_approve_merge_then_plan_proves_the_grant(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, remote, sandbox = _rehearsal(start_sandbox, tmp_path)
    code, out, err = run(*ASK, "--root", str(root), environ=_as(sandbox, "octocat"))
    assert code == 0, err
    assert "Opened pull request #2" in out
    head = _git(remote, "rev-parse", "refs/heads/grant/octocat/" + _stem(root, remote))

    code, out, err = _review(sandbox, root, "approve", "bob")
    assert code == 0, err
    assert "bob approved acme/access#2" in out and f"at its head {head[:7]}" in out
    code, out, err = _review(sandbox, root, "merge", "bob")
    assert code == 0, err
    assert "is up to date: the next grantops plan sees the merge" in out

    pull = sandbox.state().repos["access"].pulls[-1]
    merge = _git(remote, "rev-parse", "main")
    assert (pull.merged_by, pull.merge_commit_sha, pull.head_sha) == ("bob", merge, head)
    assert pull.merged_at is not None
    assert [(r.user, r.state, r.commit_id) for r in pull.reviews] == [("bob", "APPROVED", head)]
    assert _git(remote, "rev-list", "--parents", "-n", "1", merge).split()[2:] == [head]
    assert _git(root, "rev-parse", "HEAD") == merge  # the checkout was brought up to date

    code, out, err = run(
        "plan", "--root", str(root), "--access-repo", "acme/access", environ=_as(sandbox, "octocat")
    )
    assert code == 0, err
    grant = f"grants/octocat/{_stem(root, remote)}.yaml"
    assert any(
        "+ add" in line and "user:octocat" in line and "push" in line and grant in line
        for line in out.splitlines()
    ), out
    assert "Unapproved" not in out + err


def test_the_author_cannot_approve_and_a_merge_without_approval_proves_nothing(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, remote, sandbox = _rehearsal(start_sandbox, tmp_path)
    assert run(*ASK, "--root", str(root), environ=_as(sandbox, "octocat"))[0] == 0
    code, _, err = _review(sandbox, root, "approve", "octocat")
    assert code == 1
    assert "octocat cannot approve #2" in err
    assert "Review Can not approve your own pull request" in err
    assert sandbox.state().repos["access"].pulls[-1].reviews == []
    # merged anyway (the sandbox has no branch protection): the plan still refuses it
    assert _review(sandbox, root, "merge", "bob")[0] == 0
    code, out, err = run(
        "plan", "--root", str(root), "--access-repo", "acme/access", environ=_as(sandbox, "octocat")
    )
    grant = f"grants/octocat/{_stem(root, remote)}.yaml"
    assert "0 of 1 required approvals" in out + err
    assert not any("+ add" in line and grant in line for line in out.splitlines())
    # and a merged pull request is not merged twice
    code, _, err = _review(sandbox, root, "merge", "bob")
    assert code == 1 and "is merged already" in err


def test_approve_talks_only_to_a_sandbox(tmp_path: Path) -> None:
    argv = ["sandbox", "approve", "--pull", "2", "--as", "bob", "--access-repo", "acme/access"]
    code, _, err = run(*argv, environ={"GITHUB_TOKEN": "ghp_real"})
    assert code == 2
    assert "https://api.github.com is not a grantops sandbox" in err


def _stem(root: Path, remote: Path) -> str:
    """The request's file name (it carries today's date), from the branch it pushed."""
    refs = _git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/grant/")
    return refs.split()[0].rpartition("/")[2]


def test_a_policy_landed_through_a_rehearsed_review_is_proven(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """From a first commit only: the policy itself goes through sandbox open, approve
    and merge, and a plan then proves it (and a direct push of it would not be)."""
    root, remote = tmp_path / "access", tmp_path / "access.git"
    _git(tmp_path, "init", "--quiet", "-b", "main", str(root))
    _git(tmp_path, "init", "--quiet", "--bare", str(remote))
    _git(root, "config", "user.name", "octocat")
    _git(root, "config", "user.email", "octocat@example.com")
    _git(root, "commit", "--quiet", "--allow-empty", "-m", "init")
    _git(root, "remote", "add", "origin", str(remote))
    _git(root, "push", "--quiet", "origin", "main")
    _git(root, "switch", "--quiet", "-c", "policy")
    (root / "grants").mkdir()
    (root / "grants" / "policy.yaml").write_text(POLICY)
    _git(root, "add", "grants")
    _git(root, "commit", "--quiet", "-m", "The policy")
    _git(root, "push", "--quiet", "origin", "policy")
    _git(root, "switch", "--quiet", "main")
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["access"] = {"collaborators": {"bob": "push"}}
    sandbox = start_sandbox(state, git={"access": remote})
    opening = ["--head", "policy", "--title", "The policy", "--as", "octocat"]
    code, out, err = run(
        "sandbox", "open", *opening, "--access-repo", "acme/access", environ=_as(sandbox, "octocat")
    )
    assert code == 0, err
    assert "octocat opened acme/access#1 from policy into main." in out
    plan = ["plan", "--root", str(root), "--access-repo", "acme/access"]
    assert _review(sandbox, root, "approve", "bob", pull="1")[0] == 0
    assert _review(sandbox, root, "merge", "bob", pull="1")[0] == 0
    code, out, err = run(*plan, environ=_as(sandbox, "octocat"))
    assert code == 0, err
    assert "not proven" not in out + err, err
    assert "No changes: access matches the policy and grants." in out
