"""Shared test data: the example policy and a grant, evaluated at a fixed NOW."""

from __future__ import annotations

from datetime import UTC, datetime

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

DURATION = """\
user: octocat
repo: payments-api
permission: push
duration: 48h
reason: INC-4821 hotfix
"""
"""A grant whose 48h window opens at its approving merge."""
