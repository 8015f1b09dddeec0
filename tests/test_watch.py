"""``grantops watch`` against the sandbox, on a short clock: windows seconds apart.

Each test writes grant files whose windows open and close a few seconds after the
watch starts, runs the real command over real HTTP, and checks what changed on the
sandbox and in the audit log, and that no change came before the time in the file.
Changes to the access repository arrive as they do on GitHub: a branch pushed to the
bare remote the sandbox serves, a pull request approved by a peer and merged there,
and the watch's own ``git fetch``.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from grantops.sandbox import Sandbox
from grantops.values import format_timestamp, parse_timestamp

from .data import POLICY
from .sandbox_fixtures import StartSandbox, access_env, live_repo, with_access_repo, with_remote
from .test_app_auth import app, app_env, keys, minted, refused
from .test_cli import run

SECOND = timedelta(seconds=1)


def grant(user: str, repo: str, starts: datetime, expires: datetime) -> str:
    return (
        f"user: {user}\nrepo: {repo}\npermission: push\n"
        f"starts: {format_timestamp(starts)}\nexpires: {format_timestamp(expires)}\n"
        "reason: INC-4821 on-call fix\n"
    )


def soon(seconds: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + seconds * SECOND


def logged(root: Path, event: str | None = None) -> list[dict[str, Any]]:
    log = root / "audit" / "log.jsonl"
    text = log.read_text() if log.exists() else ""
    lines = [json.loads(line) for line in text.splitlines()]
    return [line for line in lines if event is None or line["event"] == event]


def at(line: dict[str, Any]) -> datetime:
    return parse_timestamp(line["ts"])


def watch(root: Path, url: str, *extra: str) -> tuple[int, str, str]:
    return run(
        "watch", "--yes", "--root", str(root), "--mutation-interval", "0", *extra,
        environ=access_env(url),
    )  # fmt: skip


def in_background(root: Path, url: str, *argv: str) -> Callable[[], tuple[int, str, str]]:
    """Start ``watch`` in a thread; the returned call waits for its result."""
    result: list[tuple[int, str, str]] = []
    thread = threading.Thread(target=lambda: result.append(watch(root, url, *argv)))
    thread.start()

    def finished() -> tuple[int, str, str]:
        thread.join(timeout=120)
        assert result, "the watch did not finish"
        return result[0]

    return finished


def mutations(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in sandbox.exchanges if e.method in ("PUT", "DELETE")]


def collaborators(sandbox: Sandbox, repo: str) -> dict[str, str]:
    return dict(sandbox.state().repos[repo].collaborators)


def test_access_starts_and_ends_at_the_times_in_the_file(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts, ends = soon(5), soon(8)
    files = {"g.yaml": grant("octocat", "ledger", starts, ends)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    code, out, err = watch(root, sandbox.url, "--until", format_timestamp(ends + SECOND))
    assert code == 0, err
    [added] = logged(root, "access-added")
    [removed] = logged(root, "access-removed")
    assert (added["principal"], added["target"], added["to"]) == (
        "user:octocat", "repo:acme/ledger", "push"
    )  # fmt: skip
    assert (removed["cause"], removed["source"]) == ("expired", "grants/g.yaml")
    assert starts <= at(added) < ends <= at(removed)  # never early
    path = "/repos/acme/ledger/collaborators/octocat"
    assert mutations(sandbox) == [("PUT", path), ("DELETE", path)]  # nothing else changed
    assert "octocat" not in collaborators(sandbox, "ledger")
    assert out.count("s after the time in the file") == 2
    assert "full reconcile" in out and "stopped" in err


def test_without_yes_it_only_shows_what_it_would_do(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts = soon(4)
    files = {"g.yaml": grant("octocat", "ledger", starts, starts + 3600 * SECOND)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    code, out, err = run(
        "watch", "--root", str(root), "--until", format_timestamp(starts + SECOND),
        environ=access_env(sandbox.url),
    )  # fmt: skip
    assert code == 0, err
    assert "due (dry run, nothing changed):" in out
    assert "would add user:octocat on repo:acme/ledger" in out
    assert mutations(sandbox) == []
    assert logged(root) == []


def test_horizon_stays_only_for_windows_due_within_it(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    ends = soon(5)
    files = {
        "soon.yaml": grant("octocat", "ledger", ends - 3600 * SECOND, ends),
        "later.yaml": grant("hubot", "ledger", ends - 3600 * SECOND, ends + 3600 * SECOND),
    }
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    started = time.monotonic()
    code, out, err = watch(root, sandbox.url, "--horizon", "30s", "--for", "1h")
    assert code == 0, err
    assert time.monotonic() - started < 600  # it left once only the later end remained
    [removed] = logged(root, "access-removed")
    assert removed["principal"] == "user:octocat" and at(removed) >= ends
    assert collaborators(sandbox, "ledger").get("hubot") == "push"

    # nothing due within the horizon: it leaves right after its full reconcile
    code, out, err = watch(root, sandbox.url, "--horizon", "30s", "--for", "1h")
    assert code == 0, err
    assert out.count("full reconcile") == 1


# ----- changes that arrive through the access repository ------------------------


class Served:
    """The watch's checkout, a developer's clone, and the sandbox serving their remote."""

    def __init__(self, start_sandbox: StartSandbox, tmp_path: Path, grants: dict[str, str]):
        repo, remote = with_remote(tmp_path)
        for name, text in grants.items():
            repo.merge({f"grants/{name}": text}, author="requester", approvers=["alice"])
        repo.git("push", "--quiet", "-u", "origin", "main")
        state = copy.deepcopy(with_access_repo(repo))
        state["repos"]["access"]["collaborators"]["bob"] = "push"
        self.root, self.remote = repo.root, remote
        self.sandbox = start_sandbox(state, git={"access": remote})
        self.dev = tmp_path / "dev"
        subprocess.run(["git", "clone", "--quiet", str(remote), str(self.dev)], check=True)
        for key, value in (("user.name", "Octo Cat"), ("user.email", "octocat@example.com")):
            self._git("config", key, value)

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.dev), *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def merged(self, branch: str, files: dict[str, str | None]) -> None:
        """``files`` changed (None: deleted) through a pull request bob approves and merges."""
        self._git("pull", "--quiet", "origin", "main")
        self._git("switch", "--quiet", "-c", branch)
        for name, text in files.items():
            if text is None:
                self._git("rm", "--quiet", name)
            else:
                (self.dev / name).write_text(text)
                self._git("add", name)
        self._git("commit", "--quiet", "-m", branch)
        self._git("push", "--quiet", "origin", branch)
        self._git("switch", "--quiet", "main")
        as_octocat = {"GITHUB_TOKEN": "octocat:secret", "GITHUB_API_URL": self.sandbox.url}
        slug = ("--access-repo", "acme/access", "--root", str(self.dev))
        code, out, err = run("sandbox", "open", "--head", branch, "--title", branch, "--as",
                             "octocat", *slug, environ=as_octocat)  # fmt: skip
        assert code == 0, err
        number = out.split("#")[1].split()[0]
        as_bob = {**as_octocat, "GITHUB_TOKEN": "bob:secret"}
        for action in ("approve", "merge"):
            code, _, err = run("sandbox", action, "--pull", number, "--as", "bob", *slug,
                               environ=as_bob)  # fmt: skip
            assert code == 0, err

    def watching(self, *extra: str) -> Callable[[], tuple[int, str, str]]:
        """Start the watch in a thread; the returned call waits for its result."""
        argv = ("--pull-every", "1s", "--access-repo", "acme/access", *extra)
        return in_background(self.root, self.sandbox.url, *argv)

    def until(self, holds: Callable[[], bool], seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not holds():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)


def test_an_extension_merged_while_watching_moves_the_end(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    old_end, new_end = soon(14), soon(19)
    opened = old_end - 3600 * SECOND
    served = Served(
        start_sandbox, tmp_path, {"g.yaml": grant("octocat", "ledger", opened, old_end)}
    )
    finished = served.watching("--until", format_timestamp(new_end + SECOND))
    served.until(lambda: "octocat" in collaborators(served.sandbox, "ledger"))
    served.merged("extend", {"grants/g.yaml": grant("octocat", "ledger", opened, new_end)})
    code, _, err = finished()
    assert code == 0, err
    [removed] = logged(served.root, "access-removed")
    assert at(removed) >= new_end, "removed at the old end"
    assert removed["cause"] == "expired"
    assert "octocat" not in collaborators(served.sandbox, "ledger")


def test_a_reviewed_revoke_ends_access_at_the_next_pull(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    ends = soon(3600)
    served = Served(
        start_sandbox, tmp_path, {"g.yaml": grant("octocat", "ledger", soon(-60), ends)}
    )
    finished = served.watching("--for", "30s")
    served.until(lambda: "octocat" in collaborators(served.sandbox, "ledger"))
    revoked_at = datetime.now(UTC)
    served.merged("revoke", {"grants/g.yaml": None})
    served.until(lambda: "octocat" not in collaborators(served.sandbox, "ledger"))
    gone = datetime.now(UTC)
    [removed] = logged(served.root, "access-removed")
    assert removed["cause"] == "revoked"
    assert gone - revoked_at < 30 * SECOND
    assert served.sandbox is not None
    finished()


def test_a_policy_change_is_picked_up_by_the_pull(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    served = Served(start_sandbox, tmp_path, {})
    finished = served.watching("--for", "30s")
    served.until(lambda: bool(logged(served.root, "run-end")))
    baseline = "  - {user: mona, repo: ledger, permission: triage}\n"
    policy = POLICY.replace("baseline:\n", "baseline:\n" + baseline)
    served.merged("policy", {"grants/policy.yaml": policy})
    served.until(lambda: collaborators(served.sandbox, "ledger").get("mona") == "triage")
    [added] = logged(served.root, "access-added")
    assert (added["principal"], added["cause"]) == ("user:mona", "baseline")
    finished()


def test_sigterm_finishes_the_change_in_flight_records_it_and_exits_0(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts = soon(8)
    people = ["octocat", "hubot", "mona", "alice", "bob"]
    files = {f"{p}.yaml": grant(p, "ledger", starts, starts + 3600 * SECOND) for p in people}
    root, sandbox = live_repo(start_sandbox, tmp_path, files, latency_ms=300)
    environ = {**os.environ, **access_env(sandbox.url)}
    environ.pop("GITHUB_ACTIONS", None)
    argv = [sys.executable, "-m", "grantops", "watch", "--yes", "--root", str(root)]
    argv += ["--mutation-interval", "0", "--for", "2m"]
    process = subprocess.Popen(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(method == "PUT" for method, _ in mutations(sandbox)):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert b"stopped by a signal" in err
    started = logged(root, "change-started")
    added = logged(root, "access-added")
    assert 1 <= len(added) < len(people)  # stopped between changes, not after all of them
    assert [line["change_id"] for line in started] == [line["change_id"] for line in added]
    assert logged(root)[-1]["event"] == "run-end"  # the run was closed in the log
    assert len(mutations(sandbox)) == len(added)


def test_changes_due_while_github_is_down_are_made_late_but_made(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts = soon(6)
    files = {"g.yaml": grant("octocat", "ledger", starts, starts + 3600 * SECOND)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    argv = ("--until", format_timestamp(starts + 15 * SECOND), "--attempts", "1")
    finished = in_background(root, sandbox.url, *argv)
    time.sleep(max((starts - datetime.now(UTC)).total_seconds() - 1, 0))
    down = post(sandbox, "/_sandbox/outage", {"seconds": 5})  # no retry of the client's own
    code, out, err = finished()
    assert code == 0, err
    [added] = logged(root, "access-added")
    assert at(added) >= parse_timestamp(down["end"]).replace(microsecond=0)  # after it was back
    assert collaborators(sandbox, "ledger").get("octocat") == "push"
    late = [line for line in out.splitlines() if "s after the time in the file" in line]
    assert len(late) == 1 and float(late[0].split("(push) (")[1].split(" s")[0]) >= 3
    assert "could not read repo:acme/ledger" in err and "will try again" in err


def post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        sandbox.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_listen_serves_health_and_the_lateness_of_each_change(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts = soon(6)
    files = {"g.yaml": grant("octocat", "ledger", starts, starts + 3600 * SECOND)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ("--until", format_timestamp(starts + 4 * SECOND), "--listen", f"127.0.0.1:{port}")
    finished = in_background(root, sandbox.url, *argv)
    url = f"http://127.0.0.1:{port}"

    def health() -> dict[str, Any]:
        try:
            with urllib.request.urlopen(url + "/healthz") as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except OSError:
            return {}

    deadline = time.monotonic() + 30
    while health().get("status") != "ok":
        assert time.monotonic() < deadline, "never healthy"
        time.sleep(0.1)
    assert health()["next_change"] == format_timestamp(starts)
    while "octocat" not in collaborators(sandbox, "ledger"):
        assert time.monotonic() < deadline + 30
        time.sleep(0.1)
    time.sleep(0.5)
    with urllib.request.urlopen(url + "/metrics") as response:
        text = response.read().decode()
    code, _, err = finished()
    assert code == 0, err
    assert 'grantops_window_lateness_seconds_count{edge="start"} 1' in text
    assert 'grantops_changes_total{result="done"} 1' in text


def test_a_watch_running_as_the_app_renews_its_token_as_it_expires(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    starts, ends = soon(6), soon(11)
    files = {"g.yaml": grant("octocat", "ledger", starts, ends)}
    root, sandbox = live_repo(start_sandbox, tmp_path, files, app=app(lifetime=4))
    code, out, err = run(
        "watch", "--yes", "--root", str(root), "--mutation-interval", "0",
        "--until", format_timestamp(ends + SECOND), environ=app_env(sandbox.url),
    )  # fmt: skip
    assert code == 0, err
    assert len(logged(root, "access-added")) == len(logged(root, "access-removed")) == 1
    assert len(minted(sandbox)) >= 3  # the watch outlived several tokens
    assert refused(sandbox) == []  # each renewed before it expired, none sent stale
    assert keys()[0].splitlines()[1] not in out + err


def test_a_rewritten_branch_is_refused_and_reported_and_not_followed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    served = Served(start_sandbox, tmp_path, {})
    head = subprocess.run(
        ["git", "-C", str(served.root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    finished = served.watching("--for", "8s")
    served.until(lambda: bool(logged(served.root, "run-end")))
    # someone with push access rewrites main: the last reviewed merge (the policy) is gone
    dev = served.dev
    for args in (
        ["fetch", "--quiet", "origin", "main"],
        ["checkout", "--quiet", "-B", "main", "FETCH_HEAD"],
        ["reset", "--quiet", "--hard", "HEAD~1"],
        ["commit", "--quiet", "--allow-empty", "-m", "rewritten"],
        ["push", "--quiet", "--force", "origin", "main"],
    ):
        subprocess.run(["git", "-C", str(dev), *args], check=True)
    code, _, err = finished()
    assert "refused to refresh the access repository" in err
    assert "history rewritten upstream" in err
    now = subprocess.run(
        ["git", "-C", str(served.root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert now == head
    assert code == 1, err  # no later merge (a revoke among them) can reach it: it fails


def test_a_watch_that_would_end_before_it_starts_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("watch", "--root", str(tmp_path), "--until", "2020-01-01T00:00:00Z")
    assert code == 2 and "--until: that time has passed" in err
    code, _, err = run("watch", "--root", str(tmp_path), "--pull-every", "0s")
    assert code == 2 and "longer than 0" in err
