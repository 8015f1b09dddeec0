"""Progress on long work: rewritten in place at a terminal, sparse lines in CI, else silent."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest

from grantops.cli import main
from grantops.progress import Mode, Progress, choose_mode

from .builders import policy
from .conftest import GRANT
from .sandbox_fixtures import StartSandbox, access_env, client, live_repo
from .test_cli_live import AT


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def reporter(mode: Mode, interval: float | None = None) -> tuple[Progress, list[str], Clock]:
    written: list[str] = []
    clock = Clock()
    return Progress(written.append, mode, clock, interval), written, clock


@pytest.mark.parametrize(
    ("stream", "environ", "mode"),
    [
        (Terminal(), {}, "terminal"),
        (Terminal(), {"GITHUB_ACTIONS": "true"}, "terminal"),
        (io.StringIO(), {"GITHUB_ACTIONS": "true"}, "ci"),
        (io.StringIO(), {"CI": "true"}, "ci"),
        (io.StringIO(), {"CI": "1"}, "ci"),
        (io.StringIO(), {"GITHUB_ACTIONS": "false", "CI": "false"}, "off"),
        (io.StringIO(), {}, "off"),
    ],
)
def test_the_mode_follows_who_watches(
    stream: io.StringIO, environ: dict[str, str], mode: str
) -> None:
    assert choose_mode(stream, environ) == mode


def test_a_terminal_line_is_rewritten_in_place_and_ended_when_done() -> None:
    progress, written, clock = reporter("terminal")
    progress.update("read", 1, 3, "targets", 4999)
    clock.now += 0.01
    progress.update("read", 2, 3, "targets", 4998)  # too soon: not redrawn
    clock.now += 0.2
    progress.update("read", 2, 3, "targets")  # the budget is not known: not shown
    clock.now += 0.01
    progress.update("read", 3, 3, "targets", 4997)  # the last is always shown
    assert written == [
        "\rread 1 of 3 targets; 4999 requests left",
        "\rread 2 of 3 targets                    ",  # padded over the longer line
        "\rread 3 of 3 targets; 4997 requests left\n",
    ]


def test_a_terminal_line_is_erased_for_other_output_and_shown_again_at_once() -> None:
    progress, written, _ = reporter("terminal")
    progress.update("applied", 1, 2, "changes")
    progress.clear()
    progress.clear()  # nothing showing: nothing to erase
    progress.update("applied", 2, 2, "changes")
    assert written == [
        "\rapplied 1 of 2 changes",
        "\r" + " " * len("applied 1 of 2 changes") + "\r",
        "\rapplied 2 of 2 changes\n",
    ]


def test_work_cut_short_ends_its_terminal_line_where_it_got_to() -> None:
    progress, written, clock = reporter("terminal")
    progress.update("read", 5, 200, "targets")
    progress.stop()
    progress.stop()
    clock.now += 0.01
    progress.update("read", 1, 2, "targets")  # new work shows at once
    assert written == ["\rread 5 of 200 targets", "\n", "\rread 1 of 2 targets"]


def test_ci_gets_at_most_one_line_per_interval() -> None:
    progress, written, clock = reporter("ci", interval=10)
    for done in range(1, 101):
        clock.now += 0.25  # 100 targets in 25 s
        progress.update("read", done, 100, "targets", 5000 - done)
        progress.clear()  # a CI log keeps whole lines: nothing to erase
    assert written == [
        "read 41 of 100 targets; 4959 requests left\n",  # 10 s after the first
        "read 81 of 100 targets; 4919 requests left\n",
        "read 100 of 100 targets; 4900 requests left\n",
    ]


def test_short_work_in_ci_adds_nothing_to_the_log() -> None:
    progress, written, clock = reporter("ci")
    for done in range(1, 6):
        clock.now += 1
        progress.update("read", done, 5, "targets")
    progress.stop()
    assert written == []


def test_ci_does_not_repeat_its_last_line_as_the_closing_one() -> None:
    progress, written, clock = reporter("ci", interval=10)
    progress.update("applied", 1, 2, "changes")
    clock.now += 10
    progress.update("applied", 2, 2, "changes")
    progress.update("applied", 2, 2, "changes")
    assert written == []  # done within its first interval
    clock.now += 10
    progress.update("applied", 1, 2, "changes")
    clock.now += 10
    progress.update("applied", 1, 2, "changes")
    progress.update("applied", 2, 2, "changes")
    assert written == ["applied 1 of 2 changes\n", "applied 2 of 2 changes\n"]


def test_silent_mode_writes_nothing() -> None:
    progress, written, clock = reporter("off")
    for done in range(1, 4):
        clock.now += 60
        progress.update("read", done, 3, "targets", 10)
        progress.clear()
    progress.stop()
    assert written == []


def test_updates_from_many_threads_keep_every_line_whole() -> None:
    progress, written, _ = reporter("ci", interval=0)

    def work() -> None:
        for done in range(1, 200):
            progress.update("read", done, 1000, "targets")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(written) == 4 * 199
    assert all(re.fullmatch(r"read \d+ of 1000 targets\n", line) for line in written)


def test_the_client_reports_every_target_read_in_order(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    written: list[str] = []
    with client(sandbox) as github:
        github.progress = Progress(written.append, "ci", Clock(), interval=0)
        github.read(policy())  # payments-api, ledger, deploy-api and team prod-deployers
        github.progress.stop()
    assert [line.split(";")[0] for line in written] == [
        f"read {n} of 4 targets" for n in (1, 2, 3, 4)
    ]
    assert all(re.search(r"; \d+ requests left\n$", line) for line in written)


def plan(root: Path, url: str, stderr: io.StringIO, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["plan", "--root", str(root), "--now", AT, *extra], access_env(url), out, stderr)
    return code, out.getvalue()


def test_plan_at_a_terminal_shows_the_read(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    stderr = Terminal()
    code, out = plan(root, sandbox.url, stderr, "--json")
    assert code == 0, stderr.getvalue()
    shown = re.findall(r"\rread (\d+) of (\d+) targets; (\d+) requests left", stderr.getvalue())
    assert shown, stderr.getvalue()
    assert shown[-1][0] == shown[-1][1]
    assert "\n" in stderr.getvalue().split(f"read {shown[-1][0]} of", 1)[1]  # line ended
    assert out.startswith("{") and "\r" not in out  # standard output holds only the JSON


def test_plan_into_a_pipe_shows_no_progress(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    stderr = io.StringIO()
    code, _ = plan(root, sandbox.url, stderr)
    assert code == 0, stderr.getvalue()
    assert "\r" not in stderr.getvalue()
    assert "targets" not in stderr.getvalue()


def test_apply_at_a_terminal_counts_the_changes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    grants = {"g.yaml": GRANT, "d.yaml": GRANT.replace("octocat", "dana")}
    root, sandbox = live_repo(start_sandbox, tmp_path, grants)
    out, err = io.StringIO(), Terminal()
    argv = ["apply", "--root", str(root), "--now", AT, "--yes", "--mutation-interval", "0"]
    code = main(argv, access_env(sandbox.url), out, err)
    assert code == 0, err.getvalue()
    assert re.search(r"\rapplied 2 of 2 changes; \d+ requests left\n", err.getvalue())
    assert "applied 1 of 2" in err.getvalue()
    assert "Applied 2 change(s)" in out.getvalue()


def test_new_work_shows_at_once_whatever_the_clock_reads() -> None:
    """``now - (now - 0.1)`` is below 0.1 for some clock readings (floating point): the
    first line of new work must not depend on it."""
    written: list[str] = []
    shown = Progress(written.append, "terminal", clock=lambda: 17221.635893967, interval=0.1)
    shown.update("applied", 1, 2, "changes")
    assert written == ["\rapplied 1 of 2 changes"]
