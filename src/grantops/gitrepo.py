"""The access repository's git history, and the few git commands grantops runs.

Approval proof starts from history, not from the working tree: a grant is judged by
the commit that put its current content on the branch's first-parent chain. A file
whose working copy differs from HEAD was not reviewed in that form and has no commit to
judge.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from grantops.errors import GrantopsError
from grantops.githistory import Entry, History, Step


class GitError(GrantopsError):
    """git could not answer (not a repository, shallow history, git missing)."""


def _git(root: Path, *args: str) -> str:
    """git's output as text, byte for byte.

    Not ``text=True``: its universal newlines would turn a ``\r`` inside a file name into
    ``\n``, so that file could never be matched with its history. Names that are not
    UTF-8 decode the way the file system's names do (``surrogateescape``).
    """
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError(
            "git is not installed; approval proof needs the repository's history"
        ) from None
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed in {root}: {error}")
    return done.stdout.decode("utf-8", "surrogateescape")


def run_git(root: Path, *args: str) -> str:
    """git's output as text, for modules that drive git themselves (see :func:`_git`)."""
    return _git(root, *args)


def git_dir(root: Path) -> Path | None:
    """The repository's own git directory (never part of a commit); None outside git."""
    try:
        return Path(_git(root, "rev-parse", "--absolute-git-dir").strip())
    except GitError:
        return None


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    name = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return None if name == "HEAD" else name


def read_history(root: Path, top: str) -> History:
    """The first-parent history of every file below ``top`` (a folder of ``root``).

    A shallow clone would give wrong answers, so it is refused (check out with full
    history: ``fetch-depth: 0``). Paths are relative to ``root``.
    """
    _refuse_incomplete(root)
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    head = _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
    tree = _read_tree(root, head, top, prefix)
    chain = tuple(_git(root, "rev-list", "--first-parent", head).split())
    steps = _read_steps(root, head, top, prefix)
    return History(head, tree, _read_dirty(root, prefix), steps, chain)


def unchanged_since(root: Path, commit: str, top: str, dirty: frozenset[str]) -> bool:
    """Whether the files below ``top`` are as they were at ``commit`` with ``dirty``
    changed in the working copy: HEAD is ``commit`` or a descendant that changed nothing
    below ``top`` (say, commits to ``audit/``), and the same files there are changed."""
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    head = _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
    below = f"{top}/"
    if {p for p in _read_dirty(root, prefix) if p.startswith(below)} != {
        p for p in dirty if p.startswith(below)
    }:
        return False
    if head == commit:
        return True
    try:
        _git(root, "merge-base", "--is-ancestor", commit, head)
    except GitError:
        return False
    return not _git(root, "diff", "--name-only", commit, head, "--", top).strip()


def _refuse_incomplete(root: Path) -> None:
    """Raise when the checkout lacks history or blobs: proof read from it would be wrong."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise GitError(
            "the checkout is shallow; approval proof needs full history (fetch-depth: 0)"
        )
    if _partial_clone(root):
        raise GitError(
            "the checkout is a partial clone; approval proof needs every version of every "
            "file (check out without --filter)"
        )


def _local(prefix: str, path: str) -> str | None:
    """``path`` (relative to the top of the repository) relative to ``root``, which is
    ``prefix`` below the top; None when it lies outside ``root``."""
    return path.removeprefix(prefix) if path.startswith(prefix) else None


def _read_tree(root: Path, head: str, top: str, prefix: str) -> dict[str, Entry]:
    """Every file below ``top`` in ``head``'s tree."""
    tree = {}
    for record in _git(root, "ls-tree", "-r", "-z", "--full-tree", head, "--", top).split("\0"):
        meta, _, path = record.partition("\t")
        if not meta or (name := _local(prefix, path)) is None:
            continue
        mode, _kind, blob = meta.split()
        tree[name] = Entry(mode, blob)
    return tree


def _read_steps(root: Path, head: str, top: str, prefix: str) -> dict[str, tuple[Step, ...]]:
    """Per path below ``top``, its changes on the first-parent chain, newest first."""
    log = _git(
        root,
        "log",
        "-z",
        "--first-parent",
        "--diff-merges=first-parent",
        "--topo-order",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--format=commit %H %P",
        head,
        "--",
        top,
    )
    steps: dict[str, list[Step]] = {}
    commit, parents = "", tuple[str, ...]()
    tokens = iter(log.split("\0"))
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("commit "):
            commit, *rest = token.removeprefix("commit ").split()
            parents = tuple(rest)
        elif token.startswith(":"):
            old_mode, new_mode, old_blob, new_blob, _status = token[1:].split()
            name = _local(prefix, next(tokens, ""))
            if name is not None:
                steps.setdefault(name, []).append(
                    Step(commit, parents, _entry(old_mode, old_blob), _entry(new_mode, new_blob))
                )
    return {name: tuple(found) for name, found in steps.items()}


def _read_dirty(root: Path, prefix: str) -> frozenset[str]:
    """Paths whose working copy differs from HEAD (or that git does not track)."""
    status = _git(root, "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all")
    dirty = set()
    for record in status.split("\0"):
        if len(record) > 3 and (name := _local(prefix, record[3:])) is not None:
            dirty.add(name)
    return frozenset(dirty)


def _entry(mode: str, blob: str) -> Entry | None:
    return None if mode == "000000" else Entry(mode, blob)


