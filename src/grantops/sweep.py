"""Which repositories' pending invitations a run lists (pure, from the clock alone).

Repository invitations are the one read GitHub answers only per repository (one REST
listing each). A pending invitation gives nothing until it is accepted, and an accepted
one is a collaborator on the next read, so listing them all on every run buys nothing:
they are swept instead.

**The sweep.** Each repository has a fixed *turn* in every period of
``invitations.sweep`` (a stable hash of its name), at ``EPOCH + offset + k * sweep``. A
run at ``now`` lists the repositories whose latest turn came less than
``invitations.window`` ago. No state is kept: the clock says whose turn it is.

**The promise.** When no two runs are more than ``window`` apart, every repository is
listed at least once in each of its turns' windows ``[turn, turn + window)`` (runs at
most that far apart leave no half-open interval of that length without one), so at least
once per period and never more than ``sweep + window`` apart. Runs that are late or
missing by less than ``window`` lose nothing; a longer gap delays only the turns it
covered, by one period. A delay costs no access: an undeclared invitation grants
nothing, and once accepted it is a collaborator, read on every run and removed as
undeclared.

**What the plan needs at once** (:func:`needed`) is listed on top of the sweep:
repositories where reviewed access is missing (an invitation may be out already, so a
second one is not sent) and where a grant ended within the last period after the audit
log recorded an invitation for it (that invitation is cancelled on time). A repository
whose invitations were not listed is not "without invitations": the plan adds nothing
there (:func:`grantops.plan.make_plan`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from grantops.access import AccessKey, Principal, Target
from grantops.desired import DesiredState
from grantops.model import Grant, Invitations, Policy
from grantops.values import format_timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Where every period is counted from, so turns do not depend on when runs happen."""


def offset(target: Target, period: timedelta) -> timedelta:
    """The repository's place in every period: stable across runs, machines and versions
    (SHA-256 of its lower-cased ``org/name``), whole seconds."""
    name = f"{target.org}/{target.name}".lower().encode()
    number = int.from_bytes(hashlib.sha256(name).digest()[:8], "big")
    return timedelta(seconds=number % max(1, int(period.total_seconds())))


def last_turn(target: Target, settings: Invitations, now: datetime) -> datetime:
    """The repository's latest turn at or before ``now``."""
    return now - (now - EPOCH - offset(target, settings.sweep)) % settings.sweep


def due(target: Target, settings: Invitations, now: datetime) -> bool:
    """The sweep lists this repository's invitations on a run at ``now``."""
    return now - last_turn(target, settings, now) < settings.window


def needed(
    policy: Policy,
    grants: Iterable[Grant],
    desired: DesiredState,
    access: Mapping[AccessKey, str],
    now: datetime,
    sent: Collection[tuple[Principal, Target, str | None]] = (),
    pending: Collection[tuple[Principal, Target, str | None]] = (),
) -> frozenset[Target]:
    """Repositories whose invitations the plan needs now, whatever the sweep says.

    - declared access (``desired``) for a user that nobody holds: the plan would invite,
      and an invitation may be out already (not sent twice; a wrong-level or expired one
      is replaced);
    - a user's grant that ended within the last period, where the audit log records an
      invitation sent for it (``sent``, by grant file): that invitation is cancelled now
      rather than at the repository's turn. One that ended longer ago has had a turn.

    - an invitation sent within GitHub's invitation lifetime (``pending``) for a grant
      file that is gone (revoked, or deleted): it may still be accepted, so it is
      cancelled now, not at the repository's turn.

    Teams are never invited to repositories, so only users count. The caller gives only
    reviewed grants in ``desired``; ``sent`` bounds the ended ones, which no review is
    checked for: a pushed file naming many repositories cannot make every run list them.
    """
    missing = {key for key in desired.access if key not in access}
    since = now - policy.invitations.sweep
    ended = {
        (principal, target)
        for grant in grants
        if grant.ended_at(now) and not grant.ended_at(since)
        for principal, target, _ in grant.grantables(policy.org)
        if (principal, target, grant.path) in sent
    }
    files = {grant.path for grant in grants}
    gone = {(principal, target) for principal, target, path in pending if path not in files}
    return frozenset(
        target
        for principal, target in missing | ended | gone
        if principal.kind == "user" and target.kind == "repo" and policy.in_scope(target)
    )


@dataclass(frozen=True)
class SweepNote:
    """When one repository's invitations were listed, for people reading the plan."""

    target: Target
    listed: bool
    """Listed by this run."""
    last_turn: datetime
    next_turn: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "target": str(self.target),
            "listed": self.listed,
            "last_turn": format_timestamp(self.last_turn),
            "next_turn": format_timestamp(self.next_turn),
        }


def notes(
    settings: Invitations, repos: Iterable[Target], listed: Collection[Target], now: datetime
) -> tuple[SweepNote, ...]:
    """Each managed repository's sweep, by name: listed now or not, its turns either side."""
    found = []
    for target in sorted(repos):
        turn = last_turn(target, settings, now)
        found.append(SweepNote(target, target in listed, turn, turn + settings.sweep))
    return tuple(found)
