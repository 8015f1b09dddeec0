"""Failures GitHub really produces, injected by the sandbox: the client's answers to each."""

from __future__ import annotations

import time

import pytest

from grantops.access import Principal, Target
from grantops.github import GitHub, GitHubError, RetryPolicy
from grantops.plan import Change
from grantops.sandbox import FaultRule

from .builders import policy
from .sandbox_fixtures import TOKEN, StartSandbox, client

POLICY = policy()
LEDGER = Target.repo("acme", "ledger")
ADD_OCTOCAT = Change(
    "add", Principal.user("octocat"), LEDGER, None, "push", "grant", "grants/g.yaml"
)


def test_a_transient_502_on_a_read_is_retried_with_backoff(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(
        faults=[FaultRule("GET /repos/acme/ledger/collaborators", 502, times=2)]
    )
    waits: list[float] = []
    with client(sandbox, waits) as github:
        actual = github.read(POLICY).actual
    assert actual.unreadable == {}
    assert waits == [1.0, 2.0]


def test_a_persistent_502_marks_only_that_repo_unreadable(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(faults=[FaultRule("GET /repos/acme/ledger/invitations", 502, times=-1)])
    waits: list[float] = []
    with client(sandbox, waits, attempts=3) as github:
        actual = github.read(POLICY).actual
    assert list(actual.unreadable) == [LEDGER]
    assert (
        "HTTP 502" in actual.unreadable[LEDGER]
        and "gave up after 3 attempts" in actual.unreadable[LEDGER]
    )
    assert not any(t == LEDGER for _, t in actual.access)  # nothing half-read is kept
    assert any(t.name == "payments-api" for _, t in actual.access)  # the rest was read
    assert waits == [1.0, 2.0]


def test_a_timed_out_mutation_that_applied_is_not_sent_again(start_sandbox: StartSandbox) -> None:
    pattern = "PUT /repos/acme/ledger/collaborators/octocat"
    sandbox = start_sandbox(faults=[FaultRule(pattern, 0, after_apply=True)], stall_seconds=3.0)
    with client(sandbox, timeout=1.0) as github:
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert outcome.result == "done"
    assert sandbox.stats["PUT repos/add-collaborator"] == 1
    assert sandbox.stats["GET repos/get-collaborator-permission-level"] == 1
    assert sandbox.state().repos["ledger"].collaborators == {"octocat": "push"}


def test_a_timed_out_mutation_that_did_not_apply_is_retried(start_sandbox: StartSandbox) -> None:
    pattern = "PUT /repos/acme/ledger/collaborators/octocat"
    sandbox = start_sandbox(faults=[FaultRule(pattern, 0)], stall_seconds=3.0)
    with client(sandbox, timeout=1.0) as github:
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert outcome.result == "done"
    assert sandbox.stats["PUT repos/add-collaborator"] == 2
    assert sandbox.state().repos["ledger"].collaborators == {"octocat": "push"}


def test_a_502_after_the_change_applied_is_verified_not_repeated(
    start_sandbox: StartSandbox,
) -> None:
    invite = Change("add", Principal.user("dana"), LEDGER, None, "pull", "grant", "grants/d.yaml")
    pattern = "PUT /repos/acme/ledger/collaborators/dana"
    sandbox = start_sandbox(faults=[FaultRule(pattern, 502, after_apply=True)])
    with client(sandbox) as github:
        outcome = github.apply("acme", invite, {})
    assert outcome.result == "done"
    assert sandbox.stats["PUT repos/add-collaborator"] == 1
    assert sandbox.state().repos["ledger"].invitations == {"dana": "pull"}  # exactly one


def test_a_secondary_rate_limit_waits_for_retry_after(start_sandbox: StartSandbox) -> None:
    pattern = "PUT /repos/acme/ledger/collaborators/octocat"
    sandbox = start_sandbox(faults=[FaultRule(pattern, 403, retry_after=7)])
    waits: list[float] = []
    with client(sandbox, waits) as github:
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert outcome.result == "done"
    assert waits == [7.0]
    assert sandbox.stats["PUT repos/add-collaborator"] == 2


def test_a_secondary_limit_without_retry_after_waits_at_least_a_minute(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(faults=[FaultRule("GET /orgs/acme/repos", 429)])
    waits: list[float] = []
    with client(sandbox, waits) as github:
        github.read(POLICY)
    assert waits == [60.0]


def test_an_exhausted_rate_budget_waits_until_reset(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rate_limit=8, rate_window_seconds=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    retry = RetryPolicy(mutation_interval=0.0)
    with GitHub(sandbox.url, TOKEN, timeout=5.0, retry=retry, sleep=sleep) as github:
        actual = github.read(POLICY).actual
    assert actual.unreadable == {}
    assert waits and all(0 < w <= 2.0 for w in waits)
    assert any(e.status == 403 for e in sandbox.exchanges)


def test_a_rate_limit_longer_than_the_bound_gives_up(start_sandbox: StartSandbox) -> None:
    """Nothing is waited for; every target is unreadable, so only expiries can happen."""
    limited = FaultRule("GET /orgs/acme/members", 403, times=-1, retry_after=3600)
    sandbox = start_sandbox(faults=[limited])
    with client(sandbox) as github:
        unreadable = github.read(POLICY).actual.unreadable
    assert unreadable and all("rate limited for 3600 s" in why for why in unreadable.values())
    with client(sandbox) as github, pytest.raises(GitHubError, match="rate limited for 3600 s"):
        github.read(POLICY, with_members=True)  # a snapshot needs the whole org


def test_permission_denied_is_not_retried(start_sandbox: StartSandbox) -> None:
    pattern = "PUT /repos/acme/ledger/collaborators/octocat"
    message = "Resource not accessible by integration"
    sandbox = start_sandbox(faults=[FaultRule(pattern, 403, message=message)])
    waits: list[float] = []
    with client(sandbox, waits) as github:
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert outcome.result == "failed"
    assert "HTTP 403: Resource not accessible by integration" in outcome.detail
    assert waits == []
    assert sandbox.stats["PUT repos/add-collaborator"] == 1


def test_a_wrong_token_fails_the_read(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(token="the-right-token")
    with (
        client(sandbox) as github,
        pytest.raises(GitHubError, match="HTTP 401: Requires authentication"),
    ):
        github.read(POLICY)
