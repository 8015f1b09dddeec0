"""The audit log as git remembers it: every committed version must be a prefix of the next.

The hash chain shows an edit, and with the key a rewrite, but a log cut short or deleted
is still a valid chain. Git history is the witness for those: walking the first-parent
chain of HEAD, each version of the log that was committed must be a byte prefix of the
next one, and the last one of the working copy. A commit that breaks that is named,
with its subject, and with the first line of the earlier version it lost or changed.
History rewritten by a force push is another matter: this check sees only the history
that is there.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from grantops.gitrepo import Blobs, GitError


@dataclass(frozen=True)
class Rewrite:
    """A version of the log that does not start with the version before it."""

    commit: str | None
    """None: the working copy, not yet committed."""
    subject: str
    what: str
    """``deleted``, ``truncated`` or ``rewritten``."""
    line: int
    """The first line of the earlier version that is gone or differs."""
    lines: int
    """How many lines the earlier version had."""

    def __str__(self) -> str:
        where = (
            f"commit {self.commit[:12]} ({self.subject})"
            if self.commit
            else "the working copy (not committed)"
        )
        if self.what == "deleted":
            return f"{where} deleted the log ({self.lines} committed lines)"
        if self.what == "truncated":
            return f"{where} cut off lines {self.line}-{self.lines} of the version before it"
        return f"{where} rewrote the log from line {self.line} of the version before it"


@dataclass(frozen=True)
class Committed:
    versions: int
    """How many commits on the first-parent chain changed the log."""
    rewrites: tuple[Rewrite, ...]
    checked: bool = True
    """False when the log is not in a git work tree (``note`` says so)."""
    note: str = ""
    keyed: bool = False
    """Some committed version carried a MAC: the log was anchored once, so a version
    without any MAC is a rewrite, never a log from before the key."""

    @property
    def ok(self) -> bool:
        return not self.rewrites


@dataclass(frozen=True)
class CommittedVersion:
    """One commit on HEAD's first-parent chain that changed a file."""

    commit: str
    subject: str
    blob: str | None
    """None: the commit deleted the file."""
    committed_at: str = ""
    """The commit's committer time (RFC 3339): when it reached the branch, for a merge
    GitHub made."""


def check(path: Path) -> Committed:
    """Check every committed version of ``path`` and the working copy against the one before.

    A log, or a folder holding it, that is a symbolic link is refused: git would follow
    the link and check another file's history than the one that was cut.
    """
    check_log_path(path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the whole of audit/ may be gone
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        inside = False
    if not inside:
        return Committed(0, (), checked=False, note="not in a git repository")
    if _git(folder, "rev-parse", "--is-shallow-repository").strip() == b"true":
        raise GitError(
            "the checkout is shallow; checking the audit log's history needs all of it "
            "(fetch-depth: 0)"
        )
    if not _has_commit(folder):
        return Committed(0, ())  # no commit yet
    versions = _versions(folder, path.relative_to(folder).as_posix())
    rewrites: list[Rewrite] = []
    before = b""
    keyed = False
    with Blobs(folder) as blobs:
        for version in versions:
            after = b"" if version.blob is None else blobs.read(version.blob)
            keyed = keyed or b'"mac":' in after
            found = _compare(before, after, version.commit, version.subject, version.blob)
            if found:
                rewrites.append(found)
            before = after
    working = path.read_bytes() if path.exists() else None
    found = _compare(before, working or b"", None, "", None if working is None else "")
    if found:
        rewrites.append(found)
    return Committed(len(versions), tuple(rewrites), keyed=keyed)


def check_log_path(path: Path) -> None:
    """Raise unless the log is a regular file (or not there yet) in a real folder.

    A symbolic link would make git check another file's history than the one that was
    cut; a folder where the log belongs, or a file where its folder belongs, would crash
    reading or writing it.
    """
    checks = ((path, "a regular file", Path.is_file), (path.parent, "a folder", Path.is_dir))
    for part, want, is_right in checks:
        if part.is_symlink():
            found = "a symbolic link"
        elif not part.exists() or is_right(part):
            continue
        else:
            found = "something else"
        raise GitError(
            f"{part} is {found}, not {want}: the audit log must be a regular file in a real "
            "folder of the access repository"
        )


def _compare(
    before: bytes, after: bytes, commit: str | None, subject: str, blob: str | None
) -> Rewrite | None:
    if after.startswith(before):
        return None
    lines = before.count(b"\n") + (0 if before.endswith(b"\n") else 1)
    if blob is None or not after:
        return Rewrite(commit, subject, "deleted", 1, lines)
    common = 0
    for old, new in zip(before.split(b"\n"), after.split(b"\n"), strict=False):
        if old != new:
            break
        common += 1
    what = "truncated" if before.startswith(after) else "rewritten"
    return Rewrite(commit, subject, what, common + 1, lines)


def _versions(folder: Path, name: str) -> list[CommittedVersion]:
    """Each commit on HEAD's first-parent chain that changed the file, oldest first."""
    log = _git(
        folder,
        "log",
        "-z",
        "--first-parent",
        "--diff-merges=first-parent",
        "--topo-order",
        "--reverse",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--format=commit %H %cI %s",
        "HEAD",
        "--",
        name,
    ).decode("utf-8", errors="replace")
    found: list[CommittedVersion] = []
    commit, committed_at, subject = "", "", ""
    tokens = iter(log.split("\0"))
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("commit "):
            commit, committed_at, subject = _split(token.removeprefix("commit "))
        elif token.startswith(":"):
            _old_mode, new_mode, _old_blob, new_blob, _status = token[1:].split()
            next(tokens, "")  # the path
            blob = None if new_mode == "000000" else new_blob
            found.append(CommittedVersion(commit, subject, blob, committed_at))
    return found


def _split(header: str) -> tuple[str, str, str]:
    """``sha time subject`` as its three parts (the subject may hold spaces)."""
    commit, _, rest = header.partition(" ")
    committed_at, _, subject = rest.partition(" ")
    return commit, committed_at, subject


def file_versions(folder: Path, name: str) -> list[CommittedVersion]:
    """Each commit on HEAD's first-parent chain that changed ``name`` (relative to
    ``folder``, a git work tree), oldest first; none when HEAD has no commit yet."""
    return _versions(folder, name) if _has_commit(folder) else []


def _has_commit(folder: Path) -> bool:
    return bool(
        _git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1)).strip()
    )


def _git(folder: Path, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; the audit log's history cannot be checked") from None
    if done.returncode not in ok:
        problem = done.stderr.decode(errors="replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed in {folder}: {problem}")
    return done.stdout
