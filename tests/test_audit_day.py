"""Audit day: the access review of a month of real runs, held to a reviewed golden file.

A reviewed access repository and a sandbox org are driven through plan and apply at
several moments, with the log stamped at each moment, so the report is the same on
every machine: a grant extended by a second reviewed pull request (another approver),
a team grant whose file is deleted in a reviewed pull request, access added by hand and
removed as drift, an add for a login that does not exist, an expiry removed late, and
"who had access to what" at one moment, the baseline and team members included.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from grantops.proof.prover import AccessRepo
from grantops.run import Run, RunSettings
from grantops.sandbox.reviewed import ReviewedRepo
from grantops.values import parse_timestamp

from .data import POLICY
from .sandbox_fixtures import BASE_STATE, StartSandbox, client, new_access_repo, with_access_repo
from .test_cli import run

GOLDEN = Path(__file__).with_name("golden") / "audit-report.md"
ACCESS = AccessRepo("acme", "access", "main")

OCTOCAT = "user: octocat\nrepo: payments-api\npermission: push\nexpires: {}\nreason: INC-7 {}\n"
TEAM = "team: prod-deployers\nrepo: ledger\npermission: push\nexpires: 2026-11-23T00:00:00Z\n"
MEMBER = "user: mona\nteam: prod-deployers\nexpires: 2026-11-23T00:00:00Z\nreason: INC-8 on call\n"
TYPO = "user: octocatt\nrepo: deploy-api\npermission: pull\nexpires: 2026-11-23T00:00:00Z\n"


def _access_repo(root: Path) -> ReviewedRepo:
    repo = new_access_repo(root)
    repo.merge(
        {"grants/policy.yaml": POLICY},
        author="security-lead",
        approvers=["ciso"],
        merged_at="2026-11-01T10:00:00Z",
    )
    grants = {
        "grants/octocat.yaml": OCTOCAT.format("2026-11-21T12:00:00Z", "hotfix"),
        "grants/deployers.yaml": TEAM + "reason: INC-8 ledger migration\n",
        "grants/mona.yaml": MEMBER,
        "grants/typo.yaml": TYPO + "reason: INC-9 read the deploy logs\n",
    }
    for name, text in grants.items():
        repo.merge({name: text}, author="requester", approvers=["alice"], merged_at=_at(8, 20))
    return repo


def _at(hour: int, day: int) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00Z"


def _apply(repo: ReviewedRepo, start_sandbox: StartSandbox, state: dict[str, Any], at: str) -> Any:
    """One reconcile at ``at`` against a sandbox that knows the repository's reviews;
    returns the org as it stands after the run."""
    sandbox = start_sandbox(with_access_repo(repo, state))
    now: datetime = parse_timestamp(at)
    settings = RunSettings(root=repo.root, now=now, repo=ACCESS, run_id=f"run-{at}")
    with client(sandbox) as github:
        reconcile = Run(settings, github, clock=lambda: now)
        applied = reconcile.apply(reconcile.plan())
    after = sandbox.state().model_dump()
    after["repos"].pop("access")
    return applied, after


def test_audit_day_golden_report(
    start_sandbox: StartSandbox, tmp_path: Path, update_golden: bool
) -> None:
    repo = _access_repo(tmp_path / "access")
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"]["collaborators"] = {"carol": "admin"}  # added by hand
    applied, state = _apply(repo, start_sandbox, state, _at(9, 20))
    assert [o.result for o in applied.outcomes].count("failed") == 1  # octocatt does not exist
    repo.merge(
        {"grants/octocat.yaml": OCTOCAT.format("2026-11-22T12:00:00Z", "hotfix, extended")},
        author="octocat",
        approvers=["bob"],
        merged_at=_at(8, 21),
    )
    _, state = _apply(repo, start_sandbox, state, _at(9, 21))
    repo.merge(
        {},
        author="security-lead",
        approvers=["alice"],
        remove=["grants/deployers.yaml"],
        merged_at=_at(10, 21),
    )
    _, state = _apply(repo, start_sandbox, state, _at(11, 21))
    _, state = _apply(repo, start_sandbox, state, "2026-11-22T12:45:00Z")

    since = ("--since", "2026-11-19T00:00:00Z", "--until", "2026-11-23T00:00:00Z")
    window = _report(repo.root, *since)
    moment = _report(repo.root, "--now", "2026-11-23T00:00:00Z", "--at", "1d14h30m")
    # commit ids depend on git's version and the checkout's clock: the golden file names none
    text = re.sub(r"\b[0-9a-f]{12}\b", "<commit>", window + "\n\n" + moment + "\n")
    if update_golden:
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "review the change, then: pytest --update-golden"

    periods = window.split("## Grant versions")[0]
    assert (
        "2026-11-21T09:00:00Z | next version | grants/octocat.yaml   | #2   | requester" in periods
    )
    assert "| expired      | grants/octocat.yaml   | #6   | octocat        | bob" in periods
    # the team grant's file was deleted in a reviewed pull request: revoked, not drift
    assert "| revoked      | grants/deployers.yaml | #3   | requester" in periods
    assert "expired" in window and "| 45m" in window
    assert "| user:carol" in window and "drift removed" in window
    assert (
        "GitHub found no such account" in window
        and "user:octocatt" in window.split("## Failed changes")[1]
    )
    assert "user:octocatt" not in window.split("## Grant versions")[0]
    assert (
        "| user:mona           | push     | repo:acme/ledger         | team:prod-deployers"
        in moment
    )
    assert "| team:platform" in moment and "baseline" in moment


def _report(root: Path, *args: str) -> str:
    code, out, err = run("audit", "report", "--root", str(root), *args)
    assert code == 0, err
    return out
