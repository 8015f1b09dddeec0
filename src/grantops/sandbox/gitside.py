"""The git side of a sandbox repository: the local repository its branches live in.

GitHub keeps each repository's git data next to its pull requests: opening a pull
request reads the head branch, and merging one writes a commit to the base branch.
The sandbox does the same with a local repository (usually the bare remote that
``grantops request --open-pr`` pushes to), so a rehearsed review leaves the history
approval proof reads: real head commits, and a real merge commit on the base branch.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

GITHUB_COMMITTER = ("GitHub", "noreply@github.com")
"""GitHub commits the merges it makes as its web-flow account."""


class GitSideError(Exception):
    """git could not do what was asked (a conflict, a missing commit)."""


@dataclass(frozen=True)
class GitCommit:
    """A commit as GitHub links it to accounts: by its author's and committer's identity."""

    sha: str
    author: tuple[str, str]
    committer: tuple[str, str]
    date: str
    message: str


@dataclass(frozen=True)
class GitSide:
    """A local git repository (bare or not) that holds a sandbox repository's branches."""

    path: Path

    def head(self, branch: str) -> str | None:
        """The commit ``branch`` points at; None when there is no such branch."""
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        except GitSideError:
            return None

    def commits(self, base: str, head: str) -> list[GitCommit]:
        """The commits on ``head`` that ``base`` lacks, oldest first (a PR's commits)."""
        fields = "%H%x00%an%x00%ae%x00%cn%x00%ce%x00%cd%x00%s%x00"
        listing = self._git(
            "log",
            "--reverse",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
            f"--format={fields}",
            f"{base}..{head}",
            env={"TZ": "UTC"},
        )
        parts = listing.replace("\n", "").split("\0")
        found = []
        for at in range(0, len(parts) - 1, 7):
            sha, an, ae, cn, ce, date, subject = parts[at : at + 7]
            found.append(GitCommit(sha, (an, ae), (cn, ce), date, subject))
        return found

    def files(self, base: str, head: str) -> dict[str, str | None]:
        """The pull request's diff as GitHub shows it (head against the merge base):
        path -> blob at the head, None for a removed file."""
        raw = self._git("diff", "--raw", "-z", "--no-renames", "--no-abbrev", f"{base}...{head}")
        tokens = iter(raw.split("\0"))
        changed: dict[str, str | None] = {}
        for token in tokens:
            if token.startswith(":"):
                _, _, _, blob, status = token[1:].split()
                changed[next(tokens)] = None if status == "D" else blob
        return changed

    def merge(
        self, base: str, head: str, *, squash: bool, message: str, author: str, when: str
    ) -> str:
        """Land ``head`` on branch ``base`` as GitHub does (a merge commit, or one squashed
        commit), authored by ``author`` at ``when``; return the new commit."""
        old = self.head(base)
        if old is None:
            raise GitSideError(f"the base branch {base} does not exist")
        try:
            tree = self._git("merge-tree", "--write-tree", old, head)
        except GitSideError:
            raise GitSideError("Merge conflict") from None
        parents = ["-p", old] if squash else ["-p", old, "-p", head]
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": f"{author}@users.noreply.github.com",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": GITHUB_COMMITTER[0],
            "GIT_COMMITTER_EMAIL": GITHUB_COMMITTER[1],
            "GIT_COMMITTER_DATE": when,
        }
        made = self._git("commit-tree", tree.split()[0], *parents, "-m", message, env=env)
        self._git("update-ref", f"refs/heads/{base}", made, old)
        return made

    def _git(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            check=False,
            env={**os.environ, **(env or {})},
        )
        if done.returncode != 0:
            raise GitSideError(done.stderr.decode("utf-8", "replace").strip() or "git failed")
        return done.stdout.decode("utf-8", "surrogateescape").strip()
