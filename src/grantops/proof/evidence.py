"""Approval evidence kept between runs, in ``audit/approvals.json``.

A proven file version is not re-queried on every run: its evidence is stored with the
commit that gave the file its content, the blob, and the fingerprint of the approval
rules it was judged by, so a change of the rules has everything judged again. Entries
are trusted only when they carry a valid HMAC made with the secret
``GRANTOPS_EVIDENCE_KEY`` (a workflow secret), because the file lives in the access
repository and anyone who can push could otherwise forge an entry. Without the key,
evidence is still written for the audit report but always re-checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grantops.audit.keyed import sign, signed
from grantops.constants import EVIDENCE_PATH
from grantops.proof.review import Evidence


def _message(evidence: Evidence) -> bytes:
    return json.dumps(evidence.to_json(), sort_keys=True).encode()


Trusted = dict[tuple[str, str], Evidence]
"""Kept evidence by (path, commit that gave the path its content)."""


def load(root: Path, key: bytes | None) -> Trusted:
    """Trusted evidence (nothing is trusted without a key, or with a bad MAC).

    Anyone who can push may write the file, so a file that cannot be read is simply no
    evidence: not UTF-8 or not JSON (ValueError), or nested too deeply to parse
    (RecursionError). Every grant is then judged from git and GitHub again.
    """
    if key is None:
        return {}
    try:
        data: Any = json.loads((root / EVIDENCE_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    entries = data.get("proven") if isinstance(data, dict) else None
    trusted = {}
    for entry in entries if isinstance(entries, list) else ():
        try:
            evidence = Evidence(
                path=str(entry["path"]),
                commit=str(entry["commit"]),
                blob=str(entry["blob"]),
                pull=int(entry["pull"]),
                approvers=tuple(str(a) for a in entry["approvers"]),
                merge_commit=entry.get("merge_commit"),
                rules=str(entry["rules"]),
                author=_text(entry.get("author")),
                merged_at=_text(entry.get("merged_at")),
                merged_by=_text(entry.get("merged_by")),
                approved_at=_text(entry.get("approved_at")),
            )
        except (KeyError, TypeError, ValueError):
            continue
        if signed(key, _message(evidence), entry.get("mac")):
            trusted[evidence.path, evidence.commit] = evidence
    return trusted


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def save(root: Path, proven: Iterable[Evidence], key: bytes | None) -> bool:
    """Write evidence of every proven file version (with MACs when a key is set).

    The file is left alone when it already says exactly this, so a run that proved
    nothing new leaves ``audit/`` as it was; returns whether it was written.
    """
    entries = []
    for evidence in sorted(set(proven), key=lambda e: (e.path, e.commit)):
        entry: dict[str, Any] = evidence.to_json()
        if key is not None:
            entry["mac"] = sign(key, _message(evidence))
        entries.append(entry)
    text = json.dumps({"proven": entries}, indent=2, sort_keys=True) + "\n"
    target = root / EVIDENCE_PATH
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except (OSError, ValueError):
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return True
