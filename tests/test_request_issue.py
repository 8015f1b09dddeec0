"""Requests from the browser, end to end on the sandbox: the request workflow's steps.

alice files the access request form as an issue; the workflow runs ``grantops request
--from-issue`` (here as octocat's token), which pushes ``grant/issue-N`` to a real bare
remote, opens the pull request and comments the plan on the issue. An edit updates the
same pull request and comment; bob approves and merges; the ``closed`` event's step
closes the issue.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx2

from grantops.issuetext import MARKER
from grantops.sandbox import Sandbox

from .sandbox_fixtures import StartSandbox, with_access_repo, with_remote
from .test_cli import run
from .test_issueform import body

ISSUE = 7


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _world(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    text: str,
    policy_extra: str = "",
    author: str = "alice",
) -> tuple[Path, Path, Sandbox]:
    """octocat's checkout of acme/access, its bare remote, and a sandbox where ``author``
    opened issue 7 with ``text``; bob and alice may approve."""
    repo, remote = with_remote(tmp_path)
    if policy_extra:
        policy = (repo.root / "grants" / "policy.yaml").read_text() + policy_extra
        repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
        _git(repo.root, "push", "--quiet", "origin", "main")
    state = copy.deepcopy(with_access_repo(repo))
    state["repos"]["access"]["collaborators"] |= {"bob": "push", "alice": "push"}
    state["bots"] = sorted({*state.get("bots", []), "helper-bot"})
    state["repos"]["access"]["issues"] = [
        {
            "number": ISSUE,
            "author": author,
            "title": "Access request",
            "body": text,
            "labels": ["access-request"],
        }
    ]
    return repo.root, remote, start_sandbox(state, git={"access": remote})


def _as(sandbox: Sandbox, login: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": f"{login}:secret", "GITHUB_API_URL": sandbox.url}


def _as_header(login: str) -> dict[str, str]:
    return {"Authorization": f"token {login}:secret"}


def _step(sandbox: Sandbox, root: Path, *argv: str) -> tuple[int, str, str]:
    """One of the workflow's grantops steps, with the job's access repository."""
    return run(
        "request",
        *argv,
        "--root",
        str(root),
        "--access-repo",
        "acme/access",
        environ=_as(sandbox, "octocat"),
    )


def _edit_issue(sandbox: Sandbox, text: str) -> None:
    """alice edits her issue in the browser."""
    answer = httpx2.patch(
        f"{sandbox.url}/repos/acme/access/issues/{ISSUE}",
        json={"body": text},
        headers={"Authorization": "token alice:secret"},
    )
    assert answer.status_code == 200, answer.text


def _comments(sandbox: Sandbox) -> list[Any]:
    return [c for c in sandbox.state().repos["access"].comments if c.issue == ISSUE]


def test_issue_to_pull_request_to_plan_comment_to_edit_to_merge_to_closed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, remote, sandbox = _world(start_sandbox, tmp_path, body())
    code, out, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--json")
    assert code == 0, err
    done = json.loads(out)
    number = done["pull_request"]["number"]
    assert done["issue"] == ISSUE and done["file"].startswith("grants/alice/")
    pull = sandbox.state().repos["access"].pulls[-1]
    assert (pull.number, pull.head_ref, pull.author) == (number, "grant/issue-7", "octocat")
    assert f"Closes #{ISSUE}, requested by @alice." in pull.body
    head = _git(remote, "rev-parse", "refs/heads/grant/issue-7")
    assert list(pull.files) == [done["file"]]  # the branch holds the grant file only
    grant = _git(remote, "show", f"{head}:{done['file']}")
    assert "user: alice\nrepo: payments-api\npermission: push\nduration: 4h\n" in grant
    [comment] = _comments(sandbox)
    assert comment.user == "octocat" and comment.body.startswith(MARKER)
    assert f"Grant pull request #{number} is open" in comment.body
    assert "- add `user:alice` `push` on `repo:acme/payments-api`" in comment.body

    # alice asks for longer: the same pull request and comment follow the edit
    _edit_issue(sandbox, body(Duration="8h"))
    code, out, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--json")
    assert code == 0, err
    assert json.loads(out)["pull_request"]["number"] == number
    pulls = sandbox.state().repos["access"].pulls
    assert [p.number for p in pulls if p.head_ref == "grant/issue-7"] == [number]
    moved = _git(remote, "rev-parse", "refs/heads/grant/issue-7")
    assert moved != head
    assert "duration: 8h" in _git(remote, "show", f"{moved}:{done['file']}")
    assert pulls[-1].title.endswith("for 8h from merge")
    [comment] = _comments(sandbox)
    assert "duration: 8h" in comment.body

    # an edit that changes nothing the grant says leaves the branch as it is
    assert _step(sandbox, root, "--from-issue", str(ISSUE))[0] == 0
    assert _git(remote, "rev-parse", "refs/heads/grant/issue-7") == moved

    # the pull request is still open: nothing to close yet
    code, _, err = _step(sandbox, root, "--close-merged", str(number))
    assert code == 2 and f"#{number} is still open" in err

    for action in ("approve", "merge"):
        argv = ["sandbox", action, "--pull", str(number), "--as", "bob"]
        code, _, err = run(
            *argv, "--access-repo", "acme/access", "--root", str(root), environ=_as(sandbox, "bob")
        )
        assert code == 0, err
    code, out, err = _step(sandbox, root, "--close-merged", str(number))
    assert code == 0, err
    assert f"Closed #{ISSUE}" in out
    issue = sandbox.state().repos["access"].issues[0]
    assert issue.state == "closed"
    assert f"Grant pull request #{number} was merged" in _comments(sandbox)[-1].body


def test_problems_are_commented_in_place_and_nothing_is_pushed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Someone else's name, where the policy does not allow it, and a body that tries to
    add a heading: every problem on the issue, in the one comment, and no branch."""
    hostile = body(For_whom="bob", Reason="hotfix\n\n### Permission or role\n\nadmin")
    root, remote, sandbox = _world(start_sandbox, tmp_path, hostile)
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 1
    assert "Permission or role: given more than once" in err
    [comment] = _comments(sandbox)
    assert comment.body.startswith(MARKER) and "cannot be written as a grant" in comment.body
    assert _git(remote, "branch", "--list", "grant/*") == ""
    assert sandbox.state().repos["access"].pulls[-1].head_ref != "grant/issue-7"
    assert _git(root, "status", "--porcelain") == ""

    # a comment that pastes the marker is alice's, not grantops': it is never rewritten
    sandbox_comment = httpx2.post(
        f"{sandbox.url}/repos/acme/access/issues/{ISSUE}/comments",
        json={"body": f"{MARKER}\nApproved, go ahead"},
        headers={"Authorization": "token alice:secret"},
    )
    assert sandbox_comment.status_code == 201
    _edit_issue(sandbox, body(For_whom="bob"))
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 1 and "For whom: only alice (the issue's author)" in err
    first, pasted = _comments(sandbox)
    assert "For whom: only alice" in first.body and "given more than once" not in first.body
    assert pasted.body == f"{MARKER}\nApproved, go ahead"


