"""Benchmark: what one ``grantops plan`` costs on a large org, in a fresh process.

A sandbox org of REPOS repositories, each with COLLABORATORS direct collaborators
(the same people everywhere), answers every request after ``--latency-ms``. The access
repository grants each of them push on every repository, in grant files that one
reviewed pull request merged, so approval proof runs as in production. Two orgs are
planned, each from a fresh sandbox with a full rate-limit budget:

* **converged**: GitHub holds exactly what the grants give, so the plan is empty;
* **drifted**: on each repository one person is missing and an undeclared admin is
  present, so the plan adds and removes one collaborator per repository.

Each plan runs as ``python -m grantops plan --json`` in a new process, as the scheduled
job does (every run is a cold run: nothing is cached between processes). For each the
bench prints the wall time, the plan's size, the sandbox's requests by kind (from
``/_sandbox/stats``, whatever kinds it counts) and the rate-limit budget spent per
resource (from ``/rate_limit``: REST requests, GraphQL points where the sandbox has
them), and that cost per repository.

Usage: python bench/reconcile.py [REPOS] [--collaborators N] [--latency-ms MS]
           [--rate-limit N] [-- EXTRA PLAN ARGUMENTS, e.g. --read-api rest]

REPOS defaults to 200 for a quick run; the figures that matter are 2000 and 10000.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo
from sandboxkit import grantops_environ, sandbox_call, split_extra

ORG = "bench"
NOW = "2026-11-30T12:00:00Z"
REPOS_PER_FILE = 1000
"""Repositories per grant file: a grant file must stay under the loader's 64 KiB."""
INTRUDER = "intruder"


@dataclass(frozen=True)
class Org:
    repos: list[str]
    people: list[str]

    def state(self, drifted: bool, access: ReviewedRepo) -> SandboxState:
        """The org as GitHub holds it: as granted, or with one person missing and an
        undeclared admin on every repository."""
        repos: dict[str, Any] = {}
        for i, name in enumerate(self.repos):
            missing = self.people[i % len(self.people)] if drifted else None
            holders = {p: "push" for p in self.people if p != missing}
            if drifted:
                holders[INTRUDER] = "admin"
            repos[name] = {"collaborators": holders}
        repos["access"] = access.repo_state().model_dump()
        members = [*self.people, INTRUDER, "requester", "alice", "security-lead", "ciso"]
        return SandboxState.model_validate({"org": ORG, "members": members, "repos": repos})


def access_repo(root: Path, org: Org) -> ReviewedRepo:
    """The access repository: a policy and one grant file per person and slice of
    repositories, each merged through a reviewed pull request."""
    policy = (
        f"org: {ORG}\nmanaged:\n  repos: ['svc-*']\n"
        f"safety:\n  max_removals: {len(org.repos) * 2}\n  max_removal_fraction: 1\n"
    )
    repo = ReviewedRepo.create(root)
    repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
    files = {}
    for person in org.people:
        for start in range(0, len(org.repos), REPOS_PER_FILE):
            names = ", ".join(org.repos[start : start + REPOS_PER_FILE])
            files[f"grants/{person}/part-{start // REPOS_PER_FILE:03d}.yaml"] = (
                f"user: {person}\nrepos: [{names}]\npermission: push\n"
                "reason: BENCH-1 standing access\n"
                "starts: 2026-11-30T11:00:00Z\nexpires: 2026-12-02T11:00:00Z\n"
            )
    repo.merge(files, author="requester", approvers=["alice"], merged_at="2026-11-30T10:00:00Z")
    return repo


def budget(url: str) -> dict[str, tuple[int, int]]:
    """``used`` and ``limit`` of each rate-limit resource the sandbox reports (core,
    graphql, ...)."""
    resources = sandbox_call(url, "GET", "/rate_limit")["resources"]
    return {
        name: (int(r["used"]), int(r["limit"])) for name, r in resources.items() if name != "search"
    }


