"""The sandbox's own clock: the mutations it accepted, when, and outages, over HTTP.

Lateness of ``grantops watch`` is measured against ``GET /_sandbox/changes``, so the log
must list exactly the changes made, in order, at the server's time; and an outage must
refuse every API request until it ends, as github.com's do.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from grantops.access import Principal, Target
from grantops.github import GitHub, GitHubError
from grantops.plan import Change
from grantops.sandbox import Sandbox

from .sandbox_fixtures import HEADERS, TOKEN, StartSandbox, client

LEDGER = "/repos/acme/ledger/collaborators"
ADD_OCTOCAT = Change(
    "add",
    Principal.user("octocat"),
    Target.repo("acme", "ledger"),
    None,
    "push",
    "grant",
    "grants/g.yaml",
)
QUERY = 'query { organization(login: "acme") { login } }'
MUTATION = 'mutation { addStar(input: {starrableId: "R_1"}) { clientMutationId } }'


def listed(http: httpx2.Client, path: str = "/_sandbox/changes") -> list[dict[str, Any]]:
    answer = http.get(path)
    assert answer.status_code == 200
    return list(answer.json()["changes"])


def clock() -> datetime:
    """Now, cut to the milliseconds the log keeps, so it compares with its times."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def at(change: dict[str, Any]) -> datetime:
    assert change["at"].endswith("Z") and len(change["at"]) == len("2026-12-06T23:40:05.123Z")
    return datetime.fromisoformat(change["at"])


def wait_until_up(http: httpx2.Client) -> httpx2.Response:
    """Poll until the API answers again (at most 30 s: an outage that never ends fails)."""
    deadline = time.monotonic() + 30
    while (answer := http.get("/orgs/acme")).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


# ----- the change log ---------------------------------------------------------------


def test_accepted_mutations_are_listed_in_order_with_server_time_and_status(
    http: httpx2.Client,
) -> None:
    before = clock()
    assert http.put(f"{LEDGER}/alice", json={"permission": "push"}).status_code == 204
    assert http.put(f"{LEDGER}/carol", json={"permission": "triage"}).status_code == 201
    assert http.put(f"{LEDGER}/alice", json={"permission": "owner"}).status_code == 422
    assert http.delete("/api/v3/repos/acme/ledger/collaborators/alice").status_code == 204
    after = clock()
    changes = listed(http)
    assert [(c["method"], c["path"], c["status"]) for c in changes] == [
        ("PUT", f"{LEDGER}/alice", 204),
        ("PUT", f"{LEDGER}/carol", 201),
        ("PUT", f"{LEDGER}/alice", 422),
        ("DELETE", f"{LEDGER}/alice", 204),
    ]
    times = [at(c) for c in changes]
    assert before <= times[0] and times[-1] <= after
    assert times == sorted(times)
    assert listed(http, "/api/v3/_sandbox/changes") == changes


def test_concurrent_changes_are_listed_once_each_in_the_order_of_their_times(
    sandbox: Sandbox,
) -> None:
    """Each entry is written under the state's lock, so requests racing on many
    connections still give one entry each and times that never go back."""

    def flip(n: int) -> int:
        with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as session:
            level = ("pull", "push")[n % 2]
            return session.put(f"{LEDGER}/alice", json={"permission": level}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(flip, range(40)))
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as session:
        changes = listed(session)
    assert sorted(c["status"] for c in changes) == sorted(statuses)
    times = [at(c) for c in changes]
    assert times == sorted(times)


def test_reads_control_calls_and_graphql_queries_are_not_listed(http: httpx2.Client) -> None:
    assert http.get("/orgs/acme").status_code == 200
    assert http.get(LEDGER, params={"affiliation": "direct"}).status_code == 200
    assert http.post("/graphql", json={"query": QUERY}).json()["data"] is not None
    assert http.post("/_sandbox/expire-invitations").status_code == 200
    assert http.post("/_sandbox/reset-stats").status_code == 200
    assert listed(http) == []


def test_a_graphql_document_is_listed_only_when_its_operation_is_a_mutation(
    http: httpx2.Client,
) -> None:
    both = f"query Read {QUERY.removeprefix('query ')} mutation Star {MUTATION[9:]}"
    http.post("/graphql", json={"query": both, "operationName": "Read"})
    http.post("/graphql", json={"query": "mutation {", "operationName": None})
    assert listed(http) == []
    http.post("/graphql", json={"query": both, "operationName": "Star"})
    http.post("/api/graphql", json={"query": MUTATION})
    assert [(c["method"], c["path"]) for c in listed(http)] == [
        ("POST", "/graphql"),
        ("POST", "/api/graphql"),
    ]


def test_requests_refused_before_a_handler_are_not_listed(
    start_sandbox: StartSandbox, sandbox: Sandbox, http: httpx2.Client
) -> None:
    with httpx2.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.put(f"{LEDGER}/alice", json={"permission": "push"}).status_code == 401
    fault = {"pattern": f"PUT {LEDGER}/alice", "status": 502}
    http.post("/_sandbox/faults", json=fault)
    assert http.put(f"{LEDGER}/alice", json={"permission": "push"}).status_code == 502
    assert listed(http) == []
    assert sandbox.state().repos["ledger"].collaborators == {}
    limited = start_sandbox(rate_limit=1)
    with httpx2.Client(base_url=limited.url, headers=HEADERS) as spent:
        assert spent.get("/orgs/acme").status_code == 200
        assert spent.put(f"{LEDGER}/alice", json={"permission": "push"}).status_code == 403
        assert listed(spent) == []


