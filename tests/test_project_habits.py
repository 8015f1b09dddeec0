"""The project's own habits hold together: CI, pre-commit, the README, the coverage
floor, Dependabot and the changelog say the same thing."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from grantops.yamlfile import parse

PROJECT = Path(__file__).resolve().parents[1]
CI_RUN = PROJECT / ".ci" / "run"
DEPENDABOT = PROJECT / ".github" / "dependabot.yml"
PRE_COMMIT = PROJECT / ".pre-commit-config.yaml"


def _yaml(path: Path) -> dict[str, Any]:
    """Read with grantops' own strict loader, as the workflows are: every value is text."""
    data = parse(path.read_text(encoding="utf-8")).data
    assert isinstance(data, dict), path
    return data


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))


# What .ci/run does once the test suite has passed: build the distributions, check them
# and run the wheel from a fresh virtualenv.
CI_DIST = ["rm -rf .dist-ci", ".ci/dist .dist-ci"]


def _ci_commands() -> list[str]:
    """The checks .ci/run runs after installing grantops, one per line, normalised, up to
    the test suite; the distribution check that follows it is CI_DIST."""
    lines = [
        " ".join(shlex.split(line, comments=True))
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
    ]
    lines = [line for line in lines if line]
    installs = [i for i, line in enumerate(lines) if "pip install" in line]
    assert installs, ".ci/run installs grantops before it checks anything"
    assert lines[-len(CI_DIST) :] == CI_DIST, ".ci/run ends with the distribution check"
    return lines[installs[-1] + 1 : -len(CI_DIST)]


