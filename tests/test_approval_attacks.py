"""An attacker with push access to the access repository tries to get access unreviewed.

Every test builds a real git history (squash, merge-commit and rebase merges, direct
pushes, merge commits, backdated and rewritten commits) whose pull requests the sandbox
serves, runs ``grantops plan`` or ``apply`` over real HTTP, and checks that the attack
gives nothing, is named with the commit that did it and fails the run (exit 1), while
proper reviews still give access.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grantops.gitrepo import read_history
from grantops.proof.review import placement
from grantops.sandbox import FaultRule
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, POLICY
from .sandbox_fixtures import StartSandbox, access_env, new_access_repo, with_access_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
EVIL = GRANT.replace("octocat", "mallory").replace("permission: push", "permission: maintain")
HUBOT = GRANT.replace("octocat", "hubot")
TEAM_GRANT = """\
team: sre
repo: ledger
permission: push
expires: 2026-11-30T18:00:00Z
reason: INC-4830 ledger migration
"""


def _repo(tmp_path: Path, policy: str = POLICY) -> ReviewedRepo:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
    return repo


def _run(
    start_sandbox: StartSandbox,
    repo: ReviewedRepo,
    command: str = "plan",
    state: dict[str, Any] | None = None,
    **env: str,
) -> tuple[int, dict[str, Any], str]:
    sandbox = start_sandbox(with_access_repo(repo, state))
    argv = [command, "--root", str(repo.root), "--now", AT, "--json"]
    if command == "apply":
        argv += ["--yes", "--mutation-interval", "0"]
    code, out, err = run(*argv, environ=access_env(sandbox.url, **env))
    return code, json.loads(out), err


def _unapproved(document: dict[str, Any]) -> dict[str, str]:
    return {u["source"]: u["reason"] for u in document["unapproved"]}


def _added(document: dict[str, Any]) -> list[str]:
    return sorted(c["principal"] for c in document["changes"] if c["action"] == "add")


# ----- the proper ways in still work -------------------------------------------------


@pytest.mark.parametrize("method", ["squash", "merge", "rebase"])
def test_an_approved_pull_request_grants_access_whatever_the_merge_method(
    start_sandbox: StartSandbox, tmp_path: Path, method: str
) -> None:
    repo = _repo(tmp_path)
    repo.merge(
        {"grants/g.yaml": GRANT},
        author="requester",
        approvers=["alice"],
        co_authors=["dana"],  # two commits: a rebase lands both
        method=method,  # type: ignore[arg-type]
    )
    code, document, err = _run(start_sandbox, repo)
    assert code == 0, err
    assert document["unapproved"] == []
    assert _added(document) == ["user:octocat"]


# ----- 1. evil merges ----------------------------------------------------------------


def test_a_merge_commit_that_rewrites_a_grant_is_a_direct_push(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.git("switch", "--quiet", "-c", "side")
    repo.commit({"notes.md": "harmless\n"}, "mallory", "Docs")
    repo.git("switch", "--quiet", "main")
    repo.git("merge", "--quiet", "--no-ff", "--no-commit", "side")
    evil = repo.commit({"grants/g.yaml": EVIL}, "mallory", "Merge branch 'side'")
    assert len(repo.git("rev-list", "--parents", "-n1", evil).split()) == 3  # a real merge

    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    assert _unapproved(document)["grants/g.yaml"].startswith(f"direct push: commit {evil[:7]}")
    assert "user:mallory" not in _added(document)


def test_an_edit_hidden_in_merging_main_into_a_branch_is_credited_to_that_pr(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])

    def merge_main_with_an_edit(r: ReviewedRepo) -> None:
        r.git("merge", "--quiet", "--no-ff", "--no-commit", "main")
        r.commit({"grants/g.yaml": EVIL}, "mallory", "Merge branch 'main' into pr-3")

    # alice approved the branch before the merge commit was pushed
    repo.merge(
        {"grants/h.yaml": HUBOT},
        author="mallory",
        stale_approvers=["alice"],
        then=merge_main_with_an_edit,
        method="merge",
    )
    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    reason = _unapproved(document)["grants/g.yaml"]
    assert reason.startswith("PR #3 has 0 of 1 required approvals")  # not PR #2's credit
    assert "alice (stale" in reason
    assert "user:mallory" not in _added(document)


def test_a_pushed_merge_of_an_approved_pr_that_adds_an_edit_is_refused(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """GitHub marks a PR merged when its head is pushed; the push's own edit is not reviewed."""
    repo = _repo(tmp_path)
    pull = repo.merge(
        {"grants/g.yaml": GRANT}, author="mallory", approvers=["alice"], method="merge"
    )
    repo.write({"grants/g.yaml": EVIL})
    repo.git("add", "grants/g.yaml")
    repo.git("commit", "--quiet", "--amend", "--no-edit")
    amended = repo.head()
    repo.pulls[-1] = pull.model_copy(update={"merge_commit_sha": amended})

    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    assert _unapproved(document)["grants/g.yaml"] == (
        f"PR #2's reviewed head {pull.head_sha[:7]} has grants/g.yaml as blob "
        f"{_blob(repo, pull.head_sha)[:7]}, but the branch has {_blob(repo, amended)[:7]}: "
        "it was changed after review"
    )
    assert _added(document) == []


