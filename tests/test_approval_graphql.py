"""Approval proof reading pull requests in GraphQL batches judges exactly as over REST.

Each scenario builds a real git history whose pull requests the sandbox serves, plans
it once with ``--read-api rest`` and once with ``--read-api graphql`` against the same
sandbox, and compares the verdicts; the batched read must only save requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grantops.github import GitHub
from grantops.github.gqlpulls import merged_pull
from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT, POLICY
from .sandbox_fixtures import TOKEN, StartSandbox, access_env, new_access_repo, with_access_repo
from .test_approval import CASES, Scenario
from .test_cli import run

AT = "2026-11-30T12:00:00Z"


def _committed_by_bob(r: ReviewedRepo) -> None:
    env = {"GIT_AUTHOR_NAME": "requester", "GIT_COMMITTER_NAME": "bob"}
    r.git("commit", "--quiet", "--allow-empty", "-m", "Amend wording", env=env)


def _grant(**how: Any) -> Scenario:
    """A scenario: the grant merged by ``requester``'s pull request, ``how`` as given."""
    return lambda r: r.merge({"grants/g.yaml": GRANT}, author="requester", **how) and None


ATTACKS: list[tuple[str, Scenario]] = [
    *[(name, scenario) for name, scenario, _ in CASES],
    (
        "rebased with a co-author",
        _grant(approvers=["alice"], co_authors=["dana"], method="rebase"),
    ),
    ("merge commit", _grant(approvers=["alice"], method="merge")),
    ("committed by the approver", _grant(approvers=["bob"], then=_committed_by_bob)),
    ("commit with no linked account", _grant(approvers=["alice"], unlinked=True)),
]


def _sandbox(start_sandbox: StartSandbox, repo: ReviewedRepo, **settings: Any) -> Sandbox:
    base = with_access_repo(repo)
    base["bots"] = ["helper-bot"]
    return start_sandbox(base, **settings)


def _repo(tmp_path: Path, scenario: Scenario) -> ReviewedRepo:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    scenario(repo)
    return repo


def _plan(
    sandbox: Sandbox, repo: ReviewedRepo, read_api: str, *extra: str
) -> tuple[int, dict[str, Any]]:
    """The plan's exit code and its verdicts and changes, after a fresh count of requests."""
    sandbox.stats.clear()
    argv = ["plan", "--root", str(repo.root), "--now", AT, "--json", "--read-api", read_api]
    argv += extra
    code, out, _ = run(*argv, environ=access_env(sandbox.url))
    document = json.loads(out)
    return code, {"unapproved": document["unapproved"], "changes": document["changes"]}


