"""The org's custom repository roles: listed through REST as GitHub does, and used by the
GraphQL read so that a role the policy does not declare is named, not guessed."""

from __future__ import annotations

from typing import Any

import pytest

from grantops.access import Principal, Target
from grantops.github.customroles import read_custom_roles
from grantops.github.transport import GitHubError, Transport
from grantops.sandbox.server import FaultRule

from .sandbox_fixtures import TOKEN, StartSandbox
from .test_graphql_read import both, rich_state

LEDGER, DEPLOY = Target.repo("acme", "ledger"), Target.repo("acme", "deploy-api")
PAYMENTS = Target.repo("acme", "payments-api")


def undeclared_state() -> dict[str, Any]:
    """Custom roles the policy does not declare, held by teams and by people, alone and
    beside access from other sources."""
    state = rich_state()
    state["custom_roles"].update({"deployer": "push", "Release-Manager": "maintain"})
    # teams none of the repository's collaborators is in, at roles whose base GraphQL
    # shows instead (a collaborator's own sources would name the role)
    state["teams"]["ops"] = {}
    state["repos"]["deploy-api"]["teams"] = {"ops": "deployer", "sre": "release-manager"}
    # a person holding a custom role directly and another level through a team
    state["repos"]["ledger"]["collaborators"]["alice"] = "deployer"
    state["repos"]["ledger"]["teams"]["platform"] = "pull"
    # a person holding a custom role as their only source
    state["repos"]["payments-api"]["collaborators"]["mona"] = "release-manager"
    return state


def transport(url: str) -> Transport:
    return Transport(url, TOKEN, timeout=5.0, sleep=lambda s: None)


def test_the_org_s_custom_roles_are_listed_with_their_base_role(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(undeclared_state())
    with transport(sandbox.url) as rest:
        roles = read_custom_roles(rest, "acme")
    # GitHub's write is grantops' push; names are compared without case
    assert roles == {
        "deployer": "push",
        "release-manager": "maintain",
        "security-auditor": "triage",
    }
    assert sandbox.stats["GET orgs/list-custom-repo-roles"] == 1


@pytest.mark.parametrize("status", [403, 404, 502])
def test_a_failed_listing_of_custom_roles_raises_never_empty(
    start_sandbox: StartSandbox, status: int
) -> None:
    sandbox = start_sandbox(undeclared_state())
    sandbox.settings.faults.append(FaultRule("GET /orgs/acme/custom-repository-roles", status, 9))
    with transport(sandbox.url) as rest, pytest.raises(GitHubError) as caught:
        read_custom_roles(rest, "acme")
    assert "list custom repository roles of acme" in str(caught.value)


def test_undeclared_custom_roles_read_the_same_through_graphql_and_rest(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(undeclared_state())
    rest, graphql = both(sandbox)
    assert graphql == rest
    access = graphql.actual.access
    assert access[(Principal.team("ops"), DEPLOY)] == "deployer"
    assert access[(Principal.team("sre"), DEPLOY)] == "release-manager"
    assert access[(Principal.user("alice"), LEDGER)] == "deployer"
    assert access[(Principal.user("mona"), PAYMENTS)] == "release-manager"
    assert graphql.role_bases["deployer"] == "push"


def test_the_org_s_roles_rank_people_without_listing_collaborators(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(undeclared_state())
    both(sandbox)  # REST first, then GraphQL
    rest_listings = len(["ledger", "deploy-api", "payments-api"])
    # alice's two sources on ledger are ranked by the org's roles: no REST fallback
    assert sandbox.stats["GET repos/list-collaborators"] == rest_listings
    assert sandbox.stats["GET orgs/list-custom-repo-roles"] == 1


def test_teams_are_listed_through_rest_only_where_a_custom_role_may_hide(
    start_sandbox: StartSandbox,
) -> None:
    state = undeclared_state()
    state["custom_roles"] = {"security-auditor": "triage"}
    state["repos"]["deploy-api"]["teams"] = {"ops": "push"}
    state["repos"]["ledger"]["collaborators"]["alice"] = "push"
    state["repos"]["payments-api"]["collaborators"]["mona"] = "pull"
    sandbox = start_sandbox(state)
    rest, graphql = both(sandbox)
    assert graphql == rest
    # REST listed the teams of all three; GraphQL of none: no team holds triage
    assert sandbox.stats["GET repos/list-teams"] == 3


def test_when_custom_roles_cannot_be_listed_teams_are_read_through_rest(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(undeclared_state())
    sandbox.settings.faults.append(FaultRule("GET /orgs/acme/custom-repository-roles", 403, 99))
    rest, graphql = both(sandbox)
    assert graphql == rest
    assert graphql.actual.unreadable == {}
    assert graphql.actual.access[(Principal.team("ops"), DEPLOY)] == "deployer"
    # every managed repository with a team had its teams listed through REST, twice
    assert sandbox.stats["GET repos/list-teams"] == 3 + 3


@pytest.mark.parametrize(
    ("direct", "through_team"),
    [
        ("push", "deployer"),  # a custom role just above the same base
        ("maintain", "deployer"),  # a higher built-in role from another source
        ("deployer", "release-manager"),  # two undeclared roles, the team's higher
        ("release-manager", "auditor"),  # two undeclared roles on one base
    ],
)
def test_a_person_s_undeclared_roles_from_several_sources_read_the_same(
    start_sandbox: StartSandbox, direct: str, through_team: str
) -> None:
    state = undeclared_state()
    state["custom_roles"]["auditor"] = "maintain"
    state["repos"]["ledger"]["collaborators"]["alice"] = direct
    state["repos"]["ledger"]["teams"]["platform"] = through_team  # alice is in platform
    sandbox = start_sandbox(state)
    rest, graphql = both(sandbox)
    assert graphql == rest
    assert graphql.actual.access[(Principal.team("platform"), LEDGER)] == through_team
