"""Brakes, protected accounts and fail-closed planning: pure checks, one behaviour each."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from grantops.access import Target
from grantops.actual import ActualState
from grantops.desired import desired_access
from grantops.load import Loaded
from grantops.plan import make_plan
from grantops.planning import build_plan, only_expiries
from grantops.proof.review import Judgement
from grantops.safety import check

from .builders import actual, grant, policy
from .data import NOW
from .data import POLICY as POLICY_TEXT
from .test_properties import actual_states, apply_in_memory, grant_lists

POLICY = policy()
ENDED = {"starts": "2026-11-29T09:00:00Z", "expires": "2026-11-29T18:00:00Z"}
BASELINE = {"release-bot": "push"}


def _verdict(state: ActualState, grants: list[Any] | None = None, allow: bool = False) -> Any:
    desired = desired_access(POLICY, grants or [], NOW)
    plan = make_plan(POLICY, desired, state, NOW)
    return check(POLICY, desired, state, plan, allow), plan


def _collaborators(count: int, **extra: str) -> ActualState:
    people = {f"user{i:02d}": "push" for i in range(count)}
    return actual(
        repos={
            "payments-api": {
                "collaborators": {**BASELINE, **people, **extra},
                "teams": {"platform": "maintain"},
            }
        }
    )


def test_eleven_undeclared_removals_with_max_ten_are_refused() -> None:
    verdict, plan = _verdict(_collaborators(11))
    assert not verdict.safe
    assert len(plan.changes) == 11
    assert verdict.refusals[0].message == ("11 undeclared removals > max 10 (safety.max_removals)")


def test_ten_are_allowed_by_the_count_but_not_by_the_share() -> None:
    # 10 of 12 entries in scope: under the count, far over 25%
    verdict, _ = _verdict(_collaborators(10))
    assert [r.rule for r in verdict.refusals] == ["max_removal_fraction"]
    assert (
        "10 undeclared removals are 83% of the 12 access entries in scope > max 25%"
        in verdict.refusals[0].message
    )


def test_forty_percent_removal_is_refused() -> None:
    # 4 undeclared of 10 entries in scope = 40% > 25%
    people = {f"keep{i}": "push" for i in range(4)}
    grants = [
        grant(
            f"k{i}.yaml",
            user=f"keep{i}",
            repo="payments-api",
            permission="push",
            starts="2026-11-30T09:00:00Z",
            expires="2026-11-30T18:00:00Z",
        )
        for i in range(4)
    ]
    state = actual(
        repos={
            "payments-api": {
                "collaborators": {**BASELINE, **people, **{f"gone{i}": "pull" for i in range(4)}},
                "teams": {"platform": "maintain"},
            }
        }
    )
    verdict, _ = _verdict(state, grants)
    assert [r.message for r in verdict.refusals] == [
        "4 undeclared removals are 40% of the 10 access entries in scope > max 25% (safety.max_removal_fraction)"
    ]


def test_an_empty_desired_state_is_refused() -> None:
    empty = policy(POLICY_TEXT.split("baseline:")[0])
    state = actual(repos={"ledger": {"collaborators": {"alice": "push"}}})
    desired = desired_access(empty, [], NOW)
    plan = make_plan(empty, desired, state, NOW)
    verdict = check(empty, desired, state, plan)
    assert [r.rule for r in verdict.refusals] == ["empty_desired"]
    assert (
        "the desired state is empty but 1 access entries exist in scope"
        in verdict.refusals[0].message
    )


def test_the_override_is_recorded() -> None:
    verdict, _ = _verdict(_collaborators(11), allow=True)
    assert verdict.safe and verdict.overridden
    assert len(verdict.refusals) == 2


def test_a_wave_of_expiries_never_brakes() -> None:
    grants = [
        grant(f"e{i}.yaml", user=f"user{i:02d}", repo="payments-api", permission="push", **ENDED)
        for i in range(30)
    ]
    verdict, plan = _verdict(_collaborators(30), grants)
    assert len(plan.changes) == 30 and {c.cause for c in plan.changes} == {"expired"}
    assert verdict.refusals == ()


def test_protected_owner_and_own_account_are_left_out_and_said() -> None:
    state = replace(
        actual(
            owners=["root-admin"],
            repos={
                "payments-api": {
                    "collaborators": {
                        **BASELINE,
                        "acme-admin-bot": "admin",
                        "root-admin": "admin",
                        "grantops-bot": "push",
                    },
                    "teams": {"platform": "maintain"},
                }
            },
        ),
        viewer="grantops-bot",
    )
    verdict, plan = _verdict(state)
    assert plan.changes == ()
    assert verdict.refusals == ()
    assert [(str(k.principal), k.reason) for k in plan.kept] == [
        ("user:acme-admin-bot", "protected account"),
        ("user:grantops-bot", "grantops' own account"),
        ("user:root-admin", "org owner"),
    ]


def test_unreadable_repo_removes_only_ended_grants() -> None:
    ledger = Target.repo("acme", "ledger")
    state = replace(_collaborators(0), unreadable={ledger: "list teams of acme/ledger: HTTP 502"})
    grants = [
        grant("old.yaml", user="mona", repo="ledger", permission="push", **ENDED),
        grant(
            "new.yaml",
            user="dana",
            repo="ledger",
            permission="push",
            starts="2026-11-30T09:00:00Z",
            expires="2026-11-30T18:00:00Z",
        ),
        grant("oldadmin.yaml", user="acme-admin-bot", repo="ledger", permission="push", **ENDED),
    ]
    _, plan = _verdict(state, grants)
    assert [(c.action, str(c.principal), c.before, c.cause) for c in plan.changes] == [
        ("remove", "user:mona", None, "expired")
    ]  # no add for dana; the protected bot stays
    assert [(str(k.principal), k.level) for k in plan.kept] == [("user:acme-admin-bot", "unknown")]


PROTECTED = frozenset({"acme-admin-bot", "alice"})  # alice: the owner in actual_states()


@settings(max_examples=200, deadline=None)
@given(grant_lists, actual_states())
def test_a_protected_account_never_appears_in_a_removal(
    grants: list[Any], state: ActualState
) -> None:
    plan = make_plan(POLICY, desired_access(POLICY, grants, NOW), state, NOW)
    for change in plan.changes:
        if change.principal.kind == "user" and change.principal.key in PROTECTED:
            assert change.action in ("add", "update")
            if change.action == "update":
                assert POLICY.levels.rank(
                    change.target.kind, change.after or ""
                ) > POLICY.levels.rank(change.target.kind, change.before or "")


@settings(max_examples=200, deadline=None)
@given(grant_lists, actual_states())
def test_after_apply_no_ended_grant_keeps_access(grants: list[Any], state: ActualState) -> None:
    desired = desired_access(POLICY, grants, NOW)
    after = apply_in_memory(state, make_plan(POLICY, desired, state, NOW))
    for key in desired.ended:
        if key in after.access and key[0].key not in PROTECTED and POLICY.in_scope(key[1]):
            assert key in desired.access  # still there only because something else declares it


@settings(max_examples=200, deadline=None)
@given(grant_lists, actual_states(), st.data())
def test_an_unapproved_grant_never_yields_an_add(
    grants: list[Any], state: ActualState, data: st.DataObject
) -> None:
    refused = {g.path for g in grants if data.draw(st.booleans())}
    approvals = {g.path: Judgement(g.path not in refused, "test") for g in grants}
    planning = build_plan(Loaded(POLICY, tuple(grants), ()), state, NOW, approvals)
    levels = POLICY.levels
    gives = [
        c
        for c in planning.plan.changes
        if c.action == "add"
        or (
            c.action == "update"
            and levels.rank(c.target.kind, c.after or "")
            > levels.rank(c.target.kind, c.before or "")
        )
    ]
    sources = {c.source for c in gives}
    assert not sources & refused
    assert {u.source for u in planning.plan.unapproved} == {
        g.path for g in grants if g.path in refused and g.active_at(NOW)
    }


def test_expired_decoys_do_not_hide_undeclared_removals_from_the_brakes() -> None:
    """Twelve people nobody declared, named by grant files pushed already expired."""
    decoys = [
        grant(f"d{i}.yaml", user=f"user{i:02d}", repo="payments-api", permission="push", **ENDED)
        for i in range(12)
    ]
    loaded = Loaded(POLICY, tuple(decoys), ())
    state = _collaborators(12)
    # approval proof on: no expired file needs a verdict; none was ever proven
    planning = build_plan(loaded, state, NOW, approvals={})
    verdict = check(POLICY, planning.desired, state, planning.plan)
    assert {c.cause for c in planning.plan.changes} == {"undeclared"}
    assert "12 undeclared removals > max 10 (safety.max_removals)" in [
        r.message for r in verdict.refusals
    ]
    # the same twelve grants, each a reviewed version that has ended: a routine wave
    ended = {(p, t): g.path for g in decoys for p, t, _ in g.grantables("acme")}
    planning = build_plan(loaded, state, NOW, approvals={}, expiries=ended)
    assert {c.cause for c in planning.plan.changes} == {"expired"}
    assert check(POLICY, planning.desired, state, planning.plan).refusals == ()
    # approval proof off: the files are taken at their word, as before
    planning = build_plan(loaded, state, NOW)
    assert {c.cause for c in planning.plan.changes} == {"expired"}


def test_reviewed_revokes_pass_the_brakes_and_a_limited_run() -> None:
    """Twelve people whose reviewed grants a reviewed pull request deleted: meant, like
    expiries, so neither the brakes nor a run limited to expiries stop them."""
    state = _collaborators(12)
    loaded = Loaded(POLICY, (), ())
    revoked = {
        key: f"grants/{key[0].name}.yaml" for key in state.access if key[0].name.startswith("user")
    }
    planning = build_plan(loaded, state, NOW, approvals={}, revoked=revoked)
    assert {c.cause for c in planning.plan.changes} == {"revoked"}
    assert check(POLICY, planning.desired, state, planning.plan).refusals == ()
    limited = only_expiries(planning.plan, ("the policy is not proven reviewed",))
    assert limited.changes == planning.plan.changes and limited.withheld == ()
    # without the proof, the same twelve removals are drift: counted, and withheld
    planning = build_plan(loaded, state, NOW, approvals={})
    assert "12 undeclared removals > max 10 (safety.max_removals)" in [
        r.message for r in check(POLICY, planning.desired, state, planning.plan).refusals
    ]
    assert only_expiries(planning.plan, ("limited",)).changes == ()
