"""The GraphQL side of reads without a network: where the endpoint is, which queries are
sent (each valid against GitHub's schema), and how an answer's parts map to levels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse, validate

import grantops.sandbox
from grantops.github import gqlpulls, gqlqueries
from grantops.github.gqlread import UseRest, collaborator_level, team_edge_level
from grantops.github.graphql import Answer, graphql_url

from .contract.graphql_queries import problems

SCHEMA = Path(grantops.sandbox.__file__).parent / "github-schema.graphql"


@pytest.mark.parametrize(
    ("api_url", "environ", "expected"),
    [
        ("https://api.github.com", {}, "https://api.github.com/graphql"),
        ("https://api.github.com/", {}, "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", {}, "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", {}, "https://ghe.example.com/api/graphql"),
        ("http://127.0.0.1:8080", {}, "http://127.0.0.1:8080/graphql"),
        (
            "https://ghe.example.com/api/v3",
            {"GITHUB_GRAPHQL_URL": "https://ghe.example.com/api/graphql"},
            "https://ghe.example.com/api/graphql",
        ),
        ("https://api.github.com", {"GITHUB_GRAPHQL_URL": ""}, "https://api.github.com/graphql"),
    ],
)
def test_the_graphql_endpoint_goes_with_the_rest_base(
    api_url: str, environ: dict[str, str], expected: str
) -> None:
    assert graphql_url(api_url, environ) == expected


def test_enterprise_graphql_is_beside_not_under_the_rest_base() -> None:
    assert "/api/v3" not in graphql_url("https://ghe.example.com/api/v3")


@pytest.mark.parametrize("text", gqlqueries.all_queries())
def test_every_query_grantops_sends_is_valid_against_githubs_schema(text: str) -> None:
    schema = build_schema(SCHEMA.read_text(encoding="utf-8"))
    assert validate(schema, parse(text)) == []


def test_a_query_github_would_reject_is_caught_by_the_schema_check() -> None:
    schema = build_schema(SCHEMA.read_text(encoding="utf-8"))
    wrong = gqlqueries.TEAMS.replace("slug", "teamSlug", 1)
    assert validate(schema, parse(wrong)) != []


def test_every_connection_asks_for_at_most_githubs_page_size() -> None:
    for text in gqlqueries.all_queries():
        assert "first: 100" in text
        assert "first: 1000" not in text
    assert gqlqueries.repositories_query(100).count("repository(name:") == 100


def _edge(permission: str, *roles: str | None) -> dict[str, Any]:
    sources = [{"roleName": role} for role in roles]
    return {"permission": permission, "permissionSources": sources, "node": {"login": "x"}}


@pytest.mark.parametrize(
    ("edge", "expected"),
    [
        (_edge("WRITE", "write"), ("push", "push")),
        (_edge("READ", "read"), ("pull", "pull")),
        (_edge("MAINTAIN", "maintain", "read"), ("maintain", "maintain")),
        (_edge("TRIAGE", "security-auditor"), ("security-auditor", "triage")),
        # a custom role above its base outranks that base from another source
        (_edge("TRIAGE", "security-auditor", "triage"), ("security-auditor", "triage")),
        (_edge("TRIAGE", "read", "security-auditor"), ("security-auditor", "triage")),
        # a higher built-in role from another source outranks the custom role
        (_edge("ADMIN", "security-auditor", "admin"), ("admin", "admin")),
        (_edge("WRITE"), ("push", "push")),
    ],
)
def test_a_collaborators_level_is_the_one_rest_reports(
    edge: dict[str, Any], expected: tuple[str, str]
) -> None:
    roles = {"security-auditor": "triage"}  # the org's custom roles, listed
    assert collaborator_level(edge, roles, frozenset(roles.values())) == expected


def test_a_custom_role_whose_base_is_unknown_is_read_through_rest() -> None:
    with pytest.raises(UseRest):
        collaborator_level(_edge("WRITE", "deployer", "write"), {})


def test_two_custom_roles_on_the_same_base_are_read_through_rest() -> None:
    roles = {"deployer": "push", "releaser": "push"}
    with pytest.raises(UseRest):
        collaborator_level(_edge("WRITE", "deployer", "releaser"), roles)


def test_team_levels_use_grantops_names() -> None:
    levels = [team_edge_level({"permission": p}) for p in ("READ", "WRITE", "ADMIN")]
    assert levels == ["pull", "push", "admin"]


def test_an_error_is_found_at_its_field_inside_it_and_around_it() -> None:
    answer = Answer(
        {"organization": {"r1": None, "r10": {}}},
        ({"type": "FORBIDDEN", "path": ["organization", "r1", "collaborators"]},),
    )
    assert answer.error_at("organization", "r1") is not None
    assert answer.error_at("organization", "r1", "collaborators", "edges") is not None
    assert answer.error_at("organization", "r10") is None
    whole = Answer({}, ({"message": "Something went wrong"},))
    assert whole.error_at("organization", "r10") is not None


def test_every_query_is_within_githubs_limits() -> None:
    names = {f"n{i}": f"repo-{i}" for i in range(gqlqueries.BATCH)}
    oids = {f"o{i}": f"{i:040x}" for i in range(gqlpulls.BATCH)}
    samples = [
        (gqlqueries.repositories_query(gqlqueries.BATCH), {"org": "acme", **names}),
        (gqlqueries.COLLABORATORS_PAGE, {"org": "acme", "name": "ledger", "after": None}),
        (gqlqueries.TEAMS, {"org": "acme", "after": None}),
        (gqlqueries.TEAM_REPOSITORIES_PAGE, {"org": "acme", "slug": "sre", "after": None}),
        (gqlqueries.TEAM_MEMBERS_PAGE, {"org": "acme", "slug": "sre", "after": None}),
        (gqlpulls.pulls_query(gqlpulls.BATCH), {"owner": "acme", "name": "access", **oids}),
    ]
    # each batch at size 1 is smaller than at its largest
    assert len(samples) == len(gqlqueries.all_queries()) - 2
    for text, variables in samples:
        assert problems(text, variables) == []
