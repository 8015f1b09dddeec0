"""When ``grantops watch`` wakes, and what a focused run may touch: pure, no network."""

from __future__ import annotations

from datetime import timedelta

from grantops.actual import ReadResult
from grantops.load import Loaded
from grantops.planning import build_plan
from grantops.run.focus import Focus
from grantops.watch.schedule import edges

from .builders import actual, grant, policy, repo, team_target, user
from .data import NOW

HOUR = timedelta(hours=1)


def stamp(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_start_and_end_after_now_in_order_with_its_access() -> None:
    grants = [
        grant("a.yaml", user="alice", repo="ledger", permission="push",
              starts=stamp(HOUR), expires=stamp(3 * HOUR)),
        grant("b.yaml", user="bob", repo="ledger", permission="push",
              starts=stamp(-HOUR), expires=stamp(HOUR)),
        grant("c.yaml", team="prod-deployers", user="mona", role="member",
              expires=stamp(2 * HOUR)),
        grant("old.yaml", user="carol", repo="ledger", permission="push",
              expires=stamp(-HOUR)),
    ]  # fmt: skip
    found = edges(policy(), grants, NOW)
    alice, bob = (user("alice"), repo("ledger")), (user("bob"), repo("ledger"))
    mona = (user("mona"), team_target("prod-deployers"))
    assert [(e.at - NOW, e.starts, e.ends) for e in found] == [
        (HOUR, {alice}, {bob}),
        (2 * HOUR, set(), {mona}),
        (3 * HOUR, set(), {alice}),
    ]
    assert found[0].kind_of((user("bob"), repo("ledger"))) == "end"
    assert found[0].kind_of((user("alice"), repo("ledger"))) == "start"


def test_unreviewed_grants_and_access_outside_the_scope_schedule_nothing() -> None:
    grants = [
        grant("a.yaml", user="alice", repo="ledger", permission="push", expires=stamp(HOUR)),
        grant("x.yaml", user="alice", repo="elsewhere", permission="push", expires=stamp(HOUR)),
        grant("d.yaml", user="alice", repo="ledger", permission="push", duration="4h"),
    ]
    assert edges(policy(), grants, NOW, lambda g: g.path != "grants/a.yaml") == []


def test_a_focused_policy_reconciles_only_its_targets() -> None:
    whole = policy()
    narrowed = whole.focused([repo("ledger"), repo("elsewhere"), team_target("prod-deployers")])
    assert narrowed.in_scope(repo("ledger")) and narrowed.in_scope(team_target("prod-deployers"))
    assert not narrowed.in_scope(repo("payments-api")) and not narrowed.in_scope(repo("elsewhere"))
    assert whole.in_scope(repo("payments-api"))  # the whole policy is unchanged
    assert narrowed.baseline == whole.baseline and narrowed.org == whole.org


def test_a_focused_run_keeps_only_the_changes_to_its_access() -> None:
    grants = (
        grant("a.yaml", user="alice", repo="ledger", permission="push", expires=stamp(HOUR)),
        grant("b.yaml", user="bob", repo="ledger", permission="push", expires=stamp(HOUR)),
    )
    now_state = actual(repos={"ledger": {"collaborators": {"mallory": "admin"}}})
    planning = build_plan(Loaded(policy(), grants, ()), now_state, NOW)
    assert len(planning.plan.changes) >= 3  # alice, bob, and mallory's drift
    focus = Focus(frozenset({(user("alice"), repo("ledger"))}), ReadResult(now_state))
    narrowed = focus.narrow(planning).plan
    assert [(str(c.principal), c.action) for c in narrowed.changes] == [("user:alice", "add")]
    assert focus.targets == {repo("ledger")}
