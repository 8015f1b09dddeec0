"""Shared fixtures: real access repositories written to temporary directories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .sandbox_fixtures import start_sandbox

__all__ = ["start_sandbox"]

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

POLICY = """\
org: acme
managed:
  repos: [payments-api, ledger, "deploy-*"]
  teams: [prod-deployers]
baseline:
  - {team: platform, repo: payments-api, permission: maintain}
  - {user: release-bot, repo: payments-api, permission: push}
roles:
  security-auditor: triage
limits:
  max_duration: 72h
  permissions: [pull, triage, push, maintain, security-auditor]
protected: [acme-admin-bot]
"""

GRANT = """\
user: octocat
repo: payments-api
permission: push
starts: 2026-11-30T09:00:00Z
expires: 2026-11-30T18:00:00Z
reason: INC-4821 hotfix
"""

WriteRepo = Callable[..., Path]


@pytest.fixture
def write_repo(tmp_path: Path) -> WriteRepo:
    """Write ``grants/policy.yaml`` and grant files (name -> text or bytes) under tmp_path."""

    def write(grants: dict[str, str | bytes] | None = None, policy: str | bytes = POLICY) -> Path:
        base = tmp_path / "grants"
        base.mkdir(exist_ok=True)
        for name, content in {"policy.yaml": policy, **(grants or {})}.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return write
