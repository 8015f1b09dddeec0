"""Approval proof: a table of review histories, over real git repos and the sandbox."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grantops.proof.review import Checks, Grantee, PullRequest, Review, Rules, count_approvals
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, POLICY
from .sandbox_fixtures import StartSandbox, access_env, new_access_repo, with_access_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
OTHER = GRANT.replace("octocat", "hubot")  # a second, plainly approved grant

Scenario = Callable[[ReviewedRepo], None]


CASES: list[tuple[str, Scenario, str | None]] = [
    (
        "approved by a peer",
        lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"]),
        None,
    ),
    (
        "self-approved by the PR author",
        lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["requester"]),
        "PR #2 has 0 of 1 required approvals; not counted: requester (the PR author: self-approval)",
    ),
    (
        "approved by the grantee",
        lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["octocat"]),
        "not counted: octocat (the grantee: self-approval)",
    ),
    (
        "approval of an older commit, then a new push",
        lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", stale_approvers=["alice"]),
        "not counted: alice (stale: approved",
    ),
    (
        "direct push with no pull request",
        lambda r: r.commit({"grants/g.yaml": GRANT}, "mallory", "sneak in") and None,
        "direct push: commit",
    ),
    (
        "approved by a bot",
        lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["helper-bot"]),
        "not counted: helper-bot (a bot)",
    ),
    (
        "approver's account deleted",
        lambda r: r.merge(
            {"grants/g.yaml": GRANT}, author="requester", reviews=[(None, "APPROVED")]
        ),
        "has 0 of 1 required approvals; not counted: a deleted account",
    ),
    (
        "approver pushed a commit to the PR",
        lambda r: r.merge(
            {"grants/g.yaml": GRANT}, author="requester", approvers=["bob"], co_authors=["bob"]
        ),
        "not counted: bob (authored or committed a commit in the PR)",
    ),
    (
        "approval withdrawn by a later change request",
        lambda r: r.merge(
            {"grants/g.yaml": GRANT},
            author="requester",
            approvers=["alice"],
            reviews=[("alice", "COMMENTED"), ("alice", "CHANGES_REQUESTED")],
        ),
        "PR #2 has 0 of 1 required approvals",
    ),
]


def _plan(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    scenario: Scenario,
    policy: str = POLICY,
    state: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any], str]:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
    scenario(repo)
    base = with_access_repo(repo, state)
    base["bots"] = ["helper-bot"]
    sandbox = start_sandbox(base)
    code, out, err = run(
        "plan", "--root", str(repo.root), "--now", AT, "--json", environ=access_env(sandbox.url)
    )
    return code, json.loads(out), err


@pytest.mark.parametrize(("scenario", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_approval_cases(
    start_sandbox: StartSandbox, tmp_path: Path, scenario: Scenario, reason: str | None
) -> None:
    code, document, err = _plan(start_sandbox, tmp_path, scenario)
    assert code == (0 if reason is None else 1), err  # merged without a valid review: loud
    adds = [c for c in document["changes"] if c["principal"] == "user:octocat"]
    if reason is None:
        assert document["unapproved"] == []
        assert [c["action"] for c in adds] == ["add"]
    else:
        assert [u["source"] for u in document["unapproved"]] == ["grants/g.yaml"]
        assert reason in document["unapproved"][0]["reason"]
        assert adds == []  # an unapproved grant never yields access


def test_approvers_must_be_in_the_approvers_team(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    policy = POLICY + "approval:\n  required: 1\n  approvers: security\n"
    state = json.loads(json.dumps(with_access_repo(ReviewedRepo(tmp_path))))
    state["teams"]["security"] = {"members": {"ciso": "maintainer", "carol-sec": "member"}}
    state["members"] = [*state["members"], "ciso", "carol-sec"]

    def scenario(repo: ReviewedRepo) -> None:
        repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
        repo.merge({"grants/h.yaml": OTHER}, author="requester", approvers=["carol-sec"])

    code, document, err = _plan(start_sandbox, tmp_path, scenario, policy, state)
    assert code == 1, err
    assert document["unapproved"] == [
        {
            "source": "grants/g.yaml",
            "reason": "PR #2 has 0 of 1 required approvals; not counted: alice (not in approval.approvers)",
            "status": "unreviewed",
        }
    ]
    assert [c["principal"] for c in document["changes"] if c["action"] == "add"] == ["user:hubot"]


def test_two_approvals_required_but_one_given(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    policy = POLICY + "approval:\n  required: 2\n"

    def scenario(repo: ReviewedRepo) -> None:
        repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
        repo.merge({"grants/h.yaml": OTHER}, author="requester", approvers=["alice", "bob"])

    code, document, err = _plan(start_sandbox, tmp_path, scenario, policy)
    # the first policy is judged by the floor (one approval); its own rules judge grants
    assert code == 1, err
    assert "policy_refusal" not in document
    assert document["unapproved"] == [
        {
            "source": "grants/g.yaml",
            "reason": "PR #2 has 1 of 2 required approvals",
            "status": "unreviewed",
        }
    ]
    assert [c["principal"] for c in document["changes"] if c["action"] == "add"] == ["user:hubot"]


def test_unapproved_policy_change_refuses_apply(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.commit(
        {"grants/policy.yaml": POLICY.replace("max_duration: 72h", "max_duration: 2w")},
        "mallory",
        "widen",
    )
    sandbox = start_sandbox(with_access_repo(repo))
    before = sandbox.state()
    code, out, err = run(
        "apply", "--root", str(repo.root), "--now", AT, "--yes", environ=access_env(sandbox.url)
    )
    assert code == 3
    assert "Limited: grants/policy.yaml is not proven reviewed (direct push: commit" in err
    # the grant is proven, but an unproven policy decides nothing new: its add waits
    assert "add user:octocat on repo:acme/payments-api (grant, grants/g.yaml)" in err
    assert "No changes" in out
    assert sandbox.state() == before


def test_uncommitted_edit_is_not_approved(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    def scenario(repo: ReviewedRepo) -> None:
        repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
        (repo.root / "grants" / "g.yaml").write_text(GRANT.replace("push", "maintain"))

    code, document, err = _plan(start_sandbox, tmp_path, scenario)
    assert code == 0, err  # a local edit: nothing bypassed review
    assert document["unapproved"] == [
        {
            "source": "grants/g.yaml",
            "reason": "not committed: the file has uncommitted changes in the checkout",
            "status": "uncommitted",
        }
    ]
    assert "without a valid review" not in err


def test_evidence_is_kept_and_trusted_only_with_its_key(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url, GRANTOPS_EVIDENCE_KEY="k1")
    # through REST, whose commit lookups the sandbox counts below (GraphQL batches them)
    argv = ["--root", str(repo.root), "--now", AT, "--read-api", "rest"]
    assert run("apply", *argv, "--yes", "--mutation-interval", "0", environ=env)[0] == 0
    proven = json.loads((repo.root / "audit" / "approvals.json").read_text())["proven"]
    kept = {entry["path"]: entry for entry in proven}
    assert kept["grants/g.yaml"]["pull"] == 2 and kept["grants/g.yaml"]["approvers"] == ["alice"]
    assert kept["grants/policy.yaml"]["pull"] == 1
    sandbox.stats.clear()
    assert run("plan", *argv, environ=env)[0] == 0
    assert sandbox.stats["GET repos/list-pull-requests-associated-with-commit"] == 0  # reused
    sandbox.stats.clear()
    forged = access_env(sandbox.url, GRANTOPS_EVIDENCE_KEY="forged")
    code, _, err = run("plan", *argv, environ=forged)
    assert code == 3  # the log's MACs fail with the wrong key too: only expiries
    assert "audit/log.jsonl:1 fails its checks" in err
    assert sandbox.stats["GET repos/list-pull-requests-associated-with-commit"] == 2  # re-checked


def test_proof_off_warns_loudly(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    policy = POLICY + "approval:\n  required: 0\n"
    code, document, err = _plan(
        start_sandbox,
        tmp_path,
        lambda r: r.commit({"grants/g.yaml": GRANT}, "x", "m") and None,
        policy,
    )
    assert code == 0
    assert "WARNING: approval.required is 0 (in a reviewed policy): approval proof is OFF" in err
    assert document["unapproved"] == []


def test_shallow_checkout_is_refused(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{repo.root}", str(shallow)], check=True
    )
    sandbox = start_sandbox(with_access_repo(repo))
    plan = ["plan", "--root", str(shallow), "--now", AT, "--access-repo", "acme/access"]
    code, _, err = run(*plan, environ=access_env(sandbox.url))
    assert code == 1
    assert "the checkout is shallow; approval proof needs full history (fetch-depth: 0)" in err


def test_partial_clone_is_refused(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Blobs fetched lazily (or not at all) would leave versions unread or stall a run."""
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    source = tmp_path / "source"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.root), str(source)], check=True)
    subprocess.run(
        ["git", "-C", str(source), "config", "uploadpack.allowFilter", "true"], check=True
    )
    partial = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "--quiet", "--filter=blob:none", f"file://{source}", str(partial)],
        check=True,
    )
    sandbox = start_sandbox(with_access_repo(repo))
    plan = ["plan", "--root", str(partial), "--now", AT, "--access-repo", "acme/access"]
    code, _, err = run(*plan, environ=access_env(sandbox.url))
    assert code == 1
    assert "the checkout is a partial clone" in err


