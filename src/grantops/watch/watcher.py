"""The loop behind ``grantops watch``: access changes within seconds of its window.

A full reconcile (the :class:`grantops.run.Run` that ``apply`` makes) starts the watch
and comes back every ``reconcile_every``, and at once when the access repository
gets new commits. The checkout is refreshed before each one: a merge GitHub knows and
the checkout does not would read as rewritten history. In between, the watcher sleeps
until the next start or end in the grant files (:mod:`grantops.watch.schedule`) and
runs the same :class:`Run`, focused on just that access (:class:`grantops.run.Focus`):
a few requests, logged exactly as ``apply`` logs. Access whose change could not be made
(GitHub did not answer, a target could not be read, a review could not be checked)
stays *due* and is tried again, a little later each time, until it is made or a full
reconcile settles it: late, but never lost. A change is never made early: each wait
ends only once the clock has passed the instant in the file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from grantops.access import AccessKey
from grantops.actual import ReadResult
from grantops.errors import GrantopsError
from grantops.github.api import GitHubAPI
from grantops.model import Grant
from grantops.plan import Outcome
from grantops.proof.prover import Prover
from grantops.run import Applied, Focus, Planned, Run, RunSettings
from grantops.watch.gitsync import Upstream
from grantops.watch.schedule import Edge, edges

EDGE_TRIES = 10
"""Tries of a due change on its own (about three minutes, backing off) before it waits
for the full reconciles."""


class Events(Protocol):
    """What the watcher reports as it goes: the metrics ``--listen`` serves."""

    def changed(self, result: str) -> None: ...
    def late(self, edge: str, seconds: float) -> None: ...
    def failed(self, stage: str) -> None: ...
    def budget(self, remaining: int | None) -> None: ...
    def reconciled(self, at: datetime) -> None: ...
    def next_change(self, at: datetime | None) -> None: ...
    def refused(self, refusing: bool) -> None: ...


class Display(Protocol):
    """How the watcher's runs are shown to the person or the log watching it."""

    def full(self, planned: Planned, applied: Applied | None) -> None: ...
    def edge(self, planned: Planned, applied: Applied | None) -> None: ...
    def outcome(self, outcome: Outcome, late: float | None) -> None: ...
    def problem(self, text: str) -> None: ...


@dataclass(frozen=True)
class WatchSettings:
    """How ``grantops watch`` runs: what it may do and when it wakes."""

    apply: bool = False
    """Make the changes (``--yes``); else only plan and show them."""
    reconcile_every: timedelta = timedelta(minutes=15)
    pull_every: timedelta = timedelta(minutes=1)
    until: datetime | None = None
    """Stop at this instant (``--for``, ``--until``)."""
    horizon: timedelta | None = None
    """Stop once no start or end falls within this of now (``--horizon``)."""
    push_audit: bool = False
    retry_first: timedelta = timedelta(seconds=1)
    retry_most: timedelta = timedelta(seconds=30)


@dataclass
class Due:
    """Access whose window opened or closed and whose change is not made yet."""

    at: datetime
    """The instant in the file: lateness counts from it."""
    kind: str
    """``start`` or ``end``."""
    next_try: datetime
    tries: int = 0


@dataclass
class _State:
    schedule: list[Edge] = field(default_factory=list)
    due: dict[AccessKey, Due] = field(default_factory=dict)
    prover: Prover | None = None
    known: ReadResult | None = None
    """The last full read that found the org: focused runs take the org from it."""
    healthy: bool = True
    """The last full reconcile completed."""
    refused: bool = False
    """The last refresh of the checkout was refused (history rewritten upstream): the
    watch no longer sees new commits, a reviewed revoke included."""
    followed: bool = False
    """The audit push refreshed the checkout first (the branch had moved): the new
    commits are reconciled at once, as a pull's are."""
    raised: int = 0
    """Full reconciles in a row that could not even be made (GitHub did not answer):
    each is tried again sooner than ``reconcile_every``, backing off."""


