"""Chat notices from real runs: apply against the sandbox, the webhook a local receiver.

A chat that fails never changes what apply does or how it exits; what was not
delivered is tried again on the next run, and the webhook's address, a secret, is
never printed, logged or reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grantops.audit.log import read_events, verify
from grantops.sandbox import Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .chat_receiver import Answer, Receiver, receiver, refused_url
from .data import GRANT, POLICY
from .sandbox_fixtures import (
    StartSandbox,
    access_env,
    add_remote,
    new_access_repo,
    reviewed,
    with_access_repo,
)
from .test_cli import run
from .test_request import REQUEST

__all__ = ["receiver"]

CHAT = POLICY + "notify:\n  before: 1h\n  chat: [started, ended, refused, opened]\n"
AT = "2026-11-30T12:00:00Z"
OPEN_PR = ("--open-pr", "--access-repo", "acme/access")


def _apply(root: Path, at: str, environ: dict[str, str]) -> tuple[int, str, str]:
    argv = ["apply", "--root", str(root), "--now", at, "--yes", "--mutation-interval", "0"]
    return run(*argv, environ=environ)


def _chat_lines(root: Path) -> list[tuple[str, str]]:
    events = read_events(root / "audit" / "log.jsonl")
    return [(e["event"], e["kind"]) for e in events if e.get("channel") == "chat"]


def _no_secret(url: str, root: Path, *outputs: str) -> None:
    """The webhook's address appears in no output and no file under ``audit/``."""
    written = [p.read_text() for p in (root / "audit").iterdir() if p.is_file()]
    assert all("secretpart" not in text and url not in text for text in [*outputs, *written])


def _setup(
    start_sandbox: StartSandbox, tmp_path: Path, receiver_url: str
) -> tuple[ReviewedRepo, Sandbox, dict[str, str]]:
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT}, policy=CHAT)
    sandbox = start_sandbox(with_access_repo(repo))
    return repo, sandbox, access_env(sandbox.url, GRANTOPS_CHAT_WEBHOOK_URL=receiver_url)


def test_apply_posts_started_and_ended_to_chat_once_each(
    start_sandbox: StartSandbox, tmp_path: Path, receiver: Receiver
) -> None:
    repo, sandbox, env = _setup(start_sandbox, tmp_path, receiver.url)
    outputs = []
    for at in (AT, "2026-11-30T12:30:00Z", "2026-11-30T17:30:00Z", "2026-11-30T18:30:00Z"):
        code, out, err = _apply(repo.root, at, env)
        assert code == 0, err
        outputs += [out, err]
    texts = [m["text"] for m in receiver.messages]
    assert [t.split("*")[1] for t in texts] == ["Access started", "Access ended"]
    assert texts[0].startswith("*Access started* for `user:octocat`: `push on repo:acme/payments")
    assert "(`grants/g.yaml`, pull request #2)" in texts[0]
    assert all(r.headers["content-type"].startswith("application/json") for r in receiver.received)
    comments = [c.body.split(":")[0] for c in sandbox.state().repos["access"].comments]
    assert comments == [
        "@octocat access is open",
        "@octocat heads-up",
        "@octocat access has ended and was removed",
    ]  # chat takes nothing from the comments, ``ending`` included
    assert _chat_lines(repo.root) == [
        ("notification-sent", "started"),
        ("notification-sent", "ended"),
    ]
    assert verify(repo.root / "audit" / "log.jsonl").ok
    _no_secret(receiver.url, repo.root, *outputs)


FAILURES = {
    "500": Answer(500, {"Retry-After": "0"}, b"internal_error"),
    "404": Answer(404, body=b"no_service"),
    "redirect": Answer(302, {"Location": "https://evil.example/"}),
}


@pytest.mark.parametrize("failure", [*FAILURES, "refused"])
def test_a_failing_webhook_changes_nothing_else(
    start_sandbox: StartSandbox, tmp_path: Path, receiver: Receiver, failure: str
) -> None:
    url = refused_url() if failure == "refused" else receiver.url
    receiver.then = FAILURES.get(failure, Answer())
    repo, sandbox, env = _setup(start_sandbox, tmp_path, url)
    summary = tmp_path / "summary.md"
    env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    code, out, err = _apply(repo.root, AT, env)
    assert code == 0, err
    assert sandbox.state().repos["payments-api"].collaborators["octocat"] == "push"
    assert [c.issue for c in sandbox.state().repos["access"].comments] == [2]
    said = "chat notices are off this run: "
    assert said in err and said in summary.read_text()
    assert _chat_lines(repo.root) == [("notification-failed", "started")]
    _no_secret(url, repo.root, out, err, summary.read_text())


