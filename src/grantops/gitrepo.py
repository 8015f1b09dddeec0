"""The access repository's git history: which commit last changed each file.

Approval proof starts from history, not from the working tree: a grant is judged by
the commit that put its current content on the branch. A file whose working copy
differs from that commit was not reviewed in that form and has no commit to judge.
"""

from __future__ import annotations

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
