"""Keep ``grantops watch``'s checkout of the access repository up to date, safely.

Only a fast-forward is followed: a branch whose new history does not contain the old
one was rewritten (a force push), which could silently undo a revoke or a policy
change, so it is refused and reported, and the checkout stays where it was. The audit
commits ``--push-audit`` makes are the one local history grantops keeps: they touch
only ``audit/``, so they are replayed on top of what arrived and pushed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grantops.constants import AUDIT_DIR
from grantops.gitrepo import GitError, current_branch
from grantops.gitrepo import run_git as _git


@dataclass(frozen=True)
class Pulled:
    """What one refresh did."""

    moved: bool
    """New commits arrived: the grant files may have changed."""
    refused: str | None = None
    """Why new history was not followed (None: it was, or there was none)."""


class Upstream:
    """The checked-out branch and the remote branch it tracks."""

    def __init__(self, root: Path, remote: str, branch: str, local: str) -> None:
        self.root, self.remote, self.branch, self.local = root, remote, branch, local
        self.accepted = self._rev(self.tracking) or self._rev("HEAD")
        """The upstream commit last followed: new history must contain it."""

    @classmethod
    def of(cls, root: Path) -> Upstream | None:
        """The checkout's upstream; None when it tracks no remote branch (nothing to pull)."""
        try:
            local = current_branch(root)
            if local is None:
                return None
            remote = _git(root, "config", f"branch.{local}.remote").strip()
            merge = _git(root, "config", f"branch.{local}.merge").strip()
        except GitError:
            return None
        if not remote or remote == "." or not merge.startswith("refs/heads/"):
            return None
        return cls(root, remote, merge.removeprefix("refs/heads/"), local)

    @property
    def tracking(self) -> str:
        return f"refs/remotes/{self.remote}/{self.branch}"

    def pull(self) -> Pulled:
        """Fetch the branch and follow it if, and only if, it moved forward."""
        before = self.accepted
        refspec = f"+refs/heads/{self.branch}:{self.tracking}"
        _git(self.root, "fetch", "--quiet", self.remote, refspec)
        after = self._rev(self.tracking)
        if after is None or after == before:
            return Pulled(False)
        if before is not None and not self._contains(after, before):
            return Pulled(False, self._rewritten(before, after))
        if self._contains("HEAD", after):
            pulled = Pulled(False)  # nothing new for the checkout
        elif self._contains(after, "HEAD"):
            pulled = self._follow(after)
        else:
            pulled = self._replay(after)
        if pulled.refused is None:
            self.accepted = after
        return pulled

    def push_audit(self, message: str) -> bool:
        """Commit ``audit/`` when it changed and push it; whether a commit was pushed.

        A push refused because the branch moved is retried after following it, twice."""
        root = self.root
        if not (root / AUDIT_DIR).is_dir():
            return False
        _git(root, "add", "--", AUDIT_DIR)
        if not _git(root, "diff", "--cached", "--name-only", "--", AUDIT_DIR).strip():
            return False
        name, email = "grantops", "grantops@users.noreply.github.com"
        _git(root, "-c", f"user.name={name}", "-c", f"user.email={email}", "commit",
             "--quiet", "-m", message, "--", AUDIT_DIR)  # fmt: skip
        for attempt in range(3):
            try:
                _git(root, "push", "--quiet", self.remote, f"HEAD:refs/heads/{self.branch}")
                return True
            except GitError:
                if attempt == 2:
                    raise
                refused = self.pull().refused
                if refused is not None:
                    raise GitError(refused) from None
        return False

    def _follow(self, after: str) -> Pulled:
        try:
            _git(self.root, "merge", "--quiet", "--ff-only", after)
        except GitError as exc:  # e.g. a local change to a file that arrived
            return Pulled(False, f"could not fast-forward to {after[:7]}: {exc}")
        return Pulled(True)

    def _replay(self, after: str) -> Pulled:
        """Local audit commits on top of new upstream history; nothing else is replayed."""
        root = self.root
        local = _git(root, "log", "--format=", "--name-only", f"{after}..HEAD").split()
        if any(not path.startswith(f"{AUDIT_DIR}/") for path in local):
            why = f"the checkout has local commits outside {AUDIT_DIR}/; not rebasing them"
            return Pulled(False, why)
        try:
            _git(root, "rebase", "--quiet", after)
        except GitError as exc:
            _git(root, "rebase", "--abort")
            return Pulled(False, f"could not replay the audit commits on {after[:7]}: {exc}")
        return Pulled(True)

    def _rewritten(self, before: str, after: str) -> str:
        return (
            f"{self.remote}/{self.branch} moved from {before[:7]} to {after[:7]}, which does "
            "not contain it (history rewritten upstream): not followed"
        )

    def _rev(self, ref: str) -> str | None:
        try:
            return _git(self.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except GitError:
            return None

    def _contains(self, descendant: str, ancestor: str) -> bool:
        try:
            _git(self.root, "merge-base", "--is-ancestor", ancestor, descendant)
        except GitError:
            return False
        return True
