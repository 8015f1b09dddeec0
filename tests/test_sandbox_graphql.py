"""The sandbox's GraphQL API, over HTTP, as GitHub answers it: data, errors, pages, limits,
cost and budget, and FORBIDDEN targets."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from grantops.sandbox import Sandbox

from .contract.graphql_queries import problems
from .contract.openapi import operations, violations
from .sandbox_fixtures import BASE_STATE, StartSandbox

HEADERS = {"Authorization": "token t"}

STATE: dict[str, Any] = copy.deepcopy(BASE_STATE)
STATE["base_permission"] = "pull"
STATE["repos"]["payments-api"]["collaborators"]["carol"] = "security-auditor"
STATE["repos"]["ledger"]["collaborators"] = {"dana": "pull", "alice": "push"}
STATE["repos"]["ledger"]["teams"] = {"platform": "security-auditor"}
STATE["teams"]["platform"] = {
    "members": {"alice": "member", "bob": "maintainer", "mona": "member"},
    "pending": {"carol": "member", "dana": "maintainer"},
}
STATE["repos"]["access"] = {
    "pulls": [
        {
            "number": n,
            "author": "requester",
            "head_ref": f"grant-{n}",
            "head_sha": f"{n}" * 40,
            "merged_at": "2026-02-01T10:00:00Z" if n == 1 else None,
            "merged_by": "ciso" if n == 1 else None,
            "merge_commit_sha": "f" * 40 if n == 1 else None,
            "commits": [{"sha": f"{n}{c}" * 20, "author": "requester"} for c in "ab"],
            "reviews": [
                {"user": "ciso", "state": "COMMENTED", "commit_id": f"{n}" * 40},
                {"user": "alice", "state": "APPROVED", "commit_id": f"{n}" * 40},
            ],
            "files": {"grants/a.yaml": "a" * 40, "grants/b.yaml": None},
            "landed": ["e" * 40] if n > 1 else [],
        }
        for n in (1, 2, 3)
    ]
}

COLLABORATORS = """
query($cursor: String) {
  organization(login: "acme") {
    repository(name: "payments-api") {
      collaborators(first: 100, affiliation: DIRECT, after: $cursor) {
        edges {
          permission
          node { login }
          permissionSources {
            permission roleName
            source { __typename ... on Team { slug } ... on Repository { name } }
          }
        }
      }
    }
  }
}"""


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox(STATE)


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as client:
        yield client


def ask(http: httpx2.Client, query: str, path: str = "/graphql", **variables: Any) -> Any:
    """POST a query; GitHub answers GraphQL with 200 whatever went wrong."""
    response = http.post(path, json={"query": query, "variables": variables})
    assert response.status_code == 200
    return response.json()


def test_collaborators_with_their_permission_sources(http: httpx2.Client) -> None:
    edges = ask(http, COLLABORATORS)["data"]["organization"]["repository"]["collaborators"]
    found = {e["node"]["login"]: e for e in edges["edges"]}
    assert set(found) == {"release-bot", "acme-admin-bot", "carol"}
    # a custom role reports its base role's permission, and its own name as the role
    assert found["carol"]["permission"] == "TRIAGE"
    assert found["carol"]["permissionSources"] == [
        {
            "permission": "READ",
            "roleName": "security-auditor",
            "source": {"__typename": "Repository", "name": "payments-api"},
        }
    ]
    # a member's sources: the org's base role, then the direct grant
    sources = found["release-bot"]["permissionSources"]
    assert [(s["source"]["__typename"], s["roleName"]) for s in sources] == [
        ("Organization", "read"),
        ("Repository", "write"),
    ]
    assert found["acme-admin-bot"]["permission"] == "ADMIN"


def test_teams_with_repositories_members_and_invitations(http: httpx2.Client) -> None:
    query = """{ organization(login: "acme") { team(slug: "platform") {
      repositories(first: 10) { edges { permission node { name } } }
      members(first: 10) { edges { role node { login } } }
      maintainers: members(first: 10, role: MAINTAINER) { nodes { login } }
      invitations(first: 10) { totalCount nodes { role invitee { login } } }
    } } }"""
    team = ask(http, query)["data"]["organization"]["team"]
    assert team["repositories"]["edges"] == [
        {"permission": "TRIAGE", "node": {"name": "ledger"}},  # custom role: its base
        {"permission": "MAINTAIN", "node": {"name": "payments-api"}},
    ]
    roles = {e["node"]["login"]: e["role"] for e in team["members"]["edges"]}
    assert roles == {"alice": "MEMBER", "bob": "MAINTAINER", "mona": "MEMBER"}
    assert team["maintainers"]["nodes"] == [{"login": "bob"}]
    assert team["invitations"]["totalCount"] == 2
    assert {n["invitee"]["login"] for n in team["invitations"]["nodes"]} == {"carol", "dana"}


def test_pull_requests_carry_their_approval_proof(http: httpx2.Client) -> None:
    query = """{ organization(login: "acme") { repository(name: "access") {
      pullRequest(number: 1) {
        merged mergedAt mergedBy { login } mergeCommit { oid } headRefOid baseRefName
        reviews(first: 10, states: [APPROVED]) { nodes { author { login } state commit { oid } } }
        commits(first: 10) { nodes { commit { oid } } }
        files(first: 10) { nodes { path changeType } }
      } } } }"""
    pull = ask(http, query)["data"]["organization"]["repository"]["pullRequest"]
    assert pull["merged"] is True
    assert pull["mergedAt"] == "2026-02-01T10:00:00Z"
    assert pull["mergedBy"] == {"login": "ciso"}
    assert pull["mergeCommit"] == {"oid": "f" * 40}
    assert pull["reviews"]["nodes"] == [
        {"author": {"login": "alice"}, "state": "APPROVED", "commit": {"oid": "1" * 40}}
    ]
    assert [c["commit"]["oid"] for c in pull["commits"]["nodes"]] == ["1a" * 20, "1b" * 20]
    assert pull["files"]["nodes"] == [
        {"path": "grants/a.yaml", "changeType": "MODIFIED"},
        {"path": "grants/b.yaml", "changeType": "DELETED"},
    ]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (
            '{ organization(login: "acme") { bogus } }',
            "Field 'bogus' doesn't exist on type 'Organization'",
        ),
        (
            '{ organization(login: "acme") { repositories(first: 1, bogus: 2) { totalCount } } }',
            "Field 'repositories' doesn't accept argument 'bogus'",
        ),
        (
            "{ organization { login } }",
            "Field 'organization' is missing required arguments: login",
        ),
        (
            "mutation { addStar(input: {}) { clientMutationId } }",
            "The mutation operation is not supported by the schema.",
        ),
        ("{ organization(login: ", "Syntax Error"),
    ],
)
def test_a_query_github_would_reject_is_rejected_with_its_error_shape(
    http: httpx2.Client, query: str, problem: str
) -> None:
    body = ask(http, query)
    assert "data" not in body
    [error] = body["errors"]
    assert problem in error["message"]
    assert error["locations"][0]["line"] == 1


def test_rejections_carry_githubs_codes(http: httpx2.Client) -> None:
    [error] = ask(http, '{ organization(login: "acme") { bogus } }')["errors"]
    assert error["extensions"] == {
        "code": "undefinedField",
        "typeName": "Organization",
        "fieldName": "bogus",
    }
    [error] = ask(http, "{ organization { login } }")["errors"]
    assert error["extensions"] == {
        "code": "missingRequiredArguments",
        "name": "organization",
        "arguments": "login",
    }


def test_no_query_is_an_error(http: httpx2.Client) -> None:
    body = http.post("/graphql", json={"variables": {}}).json()
    assert body["errors"][0]["message"].startswith("A query attribute must be specified")


def test_variables_of_the_wrong_type_are_refused(http: httpx2.Client) -> None:
    body = ask(http, COLLABORATORS, cursor=7)
    assert "data" not in body
    assert "$cursor" in body["errors"][0]["message"]


# ----- pagination -----------------------------------------------------------------

ORG = 'organization(login: "acme")'
REPO = 'repository(name: "payments-api")'
TEAM = 'team(slug: "platform")'
PULL = ('repository(name: "access")', "pullRequest(number: 2)")
CONNECTIONS: dict[str, tuple[str, ...]] = {
    "repositories": (ORG, "repositories"),
    "teams": (ORG, "teams"),
    "membersWithRole": (ORG, "membersWithRole"),
    "collaborators": (ORG, REPO, "collaborators(affiliation: DIRECT, %s)"),
    "team repositories": (ORG, TEAM, "repositories"),
    "team members": (ORG, TEAM, "members"),
    "team invitations": (ORG, TEAM, "invitations"),
    "pullRequests": (ORG, 'repository(name: "access")', "pullRequests"),
    "reviews": (ORG, *PULL, "reviews"),
    "commits": (ORG, *PULL, "commits"),
    "files": (ORG, *PULL, "files"),
    "associatedPullRequests": (
        ORG,
        'repository(name: "access")',
        f'object(oid: "{"e" * 40}")',
        "... on Commit",
        "associatedPullRequests",
    ),
}
"""Every connection grantops may page: the fields down to it, the connection last."""
PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { cursor node { __typename } }"


def _connection(http: httpx2.Client, name: str, arguments: str) -> dict[str, Any]:
    *outer, last = CONNECTIONS[name]
    last = last % arguments if "%s" in last else f"{last}({arguments})"
    query = " { ".join([*outer, last, PAGE]) + " }" * (len(outer) + 1)
    body = ask(http, "{ " + query + " }")
    assert "errors" not in body, body
    found = body["data"]
    for field in [*outer, last]:
        if not field.startswith("..."):  # an inline fragment adds no level to the data
            found = found[field.split("(")[0]]
    return found  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(CONNECTIONS))
def test_every_connection_pages_by_cursor(http: httpx2.Client, name: str) -> None:
    whole = _connection(http, name, "first: 100")
    assert whole["totalCount"] == len(whole["edges"]) >= 2
    assert whole["pageInfo"]["hasNextPage"] is False
    seen, cursor = [], None
    while True:
        after = f', after: "{cursor}"' if cursor else ""
        page = _connection(http, name, "first: 1" + after)
        seen += page["edges"]
        assert page["pageInfo"]["hasPreviousPage"] is (cursor is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == whole["edges"]
    assert len({e["cursor"] for e in seen}) == len(seen)


def test_last_and_before_page_backwards(http: httpx2.Client) -> None:
    whole = _connection(http, "repositories", "first: 100")["edges"]
    tail = _connection(http, "repositories", "last: 2")
    assert tail["edges"] == whole[-2:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    before = _connection(
        http, "repositories", f'last: 1, before: "{tail["pageInfo"]["startCursor"]}"'
    )
    assert before["edges"] == whole[-3:-2]


def test_a_cursor_that_is_not_one_is_an_error(http: httpx2.Client) -> None:
    body = ask(
        http, f'{{ {ORG} {{ repositories(first: 1, after: "nonsense") {{ totalCount }} }} }}'
    )
    assert body["data"] == {"organization": None}
    assert body["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


# ----- limits, cost and budget ------------------------------------------------------

REPOS_AND_COLLABORATORS = f"""{{ {ORG} {{ repositories(first: 100) {{ nodes {{
  collaborators(first: 100, affiliation: DIRECT) {{ nodes {{ login }} }} }} }} }}
  rateLimit {{ cost nodeCount remaining used limit resetAt }} }}"""


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        (
            "first: 101",
            "EXCESSIVE_PAGINATION",
            "Requesting 101 records on the `repositories` connection exceeds the `first` limit of 100 records.",
        ),
        (
            "last: 500",
            "EXCESSIVE_PAGINATION",
            "Requesting 500 records on the `repositories` connection exceeds the `last` limit of 100 records.",
        ),
        (
            "",
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the `repositories` connection.",
        ),
    ],
)
def test_pagination_outside_github_bounds_is_refused(
    http: httpx2.Client, sandbox: Sandbox, arguments: str, kind: str, message: str
) -> None:
    inner = f"({arguments})" if arguments else ""
    body = ask(http, f"{{ {ORG} {{ repositories{inner} {{ totalCount }} }} }}")
    assert body == {
        "errors": [{"type": kind, "message": message, "locations": [{"line": 1, "column": 33}]}]
    }
    assert sandbox.graphql_budget.report()["used"] == 0  # refused before it costs anything


def test_page_sizes_given_as_variables_count_too(http: httpx2.Client) -> None:
    query = f"query($n: Int) {{ {ORG} {{ repositories(first: $n) {{ totalCount }} }} }}"
    assert ask(http, query, n=101)["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert ask(http, query, n=2)["data"]["organization"]["repositories"]["totalCount"] == 5


def test_a_query_over_500000_nodes_is_refused(http: httpx2.Client, sandbox: Sandbox) -> None:
    # 100 repositories + 100 x 100 pull requests + 100 x 100 x 50 reviews = 510,100 nodes
    query = f"""{{ {ORG} {{ repositories(first: 100) {{ nodes {{ pullRequests(first: 100) {{
      nodes {{ ...reviews }} }} }} }} }} }}
      fragment reviews on PullRequest {{ reviews(first: 50) {{ totalCount }} }}"""
    [error] = ask(http, query)["errors"]
    assert error["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert "requesting up to 510,100 possible nodes" in error["message"]
    assert sandbox.graphql_budget.report()["used"] == 0
    assert "errors" not in ask(http, query.replace("first: 50", "first: 40"))


def test_cost_follows_githubs_formula_and_is_charged(http: httpx2.Client) -> None:
    # 1 request for the repositories + 100 for their collaborators: 101 / 100 -> cost 1
    rate = ask(http, REPOS_AND_COLLABORATORS)["data"]["rateLimit"]
    assert (rate["cost"], rate["nodeCount"]) == (1, 100 + 100 * 100)
    assert (rate["limit"], rate["used"], rate["remaining"]) == (5000, 1, 4999)
    # 1 + 100 pull request listings + 100 x 100 review listings = 10,101 -> cost 101
    query = f"""{{ {ORG} {{ repositories(first: 100) {{ nodes {{ pullRequests(first: 100) {{
      nodes {{ reviews(first: 40) {{ totalCount }} }} }} }} }} }} rateLimit {{ cost remaining }} }}"""
    assert ask(http, query)["data"]["rateLimit"] == {"cost": 101, "remaining": 4898}
    # 1 + 100 + 1 + 49 = 151 requests: 1.51 rounds to 2
    query = f"""{{ {ORG} {{ teams(first: 100) {{ nodes {{ members(first: 1) {{ totalCount }} }} }}
      repositories(first: 49) {{ nodes {{ collaborators(first: 1) {{ totalCount }} }} }} }}
      rateLimit {{ cost }} }}"""
    assert ask(http, query)["data"]["rateLimit"] == {"cost": 2}
    graphql = http.get("/rate_limit").json()["resources"]["graphql"]
    assert (graphql["used"], graphql["remaining"]) == (104, 4896)


def test_graphql_headers_report_the_graphql_budget(http: httpx2.Client) -> None:
    response = http.post("/graphql", json={"query": "{ rateLimit { cost } }"})
    assert response.headers["x-ratelimit-resource"] == "graphql"
    assert response.headers["x-ratelimit-used"] == "1"
    rest = http.get("/orgs/acme")
    assert (rest.headers["x-ratelimit-resource"], rest.headers["x-ratelimit-used"]) == ("core", "1")


def test_an_exhausted_budget_answers_rate_limited(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(STATE, graphql_rate_limit=102)
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as http:
        assert "data" in ask(http, REPOS_AND_COLLABORATORS)
        costly = f"""{{ {ORG} {{ repositories(first: 100) {{ nodes {{ pullRequests(first: 100) {{
          nodes {{ reviews(first: 40) {{ totalCount }} }} }} }} }} }} }}"""
        body = ask(http, costly)  # costs 101, 101 left: paid
        assert "errors" not in body
        refused = http.post("/graphql", json={"query": REPOS_AND_COLLABORATORS})
        assert refused.status_code == 200
        [error] = refused.json()["errors"]
        assert error["type"] == "RATE_LIMITED"
        assert error["message"].startswith("API rate limit exceeded for user ID ")
        assert refused.headers["x-ratelimit-remaining"] == "0"
        # REST has its own budget, untouched by GraphQL
        assert http.get("/orgs/acme").status_code == 200


def test_a_query_dearer_than_what_is_left_costs_nothing(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(STATE, graphql_rate_limit=50)
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as http:
        costly = f"""{{ {ORG} {{ repositories(first: 100) {{ nodes {{ pullRequests(first: 100) {{
          nodes {{ reviews(first: 40) {{ totalCount }} }} }} }} }} }} }}"""
        assert ask(http, costly)["errors"][0]["type"] == "RATE_LIMITED"
        assert ask(http, "{ rateLimit { remaining } }")["data"]["rateLimit"] == {"remaining": 49}


# ----- FORBIDDEN targets, lookups, GHES paths ----------------------------------------


def test_a_forbidden_repository_answers_forbidden_and_the_rest_still_reads(
    http: httpx2.Client,
) -> None:
    http.post("/_sandbox/graphql-forbid", json={"target": "repository:payments-api"})
    query = f"{{ {ORG} {{ repositories(first: 10) {{ nodes {{ name collaborators(first: 10, affiliation: DIRECT) {{ totalCount }} }} }} }} }}"
    body = ask(http, query)
    nodes = body["data"]["organization"]["repositories"]["nodes"]
    by_name = {n["name"]: n["collaborators"] for n in nodes}
    assert by_name["payments-api"] is None
    assert by_name["ledger"] == {"totalCount": 2}
    [error] = body["errors"]
    assert error["type"] == "FORBIDDEN"
    index = [n["name"] for n in nodes].index("payments-api")
    assert error["path"] == ["organization", "repositories", "nodes", index, "collaborators"]


def test_a_forbidden_team_is_null_with_forbidden(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(STATE, graphql_forbidden=["team:Platform"])
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as http:
        body = ask(
            http,
            f'{{ {ORG} {{ team(slug: "platform") {{ members(first: 5) {{ totalCount }} }} }} }}',
        )
    assert body["data"] == {"organization": {"team": None}}
    assert body["errors"][0]["type"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["organization", "team", "members"]


def test_unknown_targets_are_not_found_or_null(http: httpx2.Client) -> None:
    body = ask(http, '{ organization(login: "globex") { login } }')
    assert body["data"] == {"organization": None}
    assert body["errors"][0]["type"] == "NOT_FOUND"
    body = ask(
        http, f'{{ {ORG} {{ repository(name: "nope") {{ name }} team(slug: "nope") {{ slug }} }} }}'
    )
    assert body["data"] == {"organization": {"repository": None, "team": None}}
    assert [e["path"] for e in body["errors"]] == [["organization", "repository"]]
    body = ask(
        http,
        f'{{ {ORG} {{ repository(name: "access") {{ pullRequest(number: 99) {{ number }} }} }} }}',
    )
    assert (
        body["errors"][0]["message"] == "Could not resolve to a PullRequest with the number of 99."
    )


def test_nodes_are_found_by_their_global_ids(http: httpx2.Client) -> None:
    query = f"""{{ {ORG} {{ id repository(name: "access") {{ id pullRequest(number: 2) {{ id }} }}
      team(slug: "sre") {{ id }} membersWithRole(first: 1) {{ nodes {{ id }} }} }} }}"""
    org = ask(http, query)["data"]["organization"]
    ids = [
        org["id"],
        org["repository"]["id"],
        org["repository"]["pullRequest"]["id"],
        org["team"]["id"],
        org["membersWithRole"]["nodes"][0]["id"],
        "R_bm9wZQ",
    ]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on Repository { name } ... on PullRequest { number } ... on Team { slug } } }"""
    body = ask(http, query, ids=ids)
    assert [n and n["__typename"] for n in body["data"]["nodes"]] == [
        "Organization",
        "Repository",
        "PullRequest",
        "Team",
        "User",
        None,
    ]
    assert body["data"]["nodes"][2]["number"] == 2
    assert body["errors"][0]["path"] == ["nodes", 5]
    assert ask(http, "{ node(id: $id) { id } }".replace("$id", f'"{ids[3]}"'))["data"]["node"] == {
        "id": ids[3]
    }


