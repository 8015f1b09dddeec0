"""Brakes on a plan, checked apart from planning (pure).

A plan can be correct and still be a mistake: a policy edited down to nothing, a glob
that suddenly matches every repository, a read that came back short. These checks
refuse plans that would remove a lot of access nobody asked to remove. Expiries and
revokes never count: a routine wave of grants ending, or a reviewed pull request
deleting many grants, must not push anyone into using the override. That exemption
cannot be claimed by a file alone: with approval proof on, the plan calls a removal
``expired`` or ``revoked`` only when git and the reviews prove a reviewed grant gave the
access and then ended, or was deleted by a reviewed pull request
(:func:`grantops.plan.make_plan`), so grant files pushed already expired, or deleted
without review, still count.
"""

from __future__ import annotations

from dataclasses import dataclass

from grantops.actual import ActualState
from grantops.desired import DesiredState
from grantops.model import Policy
from grantops.plan import Plan

MIN_ENTRIES_FOR_FRACTION = 10
"""Below this many entries in scope, the fraction rule says nothing useful."""


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


@dataclass(frozen=True)
class Verdict:
    """Which rules the plan breaks, and whether ``--allow-mass-removal`` overrode them."""

    refusals: tuple[Refusal, ...]
    overridden: bool = False

    @property
    def safe(self) -> bool:
        return not self.refusals or self.overridden


def check(
    policy: Policy,
    desired: DesiredState,
    actual: ActualState,
    plan: Plan,
    allow_mass_removal: bool = False,
    focused: bool = False,
) -> Verdict:
    """Refuse mass undeclared removal and an empty desired state, with the numbers.

    A ``focused`` run (``grantops watch`` at a window's edge) sees only the targets whose
    access starts or ends: the fraction and the empty desired state say nothing about a
    few targets, so only the count applies; every full run checks all three."""
    in_scope = [
        key for key in actual.access if policy.in_scope(key[1]) and key[1] not in actual.unreadable
    ]
    undeclared = [c for c in plan.changes if c.action == "remove" and c.cause == "undeclared"]
    refusals = []
    limit = policy.safety.max_removals
    if len(undeclared) > limit:
        refusals.append(
            Refusal(
                "max_removals",
                f"{len(undeclared)} undeclared removals > max {limit} (safety.max_removals)",
            )
        )
    if focused:
        return Verdict(tuple(refusals), overridden=bool(refusals) and allow_mass_removal)
    fraction = policy.safety.max_removal_fraction
    if len(in_scope) >= MIN_ENTRIES_FOR_FRACTION and len(undeclared) > fraction * len(in_scope):
        share = len(undeclared) / len(in_scope)
        refusals.append(
            Refusal(
                "max_removal_fraction",
                f"{len(undeclared)} undeclared removals are {share:.0%} of the {len(in_scope)} "
                f"access entries in scope > max {fraction:.0%} (safety.max_removal_fraction)",
            )
        )
    desired_in_scope = [key for key in desired.access if policy.in_scope(key[1])]
    if not desired_in_scope and in_scope:
        refusals.append(
            Refusal(
                "empty_desired",
                f"the desired state is empty but {len(in_scope)} access entries exist in scope: "
                "the policy or the grants may have been lost",
            )
        )
    return Verdict(tuple(refusals), overridden=bool(refusals) and allow_mass_removal)
