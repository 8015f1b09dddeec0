"""The core pipeline from loaded files and actual access to a plan (pure).

``files -> approval -> desired(now) -> plan``. Approval verdicts are computed at the
edge (git history and GitHub's reviews, see :mod:`grantops.proof.prover`) and passed in; only
grants with a positive verdict reach :func:`desired_access`, so an unreviewed file can
never add access. Removals never wait for approval, but whether one is a routine
expiry or counts toward the brakes does: which access a reviewed, ended grant version
gave (``expiries``) is passed in as plain data too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState
from grantops.desired import DesiredState, desired_access
from grantops.load import Loaded
from grantops.plan import ENDINGS, MergeWindow, Plan, Unapproved, make_plan
from grantops.proof.review import Judgement
from grantops.values import format_duration


@dataclass(frozen=True)
class Planning:
    desired: DesiredState
    plan: Plan
    honoured: frozenset[str] = frozenset()
    """The paths of the grant files the plan honoured (open and proven, or not open)."""


def build_plan(
    loaded: Loaded,
    actual: ActualState,
    now: datetime,
    approvals: Mapping[str, Judgement] | None = None,
    invitations_sent: Mapping[tuple[Principal, Target, str | None], int] | None = None,
    expiries: Mapping[AccessKey, str] | None = None,
    held: Mapping[AccessKey, str] | None = None,
    limits: tuple[str, ...] = (),
    revoked: Mapping[AccessKey, str] | None = None,
) -> Planning:
    """Plan from the honoured grants; ``approvals=None`` means proof is switched off.

    A grant open at ``now`` is honoured only with a positive verdict; one without any
    verdict is not (fail closed), and neither is a ``duration:`` grant still pending
    with proof on: its approving merge could not be proven. With proof on, access is
    removed as ``expired`` only when ``expiries`` (from
    :meth:`grantops.proof.prover.Prover.expiries`) names it; otherwise it is
    ``undeclared`` and counts toward the brakes (none given: nothing is proven, fail
    closed). With proof off, every ended grant's removal is ``expired``: no review was
    checked for any grant, so none is singled out. ``revoked`` (from
    :meth:`grantops.proof.prover.Prover.revokes`) names access whose grant a reviewed pull
    request deleted: it is removed as ``revoked``, which the brakes do not count either.

    ``held`` goes to :func:`grantops.plan.make_plan`. ``limits`` says
    what this run could not prove (the policy, above all): then only expiries and
    revokes go ahead, and every other change is withheld with those reasons, so access
    still ends on time while nothing unproven is added or removed.
    """
    honoured = list(loaded.grants)
    unapproved: list[Unapproved] = []
    if approvals is not None:
        honoured = []
        for grant in loaded.grants:
            verdict = approvals.get(grant.path)
            waits = not grant.active_at(now) and not grant.pending
            if waits or (verdict is not None and verdict.approved):
                honoured.append(grant)
            else:
                unapproved.append(_unapproved(grant.path, verdict))
    desired = desired_access(loaded.policy, honoured, now)
    plan = make_plan(
        loaded.policy,
        desired,
        actual,
        now,
        invitations_sent,
        (expiries or {}) if approvals is not None else None,
        held,
        revoked if approvals is not None else None,
    )
    plan = replace(plan, unapproved=tuple(unapproved), windows=merge_windows(loaded))
    planned = only_expiries(plan, limits) if limits else plan
    return Planning(desired, planned, frozenset(g.path for g in honoured))


def _unapproved(path: str, verdict: Judgement | None) -> Unapproved:
    """Why a grant in its window gives nothing: not reviewed, not checked, not committed."""
    if verdict is None:
        return Unapproved(path, "no approval was checked", "unchecked")
    if verdict.undecided:
        return Unapproved(path, verdict.reason, "unchecked")
    return Unapproved(path, verdict.reason, "uncommitted" if verdict.uncommitted else "unreviewed")


def only_expiries(plan: Plan, limits: tuple[str, ...]) -> Plan:
    """``plan`` with every change but the expiries withheld, saying why (``limits``).

    A revoke goes ahead with the expiries: it too ends access because reviewed grants
    said so (a reviewed pull request deleted the grant), so nothing unproven decides it.
    """
    return replace(
        plan,
        changes=tuple(c for c in plan.changes if c.cause in ENDINGS),
        withheld=(*plan.withheld, *(c for c in plan.changes if c.cause not in ENDINGS)),
        limits=(*plan.limits, *limits),
    )


def merge_windows(loaded: Loaded) -> tuple[MergeWindow, ...]:
    """Each ``duration:`` grant's window, for people to check: computed from its
    approving merge, or pending (no start or end) until that merge is proven."""
    unit = loaded.policy.limits.duration_unit
    return tuple(
        MergeWindow(g.path, format_duration(g.duration, unit), g.starts, g.expires)
        for g in loaded.grants
        if g.duration is not None
    )
