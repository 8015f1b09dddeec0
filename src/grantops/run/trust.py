"""What a run may rely on, and what limits it to expiries when it cannot.

A run decides from three sources that anyone with push access can tamper with: the
audit log, the policy file and the grant files. Each rule here says how much of one
source a run may believe, and what it does when it may not: it never stops access from
ending, and it never adds or removes anything on the strength of what it cannot prove.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from grantops.access import AccessKey, Target
from grantops.audit import committed
from grantops.audit.events import Entry
from grantops.audit.log import honoured_grantables, verify
from grantops.constants import LOG_PATH, POLICY_PATH
from grantops.errors import InvalidInput
from grantops.gitrepo import GitError
from grantops.load import Tree
from grantops.model import Policy
from grantops.planning import Planning, only_expiries
from grantops.proof.holds import held, logged_ends, logged_versions
from grantops.proof.prover import Proof
from grantops.safety import Verdict


@dataclass(frozen=True)
class LogTrust:
    """What the audit log as read before this run may tell it."""

    events: list[Entry]
    """Only the lines its checks vouch for: nothing else may inform a decision."""
    trusted: bool
    """It passed its checks, so what it says was sent or recorded can be relied on."""
    key: bytes | None
    """The key this run's new lines are MACed with. None for a log with no MAC that is
    not one from before the key: a keyed line after it would vouch for every line
    above, so it would anchor whatever anyone pushed."""
    vouched: dict[str, str]
    """The newest proven version of each grant file, as only MACed lines name it."""
    limits: tuple[str, ...]
    """Why the run makes only expiries because of the log (empty when it need not)."""


def check_log(root: Path, key: bytes | None) -> LogTrust:
    """Verify the log and say how far this run may believe it."""
    trail = verify(root / LOG_PATH, key)
    first_keyed = trail.ok and trail.anchored is False and _before_the_key(root)
    limits: tuple[str, ...] = ()
    if not trail.trusted and not first_keyed:
        where = f"{LOG_PATH}:{trail.bad_line}" if trail.bad_line else LOG_PATH
        limits = (
            f"{where} fails its checks ({trail.reason}); only expiries until it is "
            "repaired (run grantops audit verify and find out who changed it)",
        )
    believed = trail.anchored is not False or first_keyed
    events = trail.events if believed else []
    vouched = (
        logged_versions(events[(trail.anchored_from or 1) - 1 :]) if trail.anchored is True else {}
    )
    return LogTrust(
        events=events,
        trusted=trail.trusted or first_keyed,
        key=key if believed else None,
        vouched=vouched,
        limits=limits,
    )


def _before_the_key(root: Path) -> bool:
    """A log without any MAC is one from before the key was set (the first keyed run
    anchors it) only when its git history is append-only and never held a MAC."""
    try:
        history = committed.check(root / LOG_PATH)
    except GitError:
        return False
    return history.checked and history.ok and not history.keyed


def planning_policy(tree: Tree, proof: Proof | None) -> tuple[Policy, tuple[str, ...]]:
    """The policy this run plans with, and what limits the run to expiries.

    A policy that is not proven reviewed must not decide anything new, but it must not
    stop access from ending either: the run then plans with the newest proven version
    and makes only expiries (removals of access whose proven grant has ended). When no
    version is proven at all, the file as it stands gives the org and scope, but none of
    its protected accounts or baseline: either could shield someone's ended grant.
    """
    if proof is None or proof.policy.approved:
        if tree.policy is None:
            raise InvalidInput(list(tree.problems))
        return tree.policy, ()
    reason = f"{POLICY_PATH} is not proven reviewed ({proof.policy.reason})"
    if tree.policy is None:
        reason = f"{POLICY_PATH} is invalid (see the problems above)"
    if proof.trusted is not None:
        return proof.trusted, (
            f"{reason}; only expiries were planned, with its newest proven version",
        )
    if tree.policy is None:
        raise InvalidInput(list(tree.problems))
    bare = Policy.model_validate({**tree.policy.model_dump(), "protected": [], "baseline": []})
    return bare, (
        f"{reason}; only expiries were planned, with it as it stands but without its "
        "protected accounts and baseline (no version is proven)",
    )


def braked(planning: Planning, verdict: Verdict) -> Planning:
    """When the brakes refuse the plan, access whose proven grant has ended (or was
    revoked in review) still ends.

    The brakes guard against removing what nobody meant to remove; an expiry or a
    reviewed revoke is meant. Anyone who can delete others' grant files could otherwise
    stop every expiry.
    """
    if verdict.safe or planning.plan.limits:  # already only expiries
        return planning
    refused = "; ".join(r.message for r in verdict.refusals)
    reason = f"the removal brakes refused the plan ({refused}); only expiries were planned"
    return replace(planning, plan=only_expiries(planning.plan, (reason,)))


def holds(proof: Proof, policy: Policy, now: datetime, log: LogTrust) -> dict[AccessKey, str]:
    """Access kept while a review lookup failed, and why (see :func:`held`)."""
    found = held(proof.grants, proof.logged, policy.org, now, log.vouched, logged_ends(log.events))
    return {key: hold.reason for key, hold in found.items()}


def logged_targets(events: list[Entry], org: str) -> set[Target]:
    """Where logged grants gave access: read first, since access may have to end there.

    Only an order of reading; what ends is decided from git and the reviews.
    """
    return {target for _, _, target in honoured_grantables(events) if target.org == org}
