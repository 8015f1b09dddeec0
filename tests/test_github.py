"""The GitHub client end to end, over real HTTP against the sandbox GitHub."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from grantops.access import Principal, Target
from grantops.desired import desired_access
from grantops.load import Loaded
from grantops.plan import Change, make_plan
from grantops.run.live import apply_plan, plan_live

from .builders import grant, policy
from .conftest import NOW
from .sandbox_fixtures import BASE_STATE, TOKEN, StartSandbox, client

OPEN = {"starts": "2026-11-30T09:00:00Z", "expires": "2026-11-30T18:00:00Z"}
POLICY = policy()


def _loaded(*grants: Any) -> Loaded:
    return Loaded(POLICY, tuple(grants), ())


def _state(**repos: Any) -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    for name, body in repos.items():
        state["repos"][name.replace("_", "-")] = body
    return state


def test_read_maps_github_vocabulary(start_sandbox: StartSandbox) -> None:
    state = _state(
        ledger={
            "collaborators": {"mona": "triage", "octocat": "security-auditor", "bob": "pull"},
            "invitations": {"carol": "push"},
            "expired_invitations": {"dana": "pull"},
            "teams": {"platform": "push", "sre": "maintain"},
        }
    )
    state["teams"]["prod-deployers"] = {
        "members": {"alice": "maintainer"},
        "pending": {"carol": "maintainer"},
    }
    sandbox = start_sandbox(state)
    with client(sandbox) as github:
        result = github.read(POLICY)
    actual = result.actual
    ledger = Target.repo("acme", "ledger")
    deployers = Target.team("acme", "prod-deployers")
    assert actual.access[(Principal.user("mona"), ledger)] == "triage"
    # bob is a maintainer of sre, which has maintain: GitHub reports the highest source
    assert actual.access[(Principal.user("bob"), ledger)] == "maintain"
    assert actual.access[(Principal.user("octocat"), ledger)] == "security-auditor"
    assert actual.access[(Principal.team("sre"), ledger)] == "maintain"
    assert actual.invitations[(Principal.user("carol"), ledger)] == "push"  # "write" on the wire
    assert actual.expired_invitations[(Principal.user("dana"), ledger)] == "pull"  # "read"
    assert actual.access[(Principal.user("alice"), deployers)] == "maintainer"
    assert actual.invitations[(Principal.user("carol"), deployers)] == "maintainer"
    assert actual.owners == frozenset({"root-admin"})
    assert actual.unreadable == {}
    # website is not managed: never read
    assert not any(t.name == "website" for _, t in actual.access)
    assert all(
        not k.startswith("GET repos/list-collaborators") or v == 3 for k, v in sandbox.stats.items()
    )


def test_every_change_kind_and_convergence(start_sandbox: StartSandbox) -> None:
    state = _state(
        payments_api={
            "collaborators": {"release-bot": "pull", "acme-admin-bot": "admin", "mona": "push"},
            "invitations": {"mallory": "push", "carol": "pull"},
            "teams": {"platform": "maintain", "contractors": "push"},
        }
    )
    state["teams"]["prod-deployers"] = {"members": {"alice": "maintainer"}}
    sandbox = start_sandbox(state)
    grants = [
        grant(
            "a.yaml", user="octocat", repo="payments-api", permission="push", **OPEN
        ),  # member: 204
        grant("b.yaml", user="dana", repo="ledger", permission="pull", **OPEN),  # outsider: 201
        grant("c.yaml", user="carol", repo="payments-api", permission="push", **OPEN),  # re-invite
        grant("d.yaml", team="sre", repos=["ledger"], permission="maintain", **OPEN),
        grant("e.yaml", user="hubot", team="prod-deployers", **OPEN),
        grant("f.yaml", user="dana", team="prod-deployers", **OPEN),  # outsider: pending
    ]
    with client(sandbox) as github:
        live = plan_live(_loaded(*grants), github, NOW)
        outcomes = apply_plan(live.plan, github, live.invitation_ids)
    planned = {
        (c.action, str(c.principal), c.target.name, c.before, c.after) for c in live.plan.changes
    }
    assert planned == {
        ("update", "user:release-bot", "payments-api", "pull", "push"),
        ("remove", "user:mona", "payments-api", "push", None),
        ("cancel_invitation", "user:mallory", "payments-api", "push", None),
        ("cancel_invitation", "user:carol", "payments-api", "pull", None),
        ("add", "user:carol", "payments-api", None, "push"),
        ("add", "user:octocat", "payments-api", None, "push"),
        ("remove", "team:contractors", "payments-api", "push", None),
        ("add", "user:dana", "ledger", None, "pull"),
        ("add", "team:sre", "ledger", None, "maintain"),
        ("add", "user:hubot", "prod-deployers", None, "member"),
        ("add", "user:dana", "prod-deployers", None, "member"),
        ("remove", "user:alice", "prod-deployers", "maintainer", None),
    }
    results = {
        (o.change.action, str(o.change.principal), o.change.target.name): o.result for o in outcomes
    }
    assert results[("add", "user:octocat", "payments-api")] == "done"
    assert results[("add", "user:dana", "ledger")] == "invited"
    assert results[("add", "user:carol", "payments-api")] == "invited"
    assert results[("add", "user:dana", "prod-deployers")] == "invited"
    assert all(r != "failed" for r in results.values())
    # converged: a second run right after plans nothing, pending invitations included
    with client(sandbox) as github:
        again = plan_live(_loaded(*grants), github, NOW)
    assert again.plan.changes == ()
    state = sandbox.state()
    assert state.repos["payments-api"].collaborators == {
        "acme-admin-bot": "admin",
        "octocat": "push",
        "release-bot": "push",
    }
    assert state.repos["payments-api"].invitations == {"carol": "push"}
    assert state.repos["payments-api"].teams == {"platform": "maintain"}
    assert state.repos["ledger"].teams == {"sre": "maintain"}
    assert state.teams["prod-deployers"].members == {"hubot": "member"}
    assert state.teams["prod-deployers"].pending == {"dana": "member"}


def test_pagination_follows_link_without_an_extra_page(start_sandbox: StartSandbox) -> None:
    people = [f"user{i:03d}" for i in range(250)]
    state = _state(ledger={"collaborators": dict.fromkeys(people, "push")})
    state["members"] = [*state["members"], *people]
    sandbox = start_sandbox(state)
    with client(sandbox) as github:
        actual = github.read(POLICY).actual
    ledger = Target.repo("acme", "ledger")
    assert sum(1 for (p, t) in actual.access if t == ledger and p.kind == "user") == 250
    # 250 collaborators at 100 per page: exactly 3 requests, none for an empty 4th page
    assert (
        sandbox.stats["GET repos/list-collaborators"] == 3 * 3 // 3 + 2
    )  # ledger 3, others 1 each
    assert sandbox.stats["GET repos/list-invitations"] == 3


def test_etags_make_a_second_read_free(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    with client(sandbox) as github:
        first = github.read(POLICY).actual
        remaining = int(sandbox.rate_headers()["x-ratelimit-remaining"])
        second = github.read(POLICY).actual
        assert int(sandbox.rate_headers()["x-ratelimit-remaining"]) == remaining
    assert first == second
    assert [e.status for e in sandbox.exchanges[-5:]] == [304] * 5


def test_inherited_role_name_causes_no_churn(start_sandbox: StartSandbox) -> None:
    # bob maintains team sre; sre has maintain on ledger. A grant gives bob push directly:
    # GitHub then lists bob as a direct collaborator with role_name "maintain".
    state = _state(ledger={"teams": {"sre": "maintain"}})
    sandbox = start_sandbox(state)
    grants = [
        grant("sre.yaml", team="sre", repo="ledger", permission="maintain", **OPEN),
        grant("bob.yaml", user="bob", repo="ledger", permission="push", **OPEN),
    ]
    with client(sandbox) as github:
        first = plan_live(_loaded(*grants), github, NOW)
        assert [(c.action, str(c.principal)) for c in first.plan.changes] == [("add", "user:bob")]
        apply_plan(first.plan, github, first.invitation_ids)
    assert sandbox.state().repos["ledger"].collaborators == {"bob": "push"}
    with client(sandbox) as github:
        second = plan_live(_loaded(*grants), github, NOW)
    assert (
        second.actual.access[(Principal.user("bob"), Target.repo("acme", "ledger"))] == "maintain"
    )
    assert second.plan.changes == ()
    assert sandbox.stats["GET teams/get-membership-for-user-in-org"] == 1


def test_lowering_a_direct_grant_still_happens_without_a_team_source(
    start_sandbox: StartSandbox,
) -> None:
    sandbox = start_sandbox(_state(ledger={"collaborators": {"mona": "maintain"}}))
    grants = [grant("m.yaml", user="mona", repo="ledger", permission="push", **OPEN)]
    with client(sandbox) as github:
        live = plan_live(_loaded(*grants), github, NOW)
        assert [(c.action, c.before, c.after) for c in live.plan.changes] == [
            ("update", "maintain", "push")
        ]
        apply_plan(live.plan, github, live.invitation_ids)
    assert sandbox.state().repos["ledger"].collaborators == {"mona": "push"}


def test_expired_invitation_is_cancelled_and_sent_again(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(_state(ledger={"expired_invitations": {"dana": "pull"}}))
    grants = [grant("d.yaml", user="dana", repo="ledger", permission="pull", **OPEN)]
    with client(sandbox) as github:
        live = plan_live(_loaded(*grants), github, NOW)
        assert [c.action for c in live.plan.changes] == ["cancel_invitation", "add"]
        outcomes = apply_plan(live.plan, github, live.invitation_ids)
    assert [o.result for o in outcomes] == ["done", "invited"]
    ledger = sandbox.state().repos["ledger"]
    assert ledger.invitations == {"dana": "pull"} and ledger.expired_invitations == {}


def test_plan_from_a_direct_desired_state_matches_the_sandbox(start_sandbox: StartSandbox) -> None:
    """The client's read and the state file describe the same org the same way."""
    sandbox = start_sandbox()
    from grantops.statefile import actual_from_state

    with client(sandbox) as github:
        read = github.read(POLICY).actual
    offline = actual_from_state(sandbox.state())
    managed = {k: v for k, v in offline.access.items() if POLICY.in_scope(k[1])}
    assert read.access == managed
    desired = desired_access(POLICY, [], NOW)
    assert make_plan(POLICY, desired, read, NOW) == make_plan(POLICY, desired, offline, NOW)


def test_change_on_missing_team_is_reported_not_raised(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    change = Change(
        "add",
        Principal.team("ghosts"),
        Target.repo("acme", "ledger"),
        None,
        "push",
        "grant",
        "grants/g.yaml",
    )
    with client(sandbox) as github:
        outcome = github.apply("acme", change, {})
    assert outcome.result == "failed"
    assert "HTTP 404" in outcome.detail


def test_the_given_token_is_used_even_when_ghapi_would_pick_another(
    start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = start_sandbox(token=TOKEN)
    monkeypatch.setenv("GITHUB_JWT_TOKEN", "some-other-jwt")
    with client(sandbox) as github:
        assert github.read(POLICY).actual.unreadable == {}
