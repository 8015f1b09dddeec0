"""Benchmark: validate N generated grant files; print files/s and peak memory.

Usage: python bench/validate.py [N] (default 100000). Run on demand, not in CI: it
writes N files to a temporary directory and loads them exactly as ``grantops
validate`` does, then runs the ``grantops validate`` command itself on them. Past
2,000 files parsing is spread over the machine's cores.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from grantops.load import load_repo

POLICY = """\
org: acme
managed:
  repos: [payments-api, ledger, "deploy-*"]
  teams: [prod-deployers]
limits:
  max_duration: 72h
"""

FORMS = [
    "user: user{i}\nrepo: payments-api\npermission: push\n",
    "user: user{i}\nteam: prod-deployers\nrole: member\n",
    "team: team{i}\nrepos: [ledger, deploy-{i}]\npermission: maintain\n",
]


def generate(root: Path, count: int) -> None:
    grants = root / "grants"
    grants.mkdir()
    (grants / "policy.yaml").write_text(POLICY)
    for i in range(count):
        folder = grants / f"user{i % 1000}"
        folder.mkdir(exist_ok=True)
        body = FORMS[i % len(FORMS)].format(i=i)
        (folder / f"grant-{i}.yaml").write_text(
            "# yaml-language-server: $schema=../../schema/grant.schema.json\n"
            f"{body}starts: 2026-11-30T09:00:00Z\nexpires: 2026-12-01T09:00:00Z\n"
            f"reason: INC-{i} benchmark grant\n"
        )


def main(argv: list[str]) -> int:
    count = int(argv[1]) if len(argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        generate(root, count)
        print(f"generated {count} grant files in {time.perf_counter() - started:.1f} s")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        loaded = load_repo(root, datetime(2026, 11, 30, 12, tzinfo=UTC))
        elapsed = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert len(loaded.grants) == count
        print(f"validated {count} files in {elapsed:.2f} s: {count / elapsed:,.0f} files/s")
        print(
            f"peak RSS of this process {peak_mib:.0f} MiB (before loading: {before / 1024:.0f} MiB)"
        )
        # The same through the CLI in a child process: RUSAGE_CHILDREN then reports the
        # largest peak of that process and the parsing workers it started.
        started = time.perf_counter()
        command = [sys.executable, "-m", "grantops", "validate", "--root", tmp]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        largest_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"grantops validate (whole command, exit {result.returncode}): {elapsed:.2f} s, "
            f"largest process peak RSS {largest_mib:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