@dataclass(frozen=True)
class Measured:
    seconds: float
    code: int
    document: dict[str, Any]
    requests: dict[str, int]
    spent: dict[str, int]
    limits: dict[str, int]
    errors: str

    def runs_an_hour(self) -> int | None:
        """How many such plans the hourly budgets allow (None: nothing was spent)."""
        fits = [self.limits[name] // used for name, used in self.spent.items() if used > 0]
        return min(fits) if fits else None


def plan_once(sandbox: Sandbox, root: Path, extra: list[str]) -> Measured:
    """``grantops plan --json`` in a new process against a fresh sandbox."""
    before = budget(sandbox.url)
    sandbox_call(sandbox.url, "POST", "/_sandbox/reset-stats")
    environ = grantops_environ(sandbox.url)
    argv = [sys.executable, "-m", "grantops", "plan", "--root", str(root), "--now", NOW]
    argv += ["--access-repo", f"{ORG}/access", "--json", *extra]
    started = time.perf_counter()
    done = subprocess.run(argv, env=environ, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    requests = sandbox_call(sandbox.url, "GET", "/_sandbox/stats")
    after = budget(sandbox.url)
    spent = {name: used - before.get(name, (0, 0))[0] for name, (used, _) in after.items()}
    limits = {name: limit for name, (_, limit) in after.items()}
    try:
        document = json.loads(done.stdout)
    except ValueError:
        document = {}
    return Measured(seconds, done.returncode, document, requests, spent, limits, done.stderr)


def show(label: str, repos: int, found: Measured) -> None:
    changes = found.document.get("changes", [])
    unreadable = found.document.get("unreadable", {})
    cost = sum(found.spent.values())
    print(f"{label}: exit {found.code}, {found.seconds:.1f} s wall time")
    print(f"  plan: {len(changes)} changes, {len(unreadable)} targets unreadable")
    spent = ", ".join(f"{name} {used}" for name, used in sorted(found.spent.items()))
    read = repos - len(unreadable)
    partial = f" ({cost / read:.3f} per repository read)" if unreadable and read else ""
    print(f"  rate-limit cost: {cost} ({spent}), {cost / repos:.3f} per repository{partial}")
    print(f"  plans an hour within the budget: {found.runs_an_hour() or 'any number'}")
    counted = {k: v for k, v in found.requests.items() if k != "total"}
    print(f"  requests: {found.requests.get('total', 0)} in all")
    for kind, count in sorted(counted.items(), key=lambda item: (-item[1], item[0])):
        print(f"    {count:7d}  {kind}")
    if not found.document:
        print("  no plan came out; its standard error ends:")
        print("\n".join(f"    {line}" for line in found.errors.splitlines()[-10:]))
    elif unreadable:
        reasons = sorted(set(unreadable.values()))
        print(f"  first reason unreadable: {reasons[0]}")


def arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The bench's own options, and what follows ``--`` for ``grantops plan``."""
    own, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", type=int, nargs="?", default=200)
    parser.add_argument("--collaborators", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--rate-limit", type=int, default=Settings.rate_limit, help="requests an hour"
    )
    return parser.parse_args(own), extra


def main(argv: list[str]) -> int:
    args, extra = arguments(argv)
    org = Org(
        [f"svc-{i:05d}" for i in range(args.repos)],
        [f"dev{j:02d}" for j in range(args.collaborators)],
    )
    print(
        f"org: {args.repos} repositories x {args.collaborators} collaborators, "
        f"{args.latency_ms} ms per request, a budget of {args.rate_limit} an hour"
        + (f"; plan given {' '.join(extra)}" if extra else "")
    )
    settings = {"latency_ms": args.latency_ms, "rate_limit": args.rate_limit}
    with tempfile.TemporaryDirectory() as tmp:
        access = access_repo(Path(tmp) / "access", org)
        for label, drifted in (("converged", False), ("drifted", True)):
            state = org.state(drifted, access)
            with Sandbox(state, settings=Settings(**settings)) as sandbox:
                found = plan_once(sandbox, access.root, extra)
            show(label, args.repos, found)
            if not found.document:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
