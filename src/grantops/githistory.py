"""The access repository's history as plain values: what approval proof judges.

Approval proof starts from history, not from the working tree: a grant is judged by the
commit that put its current content on the branch's first-parent chain. These values
are read by :func:`grantops.gitrepo.read_history` (which runs git) and judged by
:mod:`grantops.proof.review` (which runs nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

REGULAR_MODES = frozenset({"100644", "100755"})
"""Git modes of regular files; a symlink (120000) or submodule (160000) never counts."""


@dataclass(frozen=True)
class Entry:
    """A path in one commit's tree: its git mode and blob id."""

    mode: str
    blob: str

    @property
    def regular(self) -> bool:
        return self.mode in REGULAR_MODES


@dataclass(frozen=True)
class Step:
    """A commit on the first-parent chain that changed a path, against its first parent."""

    commit: str
    parents: tuple[str, ...]
    before: Entry | None
    after: Entry | None


@dataclass(frozen=True)
class History:
    """What approval proof needs from git, read in three commands for the whole tree.

    ``steps`` holds, per path, every change on the branch's *first-parent* chain, newest
    first, each diffed against its first parent. Walking first parents in topological
    order credits content to the commit that put it on the branch: a merge commit that
    edits a file shows that edit, and a commit backdated to 2001 on a side branch is
    never mistaken for the change.
    """

    head: str
    tree: dict[str, Entry]
    dirty: frozenset[str]
    steps: dict[str, tuple[Step, ...]]
    chain: tuple[str, ...]
    """The first-parent chain of HEAD, newest first."""

    def arrival(self, path: str) -> Step | None:
        """The commit where ``path`` took the content it has at HEAD (None: not there)."""
        entry = self.tree.get(path)
        steps = self.steps.get(path, ())
        if entry is None or not steps or steps[0].after != entry:
            return None
        return steps[0]

    def versions(self, path: str) -> tuple[Step, ...]:
        """Every change of ``path`` on the first-parent chain, oldest first."""
        return tuple(reversed(self.steps.get(path, ())))

    def position(self, commit: str) -> int | None:
        """How many first parents lie between HEAD and ``commit`` (None: not on the chain)."""
        return self._positions.get(commit)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {sha: index for index, sha in enumerate(self.chain)}
