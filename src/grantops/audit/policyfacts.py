"""The policy as an auditor needs it: the version in force at a moment, and its review.

Baseline access is declared in ``grants/policy.yaml``, so "who had access at T" needs
the version that was on the branch at T: read from git (the first-parent chain, each
version dated by the time it was committed there). "When was the baseline last
reviewed, and by whom" is answered by the approval evidence runs keep for the policy
(``audit/approvals.json``): its pull request, author, approvers and merge time,
vouched for by an HMAC when ``GRANTOPS_EVIDENCE_KEY`` is set.

This module reads git and files; what it returns is plain data for the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grantops.audit.committed import CommittedVersion, file_versions
from grantops.constants import EVIDENCE_PATH, POLICY_PATH
from grantops.gitrepo import Blobs, GitError
from grantops.load import load_policy_text
from grantops.model import Policy
from grantops.proof import evidence
from grantops.values import parse_timestamp


@dataclass(frozen=True)
class PolicyAt:
    """The policy to take the baseline from, and where it came from, in words."""

    policy: Policy | None
    source: str


def policy_at(root: Path, at: datetime, current: Policy | None) -> PolicyAt:
    """The version of the policy on the branch at ``at``; the current file, said so,
    when git cannot tell."""
    try:
        found = [v for v in file_versions(root, POLICY_PATH) if _dated(v) <= at]
    except GitError as exc:
        return PolicyAt(
            current, f"the current {POLICY_PATH}: its git history is unreadable ({exc})"
        )
    if not found:
        if current is not None and not _in_git(root):
            return PolicyAt(current, f"the current {POLICY_PATH} (not in a git repository)")
        return PolicyAt(None, f"none: no version of {POLICY_PATH} was committed by then")
    version = found[-1]
    where = f"{POLICY_PATH} at commit {version.commit[:12]} ({version.committed_at})"
    if version.blob is None:
        return PolicyAt(None, f"none: {where} deleted it")
    with Blobs(root) as blobs:
        policy, _ = load_policy_text(POLICY_PATH, blobs.read(version.blob))
    return PolicyAt(policy, where if policy else f"none: {where} is not a valid policy")


def _dated(version: CommittedVersion) -> datetime:
    return parse_timestamp(version.committed_at)


def _in_git(root: Path) -> bool:
    return any(folder.joinpath(".git").exists() for folder in (root, *root.parents))


@dataclass(frozen=True)
class PolicyReview:
    """The newest reviewed version of the policy that a run kept evidence for."""

    commit: str
    pull: int | None
    requester: str | None
    approvers: tuple[str, ...]
    merged_at: str | None
    vouched: bool
    """Its evidence carries a valid HMAC (``GRANTOPS_EVIDENCE_KEY`` set and matching)."""
    current: bool
    """It is the version at HEAD: the policy has not changed since it was reviewed."""


def last_review(root: Path, key: bytes | None) -> PolicyReview | None:
    """The policy's last review from ``audit/approvals.json``; None when none is kept."""
    entries = [e for e in _kept(root) if e.get("path") == POLICY_PATH]
    entries = [e for e in entries if isinstance(e.get("commit"), str)]
    if not entries:
        return None
    newest = max(entries, key=lambda e: str(e.get("merged_at") or ""))
    trusted = evidence.load(root, key)
    try:
        head = file_versions(root, POLICY_PATH)[-1:]
    except GitError:
        head = []
    return PolicyReview(
        commit=newest["commit"],
        pull=newest.get("pull") if isinstance(newest.get("pull"), int) else None,
        requester=_text(newest.get("author")),
        approvers=tuple(a for a in newest.get("approvers") or () if isinstance(a, str)),
        merged_at=_text(newest.get("merged_at")),
        vouched=(POLICY_PATH, newest["commit"]) in trusted,
        current=bool(head) and head[0].commit == newest["commit"],
    )


def _kept(root: Path) -> list[dict[str, Any]]:
    """The evidence file's entries as written; anything unreadable is no evidence."""
    try:
        data: Any = json.loads((root / EVIDENCE_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    entries = data.get("proven") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
