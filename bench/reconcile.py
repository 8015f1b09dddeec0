"""Benchmark: plan and apply against a sandbox org of 500 repos x 20 collaborators.

Every repository has 20 declared collaborators (one open grant per person, listing
every repository); the sandbox holds 19 of them plus one nobody declared, so 10% of
entries drift. Each request waits
20 ms, like a nearby API. The run prints requests by kind and wall time for the plan
and the apply, then checks that a second plan is empty.

Usage: python bench/reconcile.py [REPOS] [COLLABORATORS] [LATENCY_MS] [rest|graphql]
(the last: which GitHub API reads access, as ``--read-api``; default rest)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grantops.github import GitHub, RetryPolicy
from grantops.load import load_repo
from grantops.run.live import apply_plan, plan_live
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.values import format_timestamp


def build(root: Path, repos: int, people: int, now: datetime) -> SandboxState:
    names = [f"svc-{i:03d}" for i in range(repos)]
    users = [f"dev{j:02d}" for j in range(people)]
    grants = root / "grants"
    grants.mkdir()
    (grants / "policy.yaml").write_text(
        f"org: bench\nmanaged:\n  repos: ['svc-*']\nsafety:\n  max_removals: {repos * 2}\n"
    )
    window = (
        f"starts: {format_timestamp(now - timedelta(hours=1))}\n"
        f"expires: {format_timestamp(now + timedelta(hours=71))}\n"
    )
    for user in users:
        (grants / f"{user}.yaml").write_text(
            f"user: {user}\nrepos: [{', '.join(names)}]\npermission: push\n"
            f"reason: BENCH-1 standing access\n{window}"
        )
    state = {
        "org": "bench",
        "members": [*users, "intruder"],
        "repos": {
            name: {
                "collaborators": {
                    **{u: "push" for j, u in enumerate(users) if j != i % people},
                    "intruder": "admin",
                }
            }
            for i, name in enumerate(names)
        },
    }
    return SandboxState.model_validate(state)


def _kinds(stats: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(stats.items()) if k != "total")


def main(argv: list[str]) -> int:
    repos = int(argv[1]) if len(argv) > 1 else 500
    people = int(argv[2]) if len(argv) > 2 else 20
    latency = int(argv[3]) if len(argv) > 3 else 20
    read_api = argv[4] if len(argv) > 4 else "rest"
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        state = build(root, repos, people, now)
        loaded = load_repo(root, now)
        with Sandbox(state, settings=Settings(latency_ms=latency, rate_limit=10**6)) as sandbox:
            retry = RetryPolicy(mutation_interval=0)
            with GitHub(sandbox.url, "bench-token", retry=retry, read_api=read_api) as github:
                started = time.perf_counter()
                live = plan_live(loaded, github, now)
                plan_seconds = time.perf_counter() - started
                reads = dict(sandbox.stats)
                print(
                    f"org: {repos} repos x {people} collaborators, {latency} ms per request, "
                    f"reads through {read_api}"
                )
                print(
                    f"plan: {len(live.plan.changes)} changes in {plan_seconds:.1f} s, "
                    f"{reads['total']} requests ({_kinds(reads)})"
                )
                sandbox.stats.clear()
                started = time.perf_counter()
                outcomes = apply_plan(live.plan, github, live.invitation_ids)
                apply_seconds = time.perf_counter() - started
                writes = dict(sandbox.stats)
                failed = sum(1 for o in outcomes if o.result == "failed")
                print(
                    f"apply: {len(outcomes)} changes ({failed} failed) in {apply_seconds:.1f} s, "
                    f"{writes.get('total', 0)} requests ({_kinds(writes)})"
                )
                sandbox.stats.clear()
                seen = len(sandbox.exchanges)
                again = plan_live(loaded, github, now)
                free = sum(1 for e in sandbox.exchanges[seen:] if e.status == 304)
                print(
                    f"second plan: {len(again.plan.changes)} changes, "
                    f"{sandbox.stats['total']} requests, {free} of them 304 (ETag, no rate limit)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
