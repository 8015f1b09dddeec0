"""A run makes no more changes than GitHub's secondary limits allow; what ends access
goes first, and the rest waits for the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grantops.access import Principal, Target
from grantops.audit.events import ChangeStarted
from grantops.plan import Action, Cause, Change, Plan
from grantops.writebudget import WriteLimits, cut, made_since

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _change(n: int, action: Action, cause: Cause) -> Change:
    after = None if action in ("remove", "cancel_invitation") else "push"
    before = None if action == "add" else "push"
    target = Target.repo("acme", f"repo-{n:03d}")
    return Change(action, Principal.user(f"user{n}"), target, before, after, cause, None)


def _plan(changes: list[Change]) -> Plan:
    return Plan(now=NOW, org="acme", changes=tuple(changes))


def test_a_plan_within_the_limits_is_left_as_it_is() -> None:
    plan = _plan([_change(n, "add", "grant") for n in range(80)])
    assert cut(plan, WriteLimits()) is plan


def test_over_the_minute_limit_adds_wait_and_endings_go_first() -> None:
    adds = [_change(n, "add", "grant") for n in range(150)]
    removals = [_change(n, "remove", "undeclared") for n in range(150, 190)]
    expiries = [_change(n, "remove", "expired") for n in range(190, 200)]
    lowered = [_change(n, "update", "grant") for n in range(200, 210)]
    # the plan's own order puts the expiries behind everything here
    plan = cut(_plan([*adds, *lowered, *removals, *expiries]), WriteLimits())
    assert len(plan.changes) == 80 and len(plan.deferred) == 130
    assert plan.changes[:10] == tuple(expiries)
    assert plan.changes[10:50] == tuple(removals)
    assert plan.changes[50:60] == tuple(lowered)
    assert plan.changes[60:] == tuple(adds[:20])
    assert plan.deferred == tuple(adds[20:])
    assert plan.deferral == (
        "deferred: 130 changes over GitHub's limit of 80 content-creating requests "
        "a minute; the next run makes them"
    )
    assert plan.to_json()["deferral"] == plan.deferral
    assert len(plan.to_json()["deferred"]) == 130


@pytest.mark.parametrize(("made", "allowed"), [(0, 80), (450, 50), (500, 0), (600, 0)])
def test_the_hour_limit_counts_what_earlier_runs_made(made: int, allowed: int) -> None:
    plan = cut(_plan([_change(n, "add", "grant") for n in range(100)]), WriteLimits(), made)
    assert len(plan.changes) == allowed
    assert len(plan.deferred) == 100 - allowed
    assert plan.deferral is not None
    limit = "a minute" if allowed == 80 else "500 content-creating requests an hour"
    assert limit in plan.deferral


def test_removals_are_never_deferred_whatever_the_count_says() -> None:
    """The hour's count comes from the audit log, a file in the repository: lines pushed
    into it must not keep access open, past its end or nobody's to begin with."""
    ending = [_change(n, "remove", "expired") for n in range(80)]
    ending += [_change(n, "remove", "revoked") for n in range(80, 90)]
    ending += [_change(n, "remove", "undeclared") for n in range(90, 100)]
    adds = [_change(n, "add", "grant") for n in range(100, 110)]
    for made in (0, 500, 10_000):
        plan = cut(_plan([*adds, *ending]), WriteLimits(), made)
        assert plan.changes == tuple(ending)
        assert plan.deferred == tuple(adds)


def test_changes_started_in_the_last_hour_are_counted_from_the_log() -> None:
    change = _change(1, "add", "grant")
    events = [
        ChangeStarted(ts=NOW - timedelta(minutes=minutes), run="r", change_id="c", change=change)
        for minutes in (5, 59, 61, 120, -30, -(10**6))  # the last two: dated after the run
    ]
    assert made_since(events, NOW - timedelta(hours=1), NOW) == 2
