"""Approval evidence kept between runs, in ``audit/approvals.json``.

A proven grant is not re-queried on every run: its evidence is stored with the commit
it proves. Entries are trusted only when they carry a valid HMAC made with the secret
``GRANTOPS_EVIDENCE_KEY`` (a workflow secret), because the file lives in the access
repository and anyone who can push could otherwise forge an entry. Without the key,
evidence is still written for the audit report but always re-checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grantops.approval import Evidence

EVIDENCE_PATH = "audit/approvals.json"


def _mac(key: bytes, path: str, evidence: Evidence) -> str:
    message = json.dumps({"path": path, **evidence.to_json()}, sort_keys=True).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def load(root: Path, key: bytes | None) -> dict[str, Evidence]:
    """Trusted evidence by file path (nothing is trusted without a key)."""
    if key is None:
        return {}
    try:
        data: Any = json.loads((root / EVIDENCE_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    trusted = {}
    for path, entry in (data.get("grants") or {}).items() if isinstance(data, dict) else ():
        try:
            evidence = Evidence(
                commit=str(entry["commit"]),
                pull=int(entry["pull"]),
                approvers=tuple(str(a) for a in entry["approvers"]),
                merge_commit=entry.get("merge_commit"),
            )
        except (KeyError, TypeError, ValueError):
            continue
        if hmac.compare_digest(str(entry.get("mac", "")), _mac(key, path, evidence)):
            trusted[path] = evidence
    return trusted


def save(root: Path, proven: Mapping[str, Evidence], key: bytes | None) -> None:
    """Write evidence of every proven file (with MACs when a key is set)."""
    grants = {}
    for path, evidence in sorted(proven.items()):
        entry: dict[str, Any] = evidence.to_json()
        if key is not None:
            entry["mac"] = _mac(key, path, evidence)
        grants[path] = entry
    target = root / EVIDENCE_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"grants": grants}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
