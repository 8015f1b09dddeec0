"""The core pipeline from loaded files and actual access to a plan (pure).

``files -> approval -> desired(now) -> plan``. Approval verdicts are computed at the
edge (git history and GitHub's reviews, see :mod:`grantops.prove`) and passed in; only
grants with a positive verdict reach :func:`desired_access`, so an unreviewed file can
never add access, while removals never depend on approval at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from grantops.access import Principal, Target
from grantops.approval import Approval
from grantops.desired import DesiredState, desired_access
from grantops.load import Loaded
from grantops.plan import Plan, Unapproved, make_plan
from grantops.state import ActualState


@dataclass(frozen=True)
class Planning:
    desired: DesiredState
    plan: Plan


def build_plan(
    loaded: Loaded,
    actual: ActualState,
    now: datetime,
    approvals: Mapping[str, Approval] | None = None,
    invitations_sent: Mapping[tuple[Principal, Target, str | None], int] | None = None,
) -> Planning:
    """Plan from the honoured grants; ``approvals=None`` means proof is switched off.

    A grant open at ``now`` is honoured only with a positive verdict; one without any
    verdict is not (fail closed).
    """
    honoured = list(loaded.grants)
    unapproved: list[Unapproved] = []
    if approvals is not None:
        honoured = []
        for grant in loaded.grants:
            verdict = approvals.get(grant.path)
            if not grant.active_at(now) or (verdict is not None and verdict.approved):
                honoured.append(grant)
            else:
                reason = verdict.reason if verdict else "no approval was checked"
                unapproved.append(Unapproved(grant.path, reason))
    desired = desired_access(loaded.policy, honoured, now)
    plan = make_plan(loaded.policy, desired, actual, now, invitations_sent)
    return Planning(desired, replace(plan, unapproved=tuple(unapproved)))
