"""Reviewed plans: ``plan --out FILE`` writes one, ``apply --plan FILE`` applies exactly it.

The file carries the plan, a digest of the actual access it was made against, and a
checksum over both. ``apply`` refuses an edited file, and refuses when access moved
underneath the plan (the digest of a fresh read differs) or the fresh plan differs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from grantops.actual import ActualState
from grantops.errors import UnsafePlan, UsageError
from grantops.model import Policy
from grantops.plan import Plan

VERSION = 1


def actual_digest(policy: Policy, actual: ActualState) -> str:
    """A digest of the access in managed scope (what the plan was computed from)."""

    def rows(entries: dict[Any, str]) -> list[list[str]]:
        return sorted(
            [str(principal), str(target), level.lower()]
            for (principal, target), level in entries.items()
            if policy.in_scope(target)
        )

    document = {
        "access": rows(actual.access),
        "invitations": rows(actual.invitations),
        "expired_invitations": rows(actual.expired_invitations),
        "unreadable": sorted(str(t) for t in actual.unreadable),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _checksum(changes: list[dict[str, Any]], digest: str, org: str) -> str:
    payload = json.dumps({"org": org, "changes": changes, "actual": digest}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def write(path: Path, plan: Plan, digest: str) -> None:
    changes = [c.to_json() for c in plan.changes]
    document = {
        "version": VERSION,
        "plan": plan.to_json(),
        "actual_digest": digest,
        "checksum": _checksum(changes, digest, plan.org),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def verify(path: Path, plan: Plan, digest: str) -> None:
    """Raise :class:`UnsafePlan` unless ``plan`` (made now) is exactly the reviewed one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        changes = document["plan"]["changes"]
        org = document["plan"]["org"]
        reviewed_digest = document["actual_digest"]
        checksum = document["checksum"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UsageError(
            f"{path} is not a plan file written by grantops plan --out ({exc})"
        ) from None
    if checksum != _checksum(changes, reviewed_digest, org):
        raise UnsafePlan(f"{path} was edited after it was written: its checksum does not match")
    if org.lower() != plan.org.lower():
        raise UnsafePlan(f"{path} is a plan for org '{org}', not '{plan.org}'")
    if reviewed_digest != digest:
        raise UnsafePlan(
            f"access on GitHub changed since {path} was made; run grantops plan again and review"
        )
    if changes != [c.to_json() for c in plan.changes]:
        raise UnsafePlan(
            f"the plan now differs from {path} (a grant opened or ended since); run plan again"
        )