def test_github_enterprise_server_paths(http: httpx2.Client) -> None:
    assert (
        ask(http, "{ rateLimit { cost } }", path="/api/graphql")["data"]["rateLimit"]["cost"] == 1
    )
    response = http.get("/api/v3/orgs/acme/repos", params={"per_page": 1})
    assert response.status_code == 200
    assert "/api/v3/orgs/acme/repos?per_page=1&page=2" in response.headers["link"]
    assert response.json()[0]["url"].endswith("/api/v3/repos/acme/access")


def test_rate_limit_reports_core_and_graphql_as_github_does(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    ask(http, "{ rateLimit { cost } }")
    http.get("/orgs/acme")
    body = http.get("/rate_limit").json()
    assert body["resources"]["core"] == {
        **body["rate"],
        "limit": 5000,
        "used": 1,
        "remaining": 4999,
    }
    graphql = body["resources"]["graphql"]
    assert (graphql["limit"], graphql["used"], graphql["remaining"]) == (5000, 1, 4999)
    schema = operations()["rate-limit/get"]["responses"]["200"]
    assert "graphql" in schema["properties"]["resources"]["properties"]
    assert [e for e in sandbox.exchanges if e.operation == "rate-limit/get"]
    assert [v for e in sandbox.exchanges for v in violations(e)] == []


def test_collaborators_by_affiliation_and_login(http: httpx2.Client) -> None:
    def logins(arguments: str) -> list[str]:
        query = f"{{ {ORG} {{ {REPO} {{ collaborators(first: 100, {arguments}) {{ nodes {{ login }} }} }} }} }}"
        nodes = ask(http, query)["data"]["organization"]["repository"]["collaborators"]["nodes"]
        return sorted(n["login"] for n in nodes)

    assert logins("affiliation: OUTSIDE") == ["carol"]
    everyone = logins("affiliation: ALL")
    # owners, members by the base role, the team's members, direct collaborators
    assert {"root-admin", "mona", "alice", "carol", "release-bot"} <= set(everyone)
    assert "dana" not in everyone
    assert logins('affiliation: ALL, login: "Root-Admin"') == ["root-admin"]
    query = f"""{{ {ORG} {{ {REPO} {{ collaborators(first: 1, login: "alice") {{ edges {{
      permission permissionSources {{ roleName source {{ __typename ... on Team {{ slug }} }} }}
      }} }} }} {TEAM} {{ organization {{ login }} }} }} }}"""
    org = ask(http, query)["data"]["organization"]
    [alice] = org["repository"]["collaborators"]["edges"]
    assert alice["permission"] == "MAINTAIN"
    assert alice["permissionSources"] == [
        {"roleName": "read", "source": {"__typename": "Organization"}},
        {"roleName": "maintain", "source": {"__typename": "Team", "slug": "platform"}},
    ]
    assert org["team"]["organization"] == {"login": "acme"}


def test_the_graphql_budget_is_full_again_in_a_new_window(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(STATE, graphql_rate_limit=1, rate_window_seconds=0)
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as http:
        for _ in range(3):  # every request finds its window over: each has the whole budget
            assert ask(http, "{ rateLimit { remaining } }")["data"]["rateLimit"] == {"remaining": 0}


def test_the_contract_check_finds_what_github_would_refuse() -> None:
    assert problems(COLLABORATORS, {"cursor": None}) == []
    assert problems(COLLABORATORS, {"cursor": 3}) != []
    assert problems("{ organization(login: ") != []
    assert problems('{ organization(login: "acme") { teams { totalCount } } }') == [
        "You must provide a `first` or `last` value to properly paginate the `teams` connection."
    ]
    assert problems("query A { rateLimit { cost } } query B { rateLimit { cost } }") == [
        "An operation name is required for a document of many."
    ]


def test_commits_lead_to_their_pull_requests_and_accounts(http: httpx2.Client) -> None:
    query = """query($oid: GitObjectID!) { organization(login: "acme") {
      repository(name: "access") {
        object(oid: $oid) { oid ... on Commit { author { user { login } name }
          associatedPullRequests(first: 5) { nodes { number merged } } } }
        unknown: object(oid: "0000000000000000000000000000000000000000") { oid } } } }"""
    repository = ask(http, query, oid="1a" * 20)["data"]["organization"]["repository"]
    assert repository["object"] == {
        "oid": "1a" * 20,
        "author": {"user": {"login": "requester"}, "name": "requester"},
        "associatedPullRequests": {"nodes": [{"number": 1, "merged": True}]},
    }
    assert repository["unknown"] is None
    merged = ask(http, query, oid="f" * 40)["data"]["organization"]["repository"]["object"]
    assert merged["associatedPullRequests"]["nodes"] == [{"number": 1, "merged": True}]
