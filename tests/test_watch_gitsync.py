"""How ``grantops watch`` refreshes its checkout: fast-forwards only, with real git.

A remote that was force-pushed must never be followed (it could undo a revoke or a
policy change); the audit commits ``--push-audit`` makes are replayed on top of what
arrived, and nothing else local ever is.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grantops.errors import GrantopsError
from grantops.gitrepo import unchanged_since
from grantops.watch.gitsync import Upstream


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(root: Path, name: str, text: str) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(root, "add", name)
    git(root, "commit", "--quiet", "-m", f"write {name}")
    return git(root, "rev-parse", "HEAD")


def clone(remote: Path, where: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(remote), str(where)], check=True)
    for key, value in (("user.name", "Someone"), ("user.email", "someone@example.com")):
        git(where, "config", key, value)
    return where


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare remote with one commit, the watch's checkout and a developer's clone."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    seed = clone(remote, tmp_path / "seed")
    git(seed, "switch", "--quiet", "-c", "main")
    commit(seed, "grants/policy.yaml", "org: acme\n")
    git(seed, "push", "--quiet", "origin", "main")
    return remote, clone(remote, tmp_path / "watched"), clone(remote, tmp_path / "dev")


def test_a_checkout_without_an_upstream_has_nothing_to_pull(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(root)], check=True)
    assert Upstream.of(root) is None


def test_new_commits_are_followed(setup: tuple[Path, Path, Path]) -> None:
    _, watched, dev = setup
    upstream = Upstream.of(watched)
    assert upstream is not None
    assert upstream.pull().moved is False
    made = commit(dev, "grants/a.yaml", "user: a\n")
    git(dev, "push", "--quiet", "origin", "main")
    pulled = upstream.pull()
    assert (pulled.moved, pulled.refused) == (True, None)
    assert git(watched, "rev-parse", "HEAD") == made


def test_a_rewritten_remote_is_refused_and_stays_refused(setup: tuple[Path, Path, Path]) -> None:
    _, watched, dev = setup
    upstream = Upstream.of(watched)
    assert upstream is not None
    commit(dev, "grants/revoke-me.yaml", "user: a\n")
    git(dev, "push", "--quiet", "origin", "main")
    assert upstream.pull().moved
    followed = git(watched, "rev-parse", "HEAD")
    # an attacker rewrites main without the last commit (it revoked nothing yet: undoing it)
    git(dev, "reset", "--quiet", "--hard", "HEAD~1")
    commit(dev, "grants/other.yaml", "user: b\n")
    git(dev, "push", "--quiet", "--force", "origin", "main")
    for _ in range(2):  # the next pull does not take the rewritten branch as the new normal
        pulled = upstream.pull()
        assert pulled.moved is False
        assert pulled.refused is not None and "history rewritten upstream" in pulled.refused
        assert git(watched, "rev-parse", "HEAD") == followed


def test_audit_commits_are_pushed_and_replayed_when_the_branch_moved(
    setup: tuple[Path, Path, Path],
) -> None:
    remote, watched, dev = setup
    upstream = Upstream.of(watched)
    assert upstream is not None
    assert upstream.push_audit("audit: nothing") is False  # nothing changed in audit/
    (watched / "audit").mkdir()
    (watched / "audit" / "log.jsonl").write_text('{"event": "run-start"}\n')
    commit(dev, "grants/a.yaml", "user: a\n")  # meanwhile a grant is merged
    git(dev, "push", "--quiet", "origin", "main")
    assert upstream.push_audit("audit: watch run") is True
    log = git(remote, "log", "--format=%s", "main")
    assert log.splitlines()[:2] == ["audit: watch run", "write grants/a.yaml"]
    assert git(watched, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_local_commits_outside_audit_are_never_replayed(setup: tuple[Path, Path, Path]) -> None:
    _, watched, dev = setup
    upstream = Upstream.of(watched)
    assert upstream is not None
    mine = commit(watched, "grants/sneaky.yaml", "user: me\n")
    commit(dev, "grants/a.yaml", "user: a\n")
    git(dev, "push", "--quiet", "origin", "main")
    pulled = upstream.pull()
    assert pulled.moved is False
    assert pulled.refused is not None and "outside audit/" in pulled.refused
    assert git(watched, "rev-parse", "HEAD") == mine


def test_a_push_that_keeps_failing_is_an_error(setup: tuple[Path, Path, Path]) -> None:
    remote, watched, _ = setup
    upstream = Upstream.of(watched)
    assert upstream is not None
    git(watched, "remote", "set-url", "origin", str(remote.parent / "missing.git"))
    (watched / "audit").mkdir()
    (watched / "audit" / "log.jsonl").write_text("{}\n")
    with pytest.raises(GrantopsError):
        upstream.push_audit("audit: watch run")


def test_only_a_change_to_grant_files_makes_a_checkout_new_to_a_prover(
    setup: tuple[Path, Path, Path],
) -> None:
    """What :meth:`Prover.current` asks: commits to ``audit/`` keep its answers valid;
    a grant file committed, edited in place, or a HEAD off its history does not."""
    _, watched, _ = setup
    read = git(watched, "rev-parse", "HEAD")
    assert unchanged_since(watched, read, "grants", frozenset())
    commit(watched, "audit/log.jsonl", "{}\n")
    (watched / "audit" / "report.md").write_text("local\n")
    assert unchanged_since(watched, read, "grants", frozenset())
    (watched / "grants" / "policy.yaml").write_text("org: evil\n")
    assert not unchanged_since(watched, read, "grants", frozenset())
    git(watched, "checkout", "--quiet", "--", "grants")
    commit(watched, "grants/g.yaml", "user: octocat\n")
    assert not unchanged_since(watched, read, "grants", frozenset())
    git(watched, "switch", "--quiet", "--orphan", "elsewhere")
    commit(watched, "README.md", "other history\n")
    assert not unchanged_since(watched, read, "grants", frozenset())
