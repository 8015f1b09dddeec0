"""A real git access repository whose commits arrive through sandbox pull requests.

The demo and the tests need what approval proof reads in production: git history in
the checkout, and on "GitHub" the merged pull request behind each commit with its
reviews. Each :meth:`ReviewedRepo.merge` squash-merges one change: a commit on
``main`` locally, and a matching pull request (author, head commit, approvals) for the
sandbox to serve.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grantops.state import CommitState, PullState, RepoState, ReviewState


@dataclass
class ReviewedRepo:
    root: Path
    pulls: list[PullState] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path) -> ReviewedRepo:
        root.mkdir(parents=True, exist_ok=True)
        _git(root, "init", "--quiet", "--initial-branch=main")
        return cls(root)

    def commit(self, files: dict[str, str], author: str, message: str) -> str:
        """Write and commit files as ``author``; return the commit's sha."""
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _git(self.root, "add", "--", *files)
        email = f"{author}@users.noreply.github.com"
        _git(
            self.root,
            "-c",
            f"user.name={author}",
            "-c",
            f"user.email={email}",
            "commit",
            "--quiet",
            "-m",
            message,
        )
        return _git(self.root, "rev-parse", "HEAD").strip()

    def merge(
        self,
        files: dict[str, str],
        author: str,
        approvers: Sequence[str] = (),
        *,
        stale_approvers: Sequence[str] = (),
        reviews: Sequence[tuple[str | None, str]] = (),
        co_authors: Sequence[str] = (),
        merged_at: str = "2026-01-01T00:00:00Z",
    ) -> PullState:
        """Squash-merge ``files`` through a pull request approved by ``approvers``.

        ``stale_approvers`` approved an earlier head commit than the one merged;
        ``reviews`` are further ``(reviewer, state)`` reviews of the final head, in order
        (a reviewer of None stands for a deleted account); ``co_authors`` pushed commits
        to the pull request too.
        """
        number = len(self.pulls) + 1
        sha = self.commit(files, author, f"Grant request #{number}")
        head = hashlib.sha1(f"head-{number}-{sha}".encode()).hexdigest()
        earlier = hashlib.sha1(f"earlier-{number}-{sha}".encode()).hexdigest()
        given = [ReviewState(user=a, state="APPROVED", commit_id=earlier) for a in stale_approvers]
        given += [ReviewState(user=a, state="APPROVED", commit_id=head) for a in approvers]
        given += [
            ReviewState.model_validate({"user": user, "state": state, "commit_id": head})
            for user, state in reviews
        ]
        commits = [CommitState(sha=earlier, author=author)]
        commits += [
            CommitState(sha=hashlib.sha1(f"{c}-{sha}".encode()).hexdigest(), author=c)
            for c in co_authors
        ]
        pull = PullState(
            number=number,
            author=author,
            head_sha=head,
            merged_at=merged_at,
            merge_commit_sha=sha,
            commits=[*commits, CommitState(sha=head, author=author)],
            reviews=given,
        )
        self.pulls.append(pull)
        return pull

    def repo_state(self) -> RepoState:
        """The access repository as the sandbox should serve it."""
        return RepoState(pulls=list(self.pulls))


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout
