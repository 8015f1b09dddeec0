"""The plan: a pure, deterministic diff of desired against actual access.

Only targets in the policy's managed scope are compared, so nothing outside it can
ever appear in a plan. Every change records its cause (``grant``, ``baseline``,
``expired``, ``revoked`` or ``undeclared``) and the file behind it, because safety
checks and people reading the plan both need to know *why* access moves. The brakes
let ``expired`` and ``revoked`` pass, so with approval proof on it takes more than a
grant file that says it has ended, or its absence: a reviewed version of a grant must
have given that access and then ended (``expiries``, see
:meth:`grantops.proof.prover.Prover.expiries`), or been deleted by a reviewed pull
request (``revoked``, see :meth:`grantops.proof.prover.Prover.revokes`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from grantops.access import AccessKey, Principal, Target
from grantops.actual import ActualState
from grantops.desired import Desired, DesiredState
from grantops.model import Policy
from grantops.sweep import SweepNote
from grantops.values import format_timestamp

Action = Literal["add", "update", "remove", "cancel_invitation"]
Cause = Literal["grant", "baseline", "expired", "undeclared", "revoked"]
ACTIONS: tuple[Action, ...] = ("add", "update", "remove", "cancel_invitation")
ENDINGS: tuple[Cause, ...] = ("expired", "revoked")
"""Causes of access ending as reviewed grants said: its window closed, or a reviewed
pull request deleted its file. The brakes do not count them, and a run limited to
expiries still makes them."""


@dataclass(frozen=True)
class Change:
    """One step that moves actual access towards desired access."""

    action: Action
    principal: Principal
    target: Target
    before: str | None
    after: str | None
    cause: Cause
    source: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "principal": str(self.principal),
            "target": str(self.target),
            "from": self.before,
            "to": self.after,
            "cause": self.cause,
            "source": self.source,
        }


Membership = Literal["member", "outside collaborator", "membership unknown"]
"""Whom a repository grant goes to: GitHub invites anyone who is not an org member as
an *outside collaborator*; ``membership unknown`` when GitHub could not be asked."""


Result = Literal["done", "invited", "failed"]
"""What applying a change did: ``invited`` means access starts once the invitation is
accepted; ``failed`` carries GitHub's answer in the outcome's detail."""


@dataclass(frozen=True)
class Outcome:
    """One applied change and what happened to it."""

    change: Change
    result: Result
    detail: str = ""


@dataclass(frozen=True)
class Kept:
    """Access the plan would have removed or lowered but leaves alone, and why."""

    principal: Principal
    target: Target
    level: str
    reason: str
    source: str | None = None
    """The grant file that asked for it, for access the policy refused to give."""


Standing = Literal["unreviewed", "unchecked", "uncommitted"]
"""Why a grant's review is not proven: ``unreviewed``, it is on the protected branch
without a valid review (branch protection was bypassed, or the review was not enough);
``unchecked``, a GitHub read failed, so it could not be checked; ``uncommitted``, it is
not on the branch (an edit in the checkout)."""


@dataclass(frozen=True)
class Unapproved:
    """A grant inside its window that gives no access because its review is not proven."""

    source: str
    reason: str
    status: Standing = "unreviewed"


@dataclass(frozen=True)
class MergeWindow:
    """A ``duration:`` grant's window: from its approving merge, or still pending."""

    source: str
    duration: str
    """In the policy's units (``48h``)."""
    starts: datetime | None = None
    """When GitHub merged the file's first approved version; None while pending."""
    expires: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "duration": self.duration,
            "starts": format_timestamp(self.starts) if self.starts else None,
            "expires": format_timestamp(self.expires) if self.expires else None,
        }


@dataclass(frozen=True)
class Plan:
    now: datetime
    org: str
    changes: tuple[Change, ...]
    kept: tuple[Kept, ...] = ()
    unapproved: tuple[Unapproved, ...] = ()
    withheld: tuple[Change, ...] = ()
    """Changes this run may not make (see ``limits``); only expiries go ahead."""
    limits: tuple[str, ...] = ()
    """Why changes were withheld: what this run could not prove or read."""
    windows: tuple[MergeWindow, ...] = ()
    """The windows of ``duration:`` grants, as computed from their approving merges."""
    membership: Mapping[Principal, Membership] = field(default_factory=dict)
    """For each user the plan adds to a repository or changes there: org member or not
    (see :data:`Membership`), so a reviewer sees who becomes an outside collaborator."""
    refused: tuple[Kept, ...] = ()
    """Access the policy forbids giving (``limits.outside_collaborators: deny``)."""
    sweep: tuple[SweepNote, ...] = ()
    """Each managed repository: were its pending invitations listed, and its turns in the
    sweep (:mod:`grantops.sweep`)."""
    deferred: tuple[Change, ...] = ()
    """Changes left for the next run: more than GitHub's secondary limit on
    content-creating requests allows in one (:mod:`grantops.writebudget`)."""
    deferral: str | None = None
    """Why ``deferred`` waits, with the limit."""

    def membership_of(self, change: Change) -> str | None:
        """What a reviewer must know about whom ``change`` adds (None: nothing to say).

        A user GitHub does not know as an org member becomes an outside collaborator on a
        repository; put in a team, they are invited to the org itself."""
        if not _adds_user(change):
            return None
        found = self.membership.get(change.principal)
        if found == "outside collaborator" and change.target.kind == "team":
            return INVITED_TO_ORG
        return None if found == "member" else found

    @property
    def unreviewed(self) -> tuple[Unapproved, ...]:
        """Grants on the protected branch without a valid review: each fails the run."""
        return tuple(u for u in self.unapproved if u.status == "unreviewed")

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(change.action for change in self.changes)
        return {action: counts.get(action, 0) for action in ACTIONS}

    def to_json(self) -> dict[str, Any]:
        return {
            "now": format_timestamp(self.now),
            "org": self.org,
            "changes": [change.to_json() for change in self.changes],
            "kept": [
                {
                    "principal": str(k.principal),
                    "target": str(k.target),
                    "level": k.level,
                    "reason": k.reason,
                }
                for k in self.kept
            ],
            "unapproved": [
                {"source": u.source, "reason": u.reason, "status": u.status}
                for u in self.unapproved
            ],
            "withheld": [change.to_json() for change in self.withheld],
            "limits": list(self.limits),
            "windows": [window.to_json() for window in self.windows],
            "refused": [
                {
                    "principal": str(r.principal),
                    "target": str(r.target),
                    "level": r.level,
                    "reason": r.reason,
                }
                for r in self.refused
            ],
            "membership": {str(p): m for p, m in sorted(self.membership.items())},
            "invitation_sweep": [note.to_json() for note in self.sweep],
            "deferred": [change.to_json() for change in self.deferred],
            "deferral": self.deferral,
            "summary": self.summary,
        }


MAX_INVITATIONS = 3
"""Invitations sent for one grant before an expired one is no longer sent again."""


def make_plan(
    policy: Policy,
    desired: DesiredState,
    actual: ActualState,
    now: datetime,
    invitations_sent: Mapping[tuple[Principal, Target, str | None], int] | None = None,
    expiries: Mapping[AccessKey, str] | None = None,
    held: Mapping[AccessKey, str] | None = None,
    revoked: Mapping[AccessKey, str] | None = None,
) -> Plan:
    """Changes that turn ``actual`` into ``desired`` within managed scope.

    Expiries come first, so a run cut short (a rate limit, a crash) has already ended
    what had to end; then by target and principal, with an invitation's cancellation
    before the add that replaces it. Protected accounts and org owners are never
    removed or lowered, and an invitation that expired unaccepted after
    ``MAX_INVITATIONS`` sends (counted from the audit log, ``invitations_sent``) is not
    sent again: such cases land in ``kept`` so the output can say so.

    Access no longer desired is removed (or lowered) as ``expired``, which the brakes do
    not count, only when ``expiries`` names it (with the grant file): a reviewed grant
    version gave it and has ended. Anything else is ``undeclared``: counted by the brakes
    and, on a target that could not be read, left alone. A file pushed without review,
    already expired, thus cannot wave removals past the brakes. ``expiries=None`` means
    approval proof is off (an offline ``plan --state``, or ``approval.required: 0``):
    nothing is proven, so every ended grant's removal is ``expired`` as the files say.
    Access ``revoked`` names (with the deleted grant file), and no expiry does, is
    removed as ``revoked``: a reviewed pull request deleted the grant that gave it.

    ``held`` maps access to keep, with the reason, because its grant's review could
    not be checked this run: it is neither removed nor lowered, even when another grant
    of the same access has ended.
    """
    sent = invitations_sent or {}
    ended = _endings(desired.ended if expiries is None else expiries, revoked or {})
    hold = held or {}
    untouchable = _untouchable(policy, actual)
    changes: list[Change] = []
    kept: list[Kept] = []
    for key in _keys_in_scope(policy, desired, actual, ended):
        step = _diff_key(policy, key, desired, actual, ended)
        given_up = _invitation_given_up(key, desired, actual, sent)
        if given_up is not None:
            kept.append(given_up)
            continue
        for change in step:
            keep = _keep(policy, change, actual, untouchable, hold)
            if keep is None:
                changes.append(change)
            else:
                kept.append(keep)
    changes.sort(key=lambda change: change.cause not in ENDINGS)  # stable: endings first
    marks = membership(actual, changes)
    allowed, refused = _refuse_outsiders(policy, changes, marks)
    return Plan(
        now, policy.org, tuple(allowed), tuple(kept), membership=marks, refused=tuple(refused)
    )


INVITED_TO_ORG = "not an org member: invited to the org"


def _adds_user(change: Change) -> bool:
    """A user given access on a repository or a place in a team, or a changed level."""
    return change.action in ("add", "update") and change.principal.kind == "user"


def membership(actual: ActualState, changes: Iterable[Change]) -> dict[Principal, Membership]:
    """Org membership of each user ``changes`` add to a repository or a team (or change
    there), as far as it is known.

    Owners are members; otherwise only an answer GitHub gave counts (``actual.membership``):
    anything not asked, or not answered, is unknown rather than guessed.
    """
    found: dict[Principal, Membership] = {}
    for change in filter(_adds_user, changes):
        who = change.principal
        answer = True if who.key in actual.owners else actual.membership.get(who.key)
        found[who] = _MEMBERSHIP[answer]
    return found


OUTSIDERS_DENIED = "the policy denies outside collaborators (limits.outside_collaborators)"


def _refuse_outsiders(
    policy: Policy, changes: list[Change], marks: Mapping[Principal, Membership]
) -> tuple[list[Change], list[Kept]]:
    """With ``outside_collaborators: deny``, the changes that would give anyone not proven
    an org member access to a repository or a place in a team (GitHub would invite them
    to the org), or more of it, are refused: an unknown membership is refused too (fail
    closed). Lowering and removing still go ahead."""
    if policy.limits.outside_collaborators == "allow":
        return changes, []
    allowed: list[Change] = []
    refused: list[Kept] = []
    for change in changes:
        mark = marks.get(change.principal, "member") if _adds_user(change) else "member"
        if mark == "member" or _is_lower(policy, change):
            allowed.append(change)
            continue
        reason = f"{mark}: {OUTSIDERS_DENIED}"
        refused.append(
            Kept(change.principal, change.target, change.after or "", reason, change.source)
        )
    return allowed, refused


_MEMBERSHIP: dict[bool | None, Membership] = {
    True: "member",
    False: "outside collaborator",
    None: "membership unknown",
}


Endings = Mapping[AccessKey, tuple[Cause, str]]
"""Access that reviewed grants ended, with the cause and the grant file."""


def _endings(expired: Mapping[AccessKey, str], revoked: Mapping[AccessKey, str]) -> Endings:
    """Expiries and revokes as one map; an expiry wins, its window said so first."""
    ended: dict[AccessKey, tuple[Cause, str]] = {k: ("revoked", s) for k, s in revoked.items()}
    ended.update((key, ("expired", source)) for key, source in expired.items())
    return ended


def _keys_in_scope(
    policy: Policy, desired: DesiredState, actual: ActualState, ended: Endings
) -> list[AccessKey]:
    """Every key desired, held, invited or ended, in managed scope, by target then principal."""
    keys = (
        set(desired.access)
        | set(actual.access)
        | set(actual.invitations)
        | set(actual.expired_invitations)
        | set(desired.ended)
        | set(ended)
    )
    return sorted(
        (key for key in keys if policy.in_scope(key[1])), key=lambda key: (key[1], key[0])
    )


def _untouchable(policy: Policy, actual: ActualState) -> frozenset[str]:
    """Logins (lower-cased) never removed or lowered: protected, org owners, the viewer."""
    untouchable = policy.protected_keys | actual.owners
    if actual.viewer:
        untouchable |= {actual.viewer}
    return untouchable


def _invitation_given_up(
    key: AccessKey,
    desired: DesiredState,
    actual: ActualState,
    sent: Mapping[tuple[Principal, Target, str | None], int],
) -> Kept | None:
    """An expired invitation not sent again: ``MAX_INVITATIONS`` went unaccepted.

    Sends are counted per grant file (``sent``, from the audit log), so another grant
    of the same access invites afresh.
    """
    stale = actual.expired_invitations.get(key)
    want = desired.access.get(key)
    principal, target = key
    times = sent.get((principal, target, want.source), 0) if want else 0
    if stale is not None and times >= MAX_INVITATIONS:
        reason = f"invitation expired unaccepted {times} times; not sent again"
        return Kept(principal, target, stale, reason)
    return None


def _keep(
    policy: Policy,
    change: Change,
    actual: ActualState,
    untouchable: frozenset[str],
    held: Mapping[AccessKey, str],
) -> Kept | None:
    """What ``change`` leaves alone, and why: a removal or lowering of what must stay, or
    an invitation where pending ones were not listed (one may be out already)."""
    invites = change.action == "add" and change.principal.kind == "user"
    if invites and change.target in actual.invitations_unlisted:
        return Kept(change.principal, change.target, change.after or "", UNLISTED)
    lowers = change.action in ("remove", "cancel_invitation") or (
        change.action == "update" and _is_lower(policy, change)
    )
    if not lowers:
        return None
    principal, target = change.principal, change.target
    level = change.before or "unknown"
    if (principal, target) in held:
        return Kept(principal, target, level, held[principal, target])
    if principal.kind == "user" and principal.key in untouchable:
        return Kept(principal, target, level, _protected_reason(principal, actual))
    return None


UNLISTED = "pending invitations not listed this run (one may be out); added once they are"


def _protected_reason(principal: Principal, actual: ActualState) -> str:
    if principal.key in actual.owners:
        return "org owner"
    if principal.key == actual.viewer:
        return "grantops' own account"
    return "protected account"


def _ended_blindly(key: AccessKey, desired: DesiredState, ended: Endings) -> list[Change]:
    """On a target that could not be read: only remove access whose grant has ended.

    Removing is idempotent on GitHub, so an ended grant's access is removed even when
    the current state is unknown. Nothing undeclared is removed and nothing is added,
    because neither can be proven from a partial read; an ended grant that is not
    proven (see :func:`make_plan`) counts as undeclared here too.
    """
    if key not in ended or key in desired.access:
        return []
    principal, target = key
    cause, source = ended[key]
    return [Change("remove", principal, target, None, None, cause, source)]


def _diff_key(
    policy: Policy,
    key: AccessKey,
    desired: DesiredState,
    actual: ActualState,
    ended: Endings,
) -> list[Change]:
    """The changes that bring ``key`` to its desired level, as far as its target was read."""
    if key[1] in actual.unreadable:
        return _ended_blindly(key, desired, ended)
    want: Desired | None = desired.access.get(key)
    if want is None:
        return _withdraw(key, actual, ended)
    have = actual.access.get(key)
    if have is not None:
        return _regrade(policy, key, actual, have, want, ended)
    return _invite(key, actual, want)


def _withdraw(key: AccessKey, actual: ActualState, ended: Endings) -> list[Change]:
    """Remove access and cancel invitations that no grant wants any more.

    Only what ``ended`` names is ``expired`` or ``revoked`` (with its grant file); the
    rest is ``undeclared``, for the brakes to count.
    """
    principal, target = key
    have = actual.access.get(key)
    cause: Cause = "undeclared"
    ended_source: str | None = None
    if key in ended:
        cause, ended_source = ended[key]
    steps = []
    if have is not None:
        steps.append(Change("remove", principal, target, have, None, cause, ended_source))
    for pending in (actual.invitations.get(key), actual.expired_invitations.get(key)):
        if pending is not None:
            steps.append(
                Change("cancel_invitation", principal, target, pending, None, cause, ended_source)
            )
    return steps


def _regrade(
    policy: Policy,
    key: AccessKey,
    actual: ActualState,
    have: str,
    want: Desired,
    ended: Endings,
) -> list[Change]:
    """Move held access to the desired level, unless it is there already.

    A lowering where a grant of this access has ended (or was revoked) says so, with
    that grant's file: the higher level it gave ends, as a removal would.
    """
    principal, target = key
    if _same(have, want.level) or _inherited_covers(policy, actual, key, have, want.level):
        return []
    change = Change("update", principal, target, have, want.level, want.cause, want.source)
    if key in ended and _is_lower(policy, change):
        cause, source = ended[key]
        change = Change("update", principal, target, have, want.level, cause, source)
    return [change]


def _invite(key: AccessKey, actual: ActualState, want: Desired) -> list[Change]:
    """Give access nobody holds yet, unless an invitation at that level is out."""
    principal, target = key
    invited = actual.invitations.get(key)
    if invited is not None and _same(invited, want.level):
        return []  # the invitation is out; access starts when it is accepted
    # A wrong-level or expired invitation is cancelled before a fresh one is sent.
    steps = [
        Change("cancel_invitation", principal, target, pending, None, want.cause, want.source)
        for pending in (invited, actual.expired_invitations.get(key))
        if pending is not None
    ]
    steps.append(Change("add", principal, target, None, want.level, want.cause, want.source))
    return steps


def _inherited_covers(
    policy: Policy, actual: ActualState, key: AccessKey, have: str, want: str
) -> bool:
    """True when ``have`` comes from a team or the base role and already covers ``want``.

    GitHub lists a direct collaborator with the highest level of all sources. When that
    level is also held through another source, lowering the direct grant would change
    nothing visible and would be planned again on every run, so it is left as is.
    """
    inherited = actual.inherited.get(key)
    if inherited is None:
        return False
    levels, kind = policy.levels, key[1].kind
    return levels.rank(kind, inherited) >= levels.rank(kind, have) > levels.rank(kind, want)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _is_lower(policy: Policy, change: Change) -> bool:
    if change.before is None or change.after is None:
        return False
    levels, kind = policy.levels, change.target.kind
    return levels.rank(kind, change.after) < levels.rank(kind, change.before)
