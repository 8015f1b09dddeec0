"""Modules keep their private names to themselves, and the core stays pure.

A leading underscore says "may change without notice"; a module that reaches into
another's private names couples the two where nobody can see it. The pure core must
not import the GitHub client, git or the command line, or it stops being testable
without them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "src" / "grantops"
CHECKED = [PACKAGE, PROJECT / "tests", PROJECT / "bench"]

PURE = [
    "access.py",
    "desired.py",
    "plan.py",
    "planning.py",
    "safety.py",
    "rules.py",
    "model.py",
    "values.py",
    "notify.py",
    "chat.py",
    "safetext.py",
    "planview.py",
    "proof/review.py",
    "proof/holds.py",
    "githistory.py",
    "health.py",
    "healthtext.py",
    "issueform.py",
    "issuetext.py",
    "audit/lastrun.py",
    "run/focus.py",
    "watch/schedule.py",
]
"""Modules that take plain data (and a given ``now``) and return plain data."""

IMPURE = ("grantops.github", "grantops.gitrepo", "grantops.cli", "grantops.commands", "subprocess")


def _sources() -> Iterator[Path]:
    for top in CHECKED:
        yield from sorted(top.rglob("*.py"))


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grantops"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno}: imports {node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name.startswith("grantops"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.name}:{node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    found = [use for path in _sources() for use in _private_uses(path)]
    assert found == []


def test_the_checker_sees_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from grantops.load import _hidden\nfrom grantops import gitrepo\ngitrepo._git(1)\n"
    )
    assert _private_uses(sample) == [
        "sample.py:1: imports grantops.load._hidden",
        "sample.py:3: uses gitrepo._git",
    ]


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_imports_no_io(name: str) -> None:
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert [m for m in imported if m.startswith(IMPURE)] == []
