"""The one keyed MAC grantops makes, with the secret ``GRANTOPS_EVIDENCE_KEY``.

Files in the access repository can be written by anyone who can push, so a SHA-256
alone proves nothing about who wrote them: anyone can recompute it. An HMAC-SHA256
with a workflow secret can only be made by a run that holds the secret. Kept approval
evidence (``audit/approvals.json``) and every audit log entry are MACed here; each
caller puts its own kind of message in, so a MAC made for one cannot pass for the other.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

KEY_VARIABLE = "GRANTOPS_EVIDENCE_KEY"


def key_from(environ: Mapping[str, str]) -> bytes | None:
    """The key from the environment; None when it is unset or empty."""
    value = environ.get(KEY_VARIABLE)
    return value.encode() if value else None


def sign(key: bytes, message: bytes) -> str:
    """The hex HMAC-SHA256 of ``message``."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed(key: bytes, message: bytes, mac: object) -> bool:
    """Whether ``mac`` is the HMAC of ``message`` (compared in constant time).

    Anything but an ASCII string is simply not a MAC: ``compare_digest`` raises on other
    text, and a file anyone can push must never crash the run that reads it.
    """
    if not isinstance(mac, str) or not mac.isascii():
        return False
    return hmac.compare_digest(mac, sign(key, message))
