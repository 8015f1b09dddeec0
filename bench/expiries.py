"""Benchmark: what deciding an expiry from git history costs, locally and in requests.

An access repository whose history holds N grant file versions (N/2 for other people,
N/2 naming the grantee, all ended and pushed without review) plus the grantee's one
reviewed, ended grant. ``Prover.expiries`` is asked about the grantee's access, as a
run is when that access would otherwise be removed as drift. Prints the time to read
and sift the history, the requests made, and whether the reviewed version was found.

Usage: python bench/expiries.py [N] (default 10000)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from grantops.access import Principal, Target
from grantops.github import GitHub, RetryPolicy
from grantops.proof.prover import AccessRepo, Prover, Rules
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo

GRANT = """\
user: {user}
repo: payments-api
permission: push
starts: 2026-11-{day:02d}T09:00:00Z
expires: 2026-11-{day:02d}T18:00:00Z
reason: INC-{n} hotfix
"""
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def main(versions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = ReviewedRepo.create(Path(tmp) / "access")
        repo.merge(
            {"grants/octocat/real.yaml": GRANT.format(user="octocat", day=29, n=0)},
            author="requester",
            approvers=["alice"],
            merged_at="2026-11-28T12:00:00Z",
        )
        started = time.perf_counter()
        half = versions // 2
        files = {
            f"grants/noise/{n:06d}.yaml": GRANT.format(user=f"dev{n}", day=1 + n % 28, n=n)
            for n in range(half)
        }
        files |= {
            f"grants/decoy/{n:06d}.yaml": GRANT.format(user="octocat", day=1 + n % 28, n=n)
            for n in range(versions - half)
        }
        repo.commit(files, "mallory", "history")
        built = time.perf_counter() - started
        state = SandboxState.model_validate(
            {"org": "acme", "members": ["octocat", "alice"], "repos": {"payments-api": {}}}
        )
        state.repos["access"] = repo.repo_state()
        with Sandbox(state, settings=Settings(rate_limit=10**6)) as sandbox:
            github = GitHub(sandbox.url, "token", retry=RetryPolicy(mutation_interval=0.0))
            wanted = {(Principal.user("octocat"), Target.repo("acme", "payments-api"))}
            started = time.perf_counter()
            prover = Prover(repo.root, github, AccessRepo("acme", "access", "main"), None)
            found = prover.expiries(Rules(1, None), "acme", wanted, NOW)
            took = time.perf_counter() - started
            github.close()
            requests = sum(v for k, v in sandbox.stats.items() if k != "total")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"history: {versions} grant versions (built in {built:.1f} s)")
    print(f"expiries: {took:.2f} s, {requests} requests, peak memory {peak:.0f} MiB")
    sources = sorted(set(found.ended.values()))
    print(f"expiry proven by: {sources}; versions left unjudged: {len(found.unchecked)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