@pytest.mark.parametrize("scenario", [a[1] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_graphql_batches_judge_every_attack_as_rest_does(
    start_sandbox: StartSandbox, tmp_path: Path, scenario: Scenario
) -> None:
    repo = _repo(tmp_path, scenario)
    sandbox = _sandbox(start_sandbox, repo)
    rest = _plan(sandbox, repo, "rest")
    graphql = _plan(sandbox, repo, "graphql")
    assert graphql == rest
    assert sandbox.stats["POST graphql"] >= 1


def _twenty_grants(tmp_path: Path) -> ReviewedRepo:
    repo = _repo(tmp_path, lambda r: None)
    for i in range(20):
        grant = GRANT.replace("octocat", f"user-{i}")
        repo.merge({f"grants/g{i}.yaml": grant}, author="requester", approvers=["alice"])
    return repo


def test_twenty_grants_cost_fewer_requests_through_graphql(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _twenty_grants(tmp_path)
    sandbox = _sandbox(start_sandbox, repo)
    rest = _plan(sandbox, repo, "rest")
    rest_calls = sandbox.stats["GET repos/list-pull-requests-associated-with-commit"]
    rest_total = sandbox.stats["total"]
    graphql = _plan(sandbox, repo, "graphql")
    assert graphql == rest
    assert len([c for c in rest[1]["changes"] if c["action"] == "add"]) == 20
    assert rest_calls == 21  # the policy and each grant
    assert sandbox.stats["GET repos/list-pull-requests-associated-with-commit"] == 0
    assert sandbox.stats["GET pulls/get"] == 0
    assert sandbox.stats["GET pulls/list-commits"] == 0
    assert sandbox.stats["total"] <= rest_total - 3 * 21 + 2


def test_a_failing_graphql_read_falls_back_to_rest_with_the_same_verdicts(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path, ATTACKS[0][1])
    repo.merge({"grants/h.yaml": GRANT.replace("octocat", "hubot")}, author="requester")
    sandbox = _sandbox(start_sandbox, repo)
    rest = _plan(sandbox, repo, "rest")
    broken = _sandbox(start_sandbox, repo, faults=[FaultRule("POST /graphql", 502, times=-1)])
    code, graphql = _plan(broken, repo, "graphql", "--attempts", "1")
    # the access reads fail as well (their own rule: unreadable, never empty); the proof
    # judges each grant as REST did
    assert (code, graphql["unapproved"]) == (rest[0], rest[1]["unapproved"])
    assert [u["source"] for u in graphql["unapproved"]] == ["grants/h.yaml"]
    assert broken.stats["POST graphql"] >= 1
    assert broken.stats["GET repos/list-pull-requests-associated-with-commit"] == 3


def test_only_commits_graphql_names_in_full_are_read_ahead(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A commit GitHub does not know, one with no pull request, or one merged into
    another branch is left to REST, never taken as "no pull request"."""
    repo = _repo(tmp_path, ATTACKS[0][1])
    pushed = repo.commit({"grants/h.yaml": GRANT}, "mallory", "sneak in")
    merged = str(repo.pulls[-1].merge_commit_sha)
    sandbox = _sandbox(start_sandbox, repo)
    asked = "GET repos/list-pull-requests-associated-with-commit"
    with GitHub(sandbox.url, TOKEN, read_api="graphql") as github:
        github.prefetch_pulls("acme", "access", [merged, pushed, "f" * 40], "main")
        github.prefetch_pulls("acme", "access", [merged], "release")
        sandbox.stats.clear()
        pull = github.merged_pull_for_commit("acme", "access", merged, "main")
        assert sandbox.stats[asked] == 0
        assert github.merged_pull_for_commit("acme", "access", pushed, "main") is None
        assert github.merged_pull_for_commit("acme", "access", merged, "release") is None
        assert sandbox.stats[asked] == 2
    assert pull is not None and pull.number == 2
    assert [r.login for r in pull.reviews] == ["alice"]  # from REST, which names bots


SHA = "a" * 40


def _node(number: int, merge: str | None = SHA, **fields: Any) -> dict[str, Any]:
    """A merged pull request into main as GraphQL answers it, with one linked commit."""
    node = {
        "number": number,
        "author": {"login": "requester"},
        "baseRefName": "main",
        "headRefOid": "b" * 40,
        "mergeCommit": {"oid": merge} if merge else None,
        "mergedAt": "2026-01-01T00:00:00Z",
        "mergedBy": {"login": "alice"},
        "commits": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [{"commit": {"oid": "c" * 40, "author": {"user": {"login": "dana"}}}}],
        },
    }
    return {**node, **fields}


def _commit(*nodes: dict[str, Any], more: bool = False) -> dict[str, Any]:
    info = {"hasNextPage": more, "endCursor": None}
    return {"associatedPullRequests": {"pageInfo": info, "nodes": list(nodes)}}


def test_a_whole_answer_gives_the_pull_request_rest_would() -> None:
    pull = merged_pull(_commit(_node(7, merge="d" * 40), _node(2)), SHA, "main")
    assert pull is not None
    assert (pull.number, pull.author, pull.merged_by) == (2, "requester", "alice")
    assert pull.merge_commit_sha == SHA
    assert [(c.author, c.committer) for c in pull.commits] == [("dana", None)]


PAGE_GOES_ON = {"pageInfo": {"hasNextPage": True, "endCursor": "x"}, "nodes": []}


@pytest.mark.parametrize(
    "commit",
    [
        None,  # an unknown commit, or one GitHub would not show
        _commit(),  # no pull request: REST says so itself
        _commit(_node(2), more=True),  # more pull requests than asked for
        _commit(_node(2, commits=PAGE_GOES_ON)),  # over 100 commits
        _commit(_node(2, author=None)),  # a deleted author
        _commit(_node(2, baseRefName="release")),  # merged elsewhere
        _commit(_node(2, mergedAt=None)),  # never merged
        _commit(_node(2, merge=None), _node(3, merge=None)),  # two candidates, neither its own
        _commit(_node(2, commits={"pageInfo": {"hasNextPage": False}, "nodes": [None]})),
        {"associatedPullRequests": {"nodes": [_node(2)]}},  # no word on further pages
        _commit(_node(2) | {"number": None}),  # not in the schema's shape
    ],
)
def test_anything_short_of_a_whole_answer_is_left_to_rest(commit: Any) -> None:
    assert merged_pull(commit, SHA, "main") is None
