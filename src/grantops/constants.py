"""Where things live in an access repository, and which grantops this is.

Each path is relative to the access repository's root and defined here only, so the
loader, the prover, the audit trail, the demo and the tests cannot drift apart.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

GRANTS_DIR = "grants"
"""Every grant file lives under this folder (one YAML file per grant)."""

POLICY_PATH = f"{GRANTS_DIR}/policy.yaml"
"""The policy: org, scope, baseline, protected accounts, limits, approval rules."""

SCHEMA_DIR = "schema"
"""The JSON Schemas of the policy and grant files, generated from the models."""

AUDIT_DIR = "audit"
"""What grantops writes back into the repository for people to read and review."""

LOG_PATH = f"{AUDIT_DIR}/log.jsonl"
"""The append-only audit log: one JSON event per line, hash-chained and MACed."""

REPORT_PATH = f"{AUDIT_DIR}/report.md"
"""The human-readable access report, rewritten by every run that records something."""

EVIDENCE_PATH = f"{AUDIT_DIR}/approvals.json"
"""Approval evidence kept between runs, so a proven version is not asked about again."""

LOCK_NAME = ".grantops-apply.lock"
"""The lock file that keeps two applies from changing access at once (not committed)."""

try:
    VERSION = version("grantops")
except PackageNotFoundError:  # run from a source tree without installing
    VERSION = "0+unknown"
"""The installed version, read from the package metadata (``pyproject.toml`` sets it)."""