def test_the_policy_may_allow_requests_on_behalf_of_others(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    on_behalf = "requests:\n  on_behalf: true\n"
    root, _, sandbox = _world(start_sandbox, tmp_path, body(For_whom="carol"), on_behalf)
    code, out, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--json")
    assert code == 0, err
    assert json.loads(out)["file"].startswith("grants/carol/")


def test_a_request_the_policy_refuses_is_commented_with_the_policys_reason(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, _, sandbox = _world(start_sandbox, tmp_path, body(Duration="30d"))
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 1 and "is not a request grantops can write" in err
    [comment] = _comments(sandbox)
    assert "error: duration 720h is longer than limits.max_duration 72h" in comment.body
    assert _git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_only_open_issues_of_the_form_are_read(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, _, sandbox = _world(start_sandbox, tmp_path, body())
    answer = httpx2.patch(
        f"{sandbox.url}/repos/acme/access/issues/{ISSUE}",
        json={"labels": ["question"]},
        headers={"Authorization": "token alice:secret"},
    )
    assert answer.status_code == 200
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 2 and "does not carry the access-request label" in err
    assert _comments(sandbox) == []
    code, _, err = _step(sandbox, root, "--close-merged", "1")
    assert code == 2 and "#1 is not the pull request of a request issue" in err
    code, _, err = _step(sandbox, root, "--from-issue", "1")  # the policy's pull request
    assert code == 2 and "#1 is a pull request, not an access request issue" in err
    code, _, err = _step(sandbox, root, "--from-issue", "99")
    assert code == 1 and "read acme/access#99" in err
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--repo", "ledger", "--open-pr")
    assert code == 2 and "--repo --open-pr: the issue says what is asked for" in err
    code, _, err = _step(sandbox, root, "--from-issue", "7", "--close-merged", "8")
    assert code == 2 and "not allowed with argument" in err


def test_the_sandbox_lets_only_a_comments_author_edit_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    _, _, sandbox = _world(start_sandbox, tmp_path, body())
    comments = f"{sandbox.url}/repos/acme/access/issues/{ISSUE}/comments"
    alice = {"Authorization": "token alice:x"}
    made = httpx2.post(comments, json={"body": "mine"}, headers=alice)
    ident = made.json()["id"]
    assert [c["id"] for c in httpx2.get(comments, headers=alice).json()] == [ident]
    edit = f"{sandbox.url}/repos/acme/access/issues/comments/{ident}"
    as_bob = httpx2.patch(edit, json={"body": "bob's"}, headers={"Authorization": "token bob:x"})
    empty = httpx2.patch(edit, json={"body": ""}, headers=alice)
    gone = httpx2.patch(edit + "0", json={"body": "x"}, headers=alice)
    assert (as_bob.status_code, empty.status_code, gone.status_code) == (403, 422, 404)
    assert httpx2.get(comments, headers=alice).json()[0]["body"] == "mine"
    missing = f"{sandbox.url}/repos/acme/access/issues/99/comments"
    assert httpx2.get(missing, headers=alice).status_code == 404


def test_a_reason_cannot_close_other_issues_mention_anyone_or_link_from_the_pull_request(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The reason is the requester's own words, and the pull request's body shows it:
    there it must stay words, not a closing keyword for another issue (merging would
    close it), a mention that pages a team, or a link dressed as an approval."""
    reason = "hotfix, closes #3 for @acme/everyone: [approved by security](https://evil.example)"
    root, _, sandbox = _world(start_sandbox, tmp_path, body(Reason=reason))
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 0, err
    pull = sandbox.state().repos["access"].pulls[-1]
    why = next(line for line in pull.body.splitlines() if line.startswith("**Why:**"))
    assert "#3" not in why and "@acme" not in why
    assert "\\[approved" in why and "\\](" in why  # escaped: no link
    assert "closes" in why and "approved by security" in why  # still readable


def test_who_filed_a_request_for_someone_else_cannot_approve_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The pull request is opened by grantops' account, not the requester's, so the
    rule that its author may not approve would not reach them: the commit is theirs
    instead (their linked no-reply address), and no author of a commit may approve."""
    on_behalf = "requests:\n  on_behalf: true\n"
    root, remote, sandbox = _world(start_sandbox, tmp_path, body(For_whom="carol"), on_behalf)
    code, out, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--json")
    assert code == 0, err
    grant, number = json.loads(out)["file"], json.loads(out)["pull_request"]["number"]
    head = _git(remote, "rev-parse", "refs/heads/grant/issue-7")
    issue = httpx2.get(
        f"{sandbox.url}/repos/acme/access/issues/{ISSUE}", headers=_as_header("alice")
    ).json()
    email = f"{issue['user']['id']}+alice@users.noreply.github.com"
    assert _git(remote, "log", "-1", "--format=%an <%ae>", head) == f"alice <{email}>"
    for action, login in (("approve", "alice"), ("merge", "bob")):
        argv = ["sandbox", action, "--pull", str(number), "--as", login]
        code, _, err = run(
            *argv, "--access-repo", "acme/access", "--root", str(root), environ=_as(sandbox, login)
        )
        assert code == 0, err
    _git(root, "pull", "--quiet", "origin", "main")
    plan = ["plan", "--root", str(root), "--access-repo", "acme/access", "--json"]
    code, out, err = run(*plan, environ=_as(sandbox, "octocat"))
    unapproved = {u["source"]: u["reason"] for u in json.loads(out)["unapproved"]}
    assert "alice (authored or committed a commit in the PR)" in unapproved[grant]


def test_an_issue_a_bot_opened_is_no_request(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """A bot opens issues for whoever drives it (another App, a workflow on any branch):
    a request must come from the person who will answer for it."""
    root, remote, sandbox = _world(
        start_sandbox,
        tmp_path,
        body(For_whom="carol"),
        "requests:\n  on_behalf: true\n",
        "helper-bot",
    )
    code, _, err = _step(sandbox, root, "--from-issue", str(ISSUE))
    assert code == 2 and f"#{ISSUE} was not opened by a person" in err
    assert _git(remote, "branch", "--list", "grant/*") == "" and _comments(sandbox) == []


def test_an_edit_after_approval_needs_a_fresh_review(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """bob approves 4h; alice then edits the issue to 72h and the workflow replaces the
    branch: bob's approval was of the old head, so the merge proves nothing."""
    root, _, sandbox = _world(start_sandbox, tmp_path, body())
    code, out, err = _step(sandbox, root, "--from-issue", str(ISSUE), "--json")
    assert code == 0, err
    grant, number = json.loads(out)["file"], json.loads(out)["pull_request"]["number"]
    review = ["--pull", str(number), "--as", "bob", "--access-repo", "acme/access"]
    assert (
        run("sandbox", "approve", *review, "--root", str(root), environ=_as(sandbox, "bob"))[0] == 0
    )
    _edit_issue(sandbox, body(Duration="72h"))
    assert _step(sandbox, root, "--from-issue", str(ISSUE))[0] == 0
    assert (
        run("sandbox", "merge", *review, "--root", str(root), environ=_as(sandbox, "bob"))[0] == 0
    )
    _git(root, "pull", "--quiet", "origin", "main")
    assert "duration: 72h" in (root / grant).read_text()
    plan = ["plan", "--root", str(root), "--access-repo", "acme/access", "--json"]
    code, out, err = run(*plan, environ=_as(sandbox, "octocat"))
    unapproved = {u["source"]: u["reason"] for u in json.loads(out)["unapproved"]}
    assert "bob (stale: approved" in unapproved[grant]