def test_each_reviewers_latest_verdict_counts() -> None:
    pull = PullRequest(
        number=7,
        author="requester",
        head_sha="h" * 40,
        merge_commit_sha="m" * 40,
        reviews=(
            Review("bob", "CHANGES_REQUESTED", "h" * 40),
            Review("bob", "APPROVED", "h" * 40),
            Review("carol", "APPROVED", "h" * 40),
            Review("carol", "DISMISSED", "h" * 40),
        ),
    )
    everyone = Checks(can_write=lambda login: True, in_team=lambda team, login: False)
    counted, not_counted = count_approvals(pull, Rules(1), Grantee(user="octocat"), everyone)
    assert counted == ["bob"]
    assert not_counted == []


@pytest.mark.parametrize("name", ["cr\rname.yaml", "crlf\r\nname.yaml", "caf\u00e9.yaml"])
def test_a_reviewed_file_with_an_odd_name_is_matched_with_its_history(
    start_sandbox: StartSandbox, tmp_path: Path, name: str
) -> None:
    """git's bytes are read as they are: a carriage return in a name stays one."""

    def scenario(repo: ReviewedRepo) -> None:
        repo.merge({f"grants/{name}": GRANT}, author="requester", approvers=["alice"])

    code, document, err = _plan(start_sandbox, tmp_path, scenario)
    assert code == 0, err
    assert document["unapproved"] == []
    assert [c["source"] for c in document["changes"]] == [f"grants/{name}"]
