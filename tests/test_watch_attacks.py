"""Attacks on ``grantops watch``: access it must not give, or keep, however it is pushed.

Each test drives a real watcher against the sandbox over HTTP, with the access
repository's changes arriving as an attacker with push access sends them: straight to
the branch, with no pull request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from grantops.github import GitHub, RetryPolicy
from grantops.lock import lock_path
from grantops.plan import Outcome
from grantops.proof.prover import AccessRepo
from grantops.run import Applied, Planned, RunSettings
from grantops.values import format_timestamp
from grantops.watch.gitsync import Upstream
from grantops.watch.metrics import Metrics
from grantops.watch.watcher import Watcher, WatchSettings

from .sandbox_fixtures import TOKEN, StartSandbox, live_repo
from .test_watch import (
    SECOND,
    Served,
    at,
    collaborators,
    grant,
    in_background,
    logged,
    soon,
    watch,
)


class Shown:
    """What the watcher showed: its problems, as text."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def full(self, planned: Planned, applied: Applied | None) -> None:
        pass

    def edge(self, planned: Planned, applied: Applied | None) -> None:
        pass

    def outcome(self, outcome: Outcome, late: float | None) -> None:
        pass

    def problem(self, text: str) -> None:
        self.problems.append(text)


@contextmanager
def watcher(served: Served, shown: Shown) -> Iterator[Watcher]:
    """A watcher over ``served``'s checkout, as ``grantops watch --yes`` builds it."""
    base = RunSettings(
        root=served.root, now=datetime.now(UTC), repo=AccessRepo.parse("acme/access", "main")
    )
    retry = RetryPolicy(attempts=1, mutation_interval=0)
    upstream = Upstream.of(served.root)
    assert upstream is not None
    with GitHub(served.sandbox.url, TOKEN, retry=retry) as github:
        yield Watcher(base, WatchSettings(apply=True), github, show=shown, events=Metrics(),
                      upstream=upstream)  # fmt: skip


def pushed_directly(served: Served, files: dict[str, str]) -> None:
    """``files`` committed and pushed straight to main: no pull request, no review."""
    served._git("fetch", "--quiet", "origin")
    served._git("switch", "--quiet", "-C", "main", "origin/main")
    for name, text in files.items():
        (served.dev / name).write_text(text)
        served._git("add", name)
    served._git("commit", "--quiet", "-m", "direct")
    served._git("push", "--quiet", "origin", "main")


