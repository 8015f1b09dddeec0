"""A run narrowed to the access whose window opens or closes now.

``grantops watch`` wakes at each start and end in the grant files and runs the same
:class:`grantops.run.Run` as ``apply``, focused: only the targets of that access are
read again (the org itself as the last full read found it), and only changes to that
access are made. Drift, on those targets or elsewhere, waits for the next full run, so
a window's edge costs a few requests and changes nothing it was not woken for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from grantops.access import AccessKey, Target
from grantops.actual import ReadResult
from grantops.planning import Planning


@dataclass(frozen=True)
class Focus:
    keys: frozenset[AccessKey]
    """The access whose window opens or closes: (principal, target)."""
    known: ReadResult
    """The last full read: the org's owners, settings, repositories and the token's own
    account are taken from it rather than listed again."""

    @property
    def targets(self) -> frozenset[Target]:
        return frozenset(target for _, target in self.keys)

    def narrow(self, planning: Planning) -> Planning:
        """``planning`` with only the changes (made or withheld) to the focused access."""
        plan = planning.plan
        changes = tuple(c for c in plan.changes if (c.principal, c.target) in self.keys)
        withheld = tuple(c for c in plan.withheld if (c.principal, c.target) in self.keys)
        return replace(planning, plan=replace(plan, changes=changes, withheld=withheld))
