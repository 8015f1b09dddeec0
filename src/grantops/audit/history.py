"""Access history from the audit log, for access reviews (``grantops audit report``).

Periods run from the event that gave access (``access-added``, ``access-changed``,
``invitation-sent``) to the one that ended or replaced it, clipped to the requested
window, with the grant behind them and who approved it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import datetime

from tabulate import tabulate

from grantops.access import AccessKey
from grantops.audit.events import (
    AccessAdded,
    AccessChanged,
    AccessRemoved,
    DriftRemoved,
    Entry,
    GrantApproved,
    InvitationCancelled,
    InvitationSent,
    OutcomeEvent,
)
from grantops.safetext import for_csv, for_json, for_markdown_cell
from grantops.values import format_timestamp

OPENING = (AccessAdded, AccessChanged, InvitationSent)
CLOSING = (AccessRemoved, DriftRemoved, InvitationCancelled)


@dataclass(frozen=True)
class Period:
    principal: str
    target: str
    level: str
    start: str
    end: str | None  # None: still open at the end of the window
    source: str | None
    reason: str | None
    approvers: str | None
    pull: int | None
    pending: bool  # an invitation that had not been accepted when it was recorded


def access_periods(events: list[Entry], since: datetime, until: datetime) -> list[Period]:
    grants = {e.source: e for e in events if isinstance(e, GrantApproved)}
    open_periods: dict[AccessKey, OutcomeEvent] = {}
    done: list[tuple[OutcomeEvent, OutcomeEvent | None]] = []
    for event in events:
        if not isinstance(event, OPENING + CLOSING):
            continue
        key = (event.change.principal, event.change.target)
        if isinstance(event, OPENING):
            if key in open_periods:
                done.append((open_periods.pop(key), event))
            open_periods[key] = event
        elif key in open_periods:
            done.append((open_periods.pop(key), event))
    done += [(start, None) for start in open_periods.values()]
    periods = []
    for start, end in done:
        if start.ts >= until or (end is not None and end.ts <= since):
            continue
        grant = grants.get(start.source or "")
        periods.append(
            Period(
                principal=str(start.change.principal),
                target=str(start.change.target),
                level=str(start.change.after),
                start=format_timestamp(max(start.ts, since)),
                end=format_timestamp(min(end.ts, until)) if end else None,
                source=start.source,
                reason=grant.reason if grant else None,
                approvers=", ".join(grant.approvers) if grant else None,
                pull=start.pull,
                pending=isinstance(start, InvitationSent),
            )
        )
    return sorted(periods, key=lambda p: (p.target, p.principal, p.start))


_HEADERS = ["who", "access", "on", "from", "until", "grant", "why", "approved by", "PR"]


def _rows(periods: list[Period]) -> list[list[str]]:
    return [
        [
            p.principal,
            p.level + (" (invited)" if p.pending else ""),
            p.target,
            p.start,
            p.end or "still open",
            p.source or "baseline",
            p.reason or "",
            p.approvers or "",
            _pull(p.pull),
        ]
        for p in periods
    ]


def _pull(number: object) -> str:
    """``#N`` for a pull request number (a link on GitHub); anything else shows nothing."""
    return f"#{number}" if isinstance(number, int) and not isinstance(number, bool) else ""


def markdown(periods: list[Period], since: datetime, until: datetime) -> str:
    title = f"# Access history {format_timestamp(since)} to {format_timestamp(until)}\n\n"
    if not periods:
        return title + "No access changes were recorded in this window.\n"
    # every cell is untrusted text but the last, the pull request's number
    rows = [[*(for_markdown_cell(cell) for cell in row[:-1]), row[-1]] for row in _rows(periods)]
    table = tabulate(rows, headers=_HEADERS, tablefmt="github", disable_numparse=True)
    return title + table + "\n"


def csv_text(periods: list[Period], since: datetime, until: datetime) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_HEADERS)
    writer.writerows([for_csv(cell) for cell in row] for row in _rows(periods))
    return buffer.getvalue()


def json_text(periods: list[Period], since: datetime, until: datetime) -> str:
    document = {
        "since": format_timestamp(since),
        "until": format_timestamp(until),
        "periods": [asdict(p) for p in periods],
    }
    return for_json(document)
