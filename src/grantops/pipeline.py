"""The core pipeline from loaded files and actual access to a plan (pure).

``files -> approval -> desired(now) -> plan``. The approval step is a parameter: it
receives every loaded grant and returns the ones whose review it could prove. Only
those reach :func:`desired_access`, so a grant the approval step rejects can never
add access, while removals never depend on approval at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from grantops.desired import desired_access
from grantops.load import Loaded
from grantops.model import Grant
from grantops.plan import Plan, make_plan
from grantops.state import ActualState

ApprovalStep = Callable[[Sequence[Grant]], Sequence[Grant]]


def trust_merged(grants: Sequence[Grant]) -> Sequence[Grant]:
    """Honour every grant on the branch: merge review is the approval.

    Use only where branch protection guarantees that review; a proof-checking step
    that asks GitHub for each grant's reviewed pull request replaces it.
    """
    return grants


def build_plan(
    loaded: Loaded, actual: ActualState, now: datetime, approve: ApprovalStep = trust_merged
) -> Plan:
    honoured = approve(loaded.grants)
    desired = desired_access(loaded.policy, honoured, now)
    return make_plan(loaded.policy, desired, actual, now)
