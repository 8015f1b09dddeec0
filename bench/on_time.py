"""Benchmark: how close to the times in the grant files ``grantops watch`` changes access.

GRANTS grant files (200 by default), each giving one person push on one repository,
have windows whose starts and ends are spread at random over SPREAD (10 minutes), on a
sandbox that answers every request after ``--latency-ms`` (50). All were merged through
one reviewed pull request, so approval proof runs as in production. ``grantops watch
--yes`` runs in its own process from before the first start until after the last end.

The sandbox records the server time of every mutation it accepts
(``GET /_sandbox/changes``); lateness is that time minus the time in the file, so it is
measured from outside grantops. The bench prints lateness p50/p99/max for starts and
for ends, the requests per change after the first full reconcile, and any change made
early or not asked for by a window. Targets: p99 under 5 s, max under 15 s, nothing
early, nothing else.

Usage: python bench/on_time.py [GRANTS] [--spread-minutes M] [--latency-ms MS] [--seed N]
           [--log FILE] [-- EXTRA WATCH ARGUMENTS, e.g. --mutation-interval 1]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo
from grantops.values import format_timestamp, parse_timestamp
from sandboxkit import grantops_environ, sandbox_call, split_extra

ORG = "bench"
REPOS = 50
PEOPLE = 20
SECOND = timedelta(seconds=1)
LEAD = 75 * SECOND
"""From the watch's start to the first window: its first full reconcile comes first."""


@dataclass(frozen=True)
class Window:
    person: str
    repo: str
    starts: datetime
    ends: datetime


def windows(count: int, spread: timedelta, first: datetime, seed: int) -> list[Window]:
    """``count`` windows on distinct (person, repository) pairs within ``spread``."""
    dice = random.Random(seed)
    pairs = [(f"dev{p:02d}", f"svc-{r:03d}") for p in range(PEOPLE) for r in range(REPOS)]
    found = []
    for person, repo in dice.sample(pairs, count):
        a, b = sorted(dice.sample(range(int(spread.total_seconds())), 2))
        found.append(Window(person, repo, first + a * SECOND, first + b * SECOND))
    return found


def access_repo(root: Path, planned: list[Window]) -> ReviewedRepo:
    """The policy and one grant file per window, merged through one reviewed pull request."""
    policy = f"org: {ORG}\nmanaged:\n  repos: ['svc-*']\n"
    repo = ReviewedRepo.create(root)
    repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
    files = {
        f"grants/{w.person}/{w.repo}.yaml": (
            f"user: {w.person}\nrepo: {w.repo}\npermission: push\n"
            f"starts: {format_timestamp(w.starts)}\nexpires: {format_timestamp(w.ends)}\n"
            "reason: BENCH-2 on-call window\n"
        )
        for w in planned
    }
    repo.merge(files, author="requester", approvers=["alice"])
    return repo


def org_state(access: ReviewedRepo) -> SandboxState:
    repos: dict[str, Any] = {f"svc-{r:03d}": {} for r in range(REPOS)}
    repos["access"] = access.repo_state().model_dump()
    members = [f"dev{p:02d}" for p in range(PEOPLE)]
    members += ["requester", "alice", "security-lead", "ciso"]
    return SandboxState.model_validate({"org": ORG, "members": members, "repos": repos})


def watch(sandbox: Sandbox, root: Path, until: datetime, extra: list[str]) -> subprocess.Popen[str]:
    environ = grantops_environ(sandbox.url)
    argv = [sys.executable, "-m", "grantops", "watch", "--yes", "--root", str(root)]
    argv += ["--access-repo", f"{ORG}/access", "--until", format_timestamp(until), *extra]
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, env=environ, stdout=pipe, stderr=pipe, text=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def judge(planned: list[Window], changes: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Lateness of each change by kind; anything a window did not ask for is ``other``."""
    due = {}
    for w in planned:
        path = f"/repos/{ORG}/{w.repo}/collaborators/{w.person}"
        due[("PUT", path)] = ("start", w.starts)
        due[("DELETE", path)] = ("end", w.ends)
    found: dict[str, list[float]] = {"start": [], "end": [], "other": []}
    for change in changes:
        kind, at = due.pop((change["method"], change["path"]), ("other", None))
        late = (parse_timestamp(change["at"]) - at).total_seconds() if at else 0.0
        found[kind].append(late)
    found["missing"] = [0.0] * len(due)
    return found


def show(found: dict[str, list[float]], requests: int) -> bool:
    ok = True
    for kind in ("start", "end"):
        values = found[kind]
        if not values:
            print(f"{kind}s: none made")
            ok = False
            continue
        p50, p99, worst = percentile(values, 0.5), percentile(values, 0.99), max(values)
        early = sum(v < 0 for v in values)
        print(
            f"{kind}s: {len(values)} made, lateness p50 {p50:.2f} s, p99 {p99:.2f} s, "
            f"max {worst:.2f} s, early {early}"
        )
        ok &= p99 < 5 and worst < 15 and early == 0
    made = len(found["start"]) + len(found["end"])
    print(f"requests per change after the first full reconcile: {requests / max(made, 1):.1f}")
    print(f"other mutations: {len(found['other'])}; changes never made: {len(found['missing'])}")
    return ok and not found["other"] and not found["missing"]


def main(argv: list[str]) -> int:
    own, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("grants", type=int, nargs="?", default=200)
    parser.add_argument("--spread-minutes", type=float, default=10)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, help="write the watch's output to this file")
    args = parser.parse_args(own)
    spread = timedelta(minutes=args.spread_minutes)
    first = datetime.now(UTC).replace(microsecond=0) + LEAD
    planned = windows(args.grants, spread, first, args.seed)
    print(
        f"{args.grants} windows over {args.spread_minutes:g} min on {REPOS} repositories, "
        f"{args.latency_ms} ms per request; first window at {format_timestamp(first)}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        access = access_repo(Path(tmp) / "access", planned)
        settings = Settings(latency_ms=args.latency_ms)
        with Sandbox(org_state(access), settings=settings) as sandbox:
            process = watch(sandbox, access.root, first + spread + 30 * SECOND, extra)
            time.sleep(max((first - datetime.now(UTC)).total_seconds() - 2, 0))
            before = sandbox_call(sandbox.url, "GET", "/_sandbox/stats").get("total", 0)
            out, err = process.communicate()
            after = sandbox_call(sandbox.url, "GET", "/_sandbox/stats").get("total", 0)
            changes = sandbox_call(sandbox.url, "GET", "/_sandbox/changes")["changes"]
    if args.log is not None:
        args.log.write_text(out + err)
    if process.returncode != 0:
        print(f"watch exited {process.returncode}; its standard error ends:")
        print("\n".join(f"  {line}" for line in err.splitlines()[-15:]))
    ok = show(judge(planned, changes), after - before)
    return 0 if ok and process.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
