"""The sandbox GitHub's own behaviour, over HTTP, as a client other than grantops sees it."""

from __future__ import annotations

import httpx2
import pytest

from grantops.sandbox import Sandbox
from grantops.sandbox.routes import ROUTES

from .contract.openapi import operations
from .sandbox_fixtures import HEADERS, StartSandbox


def test_every_route_is_a_github_operation_with_the_same_method_and_path() -> None:
    described = operations()
    for method, pattern, operation, _handler in ROUTES:
        assert operation in described, operation
        assert described[operation]["method"] == method
        template = described[operation]["path"]
        sample = template
        numeric = {"invitation_id", "pull_number", "issue_number", "comment_id"}
        names = ("org", "owner", "repo", "team_slug", "username", "commit_sha", "branch")
        for name in (*names, *numeric):
            sample = sample.replace("{" + name + "}", "1" if name in numeric else "x")
        assert pattern.fullmatch(sample), (operation, template)


def test_no_token_is_401(sandbox: Sandbox) -> None:
    with httpx2.Client(base_url=sandbox.url) as anonymous:
        answer = anonymous.get("/orgs/acme")
    assert answer.status_code == 401
    assert answer.json()["message"] == "Requires authentication"


def test_unknown_permission_is_422_with_github_error_shape(http: httpx2.Client) -> None:
    answer = http.put("/repos/acme/ledger/collaborators/alice", json={"permission": "owner"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"][0]["field"] == "permission"
    assert "documentation_url" in body


def test_unknown_repo_and_user_are_404(http: httpx2.Client) -> None:
    assert (
        http.get("/repos/acme/nope/collaborators", params={"affiliation": "direct"}).status_code
        == 404
    )
    assert (
        http.put("/repos/acme/ledger/collaborators/ghost", json={"permission": "pull"}).status_code
        == 404
    )
    assert http.get("/repos/other-org/ledger/teams").status_code == 404


def test_members_are_added_outsiders_invited(http: httpx2.Client, sandbox: Sandbox) -> None:
    assert (
        http.put("/repos/acme/ledger/collaborators/alice", json={"permission": "push"}).status_code
        == 204
    )
    invited = http.put("/repos/acme/ledger/collaborators/carol", json={"permission": "triage"})
    assert invited.status_code == 201
    assert invited.json()["invitee"]["login"] == "carol"
    assert invited.json()["permissions"] == "triage"
    assert http.post("/_sandbox/accept-invitations", json={"login": "carol"}).json() == {
        "accepted": 1
    }
    assert sandbox.state().repos["ledger"].collaborators == {"alice": "push", "carol": "triage"}
    # an invitation to someone already a collaborator is not needed: a change is a 204
    assert (
        http.put("/repos/acme/ledger/collaborators/carol", json={"permission": "pull"}).status_code
        == 204
    )


def test_expired_invitations_are_marked(http: httpx2.Client) -> None:
    http.put("/repos/acme/ledger/collaborators/dana", json={"permission": "pull"})
    assert http.post("/_sandbox/expire-invitations").json() == {"expired": 1}
    [invitation] = http.get("/repos/acme/ledger/invitations").json()
    assert invitation["expired"] is True
    assert http.delete(f"/repos/acme/ledger/invitations/{invitation['id']}").status_code == 204
    assert http.get("/repos/acme/ledger/invitations").json() == []


def test_per_page_is_capped_at_100_and_links_keep_the_query(start_sandbox: StartSandbox) -> None:
    people = [f"p{i:03d}" for i in range(120)]
    sandbox = start_sandbox(
        {
            "org": "acme",
            "members": people,
            "repos": {"r": {"collaborators": dict.fromkeys(people, "pull")}},
        }
    )
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as http:
        first = http.get(
            "/repos/acme/r/collaborators", params={"affiliation": "direct", "per_page": 500}
        )
        assert len(first.json()) == 100
        link = first.headers["link"]
        assert (
            'page=2>; rel="next"' in link
            and "affiliation=direct" in link
            and "per_page=100" in link
        )
        last = http.get(link.split(">")[0][1:])
        assert len(last.json()) == 20
        assert 'rel="next"' not in last.headers["link"]


def test_faults_and_stats_over_http(http: httpx2.Client) -> None:
    http.post("/_sandbox/faults", json={"pattern": "GET /orgs/acme$", "status": 500, "times": 1})
    assert http.get("/orgs/acme").status_code == 500
    assert http.get("/orgs/acme").status_code == 200
    assert http.get("/_sandbox/stats").json()["GET orgs/get"] == 2
    http.post("/_sandbox/reset-stats")
    assert http.get("/_sandbox/stats").json() == {}


def test_rate_limit_headers_count_down(http: httpx2.Client) -> None:
    first = http.get("/orgs/acme")
    second = http.get("/orgs/acme")
    assert (
        int(first.headers["x-ratelimit-remaining"]) - int(second.headers["x-ratelimit-remaining"])
        == 1
    )
    free = http.get("/rate_limit")
    assert free.headers["x-ratelimit-remaining"] == second.headers["x-ratelimit-remaining"]
    assert free.json()["resources"]["core"]["limit"] == 5000


def test_team_membership_of_an_outsider_is_pending(http: httpx2.Client, sandbox: Sandbox) -> None:
    answer = http.put(
        "/orgs/acme/teams/prod-deployers/memberships/dana", json={"role": "maintainer"}
    )
    assert answer.json()["state"] == "pending"
    assert [i["login"] for i in http.get("/orgs/acme/teams/prod-deployers/invitations").json()] == [
        "dana"
    ]
    assert http.get("/orgs/acme/teams/prod-deployers/members").json() == []
    http.post("/_sandbox/accept-invitations")
    assert sandbox.state().teams["prod-deployers"].members == {"dana": "maintainer"}


@pytest.mark.parametrize(("raw", "status"), [(b"[1]", 422), (b'"push"', 422), (b"{", 400)])
def test_a_body_that_is_not_a_json_object_is_refused(
    http: httpx2.Client, sandbox: Sandbox, raw: bytes, status: int
) -> None:
    """GitHub's request bodies are objects; anything else is refused, never a dropped line."""
    put = http.put(
        "/repos/acme/ledger/collaborators/carol",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert put.status_code == status
    assert put.json()["message"] in ("Invalid request.", "Problems parsing JSON")
    assert "carol" not in sandbox.state().repos["ledger"].collaborators