class Watcher:
    """One watch over one access repository; :meth:`run` returns the exit code."""

    def __init__(
        self,
        base: RunSettings,
        settings: WatchSettings,
        github: GitHubAPI,
        *,
        show: Display,
        events: Events,
        upstream: Upstream | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        budget: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.base, self.settings, self.github = base, settings, github
        self.show, self.events, self.upstream = show, events, upstream
        self.stop = stop or threading.Event()
        self.clock, self.budget = clock, budget
        self.state = _State()

    def run(self) -> int:
        settings, state = self.settings, self.state
        next_full = self.clock()
        next_pull = next_full + settings.pull_every
        while not self.stop.is_set():
            now = self.clock()
            if self._over(now):
                break
            if self.upstream is not None and now >= min(next_pull, next_full):
                next_pull = now + settings.pull_every
                if self._pull():
                    next_full = now
            if now >= next_full:
                raised = not self._full(now)
                state.raised = state.raised + 1 if raised else 0
                later = self._backoff(state.raised) if raised else settings.reconcile_every
                next_full = now + later
            elif self._due_now(now):
                self._edge(now)
            if state.followed:  # new commits came with the audit push: reconcile them now
                state.followed, next_full = False, self.clock()
            elif settings.horizon is not None and self._idle(self.clock()):
                break
            wake = [next_full, *self._wakes()]
            if self.upstream is not None:
                wake.append(next_pull)
            self._sleep_until(min(wake))
        if self.stop.is_set():
            return 0  # a signal: the change in flight was finished and recorded
        return 1 if state.due or not state.healthy or state.refused else 0

    # ----- the two kinds of run ----------------------------------------------------

    def _full(self, now: datetime) -> bool:
        """A full reconcile at ``now``; whether it could be made at all (GitHub answered).
        Whether it completed is ``state.healthy``."""
        state = self.state
        self._promote(now)  # a full run makes what is due, too
        run = Run(replace(self.base, now=now), self.github, self.clock)
        planned, applied = self._attempt(run, "reconcile")
        self.events.budget(self.budget())
        if planned is None:
            state.healthy = False
            return False
        state.prover = run.prover
        read = planned.read
        if read is not None and read.facts is not None:
            state.known = read
        self._settle(planned, applied, set(state.due))
        self.show.full(planned, applied)
        self._reschedule(planned, now)
        failed = applied is not None and applied.failed
        state.healthy = not (planned.incomplete or failed or planned.plan.limits)
        if state.healthy:
            self.events.reconciled(now)
        else:
            self.events.failed("reconcile")
        self._push_audit(applied, now)
        return True

    def _edge(self, now: datetime) -> None:
        """The access due at ``now``, read and changed on its own."""
        state = self.state
        keys = {key for key, due in state.due.items() if due.next_try <= now}
        if state.known is None:
            self._full(now)  # no full read yet to take the org from
            return
        focus = Focus(frozenset(keys), state.known)
        run = Run(replace(self.base, now=now, focus=focus), self.github, self.clock, state.prover)
        planned, applied = self._attempt(run, "read")
        state.prover = run.prover  # a new one when the checkout had moved
        if planned is not None:
            self._settle(planned, applied, keys)
            self.show.edge(planned, applied)
            self._push_audit(applied, now)
        for key in keys & set(state.due):
            self._retry(key, now)
        self.events.budget(self.budget())

    def _attempt(self, run: Run, stage: str) -> tuple[Planned | None, Applied | None]:
        """Plan and (with ``--yes``) apply; a failure is shown and counted, never raised:
        a watch outlives GitHub's bad minutes."""
        try:
            planned = run.plan()
            if not self.settings.apply:
                return planned, None
            return planned, run.apply(planned, self._heard, self.stop.is_set)
        except GrantopsError as exc:
            self.show.problem(f"{stage} failed: {exc}")
            self.events.failed(stage)
            return None, None

    def _heard(self, outcome: Outcome) -> None:
        """One change made (or not): its lateness when its window's instant had passed."""
        change = outcome.change
        due = self.state.due.get((change.principal, change.target))
        late = None
        if due is not None and outcome.result != "failed":
            late = (self.clock() - due.at).total_seconds()
            self.events.late(due.kind, late)
        self.events.changed(outcome.result)
        self.show.outcome(outcome, late)

    # ----- what is due, and when to wake -------------------------------------------

    def _reschedule(self, planned: Planned, now: datetime) -> None:
        policy = planned.loaded.policy
        self.state.schedule = edges(policy, planned.loaded.grants, now, self._approval(planned))
        upcoming = self.state.schedule[0].at if self.state.schedule else None
        self.events.next_change(upcoming)

    def _approval(self, planned: Planned) -> Callable[[Grant], bool]:
        """Whether a grant's review is proven (or could not be checked yet: its edge
        tries again). Grants not open now are judged here, ahead of their start, so
        that a file nobody reviewed never schedules a read."""
        proof, prover = planned.proof, self.state.prover
        if proof is None or proof.off:
            return lambda grant: True
        later = [g for g in planned.loaded.grants if g.path not in proof.grants]
        verdicts = {**proof.grants, **(prover.verdicts(proof.rules, later) if prover else {})}

        def approved(grant: Grant) -> bool:
            verdict = verdicts.get(grant.path)
            return verdict is not None and (verdict.approved or verdict.undecided)

        return approved

    def _promote(self, now: datetime) -> None:
        """Edges whose instant has passed become due access."""
        state = self.state
        while state.schedule and state.schedule[0].at <= now:
            edge = state.schedule.pop(0)
            for key in edge.keys:
                state.due[key] = Due(edge.at, edge.kind_of(key), edge.at)

    def _due_now(self, now: datetime) -> bool:
        self._promote(now)
        return any(due.next_try <= now for due in self.state.due.values())

    def _settle(self, planned: Planned, applied: Applied | None, keys: Iterable[AccessKey]) -> None:
        """Forget due access the run made, or found nothing to do for; keep the rest."""
        unsettled, unread = _unsettled(planned, applied), planned.actual.unreadable
        for key in keys:
            due = self.state.due.get(key)
            # An ended version the run could not judge leaves its access in place: the
            # end is tried again, never forgotten.
            blind = planned.unchecked and due is not None and due.kind == "end"
            if key not in unsettled and key[1] not in unread and not blind:
                self.state.due.pop(key, None)

    def _retry(self, key: AccessKey, now: datetime) -> None:
        """Try ``key`` again soon, backing off; after :data:`EDGE_TRIES`, only with the
        full reconciles (a change GitHub keeps refusing must not spend the budget)."""
        due = self.state.due[key]
        due.tries += 1
        later = self._backoff(due.tries)
        if due.tries >= EDGE_TRIES:
            later = self.settings.reconcile_every
        due.next_try = now + later

    def _backoff(self, tries: int) -> timedelta:
        first, most = self.settings.retry_first, self.settings.retry_most
        return min(first * (1 << min(max(tries - 1, 0), 16)), most)

    def _wakes(self) -> list[datetime]:
        state = self.state
        wakes = [due.next_try for due in state.due.values()]
        if state.schedule:
            wakes.append(state.schedule[0].at)
        if self.settings.until is not None:
            wakes.append(self.settings.until)
        return wakes

    def _over(self, now: datetime) -> bool:
        """``--until`` has come, and nothing is due at or before it: a start or end at
        that very instant is still made, never dropped because the watch stopped."""
        until = self.settings.until
        return until is not None and now >= until and not self._due_now(until)

    def _idle(self, now: datetime) -> bool:
        """Nothing due, and no start or end within the horizon."""
        horizon = self.settings.horizon
        state = self.state
        if state.due or horizon is None:
            return False
        return not state.schedule or state.schedule[0].at > now + horizon

    def _sleep_until(self, wake: datetime) -> None:
        """Wait until ``wake`` or a stop; the loop checks the clock again, so an early
        return never makes a change early."""
        seconds = (wake - self.clock()).total_seconds()
        if seconds > 0:
            self.stop.wait(seconds)

    # ----- the access repository -------------------------------------------------

    def _pull(self) -> bool:
        """Refresh the checkout; whether new commits arrived."""
        assert self.upstream is not None
        try:
            pulled = self.upstream.pull()
        except GrantopsError as exc:
            self.show.problem(f"could not refresh the access repository: {exc}")
            self.events.failed("pull")
            return False
        if pulled.refused is not None:
            self.show.problem(f"refused to refresh the access repository: {pulled.refused}")
            self.events.failed("pull")
        self.state.refused = pulled.refused is not None
        self.events.refused(self.state.refused)
        return pulled.moved

    def _push_audit(self, applied: Applied | None, now: datetime) -> None:
        if applied is None or self.upstream is None or not self.settings.push_audit:
            return
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        accepted = self.upstream.accepted
        try:
            self.upstream.push_audit(f"audit: watch run at {stamp}")
        except GrantopsError as exc:
            self.show.problem(f"could not push audit/: {exc}")
            self.events.failed("push")
        self.state.followed = self.upstream.accepted != accepted


def _unsettled(planned: Planned, applied: Applied | None) -> set[AccessKey]:
    """Access a run did not settle: a change deferred, withheld (the run was limited),
    failed or not started (a stop), or from a grant whose review could not be checked."""
    keys = {(c.principal, c.target) for c in planned.plan.deferred}
    if applied is not None:
        keys |= {(c.principal, c.target) for c in planned.plan.withheld}
        made = {(o.change.principal, o.change.target) for o in applied.outcomes}
        keys |= {(c.principal, c.target) for c in planned.plan.changes} - made
        keys |= {
            (o.change.principal, o.change.target) for o in applied.outcomes if o.result == "failed"
        }
    proof = planned.proof
    if proof is None:
        return keys
    paths = {path for path, verdict in proof.grants.items() if verdict.undecided}
    org = planned.loaded.policy.org
    return keys | {
        (principal, target)
        for grant in planned.loaded.grants
        if grant.path in paths
        for principal, target, _ in grant.grantables(org)
    }
