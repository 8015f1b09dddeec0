"""Invariants of desired state and plan, over generated grants and actual access."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState
from grantops.desired import desired_access
from grantops.model import Grant
from grantops.plan import Plan, make_plan
from grantops.values import format_timestamp

from .builders import grant, policy
from .conftest import NOW

POLICY = policy()
USERS = ["alice", "Bob", "carol", "release-bot", "acme-admin-bot"]
TEAMS = ["platform", "sre"]
REPOS = ["payments-api", "ledger", "deploy-x", "website"]  # website is outside managed scope
PERMISSIONS = ["pull", "triage", "push", "maintain", "security-auditor"]

offsets = st.integers(min_value=-72, max_value=72).map(lambda h: NOW + timedelta(hours=h))


@st.composite
def grants(draw: st.DrawFn) -> Grant:
    start = draw(offsets)
    end = start + timedelta(hours=draw(st.integers(min_value=1, max_value=72)))
    window = {"starts": format_timestamp(start), "expires": format_timestamp(end)}
    form = draw(st.sampled_from(["user-repo", "user-team", "team-repo"]))
    path = f"g{draw(st.integers(0, 999))}.yaml"
    if form == "user-team":
        role = draw(st.sampled_from(["member", "maintainer"]))
        return grant(
            path, user=draw(st.sampled_from(USERS)), team="prod-deployers", role=role, **window
        )
    repos = draw(st.lists(st.sampled_from(REPOS[:3]), min_size=1, max_size=3, unique=True))
    who = (
        {"user": draw(st.sampled_from(USERS))}
        if form == "user-repo"
        else {"team": draw(st.sampled_from(TEAMS))}
    )
    return grant(path, repos=repos, permission=draw(st.sampled_from(PERMISSIONS)), **who, **window)


grant_lists = st.lists(grants(), max_size=8, unique_by=lambda g: g.path)


def _keys() -> st.SearchStrategy[AccessKey]:
    return st.tuples(
        st.one_of(
            st.sampled_from(USERS).map(Principal.user), st.sampled_from(TEAMS).map(Principal.team)
        ),
        st.sampled_from(REPOS).map(lambda r: Target.repo("acme", r)),
    )


@st.composite
def actual_states(draw: st.DrawFn) -> ActualState:
    access = draw(st.dictionaries(_keys(), st.sampled_from([*PERMISSIONS, "admin"]), max_size=12))
    members = draw(
        st.dictionaries(
            st.sampled_from(USERS)
            .map(Principal.user)
            .map(lambda p: (p, Target.team("acme", "prod-deployers"))),
            st.sampled_from(["member", "maintainer"]),
            max_size=4,
        )
    )
    invitations = draw(
        st.dictionaries(
            st.tuples(
                st.sampled_from(USERS).map(Principal.user),
                st.sampled_from(REPOS).map(lambda r: Target.repo("acme", r)),
            ),
            st.sampled_from(PERMISSIONS),
            max_size=4,
        )
    )
    return ActualState("acme", {**access, **members}, invitations, frozenset({"alice"}))


def apply_in_memory(actual: ActualState, plan: Plan) -> ActualState:
    """What GitHub would hold after every change succeeded and invitations were accepted."""
    access, invitations = dict(actual.access), dict(actual.invitations)
    for change in plan.changes:
        key = (change.principal, change.target)
        if change.action in ("add", "update"):
            assert change.after is not None
            access[key] = change.after
        elif change.action == "remove":
            del access[key]
        else:
            del invitations[key]
    return ActualState(actual.org, access, invitations, actual.owners)


def _managed(state: dict[AccessKey, str]) -> dict[AccessKey, str]:
    return {k: v.lower() for k, v in state.items() if POLICY.in_scope(k[1])}


@settings(max_examples=200, deadline=None)
@given(grant_lists)
def test_plan_of_desired_against_itself_is_empty(gs: list[Grant]) -> None:
    desired = desired_access(POLICY, gs, NOW)
    mirror = ActualState("acme", {k: d.level for k, d in desired.access.items()})
    assert make_plan(POLICY, desired, mirror, NOW).changes == ()


@settings(max_examples=300, deadline=None)
@given(grant_lists, actual_states())
def test_applying_the_plan_yields_desired(gs: list[Grant], actual: ActualState) -> None:
    desired = desired_access(POLICY, gs, NOW)
    plan = make_plan(POLICY, desired, actual, NOW)
    after = apply_in_memory(actual, plan)
    kept = {(k.principal, k.target) for k in plan.kept}
    want = _managed({k: d.level for k, d in desired.access.items()})
    have = _managed(after.access)
    # pending invitations at the desired level count as granted once accepted
    for key, level in after.invitations.items():
        if POLICY.in_scope(key[1]) and key not in have and want.get(key) == level.lower():
            have[key] = level.lower()
    assert {k: v for k, v in have.items() if k not in kept} == {
        k: v for k, v in want.items() if k not in kept
    }
    assert make_plan(POLICY, desired, after, NOW).changes == ()  # idempotent: no churn


@settings(max_examples=200, deadline=None)
@given(grant_lists)
def test_no_grant_outside_its_window_is_desired(gs: list[Grant]) -> None:
    desired = desired_access(POLICY, gs, NOW)
    by_path = {g.path: g for g in gs}
    for entry in desired.access.values():
        if entry.cause == "grant":
            assert by_path[entry.source].active_at(NOW)
    for g in gs:
        if g.expires <= NOW:
            assert all(d.source != g.path for d in desired.access.values())


@settings(max_examples=200, deadline=None)
@given(grant_lists)
def test_highest_permission_wins(gs: list[Grant]) -> None:
    desired = desired_access(POLICY, gs, NOW)
    levels = POLICY.levels
    for g in gs:
        if not g.active_at(NOW):
            continue
        for principal, target, level in g.grantables("acme"):
            chosen = desired.access[(principal, target)].level
            assert levels.rank(target.kind, chosen) >= levels.rank(target.kind, level)


@settings(max_examples=200, deadline=None)
@given(grant_lists, actual_states())
def test_nothing_outside_scope_is_planned(gs: list[Grant], actual: ActualState) -> None:
    plan = make_plan(POLICY, desired_access(POLICY, gs, NOW), actual, NOW)
    assert all(POLICY.in_scope(c.target) for c in plan.changes)
    assert all(c.target.name != "website" for c in plan.changes)