def test_what_was_not_delivered_is_tried_again_and_recorded_failed_once(
    start_sandbox: StartSandbox, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.then = Answer(503, {"Retry-After": "0"}, b"busy")
    repo, _, env = _setup(start_sandbox, tmp_path, receiver.url)
    assert _apply(repo.root, AT, env)[0] == 0
    log = (repo.root / "audit" / "log.jsonl").read_bytes()
    code, _, err = _apply(repo.root, "2026-11-30T12:15:00Z", env)
    assert code == 0 and "chat notices are off this run" in err
    assert (repo.root / "audit" / "log.jsonl").read_bytes() == log  # nothing new to say
    receiver.then = Answer()
    assert _apply(repo.root, "2026-11-30T12:30:00Z", env)[0] == 0
    assert [m["text"].split("*")[1] for m in receiver.messages] == ["Access started"] * 5
    assert _chat_lines(repo.root) == [
        ("notification-failed", "started"),
        ("notification-sent", "started"),
    ]


def test_a_grant_pushed_without_review_is_announced_as_refused(
    start_sandbox: StartSandbox, tmp_path: Path, receiver: Receiver
) -> None:
    repo = reviewed(tmp_path / "access", {}, policy=CHAT)
    repo.commit({"grants/m.yaml": GRANT.replace("octocat", "mallory")}, "mallory", "Quick")
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url, GRANTOPS_CHAT_WEBHOOK_URL=receiver.url)
    code, _, err = _apply(repo.root, AT, env)
    assert "grants/m.yaml:1: error:" in err
    assert code == 1  # as without chat: the unreviewed grant fails the run
    assert "mallory" not in sandbox.state().repos["payments-api"].collaborators
    [message] = receiver.messages
    assert message["text"].startswith(
        "*Access refused*: `grants/m.yaml` is on the protected branch without a valid review"
    )
    assert _apply(repo.root, "2026-11-30T12:15:00Z", env)[0] == 1
    assert len(receiver.messages) == 1  # once


def test_a_webhook_that_is_not_https_is_a_warning(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    plain = "http://hooks.example.com/services/T/B/secretpart"
    repo, _, env = _setup(start_sandbox, tmp_path, plain)
    code, out, err = _apply(repo.root, AT, env)
    assert code == 0
    assert "WARNING: GRANTOPS_CHAT_WEBHOOK_URL must be an https URL" in err
    assert _chat_lines(repo.root) == []
    _no_secret(plain, repo.root, out, err)


def test_a_pull_request_opened_by_request_is_announced(
    start_sandbox: StartSandbox, tmp_path: Path, receiver: Receiver
) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": CHAT}, author="security-lead", approvers=["ciso"])
    remote = add_remote(repo, tmp_path)
    sandbox = start_sandbox(with_access_repo(repo), git={"access": remote})
    environ = {
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": sandbox.url,
        "GRANTOPS_CHAT_WEBHOOK_URL": receiver.url,
    }
    code, out, err = run(*REQUEST, *OPEN_PR, "--root", str(repo.root), environ=environ)
    assert code == 0, err
    [message] = receiver.messages
    assert message["text"].startswith(
        "*Access requested*: `Grant user octocat: push on acme/payments-api for 4h from merge`"
    )
    assert message["text"].endswith(
        "(`grants/octocat/2026-11-30-payments-api.yaml`), "
        "<https://github.com/acme/access/pull/2|pull request #2>."
    )
    assert "secretpart" not in out + err


def test_an_unannounced_pull_request_is_still_opened(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": CHAT}, author="security-lead", approvers=["ciso"])
    remote = add_remote(repo, tmp_path)
    sandbox = start_sandbox(with_access_repo(repo), git={"access": remote})
    url = refused_url()
    environ = {"GITHUB_TOKEN": "t", "GITHUB_API_URL": sandbox.url, "GRANTOPS_CHAT_WEBHOOK_URL": url}
    code, out, err = run(*REQUEST, *OPEN_PR, "--root", str(repo.root), environ=environ)
    assert code == 0, err
    assert "Opened pull request #2" in out
    assert "WARNING: pull request #2 was not announced in chat: could not reach" in err
    assert url not in out + err