def read_blob(root: Path, blob: str) -> bytes:
    """The bytes of one blob (an earlier version of a file)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "cat-file", "blob", blob], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(f"git cat-file blob {blob[:7]} failed: {done.stderr.decode().strip()}")
    return done.stdout


def blob_sizes(root: Path, blobs: Iterable[str]) -> dict[str, int]:
    """``blob -> size`` for each of ``blobs`` that is a blob (one ``git cat-file
    --batch-check``), so a huge blob anyone pushed can be left unread."""
    wanted = sorted(set(blobs))
    if not wanted:
        return {}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch-check"],
            input="".join(f"{blob}\n" for blob in wanted).encode(),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(f"git cat-file --batch-check failed: {done.stderr.decode().strip()}")
    sizes = {}
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


class Blobs:
    """One ``git cat-file --batch`` reading blobs one at a time, whatever their number:
    each is read only when asked for, so memory holds one at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Blobs:
        try:
            self.process = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise GitError("git is not installed") from None
        return self

    def read(self, blob: str) -> bytes:
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(blob.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise GitError(f"git cat-file could not read blob {blob[:12]}")
        content = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)  # the newline after each object
        return content

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.stdin:
                self.process.stdin.close()
            if self.process.stdout:
                self.process.stdout.close()
            self.process.wait()


def has_remote(root: Path, remote: str) -> bool:
    return remote in _git(root, "remote").split()


def remote_slug(root: Path, remote: str) -> str | None:
    """``OWNER/NAME`` from a GitHub remote URL (https or ssh), if it is one.

    Any host counts (GitHub Enterprise Server runs on the org's own), but a local path
    never does, whatever its folders are called.
    """
    url = _git(root, "remote", "get-url", remote).strip()
    found = re.fullmatch(
        r"(?:[a-z+]+://)?(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?[:/]"
        r"(?:.*/)?(?P<owner>[^/:]+)/(?P<name>[^/]+?)(?:\.git)?/?",
        url,
    )
    if "://" in url:
        remote_url = not url.startswith("file:")  # not a path on this machine
    else:
        remote_url = re.match(r"[^/]+:", url) is not None  # scp-like: git@host:owner/name
    if not remote_url or found is None:
        return None
    return f"{found.group('owner')}/{found.group('name')}"


def has_branch(root: Path, branch: str) -> bool:
    """Whether the local branch ``branch`` exists."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except GitError:
        return False
    return True


def holds_only(root: Path, branch: str, base: str, contents: dict[str, bytes | None]) -> bool:
    """Whether ``branch`` changes, since it left ``base``, exactly ``contents`` (path ->
    bytes, None: removed) and nothing else: an earlier attempt at the same change."""
    changed = _git(root, "diff", "--name-only", "-z", "--no-renames", f"{base}...{branch}")
    if set(changed.split("\0")) - {""} != set(contents):
        return False
    return all(_blob_at(root, branch, path) == blob for path, blob in contents.items())


def _blob_at(root: Path, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``ref``; None when it has no such file."""
    done = subprocess.run(
        ["git", "-C", str(root), "cat-file", "blob", f"{ref}:{path}"],
        capture_output=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def commit_branch(
    root: Path, branch: str, paths: list[str], message: str, author: tuple[str, str] | None = None
) -> str:
    """Commit ``paths`` on a new branch and return to the branch we were on (returned).

    Only the named paths are committed, whatever else the working tree holds. ``author``
    (name, email) is the commit's author, when it is not whoever git is set up as.
    """
    base = current_branch(root)
    if base is None:
        raise GitError("HEAD is detached; check out the branch pull requests should target")
    _git(root, "switch", "--quiet", "-c", branch)
    by = ["--author", f"{author[0]} <{author[1]}>"] if author else []
    try:
        _git(root, "add", "--all", "--", *paths)
        _git(root, "commit", "--quiet", *by, "-m", message, "--", *paths)
    finally:
        _git(root, "switch", "--quiet", base)
    return base


def push(root: Path, remote: str, branch: str) -> None:
    """Push ``branch`` to ``remote``, never by force: a remote branch that holds other
    commits is left alone and the push fails."""
    _git(root, "push", "--quiet", "--set-upstream", remote, branch)


def fetch_branch(root: Path, remote: str, branch: str) -> str | None:
    """Fetch ``branch`` from ``remote``: the commit it is at there (None: no such branch),
    now readable here as ``FETCH_HEAD``."""
    listed = _git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}").split()
    if not listed:
        return None
    _git(root, "fetch", "--quiet", remote, f"refs/heads/{branch}")
    return listed[0]


def push_replacing(root: Path, remote: str, branch: str, expected: str | None) -> None:
    """Push ``branch`` over the remote's branch of that name only while that is still at
    ``expected`` (None: only while there is none): a branch someone else moved since it
    was read is never overwritten."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    _git(root, "push", "--quiet", lease, remote, f"refs/heads/{branch}:refs/heads/{branch}")


def delete_branch(root: Path, branch: str) -> None:
    """Delete the local ``branch`` if there is one (never the one checked out)."""
    if has_branch(root, branch):
        _git(root, "branch", "--quiet", "-D", branch)


def fast_forward(root: Path, remote: str, branch: str) -> bool:
    """Fetch ``branch`` from ``remote`` and fast-forward the checkout to it, when
    ``branch`` is checked out and the work tree has no changes; whether it was."""
    _git(root, "fetch", "--quiet", remote, branch)
    if current_branch(root) != branch or _git(root, "status", "--porcelain", "-uno").strip():
        return False
    try:
        _git(root, "merge", "--quiet", "--ff-only", "FETCH_HEAD")
    except GitError:
        return False
    return True


def _partial_clone(root: Path) -> bool:
    """Whether blobs may be missing, to be fetched lazily (``git clone --filter``)."""
    try:
        found = _git(
            root, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"
        )
    except GitError:
        return False  # no such setting
    return any(line.split()[-1:] != ["false"] for line in found.splitlines())


def config(root: Path, key: str) -> str | None:
    try:
        value = _git(root, "config", "--get", key).strip()
    except GitError:
        return None
    return value or None