def test_a_change_failed_after_it_applied_is_listed_with_the_handlers_status(
    http: httpx2.Client,
) -> None:
    fault = {"pattern": f"PUT {LEDGER}/alice", "status": 502, "after_apply": True}
    http.post("/_sandbox/faults", json=fault)
    assert http.put(f"{LEDGER}/alice", json={"permission": "push"}).status_code == 502
    assert [c["status"] for c in listed(http)] == [204]


def test_reset_stats_keeps_the_log_and_reset_changes_empties_it(http: httpx2.Client) -> None:
    http.put(f"{LEDGER}/alice", json={"permission": "push"})
    http.post("/_sandbox/reset-stats")
    assert len(listed(http)) == 1
    assert http.post("/_sandbox/reset-changes").json() == {"cleared": 1}
    assert listed(http) == []


def test_since_keeps_the_changes_made_at_or_after_it(http: httpx2.Client) -> None:
    http.put(f"{LEDGER}/alice", json={"permission": "push"})
    first = listed(http)[0]
    http.put(f"{LEDGER}/bob", json={"permission": "pull"})
    assert listed(http, f"/_sandbox/changes?since={first['at']}")[0] == first
    later = listed(http)[1]["at"]
    assert [c["path"] for c in listed(http, f"/_sandbox/changes?since={later}")][-1] == (
        f"{LEDGER}/bob"
    )
    assert listed(http, "/_sandbox/changes?since=2999-01-01T00:00:00Z") == []
    for wrong in ("yesterday", "2026-12-06T23:40:05"):
        answer = http.get("/_sandbox/changes", params={"since": wrong})
        assert answer.status_code == 422
        assert answer.json()["message"].startswith("Invalid request")


# ----- outages ------------------------------------------------------------------------


def test_an_outage_answers_503_to_every_api_request_until_it_ends(
    sandbox: Sandbox, http: httpx2.Client
) -> None:
    assert http.post("/_sandbox/outage", json={"seconds": 600}).json()["active"] is True
    for answer in (
        http.get("/orgs/acme"),
        http.put(f"{LEDGER}/alice", json={"permission": "push"}),
        http.post("/graphql", json={"query": QUERY}),
        http.get("/api/v3/orgs/acme"),
    ):
        assert answer.status_code == 503
        assert answer.json()["message"] == "Service Unavailable"
    with httpx2.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.get("/orgs/acme").status_code == 503  # before authentication
    assert http.get("/_sandbox/stats").status_code == 200  # control calls still answer
    assert listed(http) == []
    assert sandbox.state().repos["ledger"].collaborators == {}
    assert http.post("/_sandbox/outage", json={"seconds": 0}).json()["active"] is False
    assert http.get("/orgs/acme").status_code == 200


def test_a_short_outage_ends_by_itself_and_reports_its_window(http: httpx2.Client) -> None:
    assert http.get("/_sandbox/outage").json() == {"active": False, "start": None, "end": None}
    window = http.post("/_sandbox/outage", json={"seconds": 0.2}).json()
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    assert (end - start).total_seconds() == pytest.approx(0.2, abs=0.002)
    assert wait_until_up(http).status_code == 200
    assert http.get("/_sandbox/outage").json() == {**window, "active": False}
    assert clock() >= end


@pytest.mark.parametrize("seconds", ["-1", '"5"', "true", "null", "1e999"])
def test_an_outage_needs_a_finite_number_of_seconds(http: httpx2.Client, seconds: str) -> None:
    answer = http.post("/_sandbox/outage", content=f'{{"seconds": {seconds}}}')
    assert answer.status_code == 422
    assert answer.json()["message"].startswith("Invalid request: seconds must be")
    assert http.get("/_sandbox/outage").json()["active"] is False


def test_grantops_rides_out_a_short_outage_with_its_own_retries(
    sandbox: Sandbox, http: httpx2.Client
) -> None:
    """The client's default patience (waits of 1, 2, 4 and 8 s, for real) outlasts a
    half-second outage: the change sent into it is checked (that read is retried too),
    sent again and made once, after the outage ended."""
    window = http.post("/_sandbox/outage", json={"seconds": 0.5}).json()
    with GitHub(sandbox.url, TOKEN, timeout=5.0) as github:
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert outcome.result == "done"
    assert sandbox.stats["PUT repos/add-collaborator"] == 1  # the one refused never counted
    [change] = listed(http)
    assert (change["method"], change["path"], change["status"]) == ("PUT", f"{LEDGER}/octocat", 204)
    assert at(change) >= datetime.fromisoformat(window["end"])
    assert sandbox.state().repos["ledger"].collaborators == {"octocat": "push"}


def test_an_outage_longer_than_its_patience_is_reported_not_guessed(
    sandbox: Sandbox, http: httpx2.Client
) -> None:
    http.post("/_sandbox/outage", json={"seconds": 600})
    waits: list[float] = []
    with client(sandbox, waits) as github:
        with pytest.raises(GitHubError) as failed:
            github.is_org_member("acme", "alice")
        outcome = github.apply("acme", ADD_OCTOCAT, {})
    assert failed.value.status == 503
    assert "gave up after 5 attempts" in str(failed.value)
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0]
    assert outcome.result == "failed"
    assert "Service Unavailable" in outcome.detail
    assert listed(http) == []
    assert sandbox.state().repos["ledger"].collaborators == {}
