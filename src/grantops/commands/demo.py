"""``grantops demo``: the whole loop against a local sandbox GitHub, in one command.

It writes an access repository for the example org ``acme`` whose grants are placed
around the current time, with a bare remote the sandbox serves as ``acme/access``,
seeds a sandbox GitHub with access that has drifted, and then runs the real commands
in order: validate, plan, apply, plan again, audit verify; then one request through
its review (request --open-pr, sandbox approve, sandbox merge) and the plan that
proves it. Every flag the commands get is shown; nothing is set behind them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from grantops.commands.common import EXIT_ERROR, EXIT_OK, Io, add_now_option
from grantops.constants import GRANTS_DIR, POLICY_PATH, REPORT_PATH
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo
from grantops.statefile import read_state_file
from grantops.values import format_timestamp

Runner = Callable[[list[str], dict[str, str]], int]


@dataclass(frozen=True)
class DemoGrant:
    """One grant of the demo: its file, its keys, and its window in hours from now."""

    path: str
    body: str
    opens: int
    closes: int
    author: str
    approver: str


GRANTS = [
    DemoGrant(
        "octocat/hotfix-payments-api.yaml",
        "user: octocat\nrepo: payments-api\npermission: push\n"
        "reason: INC-4821 hotfix for payment retries\n",
        -1, 7, "octocat", "alice",
    ),
    DemoGrant(
        "dana/ledger-export.yaml",
        "user: dana\nrepo: ledger\npermission: pull\n"
        "reason: CON-77 contractor reviews the ledger export\n",
        -1, 23, "dana", "bob",
    ),
    DemoGrant(
        "hubot/prod-deployers.yaml",
        "user: hubot\nteam: prod-deployers\n"
        "reason: CHG-1207 release captain for the payments freeze\n",
        -2, 22, "hubot", "alice",
    ),
    DemoGrant(
        "teams/sre-ledger.yaml",
        "team: sre\nrepos: [ledger, deploy-api]\npermission: maintain\n"
        "reason: INC-4830 ledger migration\n",
        -3, 45, "bob", "alice",
    ),
    DemoGrant(
        "mona/ledger-november.yaml",
        "user: mona\nrepo: ledger\npermission: push\nreason: INC-4790 November ledger export\n",
        -48, -24, "mona", "bob",
    ),
    DemoGrant(
        "carol/payments-api-audit.yaml",
        "user: carol\nrepo: payments-api\npermission: security-auditor\n"
        "reason: AUD-311 quarterly access review\n",
        24, 32, "carol", "alice",
    ),
    DemoGrant(
        "eve/payments-api-shortcut.yaml",
        "user: eve\nrepo: payments-api\npermission: maintain\n"
        "reason: approve my own change, just this once\n",
        -1, 5, "eve", "eve",
    ),
]  # fmt: skip

SHOWN = 0
"""The grant whose file the demo prints."""

REQUEST = [
    "request",
    "--user",
    "octocat",
    "--repo",
    "ledger",
    "--permission",
    "push",
    "--for",
    "2h",
    "--reason",
    "INC-4833 fix the ledger export",
    "--open-pr",
    "--access-repo",
    "acme/access",
]
"""The request the demo walks through review: octocat asks, alice approves and merges."""

SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/grant.schema.json\n"

DRIFT = [
    "bob was given admin on payments-api by hand",
    "mona still has push on ledger, although her grant ended a day ago",
    "mallory holds an invitation to payments-api that nobody asked for",
]
REFUSED = (
    "eve approved her own grant and merged it: it gives nothing, and plan and apply exit 1 "
    "with an error naming it, as in a real run, until it is deleted"
)
FLAGGED = frozenset({"plan", "apply --yes"})
"""Steps that exit 1 because of eve's grant, as a real run would."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("demo", help="run the whole loop against a sandbox")
    add_now_option(parser)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the demo's access repository (a git checkout) and say where it is",
    )


def write_access_repo(root: Path, now: datetime) -> ReviewedRepo:
    """A git access repository: the example policy, then each demo grant merged through
    its own reviewed pull request, placed around ``now``."""
    examples = resources.files("grantops") / "examples"
    repo = ReviewedRepo.create(root)
    policy = (examples / "policy.yaml").read_text()
    repo.merge({POLICY_PATH: policy}, author="security-lead", approvers=["ciso"])
    for grant in GRANTS:
        window = (
            f"starts: {format_timestamp(now + timedelta(hours=grant.opens))}\n"
            f"expires: {format_timestamp(now + timedelta(hours=grant.closes))}\n"
        )
        text = SCHEMA_LINE + grant.body + window
        merged = format_timestamp(now + timedelta(hours=min(grant.opens, 0) - 1))
        repo.merge(
            {f"{GRANTS_DIR}/{grant.path}": text},
            author=grant.author,
            approvers=[grant.approver],
            merged_at=merged,  # reviewed and merged before its window opened
        )
    return repo


