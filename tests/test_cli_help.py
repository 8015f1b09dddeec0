"""One command line: every flag means one thing, says what it does, and is honoured.

These tests walk the whole argparse tree, so a command or option added later is held
to the same rules without being listed here.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from grantops.cli import build_parser
from grantops.commands.helptext import HELP, parsers

from .conftest import GRANT
from .sandbox_fixtures import StartSandbox, access_env, live_repo
from .test_cli import EXAMPLE_STATE, PROJECT, run

AT = "2026-11-30T12:00:00Z"
COMMANDS = dict(parsers(build_parser()))
LEAVES = {
    words: parser
    for words, parser in COMMANDS.items()
    if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings}


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_every_option_and_argument_says_what_it_does(words: str) -> None:
    for action in COMMANDS[words]._actions:
        if isinstance(action, argparse._SubParsersAction):  # each action it offers, instead
            for choice in action._choices_actions:
                assert choice.help, f"grantops {words} {choice.dest} has no help"
        elif action.help != argparse.SUPPRESS:  # hidden on purpose: a retired spelling
            name = "/".join(action.option_strings) or action.dest
            assert action.help and action.help.strip(), f"grantops {words}: {name} has no help"


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_every_help_ends_with_examples_and_exit_codes(words: str) -> None:
    code, out, _ = run(*words.split(), "--help")
    assert code == 0
    examples, codes = out.split("\nexamples:\n")[1].split("\nexit codes:\n")
    listed = [line.split()[0] for line in codes.splitlines() if line.strip()]
    assert listed[0] == "0" and "2" in listed and listed == sorted(listed)
    commands = [line.strip() for line in examples.splitlines() if line.startswith("  grantops")]
    assert commands, f"grantops {words}: no examples"
    assert any(c.startswith(f"grantops {words}".strip()) for c in commands)


@pytest.mark.parametrize(
    "example", [c for h in HELP.values() for c, _ in h.examples], ids=lambda c: c[:40]
)
def test_every_example_is_a_valid_command_line(example: str) -> None:
    words = shlex.split(example)
    words = words[words.index("grantops") + 1 :]  # after any VARIABLE=... prefix
    assert isinstance(build_parser().parse_args(words), argparse.Namespace)


def test_help_text_exists_for_every_command_and_nothing_else() -> None:
    assert set(HELP) == set(COMMANDS)


@pytest.mark.parametrize("words", sorted(LEAVES))
def test_only_commands_that_change_access_pace_their_changes(words: str) -> None:
    assert ("--mutation-interval" in _options(LEAVES[words])) == (words in ("apply", "watch"))


@pytest.mark.parametrize("words", sorted(LEAVES))
def test_the_access_repository_is_always_access_repo(words: str) -> None:
    options = _options(LEAVES[words])
    if "--repo" in options and options["--repo"].help != argparse.SUPPRESS:
        assert words == "request"
        assert "target repository" in str(options["--repo"].help)
    if "--access-repo" in options:
        assert "access repository" in str(options["--access-repo"].help)


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_old_repo_flag_on_plan_is_a_usage_error_with_the_new_name(command: str) -> None:
    code, out, err = run(command, "--root", str(PROJECT), "--repo", "acme/access")
    assert (code, out) == (2, "")
    assert "here the access repository is --access-repo acme/access" in err


def test_now_takes_only_a_time() -> None:
    code, _, err = run("validate", "--root", str(PROJECT), "--now", "2h")
    assert code == 2 and "argument --now: '2h' is not an RFC 3339 timestamp" in err


def test_report_json_is_format_json_and_refuses_another_format(tmp_path: Path) -> None:
    report = ["audit", "report", "--root", str(tmp_path), "--now", AT, "--since", "1d"]
    code, out, err = run(*report, "--json")
    assert code == 0, err
    assert json.loads(out) == json.loads(run(*report, "--format", "json")[1])
    assert json.loads(out)["since"] == "2026-11-29T12:00:00Z"
    code, _, err = run(*report, "--json", "--format", "csv")
    assert code == 2 and "--json is --format json" in err


def _json_runs(root: Path) -> dict[str, tuple[list[str], Any]]:
    """One run of each command that offers --json, in an order that leaves each the
    files it needs, with what its document must hold."""
    at = ["--root", str(root), "--now", AT, "--json"]
    grant = str(root / "grants" / "g.yaml")
    init = ["--state", str(EXAMPLE_STATE), "--owners", "@acme/security", "--dry-run"]
    request = ["--repo", "ledger", "--permission", "pull", "--for", "2h", "--user", "dana"]
    return {
        "validate": (["validate", *at], {"valid": True}),
        "plan": (["plan", *at, "--state", str(EXAMPLE_STATE)], {"org": "acme"}),
        "apply": (["apply", *at, "--yes", "--mutation-interval", "0"], {"applied": True}),
        "audit verify": (["audit", "verify", *at], {"intact": True}),
        "audit report": (["audit", "report", *at, "--since", "1d"], None),
        "request": (
            ["request", *at, *request, "--reason", "CHG-1 read"],
            {"file": "grants/dana/2026-11-30-ledger.yaml", "pull_request": None},
        ),
        "extend": (["extend", grant, *at, "--by", "1h"], {"file": "grants/g.yaml"}),
        "revoke": (["revoke", grant, *at], {"file": "grants/g.yaml", "removed": True}),
        "schema": (["schema", "--root", str(root), "--check", "--json"], None),
        "health": (["health", *at, "--dry-run", "--access-repo", "acme/access"], None),
        "init": (
            ["init", "--root", str(root.parent / "new"), "--now", AT, "--json", *init],
            {"written": [], "refused": False},
        ),
    }


def test_every_command_that_offers_json_prints_one_json_document(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    (root / "schema").mkdir()
    runs = _json_runs(root)
    assert set(runs) == {w for w, p in LEAVES.items() if "--json" in _options(p)}
    for words, (argv, expected) in runs.items():
        code, out, err = run(*argv, environ=access_env(sandbox.url))
        document = json.loads(out)  # stdout holds the document and nothing else
        if expected is not None:
            assert code == 0, (words, err)
            assert expected.items() <= document.items(), (words, document)
        else:
            assert isinstance(document, dict), words