def test_a_window_edge_after_an_unreviewed_push_is_judged_by_the_new_history(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The full reconcile after a refresh fails (another apply holds the lock); the start
    that follows must not judge the pushed file by the history read before it arrived."""
    starts = soon(6)
    reviewed = grant("octocat", "ledger", starts, starts + 3600 * SECOND)
    served = Served(start_sandbox, tmp_path, {"g.yaml": reviewed})
    shown = Shown()
    with watcher(served, shown) as watching:
        assert watching._full(datetime.now(UTC))  # it could be made
        assert watching.state.schedule and watching.state.schedule[0].at == starts
        pushed_directly(served, {"grants/g.yaml": reviewed.replace("push", "maintain")})
        assert watching._pull()
        lock = lock_path(served.root)
        lock.write_text(json.dumps({"holder": "elsewhere:1", "expires": format_timestamp(starts)}))
        assert not watching._full(datetime.now(UTC))  # it could not be made
        assert "another apply is running" in shown.problems[-1]
        lock.unlink()
        time.sleep(max((starts - datetime.now(UTC)).total_seconds(), 0) + 0.5)
        now = datetime.now(UTC)
        assert watching._due_now(now)
        watching._edge(now)
    # a plain apply now gives nothing: the file at HEAD was never reviewed
    assert "octocat" not in collaborators(served.sandbox, "ledger")


def test_an_end_exactly_at_until_is_made_before_the_watch_stops(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    ends = soon(5)
    files = {"g.yaml": grant("octocat", "ledger", ends - 3600 * SECOND, ends)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    code, _, err = watch(root, sandbox.url, "--until", format_timestamp(ends))
    assert code == 0, err
    [removed] = logged(root, "access-removed")
    assert removed["cause"] == "expired" and at(removed) >= ends
    assert "octocat" not in collaborators(sandbox, "ledger")


def test_commits_followed_while_pushing_audit_are_reconciled_at_once(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A revoke merged just before an audit push is followed by that push's own refresh;
    the watch must reconcile it then, not at the next scheduled reconcile."""
    starts = soon(14)
    files = {
        "a.yaml": grant("octocat", "ledger", soon(-60), soon(3600)),
        "b.yaml": grant("hubot", "ledger", starts, starts + 3600 * SECOND),
    }
    served = Served(start_sandbox, tmp_path, files)
    finished = served.watching("--push-audit", "--pull-every", "1h",
                               "--until", format_timestamp(starts + 8 * SECOND))  # fmt: skip
    served.until(lambda: "octocat" in collaborators(served.sandbox, "ledger"))
    served.until(lambda: "audit" in served._git("ls-tree", "--name-only", "origin/main")
                 or bool(served._git("fetch", "--quiet", "origin") and False))  # fmt: skip
    served.merged("revoke", {"grants/a.yaml": None})
    code, out, err = finished()
    assert "hubot" in collaborators(served.sandbox, "ledger"), out
    assert "octocat" not in collaborators(served.sandbox, "ledger"), out + err
    [removed] = logged(served.root, "access-removed")
    assert removed["cause"] == "revoked"
    assert code == 0, err


def test_a_refused_rewrite_fails_the_watch_and_its_health(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A force push freezes the checkout (rightly); the watch must not then look healthy,
    since no revoke merged afterwards can reach it."""
    served = Served(start_sandbox, tmp_path, {"g.yaml": grant("octocat", "ledger", soon(-60),
                                                              soon(3600))})  # fmt: skip
    finished = served.watching("--for", "8s")
    served.until(lambda: "octocat" in collaborators(served.sandbox, "ledger"))
    served._git("fetch", "--quiet", "origin")
    served._git("switch", "--quiet", "-C", "main", "origin/main~1")
    (served.dev / "grants" / "other.yaml").write_text(grant("hubot", "ledger", soon(-60),
                                                            soon(3600)))  # fmt: skip
    served._git("add", "grants/other.yaml")
    served._git("commit", "--quiet", "-m", "rewritten")
    served._git("push", "--quiet", "--force", "origin", "main")
    code, _, err = finished()
    assert "history rewritten upstream" in err
    assert code == 1, err


def test_an_unreviewed_grant_pushed_directly_never_opens(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    served = Served(start_sandbox, tmp_path, {})
    finished = served.watching("--for", "12s")
    served.until(lambda: bool(logged(served.root, "run-end")))
    starts = soon(5)
    pushed_directly(served, {"grants/h.yaml": grant("hubot", "ledger", starts, soon(3600))})
    code, out, err = finished()
    assert code == 0, err
    assert "hubot" not in collaborators(served.sandbox, "ledger")
    assert logged(served.root, "access-added") == []
    assert out.count("full reconcile") == 2  # the push was pulled and reconciled


def test_each_full_reconcile_refreshes_the_checkout_first(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A full reconcile on a checkout behind a merge GitHub already knows would read the
    branch as rewritten and refuse to add anything: it pulls first."""
    served = Served(start_sandbox, tmp_path, {})
    finished = served.watching("--pull-every", "1h", "--reconcile-every", "4s", "--for", "12s")
    served.until(lambda: bool(logged(served.root, "run-end")))
    served.merged("grant", {"grants/h.yaml": grant("hubot", "ledger", soon(-60), soon(3600))})
    code, out, err = finished()
    assert "history rewritten" not in out + err
    assert collaborators(served.sandbox, "ledger").get("hubot") == "push", out
    assert code == 0, err


def test_a_start_withheld_by_a_broken_log_is_tried_again_never_dropped(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts = soon(6)
    files = {"g.yaml": grant("octocat", "ledger", starts, starts + 3600 * SECOND)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    finished = in_background(root, sandbox.url, "--until", format_timestamp(starts + 4 * SECOND))
    log = root / "audit" / "log.jsonl"
    deadline = time.monotonic() + 30
    while not logged(root, "run-end"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # someone edits a logged line: the log fails its checks, so runs make only expiries
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    first["org"] = "elsewhere"
    log.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    code, out, err = finished()
    assert "withheld: add user:octocat on repo:acme/ledger" in err and "will try again" in err
    assert "octocat" not in collaborators(sandbox, "ledger")
    assert "window edge: nothing to change" not in out
    assert code == 1  # the start is still due when the watch stops
