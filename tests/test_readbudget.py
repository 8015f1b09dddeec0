"""Which targets the rate limit left at the start can read: what ends access always."""

from __future__ import annotations

from grantops.access import Target
from grantops.readbudget import graphql_budget, rest_budget, unaffordable

TARGETS = [Target.repo("acme", f"repo-{n:03d}") for n in range(100)]
ENDING = {TARGETS[50], TARGETS[99]}


def test_a_budget_that_covers_a_full_read_leaves_nothing_unread() -> None:
    assert unaffordable(TARGETS, ENDING, rest_budget(400), 100) == {}
    assert unaffordable(TARGETS, ENDING, graphql_budget(101), 100) == {}


def test_a_short_budget_reads_where_access_ends_then_the_rest_in_order() -> None:
    # 160 requests spare: 6 for the two ending targets, 154 for 51 of the others
    skipped = unaffordable(TARGETS, ENDING, rest_budget(260), 100)
    assert not ENDING & skipped.keys()
    others = [t for t in TARGETS if t not in ENDING]
    assert list(skipped) == others[51:]
    why = next(iter(skipped.values()))
    assert why.startswith("not read: 260 requests of the rate limit were left at the start")
    assert "~300 a full read of 100 targets" in why


def test_a_spent_budget_still_reads_where_access_ends() -> None:
    skipped = unaffordable(TARGETS, ENDING, graphql_budget(50), 100)
    assert len(skipped) == 98 and not ENDING & skipped.keys()
    assert "50 points" in next(iter(skipped.values()))
