"""The sdist and wheel a release publishes: built once per session, as the release
workflow builds them (`python -m build`: the sdist, then the wheel from the sdist), and
held to what a user and a packager need. That the wheel also runs from a fresh
virtualenv is `.ci/dist`'s job, in CI and in the release."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from grantops.sandbox.graphql_api import SCHEMA_FILE
from grantops.scaffold import workflow_templates

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "src" / "grantops"


@dataclass(frozen=True)
class Built:
    """The two files `python -m build` wrote, and their members by name."""

    sdist: Path
    wheel: Path
    sdist_names: frozenset[str]
    wheel_names: frozenset[str]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(PROJECT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    with tarfile.open(sdist) as archive:
        sdist_names = frozenset(archive.getnames())
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = frozenset(archive.namelist())
    return Built(sdist, wheel, sdist_names, wheel_names)


def _pyproject() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    return project


def _package_files() -> list[str]:
    """Every file of the package in the source tree, relative to src/."""
    return sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def _metadata(built: Built) -> Message:
    info = f"grantops-{_pyproject()['version']}.dist-info"
    with zipfile.ZipFile(built.wheel) as archive:
        return Parser().parsestr(archive.read(f"{info}/METADATA").decode())


def test_the_files_are_named_for_the_version_in_pyproject(built: Built) -> None:
    version = _pyproject()["version"]
    assert built.sdist.name == f"grantops-{version}.tar.gz"
    assert built.wheel.name == f"grantops-{version}-py3-none-any.whl"


def test_the_wheel_holds_the_whole_package_and_nothing_else(built: Built) -> None:
    """Every module and every data file of src/grantops, and only the package and its
    metadata: no tests, no project files."""
    missing = [name for name in _package_files() if name not in built.wheel_names]
    assert missing == []
    info = f"grantops-{_pyproject()['version']}.dist-info/"
    assert {name.split("/")[0] + "/" for name in built.wheel_names} == {"grantops/", info}
    assert [name for name in built.wheel_names if "test" in name.split("/")[-1]] == []


def test_the_wheel_holds_every_file_the_code_reads_at_runtime(built: Built) -> None:
    """Named from the code that reads them, so a moved file fails here, not for a user:
    the workflow templates (`grantops init`), the examples (`grantops demo`), the GitHub
    GraphQL schema the sandbox serves, and the marker that the package is typed."""
    read = [
        *(f"grantops/templates/workflows/{name}" for name in workflow_templates()),
        "grantops/examples/policy.yaml",
        "grantops/examples/acme-state.json",
        str(SCHEMA_FILE.relative_to(PACKAGE.parent)),
        "grantops/py.typed",
    ]
    assert "grantops/templates/workflows/reconcile.yml" in read
    assert [name for name in read if name not in built.wheel_names] == []


def test_the_sdist_holds_what_a_rebuild_needs_and_no_tests(built: Built) -> None:
    """The wheel above was built from this sdist; it also carries the changelog."""
    root = f"grantops-{_pyproject()['version']}/"
    needed = ["pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "PKG-INFO", "MANIFEST.in"]
    needed += [f"src/{name}" for name in _package_files()]
    assert [name for name in needed if root + name not in built.sdist_names] == []
    assert [name for name in built.sdist_names if name.startswith(root + "tests")] == []


def test_the_metadata_is_pyprojects(built: Built) -> None:
    project, metadata = _pyproject(), _metadata(built)
    assert metadata["Name"] == project["name"] == "grantops"
    assert metadata["Version"] == project["version"]
    assert metadata["Requires-Python"] == project["requires-python"]
    assert metadata["License-Expression"] == project["license"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Summary"] == project["description"]
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist", [])]
    runtime = [r for r in requires if r.marker is None]  # the extras' come with a marker
    assert runtime == [Requirement(r) for r in project["dependencies"]]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == (PROJECT / "README.md").read_text().strip()


def test_the_wheel_installs_the_grantops_command(built: Built) -> None:
    info = f"grantops-{_pyproject()['version']}.dist-info"
    with zipfile.ZipFile(built.wheel) as archive:
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\ngrantops = grantops.cli:main\n" in entry_points


def test_twine_accepts_both_as_pypi_would(built: Built) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.sdist), str(built.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_release_requirements_pin_this_build_and_every_dependency_by_hash(
    built: Built, tmp_path: Path
) -> None:
    """What an access repository installs with --require-hashes: grantops by the hashes
    of exactly these two files, and each dependency pip resolves, by one file's hash."""
    out = tmp_path / "grantops-requirements.txt"
    done = subprocess.run(
        [sys.executable, str(PROJECT / ".ci" / "requirements"), str(built.wheel.parent), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pins = _hash_pins(out.read_text())
    own = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (built.wheel, built.sdist)]
    assert pins["grantops"] == (_pyproject()["version"], own)
    wanted = {_normal(Requirement(r).name) for r in _pyproject()["dependencies"]}
    assert wanted <= set(pins)
    assert "cryptography" in pins  # PyJWT's crypto extra, resolved too
    assert [
        name for name, (_, hashes) in pins.items() if len(hashes) != 1 and name != "grantops"
    ] == []


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _hash_pins(text: str) -> dict[str, tuple[str, list[str]]]:
    """A requirements file of `name==version --hash=sha256:...` entries, continued over
    lines, as {name: (version, hashes)}; any other kind of line fails the test."""
    pins = {}
    for line in text.replace(" \\\n    ", " ").splitlines():
        if line.startswith("#"):
            continue
        requirement, *options = line.split()
        name, version = requirement.split("==")
        assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", o) for o in options), line
        pins[_normal(name)] = (version, [o.split(":", 1)[1] for o in options])
    return pins
