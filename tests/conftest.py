"""Shared fixtures: real access repositories written to temporary directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .data import GRANT, NOW, POLICY
from .sandbox_fixtures import http, sandbox, start_sandbox

__all__ = ["GRANT", "NOW", "POLICY", "http", "sandbox", "start_sandbox"]

WriteRepo = Callable[..., Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current output (review the diff before committing)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def write_repo(tmp_path: Path) -> WriteRepo:
    """Write ``grants/policy.yaml`` and grant files (name -> text or bytes) under tmp_path."""

    def write(grants: dict[str, str | bytes] | None = None, policy: str | bytes = POLICY) -> Path:
        base = tmp_path / "grants"
        base.mkdir(exist_ok=True)
        for name, content in {"policy.yaml": policy, **(grants or {})}.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return write