def _readme_test_command() -> tuple[str, str]:
    """The README's "run the whole test suite" line, as (install, test command)."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    after = readme.split("Run the whole test suite:", 1)
    assert len(after) == 2, "README: the Quick start says how to run the whole test suite"
    block = re.search(r"```sh\n(.*?)\n```", after[1], re.DOTALL)
    assert block, "README: the test command is in a sh block right after"
    *steps, test = (" ".join(shlex.split(step)) for step in block[1].strip().split("&&"))
    install = next((s for s in steps if "pip install" in s), "")
    return install, test


# ----- .ci/run and the README ---------------------------------------------------------


def test_ci_runs_the_readme_test_command_last_before_the_distributions() -> None:
    install, test = _readme_test_command()
    assert test.startswith("python -m pytest"), test
    assert _ci_commands()[-1] == test, "README's test command and .ci/run's differ"
    ci_installs = [
        shlex.split(line, comments=True)
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if "pip install" in line
    ]
    wanted = shlex.split(install)[-1]
    assert wanted == ".[test]", install
    assert any(words[-2:] == ["-e", wanted] for words in ci_installs), "the same editable install"


def test_ci_test_command_measures_coverage() -> None:
    """The floor only guards anything if the command CI runs measures coverage."""
    test = _ci_commands()[-1]
    addopts = _pyproject()["tool"]["pytest"]["ini_options"].get("addopts", [])
    options = [*shlex.split(test), *addopts]
    assert "--cov=grantops" in options, test


def test_coverage_floor_is_a_percentage_over_grantops_with_branches() -> None:
    tool = _pyproject()["tool"]
    floor = tool["coverage"]["report"]["fail_under"]
    assert isinstance(floor, int | float) and not isinstance(floor, bool), floor
    assert 50 <= floor <= 100, floor
    assert tool["coverage"]["run"]["source"] == ["grantops"]
    assert tool["coverage"]["run"]["branch"] is True
    test_extra = _pyproject()["project"]["optional-dependencies"]["test"]
    assert any(re.match(r"pytest-cov\b", requirement) for requirement in test_extra)


# ----- pre-commit ---------------------------------------------------------------------


def _hooks() -> list[dict[str, Any]]:
    config = _yaml(PRE_COMMIT)
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_runs_the_ci_checks_except_the_tests() -> None:
    """Each hook is a line of .ci/run, and each check of .ci/run but the test suite
    (minutes long, left to CI) is a hook, with the same arguments."""
    *checks, test = _ci_commands()
    assert test.startswith("python -m pytest"), "the test suite runs last"
    assert checks, ".ci/run runs lint and type checks before the tests"
    entries = [" ".join(shlex.split(hook["entry"])) for hook in _hooks()]
    assert sorted(entries) == sorted(checks)


def test_pre_commit_hooks_use_the_venv_tools_on_the_whole_tree() -> None:
    config = _yaml(PRE_COMMIT)
    assert [repo["repo"] for repo in config["repos"]] == ["local"], "no hook repo to fetch"
    for hook in _hooks():
        assert hook["language"] == "system", hook["id"]
        assert hook["pass_filenames"] == "false", hook["id"]  # the same paths as CI
        watched = re.compile(hook["files"])
        assert watched.search("pyproject.toml"), hook["id"]  # tool settings live there
        assert watched.search("src/grantops/cli.py"), hook["id"]


def test_pre_commit_tools_are_held_by_the_test_extra() -> None:
    """The tools the hooks run come from the test extra, so they have its versions."""
    test_extra = " ".join(_pyproject()["project"]["optional-dependencies"]["test"])
    for hook in _hooks():
        tool = shlex.split(hook["entry"])[0]
        assert re.search(rf"\b{re.escape(tool)}\s*[<>=~]", test_extra), tool


# ----- Dependabot ---------------------------------------------------------------------


def test_dependabot_updates_actions_and_python_weekly_in_groups() -> None:
    config = _yaml(DEPENDABOT)
    assert config["version"] == "2"
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert sorted(updates) == ["github-actions", "pip"]
    for name, update in updates.items():
        assert update["schedule"]["interval"] == "weekly", name
        grouped = [set(group.get("update-types", [])) for group in update["groups"].values()]
        assert {"minor", "patch"} in grouped, name


def test_dependabot_directories_hold_what_they_update() -> None:
    """github-actions at "/" reads .github/workflows and the root action.yml; pip reads
    the root pyproject.toml."""
    updates = {u["package-ecosystem"]: u for u in _yaml(DEPENDABOT)["updates"]}
    actions = PROJECT / updates["github-actions"]["directory"].lstrip("/")
    assert (actions / "action.yml").is_file()
    assert list((actions / ".github" / "workflows").glob("*.yml"))
    assert (PROJECT / updates["pip"]["directory"].lstrip("/") / "pyproject.toml").is_file()


def test_zizmor_finds_nothing_in_dependabot_and_pre_commit() -> None:
    binary = shutil.which("zizmor")
    assert binary, "zizmor comes with the test extra"
    done = subprocess.run(
        [binary, "--offline", "--no-config", "--format", "json", "--min-severity", "informational"]
        + [str(path.relative_to(PROJECT)) for path in (DEPENDABOT, PRE_COMMIT)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, *range(10, 15)), done.stderr  # 10-14: findings, by severity
    found = [f"{f['ident']}: {f['desc']}" for f in json.loads(done.stdout)]
    assert found == []
    assert done.returncode == 0


# ----- CHANGELOG ----------------------------------------------------------------------


def _changelog_sections() -> list[str]:
    text = (PROJECT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)


def test_changelog_starts_with_unreleased_and_has_the_current_version() -> None:
    sections = _changelog_sections()
    assert sections[:1] == ["Unreleased"]
    assert _pyproject()["project"]["version"] in sections


def test_changelog_releases_are_dated_newest_first() -> None:
    text = (PROJECT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+)\.(\d+)\.(\d+)\](.*)$", text, re.MULTILINE)
    assert released
    for *version, rest in released:
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest), version
    versions = [tuple(map(int, version)) for *version, _ in released]
    assert versions == sorted(versions, reverse=True)


# ----- Releases -------------------------------------------------------------------------

# Where README.md and action.yml name a grantops release: install lines, `uses:` pins
# and the commands that fetch a release's files or commit.
_RELEASE_PINS = re.compile(
    r"grantops==(\d[\w.]*\d)"
    r"|commit of v(\d[\w.]*\d)> # v(\d[\w.]*\d)"
    r"|release download v(\d[\w.]*\d)"
    r"|commits/v(\d[\w.]*\d)"
    r"|refs/tags/v(\d[\w.]*\d)"
    r"|Install grantops (\d[\w.]*\d)"
)


def _named_releases(text: str) -> list[str]:
    return [version for match in _RELEASE_PINS.findall(text) for version in match if version]


def test_readme_and_action_pin_the_release_pyproject_sets() -> None:
    """Every version they name is pyproject's: bumping it for a release fails this test
    until they name the new release too (CONTRIBUTING.md: Releasing)."""
    version = _pyproject()["project"]["version"]
    readme = _named_releases((PROJECT / "README.md").read_text(encoding="utf-8"))
    action = _named_releases((PROJECT / "action.yml").read_text(encoding="utf-8"))
    assert len(readme) >= 8 and len(action) == 2
    assert set(readme) == set(action) == {version}
    assert _named_releases("uses: OWNER/grantops@<commit of v9.8.7> # v9.8.6") == ["9.8.7", "9.8.6"]
