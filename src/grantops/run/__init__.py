"""One run of grantops, from files and GitHub to changes, log and report.

- :mod:`.run`: the :class:`Run` object and its steps;
- :mod:`.trust`: how far a run may believe the log, the policy and the grant files;
- :mod:`.live`: reading GitHub, planning, telling expiries from drift, applying;
- :mod:`.aftermath`: notices, grantees' activity and the report, after the changes;
- :mod:`.focus`: a run narrowed to the access whose window opens or closes now.
"""

from __future__ import annotations

from grantops.run.focus import Focus
from grantops.run.run import Applied, Planned, Run, RunSettings

__all__ = ["Applied", "Focus", "Planned", "Run", "RunSettings"]