def _blob(repo: ReviewedRepo, commit: str, path: str = "grants/g.yaml") -> str:
    return repo.git("rev-parse", f"{commit}:{path}").strip()


# ----- 2. backdated and rewritten history --------------------------------------------


def test_a_backdated_pr_commit_is_judged_by_its_own_pr(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.merge(
        {"grants/g.yaml": EVIL},
        author="mallory",
        approvers=["mallory"],
        date="2001-01-01T00:00:00Z",
        method="merge",
    )
    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    assert _unapproved(document)["grants/g.yaml"] == (
        "PR #3 has 0 of 1 required approvals; not counted: mallory (the grantee: self-approval)"
    )
    assert _added(document) == []


def test_a_backdated_direct_push_is_a_direct_push(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    sneak = repo.commit({"grants/g.yaml": EVIL}, "mallory", "Tidy", date="2001-01-01T00:00:00Z")
    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    assert _unapproved(document)["grants/g.yaml"].startswith(f"direct push: commit {sneak[:7]}")


def test_a_force_pushed_rewrite_of_a_reviewed_commit_is_refused(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    pull = repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    # rewrite the squash commit with the same author and message, other content
    repo.write({"grants/g.yaml": EVIL})
    repo.git("add", "grants/g.yaml")
    repo.git("commit", "--quiet", "--amend", "--no-edit")
    code, document, _ = _run(start_sandbox, repo, "apply")
    assert code == 3
    assert document["changes"] == []  # nothing new while the policy is unproven
    assert _limit(document).startswith(
        f"grants/policy.yaml is not proven reviewed (history rewritten: PR #2's merge "
        f"{(pull.merge_commit_sha or '')[:7]} is not on the first-parent chain"
    )
    assert _added(document) == []


def test_a_branch_reset_onto_a_prs_own_commit_is_refused(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    pull = repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.git("reset", "--quiet", "--hard", pull.head_sha)  # a force push of the PR branch
    code, document, _ = _run(start_sandbox, repo)
    assert code == 3
    assert "history rewritten: PR #2's merge" in _limit(document)


def _foxtrot(repo: ReviewedRepo, first_parent: str, tree_of: str) -> str:
    """Fast-forward main to a merge whose FIRST parent is an old commit: no force push."""
    tree = repo.git("rev-parse", f"{tree_of}^{{tree}}").strip()
    merge = repo.git(
        "commit-tree", tree, "-p", first_parent, "-p", repo.head(), "-m", "Merge branch 'main'"
    ).strip()
    repo.git("merge", "--quiet", "--ff-only", merge)
    return merge


def test_a_foxtrot_merge_cannot_undo_a_reviewed_revocation(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    granted = repo.merge({"grants/m.yaml": EVIL}, author="requester", approvers=["alice"])
    revoked = repo.merge({}, author="security-lead", approvers=["ciso"], remove=["grants/m.yaml"])
    sha = granted.merge_commit_sha or ""
    _foxtrot(repo, first_parent=sha, tree_of=sha)
    code, document, _ = _run(start_sandbox, repo)
    assert code == 3
    assert _limit(document).startswith(
        "grants/policy.yaml is not proven reviewed (history rewritten: PR #3's merge "
        f"{(revoked.merge_commit_sha or '')[:7]}"
    )
    assert _added(document) == []


def test_a_foxtrot_merge_cannot_roll_the_policy_back(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = new_access_repo(tmp_path / "access")
    trial = repo.merge(
        {"grants/policy.yaml": POLICY + "approval:\n  required: 0\n"},
        author="security-lead",
        approvers=["ciso"],
    )
    repo.merge(
        {"grants/policy.yaml": POLICY + "approval:\n  required: 2\n"},
        author="security-lead",
        approvers=["ciso"],
    )
    repo.git("switch", "--quiet", "-c", "scratch", trial.merge_commit_sha or "")
    evil_tree = repo.commit({"grants/m.yaml": EVIL}, "mallory", "scratch")
    repo.git("switch", "--quiet", "main")
    _foxtrot(repo, first_parent=trial.merge_commit_sha or "", tree_of=evil_tree)
    code, document, err = _run(start_sandbox, repo, "apply")
    assert code == 3
    assert document["changes"] == []  # nothing new while the policy is unproven
    assert "history rewritten: PR #2's merge" in _limit(document)
    assert "approval proof is OFF" not in err


# ----- 3. the policy cannot approve itself -------------------------------------------


def test_a_direct_push_of_required_zero_does_not_switch_review_off(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    push = repo.commit(
        {"grants/policy.yaml": POLICY + "approval:\n  required: 0\n"}, "mallory", "Relax"
    )
    repo.commit({"grants/g.yaml": EVIL}, "mallory", "Grant myself")
    code, document, err = _run(start_sandbox, repo, "apply")
    assert code == 3
    assert _limit(document).startswith(
        f"grants/policy.yaml is not proven reviewed (direct push: commit {push[:7]}"
    )
    assert "approval proof is OFF" not in err
    assert document["changes"] == []  # nothing new while the policy is unproven
    assert "grants/g.yaml" in _unapproved(document)


def test_a_policy_change_is_judged_by_the_previous_rules(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Moving approvers to a team of one's own is approved under the old team, or not at all."""
    old = POLICY + "approval:\n  required: 1\n  approvers: security\n"
    repo = _repo(tmp_path, old)
    repo.merge(
        {"grants/policy.yaml": old.replace("approvers: security", "approvers: sre")},
        author="mallory",
        approvers=["bob"],  # in sre, not in security
    )
    code, document, _ = _run(start_sandbox, repo, state=_with_security_team())
    assert code == 3
    assert _limit(document) == (
        "grants/policy.yaml is not proven reviewed (PR #2 has 0 of 1 required approvals; "
        "not counted: bob (not in approval.approvers)); only expiries were planned, with its "
        "newest proven version"
    )


def test_lowering_required_approvals_needs_the_old_number(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    two = POLICY + "approval:\n  required: 2\n"
    repo = _repo(tmp_path, two)
    repo.merge({"grants/policy.yaml": POLICY}, author="mallory", approvers=["alice"])
    code, document, _ = _run(start_sandbox, repo)
    assert code == 3
    assert "PR #2 has 1 of 2 required approvals" in _limit(document)

    repo = _repo(tmp_path / "second", two)
    repo.merge({"grants/policy.yaml": POLICY}, author="mallory", approvers=["alice", "bob"])
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    code, document, err = _run(start_sandbox, repo)
    assert code == 0, err  # approved under the old rules: the new ones now apply
    assert _added(document) == ["user:octocat"]


def test_an_unproven_policy_version_does_not_judge_the_next_one(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    strict = POLICY + "approval:\n  required: 2\n"
    repo = _repo(tmp_path, strict)
    repo.commit({"grants/policy.yaml": POLICY}, "mallory", "Relax to one")  # unproven
    # one approval would pass the relaxed rules; the last proven rules want two
    repo.merge({"grants/policy.yaml": POLICY + "# tidy\n"}, author="mallory", approvers=["alice"])
    code, document, _ = _run(start_sandbox, repo)
    assert code == 3
    assert "PR #2 has 1 of 2 required approvals" in _limit(document)


def test_the_first_policy_needs_one_approval_from_a_writer(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge(
        {"grants/policy.yaml": POLICY + "approval:\n  required: 0\n"},
        author="mallory",
        approvers=["carol"],
        without_access=["carol"],
    )
    code, document, _ = _run(start_sandbox, repo)
    assert code == 3
    assert _limit(document) == (
        "grants/policy.yaml is not proven reviewed (PR #1 has 0 of 1 required approvals; "
        "not counted: carol (no write access to the access repository)); "
        "only expiries were planned, with it as it stands but without its protected "
        "accounts and baseline (no version is proven)"
    )


def _limit(document: dict[str, Any]) -> str:
    """Why the run was limited to expiries (the first limit; these tests have one)."""
    limits: list[str] = document["limits"]
    assert len(limits) == 1, limits
    return limits[0]


def _with_security_team() -> dict[str, Any]:
    state = with_access_repo(ReviewedRepo(Path("unused")))
    state["teams"]["security"] = {"members": {"ciso": "maintainer"}}
    del state["repos"]["access"]
    return state


# ----- 4. only regular files ----------------------------------------------------------


def test_a_symlink_in_git_is_never_proven(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.merge({"data/real.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.merge(
        {}, author="requester", approvers=["alice"], links={"grants/g.yaml": "../data/real.yaml"}
    )
    history = read_history(repo.root, "grants")
    assert placement(history, "grants/g.yaml") == (
        f"not a regular file: grants/g.yaml is a symlink at {repo.head()[:7]}"
    )


def test_a_symlink_under_grants_gives_nothing_and_is_named(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"data/real.yaml": GRANT}, author="requester", approvers=["alice"])
    repo.merge(
        {}, author="requester", approvers=["alice"], links={"grants/g.yaml": "../data/real.yaml"}
    )
    repo.commit({"data/real.yaml": EVIL}, "mallory", "Retarget")  # outside grants/
    sandbox = start_sandbox(with_access_repo(repo))
    code, out, err = run(
        "plan", "--root", str(repo.root), "--now", AT, environ=access_env(sandbox.url)
    )
    assert code == 1
    assert "grants/g.yaml" in err and "symbolic link" in err
    assert "mallory" not in out


def test_content_outside_the_reviewed_diff_is_not_proven(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A file the PR's head holds but its diff never showed rides in on a pushed merge."""
    repo = _repo(tmp_path)
    repo.commit({"grants/m.yaml": EVIL}, "mallory", "Add file")  # unproven, gives nothing

    def main_moves_on(r: ReviewedRepo) -> None:
        r.git("switch", "--quiet", "main")
        r.commit({}, "mallory", "Remove stray file", remove=["grants/m.yaml"])
        r.git("switch", "--quiet", "pr-2")

    pull = repo.merge(
        {"grants/g.yaml": GRANT},
        author="mallory",
        approvers=["alice"],
        method="merge",
        then=main_moves_on,
    )
    repo.git("checkout", "--quiet", pull.head_sha, "--", "grants/m.yaml")
    repo.git("commit", "--quiet", "--amend", "--no-edit")
    repo.pulls[-1] = pull.model_copy(update={"merge_commit_sha": repo.head()})
    code, document, err = _run(start_sandbox, repo)
    assert code == 1, err
    assert _unapproved(document)["grants/m.yaml"] == (
        "PR #2's diff does not add or change grants/m.yaml: "
        "its content was not part of what was reviewed"
    )
    assert "user:mallory" not in _added(document)


# ----- 6. approvers who should not count ---------------------------------------------


def test_an_approver_without_write_access_does_not_count(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge(
        {"grants/g.yaml": GRANT}, author="requester", approvers=["carol"], without_access=["carol"]
    )
    _, document, _ = _run(start_sandbox, repo)
    assert _unapproved(document)["grants/g.yaml"] == (
        "PR #2 has 0 of 1 required approvals; "
        "not counted: carol (no write access to the access repository)"
    )


def test_a_member_of_the_grantee_team_cannot_approve_its_grant(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/t.yaml": TEAM_GRANT}, author="requester", approvers=["bob"])  # sre
    _, document, _ = _run(start_sandbox, repo)
    assert _unapproved(document)["grants/t.yaml"] == (
        "PR #2 has 0 of 1 required approvals; not counted: bob (a member of the grantee team sre)"
    )
    assert [c for c in document["changes"] if c["principal"] == "team:sre"] == []


def test_a_committer_of_a_pr_commit_cannot_approve_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    def committed_by_bob(r: ReviewedRepo) -> None:
        r.git(
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "Amend wording",
            env={"GIT_AUTHOR_NAME": "requester", "GIT_COMMITTER_NAME": "bob"},
        )

    repo = _repo(tmp_path)
    repo.merge(
        {"grants/g.yaml": GRANT}, author="requester", approvers=["bob"], then=committed_by_bob
    )
    _, document, _ = _run(start_sandbox, repo)
    assert (
        "bob (authored or committed a commit in the PR)" in _unapproved(document)["grants/g.yaml"]
    )


def test_a_pr_commit_with_no_linked_account_is_not_proven(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    pull = repo.merge(
        {"grants/g.yaml": GRANT}, author="requester", approvers=["alice"], unlinked=True
    )
    _, document, _ = _run(start_sandbox, repo)
    assert _unapproved(document)["grants/g.yaml"] == (
        f"PR #2 has commit {pull.commits[0].sha[:7]} with no linked GitHub account, "
        "so who pushed it is unknown"
    )


def test_kept_evidence_is_judged_again_when_the_rules_tighten(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    code, document, err = _run(start_sandbox, repo, "apply", GRANTOPS_EVIDENCE_KEY="k1")
    assert code == 0, err
    assert _added(document) == ["user:octocat"]
    repo.git("add", "audit")
    repo.commit({}, "grantops", "audit: reconcile run")
    repo.merge(
        {"grants/policy.yaml": POLICY + "approval:\n  required: 2\n"},
        author="security-lead",
        approvers=["ciso"],
    )
    code, document, _ = _run(start_sandbox, repo, GRANTOPS_EVIDENCE_KEY="k1")
    assert code == 1  # judged again, now short of approvals: loud
    assert _unapproved(document)["grants/g.yaml"] == "PR #2 has 1 of 2 required approvals"


def test_a_review_lookup_failing_midway_grants_nothing_and_says_why(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The network breaks halfway through the proof: fail closed, never grant."""
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="requester", approvers=["alice"])
    fault = FaultRule("GET /repos/acme/access/pulls/2/files", 502, times=-1)
    sandbox = start_sandbox(with_access_repo(repo), faults=[fault])
    argv = ["plan", "--root", str(repo.root), "--now", AT, "--json", "--attempts", "1"]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    assert code == 1, err  # a review it could not check: the run says so
    document = json.loads(out)
    assert _unapproved(document)["grants/g.yaml"].startswith("could not check the review:")
    assert _added(document) == []
