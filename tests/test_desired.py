"""Desired access: baseline plus grants open at ``now``; the highest level wins."""

from __future__ import annotations

from grantops.desired import Desired, desired_access

from .builders import grant, policy, repo, team, team_target, user
from .conftest import NOW

OPEN = {"starts": "2026-11-30T09:00:00Z", "expires": "2026-11-30T18:00:00Z"}
ENDED = {"starts": "2026-11-29T09:00:00Z", "expires": "2026-11-30T12:00:00Z"}  # ends exactly at NOW
FUTURE = {"starts": "2026-11-30T12:00:01Z", "expires": "2026-11-30T18:00:00Z"}


def test_baseline_alone() -> None:
    state = desired_access(policy(), [], NOW)
    assert state.access == {
        (team("platform"), repo("payments-api")): Desired(
            "maintain", "baseline", "grants/policy.yaml"
        ),
        (user("release-bot"), repo("payments-api")): Desired(
            "push", "baseline", "grants/policy.yaml"
        ),
    }
    assert state.ended == {}


def test_window_is_half_open() -> None:
    grants = [
        grant("open.yaml", user="a", repo="ledger", permission="push", **OPEN),
        grant("ended.yaml", user="b", repo="ledger", permission="push", **ENDED),
        grant("future.yaml", user="c", repo="ledger", permission="push", **FUTURE),
        grant(
            "nostart.yaml",
            user="d",
            repo="ledger",
            permission="pull",
            expires="2026-11-30T12:00:01Z",
        ),
    ]
    state = desired_access(policy(), grants, NOW)
    granted = {p.key for (p, t), d in state.access.items() if d.cause == "grant"}
    assert granted == {"a", "d"}
    assert state.ended == {(user("b"), repo("ledger")): "grants/ended.yaml"}
    assert [g.path for g in state.upcoming] == ["grants/future.yaml"]


def test_highest_level_wins_across_grants_and_baseline() -> None:
    grants = [
        grant("low.yaml", user="release-bot", repo="payments-api", permission="pull", **OPEN),
        grant("high.yaml", team="platform", repo="payments-api", permission="push", **OPEN),
        grant("top.yaml", user="Release-Bot", repo="Payments-API", permission="maintain", **OPEN),
        grant("custom.yaml", user="x", repos=["ledger"], permission="security-auditor", **OPEN),
        grant("triage.yaml", user="x", repo="ledger", permission="triage", **OPEN),
    ]
    state = desired_access(policy(), grants, NOW)
    assert state.access[(user("release-bot"), repo("payments-api"))] == Desired(
        "maintain", "grant", "grants/top.yaml"
    )
    # platform keeps its baseline maintain: a lower grant never lowers access
    assert state.access[(team("platform"), repo("payments-api"))].level == "maintain"
    # a custom role based on triage outranks plain triage
    assert state.access[(user("x"), repo("ledger"))].level == "security-auditor"


def test_equal_levels_prefer_baseline_then_first_file() -> None:
    grants = [
        grant("b.yaml", user="release-bot", repo="payments-api", permission="push", **OPEN),
        grant("z.yaml", user="y", repo="ledger", permission="push", **OPEN),
        grant("a.yaml", user="y", repo="ledger", permission="push", **OPEN),
    ]
    state = desired_access(policy(), grants, NOW)
    assert state.access[(user("release-bot"), repo("payments-api"))].source == "grants/policy.yaml"
    assert state.access[(user("y"), repo("ledger"))].source == "grants/a.yaml"


def test_team_membership_and_multi_repo_grants() -> None:
    grants = [
        grant("m.yaml", user="hubot", team="prod-deployers", role="maintainer", **OPEN),
        grant("t.yaml", team="sre", repos=["ledger", "deploy-x"], permission="maintain", **OPEN),
    ]
    state = desired_access(policy(), grants, NOW)
    assert state.access[(user("hubot"), team_target("prod-deployers"))].level == "maintainer"
    assert {t.name for (p, t) in state.access if p == team("sre")} == {"ledger", "deploy-x"}