def run(args: argparse.Namespace, now: datetime, io: Io, main: Runner) -> int:
    examples = resources.files("grantops") / "examples"
    with resources.as_file(examples / "acme-state.json") as state_path:
        state = read_state_file(state_path, SandboxState)
    workdir = Path(tempfile.mkdtemp(prefix="grantops-demo-"))
    try:
        repo = write_access_repo(workdir / "access", now)
        remote = _remote(repo, workdir / "access.git")
        state.repos["access"] = repo.repo_state()
        with Sandbox(state, settings=Settings(git={"access": remote})) as sandbox:
            code = _walk_through(repo.root, sandbox, now, io, main)
            return code if code != EXIT_OK else _rehearse(repo.root, sandbox, now, io, main)
    finally:
        if args.keep:
            io.out(f"\nThe demo's access repository is kept at {workdir / 'access'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _remote(repo: ReviewedRepo, remote: Path) -> Path:
    """A bare remote ``origin`` for the access repository; octocat works in the clone."""
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "--quiet", "origin", "main")
    repo.git("config", "user.name", "octocat")
    repo.git("config", "user.email", "octocat@users.noreply.github.com")
    return remote


def _environ(sandbox: Sandbox, login: str = "") -> dict[str, str]:
    """The demo's environment: a sandbox token (``LOGIN:SECRET`` acts as LOGIN)."""
    return {
        "GITHUB_TOKEN": f"{login}:demo-token" if login else "demo-token",
        "GITHUB_API_URL": sandbox.url,
        # signs kept approval evidence, so the last plan need not ask GitHub again
        "GRANTOPS_EVIDENCE_KEY": "demo-evidence-key",
    }


def _walk_through(root: Path, sandbox: Sandbox, now: datetime, io: Io, main: Runner) -> int:
    at = format_timestamp(now)
    common = ["--root", str(root), "--now", at]
    access = [*common, "--access-repo", "acme/access"]
    io.out(f"grantops demo: the org 'acme' on a sandbox GitHub at {sandbox.url}")
    io.out(f"Access repository (git): {root} ({len(GRANTS)} grants around now, {at})")
    shown = GRANTS[SHOWN]
    io.out(f"One of them, {GRANTS_DIR}/{shown.path}:\n")
    io.out((root / GRANTS_DIR / shown.path).read_text(encoding="utf-8").rstrip("\n"))
    io.out("\nDrift planted in the sandbox, declared by nobody:")
    for line in DRIFT:
        io.out(f"  - {line}")
    io.out(f"Every grant came through a reviewed pull request, except: {REFUSED}.")
    steps = [
        ("validate", "check the policy and every grant", ["validate", *common]),
        ("plan", "compare GitHub with the baseline and the open grants", ["plan", *access]),
        (
            "apply --yes",
            "make GitHub match, one change at a time",
            ["apply", *access, "--yes", "--mutation-interval", "0"],
        ),
        ("plan", "again: a converged org plans nothing", ["plan", *access]),
        ("audit verify", "the audit log's hash chain is intact", ["audit", "verify", *common]),
    ]
    code = _steps(steps, 1, _environ(sandbox), io, main)
    if code != EXIT_OK:
        return code
    stats = dict(sandbox.stats)
    changes = sum(v for k, v in stats.items() if k.split(" ")[0] in ("PUT", "DELETE", "POST"))
    io.out(
        f"\nThe sandbox answered {stats.get('total', 0)} requests: "
        f"{stats.get('total', 0) - changes} reads and {changes} changes."
    )
    io.out("dana's access starts when she accepts her invitation; carol's grant opens tomorrow.")
    report = root / REPORT_PATH
    io.out(f"\n== The audit report apply wrote ({REPORT_PATH}):\n")
    io.out(report.read_text(encoding="utf-8").rstrip("\n"))
    return EXIT_OK


def _rehearse(root: Path, sandbox: Sandbox, now: datetime, io: Io, main: Runner) -> int:
    """One request through its review, as ``grantops sandbox`` rehearses it."""
    io.out("\n== A new request, reviewed on the sandbox: octocat asks, alice approves")
    review = ["--pull", "9", "--as", "alice", "--access-repo", "acme/access", "--root", str(root)]
    steps = [
        ("request", "write the grant file, push a branch, open its pull request",
         [*REQUEST, "--root", str(root), "--now", format_timestamp(now)]),
        ("sandbox approve", "alice approves the pull request's head",
         ["sandbox", "approve", *review]),
        ("sandbox merge", "alice merges it: a merge commit on main",
         ["sandbox", "merge", *review]),
        ("plan", "the merged grant is proven by its review and planned",
         ["plan", "--root", str(root), "--access-repo", "acme/access"]),
    ]  # fmt: skip
    return _steps(steps, 6, _environ(sandbox, "octocat"), io, main)


def _steps(
    steps: list[tuple[str, str, list[str]]],
    first: int,
    environ: dict[str, str],
    io: Io,
    main: Runner,
) -> int:
    for number, (name, why, argv) in enumerate(steps, start=first):
        io.out(f"\n== Step {number}: grantops {name}  ({why})\n")
        code = main(argv, environ)
        if code != (EXIT_ERROR if name in FLAGGED else EXIT_OK):
            io.err(f"grantops demo: step {number} exited {code}; stopping")
            return EXIT_ERROR
    return EXIT_OK
