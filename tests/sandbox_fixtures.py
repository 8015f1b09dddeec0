"""A sandbox GitHub per test, whose every answer is checked against GitHub's schemas."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from grantops.github import GitHub, RetryPolicy
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo

from .contract.openapi import violations
from .data import POLICY

StartSandbox = Callable[..., Sandbox]

TOKEN = "ghs_sandboxtoken0123456789"
HEADERS = {"Authorization": "token t"}
"""Any token will do for a sandbox started without ``token``."""

BASE_STATE: dict[str, Any] = {
    "org": "acme",
    "owners": ["root-admin"],
    "members": ["alice", "bob", "octocat", "hubot", "mona", "release-bot", "acme-admin-bot"],
    "users": ["carol", "dana", "mallory"],
    "custom_roles": {"security-auditor": "triage"},
    "repos": {
        "payments-api": {
            "collaborators": {"release-bot": "push", "acme-admin-bot": "admin"},
            "teams": {"platform": "maintain"},
        },
        "ledger": {},
        "deploy-api": {},
        "website": {"collaborators": {"bob": "admin"}},
    },
    "teams": {
        "prod-deployers": {},
        "platform": {"members": {"alice": "member"}},
        "sre": {"members": {"bob": "maintainer"}},
    },
}


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes on demand; on teardown stop them and check every answer they gave."""
    started: list[Sandbox] = []

    def start(state: dict[str, Any] | None = None, **settings: Any) -> Sandbox:
        sandbox = Sandbox(
            SandboxState.model_validate(state or BASE_STATE), settings=Settings(**settings)
        )
        started.append(sandbox.start())
        return sandbox

    yield start
    problems = []
    for sandbox in started:
        sandbox.stop()
        for exchange in sandbox.exchanges:
            problems += violations(exchange)
    assert problems == [], "sandbox answers differ from GitHub's description:\n" + "\n".join(
        problems
    )


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """A sandbox of ``BASE_STATE`` (override it in a module for another state)."""
    return start_sandbox()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx2.Client]:
    """A plain HTTP client for ``sandbox``, as a client other than grantops sees it."""
    with httpx2.Client(base_url=sandbox.url, headers=HEADERS) as session:
        yield session


def client(
    sandbox: Sandbox, sleeps: list[float] | None = None, timeout: float = 5.0, **retry: Any
) -> GitHub:
    """A client for the sandbox that records waits instead of sleeping through them."""
    record = sleeps if sleeps is not None else []
    policy = RetryPolicy(**{"mutation_interval": 0.0, **retry})
    return GitHub(sandbox.url, TOKEN, timeout=timeout, retry=policy, sleep=record.append)


ACCESS_REMOTE = "https://github.com/acme/access.git"
"""Where a checkout of the access repository fetches from: it names ``acme/access``
outside GitHub Actions, where ``GITHUB_REPOSITORY`` is not trusted."""


def new_access_repo(root: Path) -> ReviewedRepo:
    """A new checkout of ``acme/access``: its ``origin`` names it, as a clone's does."""
    repo = ReviewedRepo.create(root)
    repo.git("remote", "add", "origin", ACCESS_REMOTE)
    return repo


def reviewed(root: Path, grants: dict[str, str], policy: str = POLICY) -> ReviewedRepo:
    """An access repository in git whose policy and grants each came through a PR
    approved by a peer (as the sandbox will tell)."""
    repo = new_access_repo(root)
    repo.merge({"grants/policy.yaml": policy}, author="security-lead", approvers=["ciso"])
    for name, text in grants.items():
        repo.merge({f"grants/{name}": text}, author="requester", approvers=["alice"])
    return repo


def with_access_repo(repo: ReviewedRepo, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sandbox state plus the access repository ``acme/access`` and its pull requests."""
    combined = copy.deepcopy(state or BASE_STATE)
    combined["repos"]["access"] = repo.repo_state().model_dump()
    return combined


def restarted(
    start_sandbox: StartSandbox, sandbox: Sandbox, repo: ReviewedRepo, **settings: Any
) -> Sandbox:
    """The org as ``sandbox`` now holds it, aware of ``repo``'s newer pull requests."""
    state = sandbox.state().model_dump()
    state["repos"]["access"] = repo.repo_state().model_dump()
    return start_sandbox(state, **settings)


def access_env(url: str, **extra: str) -> dict[str, str]:
    """The environment the CLI gets in the reconcile workflow, pointed at a sandbox."""
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": url,
        "GITHUB_REPOSITORY": "acme/access",
        **extra,
    }


def live_repo(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    grants: dict[str, str],
    state: dict[str, Any] | None = None,
    **settings: Any,
) -> tuple[Path, Sandbox]:
    """An access repository whose grants were each reviewed, and a sandbox that knows it."""
    repo = reviewed(tmp_path / "access", grants)
    return repo.root, start_sandbox(with_access_repo(repo, state), **settings)


def with_remote(tmp_path: Path) -> tuple[ReviewedRepo, Path]:
    """An access repository with a reviewed policy and the bare remote it pushes to."""
    repo = new_access_repo(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    return repo, add_remote(repo, tmp_path)


def add_remote(repo: ReviewedRepo, tmp_path: Path) -> Path:
    """A bare remote ``origin`` holding ``main``, in a clone set up as octocat ("Octo
    Cat"); serve it with ``git={"access": remote}`` for real pull request heads."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    has_origin = "origin" in repo.git("remote").split()
    for args in (
        ["remote", "set-url" if has_origin else "add", "origin", str(remote)],
        ["push", "--quiet", "origin", "main"],
        ["config", "user.name", "Octo Cat"],
        ["config", "user.email", "octocat@example.com"],
    ):
        subprocess.run(["git", "-C", str(repo.root), *args], check=True)
    return remote
