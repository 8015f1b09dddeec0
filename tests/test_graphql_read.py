"""Reads through GraphQL end to end, on the sandbox: the same ReadResult as REST, at a
fraction of the requests, with every connection paged and every failure fail-closed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from grantops.access import Principal, Target
from grantops.actual import ReadResult
from grantops.github import GitHub, RetryPolicy
from grantops.load import Loaded
from grantops.run.live import apply_plan, plan_live
from grantops.sandbox import Sandbox
from grantops.sandbox.server import FaultRule

from .builders import grant, policy
from .conftest import GRANT, NOW
from .sandbox_fixtures import BASE_STATE, TOKEN, StartSandbox, access_env, live_repo
from .test_cli import run
from .test_cli_live import AT

OPEN = {"starts": "2026-11-30T09:00:00Z", "expires": "2026-11-30T18:00:00Z"}
POLICY = policy()
ALL_REPOS = policy(
    """\
org: acme
managed:
  repos: ["*"]
  teams: [prod-deployers, platform, sre]
roles:
  security-auditor: triage
"""
)


def gh(sandbox: Sandbox, read_api: str, **retry: Any) -> GitHub:
    """A client for the sandbox reading through ``read_api``, never sleeping."""
    settings = RetryPolicy(**{"mutation_interval": 0.0, **retry})
    return GitHub(
        sandbox.url, TOKEN, timeout=5.0, retry=settings, sleep=lambda s: None, read_api=read_api
    )


def read(sandbox: Sandbox, read_api: str, pol: Any = POLICY) -> ReadResult:
    with gh(sandbox, read_api) as github:
        return github.read(pol)


def both(sandbox: Sandbox, pol: Any = POLICY) -> tuple[ReadResult, ReadResult]:
    """The REST read and the GraphQL read of the same org."""
    return read(sandbox, "rest", pol), read(sandbox, "graphql", pol)


def rich_state() -> dict[str, Any]:
    """Custom roles, teams, members, maintainers, pending and expired invitations."""
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {
        "collaborators": {"mona": "triage", "octocat": "security-auditor", "bob": "pull"},
        "invitations": {"carol": "push"},
        "expired_invitations": {"dana": "pull"},
        "teams": {"platform": "push", "sre": "maintain"},
    }
    state["repos"]["deploy-api"] = {
        "collaborators": {"hubot": "security-auditor", "alice": "maintain"},
        "teams": {"platform": "security-auditor"},
    }
    state["teams"]["prod-deployers"] = {
        "members": {"alice": "maintainer", "mona": "member"},
        "pending": {"carol": "maintainer"},
    }
    return state


def test_graphql_and_rest_read_the_same(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state())
    rest, graphql = both(sandbox)
    assert graphql == rest
    deploy = Target.repo("acme", "deploy-api")
    assert graphql.actual.access[(Principal.user("hubot"), deploy)] == "security-auditor"
    assert graphql.actual.access[(Principal.team("platform"), deploy)] == "security-auditor"
    assert graphql.role_bases == {"security-auditor": "triage"}


def test_unreadable_targets_are_the_same_through_both(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state())
    text = "org: acme\nmanaged:\n  repos: [ledger, gone-repo]\n  teams: [prod-deployers, gone]\n"
    rest, graphql = both(sandbox, policy(text))
    assert graphql == rest
    assert set(graphql.actual.unreadable) == {
        Target.repo("acme", "gone-repo"),
        Target.team("acme", "gone"),
    }


def big_state(repos: int = 250, people: int = 0) -> dict[str, Any]:
    """An org of ``repos`` repositories, each with a collaborator, plus ``people`` members
    who are collaborators of ledger and members of team sre."""
    state = copy.deepcopy(BASE_STATE)
    crowd = [f"user{i:03d}" for i in range(people)]
    state["members"] = [*state["members"], *crowd]
    for i in range(repos):
        state["repos"][f"svc-{i:03d}"] = {"collaborators": {"mona": "push"}}
    state["repos"]["ledger"] = {"collaborators": dict.fromkeys(crowd, "push")}
    state["teams"]["sre"] = {"members": {"bob": "maintainer", **dict.fromkeys(crowd, "member")}}
    return state


def test_every_connection_is_paged_to_its_end(start_sandbox: StartSandbox) -> None:
    state = big_state(repos=250, people=230)
    # a team with access to more than 100 repositories, and more than 100 teams
    for i in range(250):
        state["repos"][f"svc-{i:03d}"]["teams"] = {"platform": "pull"}
    for i in range(105):
        state["teams"][f"squad-{i:03d}"] = {}
    state["repos"]["ledger"]["teams"] = {"squad-104": "push"}
    sandbox = start_sandbox(state)
    rest, graphql = both(sandbox, ALL_REPOS)
    assert graphql == rest
    access = graphql.actual.access
    ledger, sre = Target.repo("acme", "ledger"), Target.team("acme", "sre")
    assert sum(1 for p, t in access if t == ledger and p.kind == "user") == 230
    assert sum(1 for p, t in access if t == sre) == 231
    assert access[(Principal.user("bob"), sre)] == "maintainer"
    platform = Principal.team("platform")
    assert sum(1 for p, t in access if p == platform) == 250 + 1  # svc-* and payments-api
    assert access[(Principal.team("squad-104"), ledger)] == "push"


def test_a_250_repository_plan_costs_far_fewer_requests_through_graphql(
    start_sandbox: StartSandbox,
) -> None:
    stats = {}
    for api in ("rest", "graphql"):
        sandbox = start_sandbox(big_state(repos=250))
        read(sandbox, api, ALL_REPOS)
        stats[api] = dict(sandbox.stats)
    repos = 254  # svc-000 ... svc-249 and the four of the base state
    assert stats["rest"]["total"] >= 3 * repos  # collaborators, invitations, teams each
    # GraphQL: 3 batches of repositories, 1 of teams, 1 per managed team's members
    assert stats["graphql"]["POST graphql"] == 3 + 1 + 3
    # what only REST says: one invitation listing per repository (and per team)
    assert stats["graphql"]["GET repos/list-invitations"] == repos
    assert stats["graphql"]["total"] <= repos + 20
    assert "GET repos/list-collaborators" not in stats["graphql"]


def test_custom_roles_cause_no_churn_through_graphql(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(copy.deepcopy(BASE_STATE))
    grants = [
        grant("o.yaml", user="octocat", repo="ledger", permission="security-auditor", **OPEN),
        grant("p.yaml", team="sre", repo="ledger", permission="security-auditor", **OPEN),
    ]
    loaded = Loaded(POLICY, tuple(grants), ())
    with gh(sandbox, "graphql") as github:
        first = plan_live(loaded, github, NOW)
        assert {c.action for c in first.plan.changes} == {"add"}
        apply_plan(first.plan, github, first.invitation_ids)
    assert sandbox.state().repos["ledger"].collaborators == {"octocat": "security-auditor"}
    with gh(sandbox, "graphql") as github:
        second = plan_live(loaded, github, NOW)
    assert second.plan.changes == ()


def test_a_repository_graphql_forbids_is_read_through_rest(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_forbidden=["repository:ledger"])
    rest = read(sandbox, "rest")
    sandbox.stats.clear()
    graphql = read(sandbox, "graphql")
    assert graphql == rest
    assert graphql.actual.access[(Principal.user("mona"), Target.repo("acme", "ledger"))]
    # only ledger went to REST; the other managed repositories were read through GraphQL
    assert sandbox.stats["GET repos/list-collaborators"] == 1
    assert sandbox.stats["GET repos/list-teams"] == 1 + 1  # ledger, and deploy-api's custom role


def test_a_team_graphql_forbids_is_read_through_rest(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_forbidden=["team:prod-deployers"])
    rest = read(sandbox, "rest")
    sandbox.stats.clear()
    graphql = read(sandbox, "graphql")
    assert graphql == rest
    deployers = Target.team("acme", "prod-deployers")
    assert graphql.actual.access[(Principal.user("alice"), deployers)] == "maintainer"
    assert sandbox.stats["GET teams/list-members-in-org"] == 2  # maintainers, then members
    # its repositories could not be listed either: every repository's teams come from REST
    assert sandbox.stats["GET repos/list-teams"] == 3


def test_a_failed_teams_query_leaves_repositories_unreadable_never_empty(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(rich_state())
    sandbox.settings.faults.append(FaultRule("POST /graphql", status=502, times=2))
    with gh(sandbox, "graphql", attempts=2) as github:
        result = github.read(POLICY)
    repos = {t for t in result.actual.unreadable if t.kind == "repo"}
    assert repos == {Target.repo("acme", n) for n in ("payments-api", "ledger", "deploy-api")}
    assert all("team access could not be read" in why for why in result.actual.unreadable.values())
    assert not any(t.kind == "repo" for _, t in result.actual.access)
    # the managed team was still read
    assert (Principal.user("alice"), Target.team("acme", "prod-deployers")) in result.actual.access


def test_a_missing_page_of_collaborators_leaves_the_repository_unreadable(
    start_sandbox: StartSandbox,
) -> None:
    # three points: teams, the batch, the second page of ledger; the third page is refused
    sandbox = start_sandbox(big_state(repos=0, people=250), graphql_rate_limit=3)
    ledger = Target.repo("acme", "ledger")
    with gh(sandbox, "graphql", attempts=1) as github:
        result = github.read(ALL_REPOS, first=[ledger])
    assert "read collaborators of acme/ledger" in result.actual.unreadable[ledger]
    assert "RATE_LIMITED" in result.actual.unreadable[ledger]
    assert not any(t == ledger for _, t in result.actual.access)
    # what was not in first was left unread for lack of budget, saying so
    others = {t: why for t, why in result.actual.unreadable.items() if t != ledger}
    assert others
    assert all("kept for changes" in why for why in others.values())


def test_plan_reads_through_graphql_when_asked(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    outputs = {}
    for api in ("rest", "graphql"):
        root, sandbox = live_repo(start_sandbox, tmp_path / api, {"g.yaml": GRANT})
        args = ("plan", "--root", str(root), "--now", AT, "--read-api", api)
        code, outputs[api], err = run(*args, environ=access_env(sandbox.url))
        assert code == 0, err
        assert ("POST graphql" in sandbox.stats) == (api == "graphql")
    assert outputs["graphql"] == outputs["rest"]
    assert "user:octocat" in outputs["graphql"]


def test_plan_uses_the_graphql_url_actions_gives(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    # the sandbox answers GraphQL where GitHub Enterprise Server does, too
    environ = {**access_env(sandbox.url), "GITHUB_GRAPHQL_URL": f"{sandbox.url}/api/graphql"}
    args = ("plan", "--root", str(root), "--now", AT, "--read-api", "graphql")
    code, _, err = run(*args, environ=environ)
    assert code == 0, err
    posted = {e.path for e in sandbox.exchanges if e.method == "POST"}
    assert posted == {"/api/graphql"}


def test_graphql_points_left_reach_the_budget_logic(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_rate_limit=150)
    with gh(sandbox, "graphql") as github:
        assert github.budget_left(200) is None  # nothing known before a query
        github.read(POLICY)
        left = github.budget_left(200)
        assert github.budget_left(100) is None  # more than the reserve is left
    # teams, one batch of repositories, one managed team: a point each
    assert left == 150 - 3
    with gh(sandbox, "rest") as github:
        github.read(POLICY)
        assert github.budget_left(200) is None  # the REST budget is apart, and plenty


def test_reads_stop_at_the_reserve_of_graphql_points(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_rate_limit=50)
    with gh(sandbox, "graphql") as github:
        result = github.read(POLICY)
    unread = result.actual.unreadable
    assert len(unread) == 4  # three repositories and the managed team
    assert all("kept for changes" in why for why in unread.values())
    assert sandbox.stats.get("POST graphql", 0) == 0  # /rate_limit told what was left


def test_an_org_graphql_forbids_is_read_through_rest(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_forbidden=["organization:acme"])
    rest = read(sandbox, "rest")
    sandbox.stats.clear()
    graphql = read(sandbox, "graphql")
    assert graphql == rest
    assert graphql.actual.unreadable == {}
    # every target went to REST: teams, the batch, the managed team each asked once
    assert sandbox.stats["POST graphql"] == 3
    assert sandbox.stats["GET repos/list-collaborators"] == 3


def test_a_failed_invitation_listing_leaves_its_repository_unreadable(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(rich_state())
    sandbox.settings.faults.append(FaultRule("GET /repos/acme/ledger/invitations", times=1))
    with gh(sandbox, "graphql", attempts=1) as github:
        result = github.read(POLICY)
    ledger = Target.repo("acme", "ledger")
    assert "list invitations of acme/ledger" in result.actual.unreadable[ledger]
    assert not any(t == ledger for _, t in result.actual.access)
    assert set(result.actual.unreadable) == {ledger}


def test_graphql_points_soon_renewed_are_not_short(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(rich_state(), graphql_rate_limit=150, rate_window_seconds=60)
    with gh(sandbox, "graphql") as github:
        github.read(POLICY)
        # 147 points are left, but the window renews within the wait a run allows
        assert github.budget_left(200) is None


def test_a_team_role_the_policy_does_not_declare_is_read_by_name(
    start_sandbox: StartSandbox,
) -> None:
    # deployer extends push; the policy does not name it. alice, a direct collaborator of
    # ledger, is in platform, so her sources show the role by name, which GraphQL cannot
    # rank: ledger is read through REST.
    state = rich_state()
    state["custom_roles"]["deployer"] = "push"
    state["repos"]["ledger"]["teams"]["platform"] = "deployer"
    state["repos"]["ledger"]["collaborators"]["alice"] = "pull"
    sandbox = start_sandbox(state)
    rest, graphql = both(sandbox)
    assert graphql == rest
    ledger = Target.repo("acme", "ledger")
    assert graphql.actual.access[(Principal.team("platform"), ledger)] == "deployer"


def test_plan_reads_through_graphql_by_default(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    code, out, err = run("plan", "--root", str(root), "--now", AT, environ=access_env(sandbox.url))
    assert code == 0, err
    assert sandbox.stats["POST graphql"] >= 1
    assert "GET repos/list-collaborators" not in sandbox.stats
    assert "user:octocat" in out
