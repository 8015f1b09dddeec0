"""The access repository's git history: which commit last changed each file.

Approval proof starts from history, not from the working tree: a grant is judged by
the commit that put its current content on the branch. A file whose working copy
differs from that commit was not reviewed in that form and has no commit to judge.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from grantops.errors import GrantopsError


class GitError(GrantopsError):
    """git could not answer (not a repository, shallow history, git missing)."""


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise GitError(
            "git is not installed; approval proof needs the repository's history"
        ) from None
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed in {root}: {done.stderr.strip()}")
    return done.stdout


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    name = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return None if name == "HEAD" else name


def last_commits(root: Path, paths: list[str]) -> dict[str, str | None]:
    """For each path: the commit that last changed it, or None if it has uncommitted edits.

    One ``git log`` over ``grants/`` answers for every file. A shallow clone would give
    wrong answers, so it is refused (check out with full history: ``fetch-depth: 0``).
    """
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise GitError(
            "the checkout is shallow; approval proof needs full history (fetch-depth: 0)"
        )
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    wanted = {prefix + path: path for path in paths}
    found: dict[str, str | None] = dict.fromkeys(paths)
    commit = ""
    log = _git(root, "log", "--format=commit %H", "--name-only", "--no-renames", "--", ".")
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line.removeprefix("commit ")
        elif line in wanted and found[wanted[line]] is None:
            found[wanted[line]] = commit
    dirty = _git(root, "status", "--porcelain", "--no-renames", "--", *paths) if paths else ""
    for line in dirty.splitlines():
        changed = line[3:].strip()
        if changed.startswith(prefix):
            changed = changed.removeprefix(prefix)
        if changed in found:
            found[changed] = None
    return found


def has_remote(root: Path, remote: str) -> bool:
    return remote in _git(root, "remote").split()


def remote_slug(root: Path, remote: str) -> str | None:
    """``OWNER/NAME`` from a GitHub remote URL (https or ssh), if it is one."""
    url = _git(root, "remote", "get-url", remote).strip()
    found = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url)
    return f"{found.group(1)}/{found.group(2)}" if found and "github" in url else None


def propose(root: Path, branch: str, paths: list[str], message: str, remote: str) -> str:
    """Commit ``paths`` on a new branch, push it, and return to the branch we were on.

    Only the named paths are committed, whatever else the working tree holds.
    """
    base = current_branch(root)
    if base is None:
        raise GitError("HEAD is detached; check out the branch pull requests should target")
    _git(root, "switch", "--quiet", "-c", branch)
    try:
        _git(root, "add", "--all", "--", *paths)
        _git(root, "commit", "--quiet", "-m", message, "--", *paths)
        _git(root, "push", "--quiet", "--set-upstream", remote, branch)
    finally:
        _git(root, "switch", "--quiet", base)
    return base


def config(root: Path, key: str) -> str | None:
    try:
        value = _git(root, "config", "--get", key).strip()
    except GitError:
        return None
    return value or None
