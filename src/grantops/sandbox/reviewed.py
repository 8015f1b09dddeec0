"""A real git access repository whose changes arrive through sandbox pull requests.

The demo and the tests need what approval proof reads in production: git history in
the checkout, and on "GitHub" the merged pull request behind each commit, its commits,
its reviews, the files at its head and who may approve. :meth:`ReviewedRepo.merge`
makes a real branch with real commits, merges it the way GitHub does (squash, merge
commit or rebase) and records the pull request for the sandbox to serve;
:meth:`ReviewedRepo.commit` is a direct push with no pull request.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from grantops.sandbox.fixtures import CommitState, PullState, ReviewState, SandboxRepoState

Method = Literal["squash", "merge", "rebase"]

GITHUB = {
    "GIT_COMMITTER_NAME": "web-flow",
    "GIT_COMMITTER_EMAIL": "noreply@github.com",
}
"""GitHub commits merges, squashes and rebased commits as its web-flow account."""


@dataclass
class ReviewedRepo:
    root: Path
    pulls: list[PullState] = field(default_factory=list)
    writers: set[str] = field(default_factory=set)
    """Accounts with write access to the access repository (approvers, unless told)."""
    _ticks: int = 0

    @classmethod
    def create(cls, root: Path) -> ReviewedRepo:
        """A new repository with one empty commit, as GitHub creates one with a README."""
        root.mkdir(parents=True, exist_ok=True)
        _git(root, "init", "--quiet", "--initial-branch=main")
        _git(root, "commit", "--quiet", "--allow-empty", "-m", "Initial commit")
        return cls(root)

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        return _git(self.root, *args, env=env)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def write(self, files: dict[str, str], links: dict[str, str] | None = None) -> list[str]:
        """Write files (text) and symlinks (target) into the work tree; return their paths."""
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                path.unlink()
            path.write_text(text, encoding="utf-8")
        for name, target in (links or {}).items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()
            path.symlink_to(target)
        return [*files, *(links or {})]

    def commit(
        self,
        files: dict[str, str],
        author: str,
        message: str,
        *,
        links: dict[str, str] | None = None,
        remove: Sequence[str] = (),
        date: str | None = None,
    ) -> str:
        """Commit on the checked-out branch as ``author`` (a direct push); return the sha."""
        paths = self.write(files, links)
        for name in remove:
            self.git("rm", "--quiet", "--", name)
        if paths:
            self.git("add", "--", *paths)
        self._ticks += 1
        when = date or f"2026-01-01T00:{self._ticks // 60:02d}:{self._ticks % 60:02d}Z"
        self.git(
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
            env={
                "GIT_AUTHOR_NAME": author,
                "GIT_AUTHOR_EMAIL": f"{author}@users.noreply.github.com",
                "GIT_COMMITTER_NAME": author,
                "GIT_COMMITTER_EMAIL": f"{author}@users.noreply.github.com",
                "GIT_AUTHOR_DATE": when,
                "GIT_COMMITTER_DATE": when,
            },
        )
        return self.head()

    def merge(
        self,
        files: dict[str, str],
        author: str,
        approvers: Sequence[str] = (),
        *,
        method: Method = "squash",
        links: dict[str, str] | None = None,
        remove: Sequence[str] = (),
        stale_approvers: Sequence[str] = (),
        reviews: Sequence[tuple[str | None, str]] = (),
        co_authors: Sequence[str] = (),
        without_access: Sequence[str] = (),
        unlinked: bool = False,
        date: str | None = None,
        then: Callable[[ReviewedRepo], object] | None = None,
        merged_at: str = "2026-01-01T00:00:00Z",
        merged_by: str | None = None,
    ) -> PullState:
        """Merge ``files`` through a pull request by ``author`` approved by ``approvers``.

        The branch gets the files as one commit (dated ``date``), an empty commit by each
        of ``co_authors``, then whatever ``then`` does on the branch. ``stale_approvers``
        approved the first commit only; ``approvers`` and ``reviews`` (``(reviewer,
        state)``, None for a deleted account) are reviews of the final head.
        ``without_access`` approve without having write access to the repository;
        ``unlinked`` makes the first commit's author an address no account is linked to.
        ``merged_by`` pressed the merge button (default: the first approver, else the
        author); every review was submitted at ``merged_at``.
        """
        number = len(self.pulls) + 1
        branch = f"pr-{number}"
        self.git("switch", "--quiet", "-c", branch)
        first = self.commit(
            files, author, f"Grant request #{number}", links=links, remove=remove, date=date
        )
        head = self._follow_up(author, first, co_authors, then, bool(stale_approvers))
        commits = self._commits_between("main", head, unlinked)
        changed = self._diff("main", head)
        landed = self._merge_branch(branch, number, author, method, merged_at)
        given = [
            review.model_copy(update={"submitted_at": merged_at})
            for review in _reviews(first, head, approvers, stale_approvers, reviews)
        ]
        self._give_write(approvers, stale_approvers, reviews, without_access)
        pull = PullState(
            number=number,
            author=author,
            head_ref=branch,
            head_sha=head,
            merged_at=merged_at,
            merge_commit_sha=landed[-1],
            merged_by=merged_by or (approvers[0] if approvers else author),
            landed=landed if method == "rebase" else [],
            commits=commits,
            reviews=given,
            files=changed,
        )
        self.pulls.append(pull)
        return pull

    def _follow_up(
        self,
        author: str,
        first: str,
        co_authors: Sequence[str],
        then: Callable[[ReviewedRepo], object] | None,
        stale: bool,
    ) -> str:
        """Add the branch's later commits after ``first``; return its head.

        With ``stale`` approvals, the head must differ from the commit they approved, so
        an empty commit by ``author`` is added when nothing else came after ``first``.
        """
        for co_author in co_authors:
            self.commit({}, co_author, f"Review fix by {co_author}")
        if then is not None:
            then(self)
        if stale and self.head() == first:
            self.commit({}, author, "Address review")
        return self.head()

    def _give_write(
        self,
        approvers: Sequence[str],
        stale_approvers: Sequence[str],
        reviews: Sequence[tuple[str | None, str]],
        without_access: Sequence[str],
    ) -> None:
        """Every reviewer has write access to the repository, except ``without_access``."""
        self.writers |= {a for a in [*approvers, *stale_approvers] if a not in without_access}
        self.writers |= {u for u, _ in reviews if u and u not in without_access}

    def _merge_branch(
        self, branch: str, number: int, author: str, method: Method, merged_at: str
    ) -> list[str]:
        """Land ``branch`` on main (see :meth:`_land`) and delete it, as GitHub does."""
        self.git("switch", "--quiet", "main")
        landed = self._land(branch, number, author, method, merged_at)
        self.git("branch", "--quiet", "-D", branch)
        return landed

    def _commits_between(self, base: str, head: str, unlinked: bool) -> list[CommitState]:
        listing = self.git("log", "--reverse", "--format=%H %an %cn", f"{base}..{head}")
        commits = []
        for index, line in enumerate(listing.splitlines()):
            sha, author, committer = line.split(" ")
            linked = None if unlinked and index == 0 else author
            commits.append(CommitState(sha=sha, author=linked, committer=committer))
        return commits

    def _land(
        self, branch: str, number: int, author: str, method: Method, merged_at: str
    ) -> list[str]:
        """Put the branch on main as GitHub would; return the new commits on main.

        GitHub makes those commits when it merges, so they are dated ``merged_at``: a
        history that does not depend on the day the tests run.
        """
        github = {**GITHUB, "GIT_COMMITTER_DATE": merged_at}
        env = {**github, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_DATE": merged_at}
        env["GIT_AUTHOR_EMAIL"] = f"{author}@users.noreply.github.com"
        if method == "merge":
            message = f"Merge pull request #{number}"
            merge_env = {**github, "GIT_AUTHOR_DATE": merged_at}
            self.git("merge", "--quiet", "--no-ff", "-m", message, branch, env=merge_env)
            return [self.head()]
        if method == "squash":
            self.git("merge", "--quiet", "--squash", branch)
            self.git("commit", "--quiet", "--allow-empty", "-m", f"Grant (#{number})", env=env)
            return [self.head()]
        landed = []
        for sha in self.git("rev-list", "--reverse", f"main..{branch}").split():
            self.git("cherry-pick", "--quiet", "--allow-empty", "--keep-redundant-commits", sha)
            self.git("commit", "--quiet", "--amend", "--allow-empty", "--no-edit", env=github)
            landed.append(self.head())
        return landed

    def _diff(self, base: str, head: str) -> dict[str, str | None]:
        """The pull request's diff as GitHub shows it: head against the merge base."""
        changed: dict[str, str | None] = {}
        tokens = iter(
            self.git(
                "diff", "--raw", "-z", "--no-renames", "--no-abbrev", f"{base}...{head}"
            ).split("\0")
        )
        for token in tokens:
            if token.startswith(":"):
                _, _, _, blob, status = token[1:].split()
                changed[next(tokens)] = None if status == "D" else blob
        return changed

    def repo_state(self) -> SandboxRepoState:
        """The access repository as the sandbox should serve it."""
        return SandboxRepoState(
            collaborators=dict.fromkeys(sorted(self.writers), "push"),
            pulls=list(self.pulls),
        )


def _reviews(
    first: str,
    head: str,
    approvers: Sequence[str],
    stale_approvers: Sequence[str],
    reviews: Sequence[tuple[str | None, str]],
) -> list[ReviewState]:
    """The pull request's reviews: stale approvals of ``first``, the rest of ``head``."""
    given = [ReviewState(user=a, state="APPROVED", commit_id=first) for a in stale_approvers]
    given += [ReviewState(user=a, state="APPROVED", commit_id=head) for a in approvers]
    given += [
        ReviewState.model_validate({"user": user, "state": state, "commit_id": head})
        for user, state in reviews
    ]
    return given


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    defaults = {
        "GIT_AUTHOR_NAME": "grantops",
        "GIT_AUTHOR_EMAIL": "grantops@users.noreply.github.com",
        "GIT_COMMITTER_NAME": "grantops",
        "GIT_COMMITTER_EMAIL": "grantops@users.noreply.github.com",
    }
    # bytes, not text=True: universal newlines would turn a "\r" in a file name into "\n"
    done = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        check=False,
        env={**os.environ, **defaults, **(env or {})},
    )
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"git {' '.join(args)} failed: {error}")
    return done.stdout.decode("utf-8", "surrogateescape")
