"""Read an access repository's files into validated models, and report every problem.

All files are read and checked before anything is returned. :func:`read_tree` keeps
going past a bad file: each problem is reported as ``PATH:LINE: message`` and that file
gives nothing, while every valid file still counts, so one broken file never stops
the removal of access whose window has closed. :func:`load_repo` is the strict form
for commands that must not act on a tree with any error (``validate``, ``request``).
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from grantops import rules
from grantops.constants import GRANTS_DIR, POLICY_PATH
from grantops.errors import InvalidInput, Problem
from grantops.explain import explain
from grantops.model import Grant, GrantSpec, Policy
from grantops.yamlfile import YamlDocument, YamlError, decode, parse

GRANT_SUFFIXES = (".yaml", ".yml")

PARALLEL_THRESHOLD = 2000
"""From this many grant files on, loading is spread over the machine's cores."""

_GRANT_ADAPTER: TypeAdapter[Any] = TypeAdapter(GrantSpec)


@dataclass(frozen=True)
class Loaded:
    """A valid policy and its grants, plus warnings worth showing (never errors)."""

    policy: Policy
    grants: tuple[Grant, ...]
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Layout:
    """What lies under ``grants/``: the grant files to load, and a problem for anything else.

    Only regular files count. A symbolic link could pull in a file from outside the
    reviewed tree (or ``/dev/zero``), a FIFO blocks whoever reads it, and a stray file
    or a misspelt name would otherwise be ignored without a word; each is refused by
    name, and none of them is ever opened. So is a name that is not UTF-8: Python reads
    its odd bytes as lone surrogates, which no log, report or terminal can write.
    """

    grants: tuple[str, ...]
    """Grant files (``*.yaml``/``*.yml``) as sorted paths relative to the root."""
    policy: bool
    """Whether ``grants/policy.yaml`` is there as a regular file."""
    problems: tuple[Problem, ...]


_NOT_LISTED = "only regular files count under grants/, so it was not read"
_OUTSIDE = "not a grant file: grants/ may hold only policy.yaml and grant files (*.yaml, *.yml)"
_HIDDEN = "hidden: nothing hidden may be under grants/"
_NOT_UTF8 = "a name that is not UTF-8 (each byte that is not, shown as \\xNN), so it was not read"
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def scan(root: Path) -> Layout:
    """List ``grants/`` without following any link; name every entry that does not belong.

    ``os.scandir`` answers "file, folder or something else?" from the directory listing
    itself (``follow_symlinks=False``), so the fast path stays one listing per folder even
    for repositories with many thousands of grants, and nothing is opened to decide.
    """
    # plain strings, not pathlib: listing stays fast for many thousands of grants
    top = os.path.join(root, GRANTS_DIR)  # noqa: PTH118
    try:
        mode = os.lstat(top).st_mode
    except FileNotFoundError:
        return Layout((), False, (Problem(POLICY_PATH, 1, "the policy file is missing"),))
    except OSError as exc:
        return Layout((), False, (Problem(GRANTS_DIR, 1, f"cannot read it: {exc.strerror}"),))
    if not stat.S_ISDIR(mode):
        message = f"{_kind(mode)}: grants/ must be a real folder, so nothing in it was read"
        return Layout((), False, (Problem(GRANTS_DIR, 1, message),))
    grants: list[str] = []
    problems: list[Problem] = []
    policy = False
    folders = [GRANTS_DIR]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(os.path.join(root, folder)) as entries:  # noqa: PTH118
                for entry in entries:
                    relative = f"{folder}/{entry.name}"
                    found = _place(entry, relative)
                    if found == "folder":
                        folders.append(relative)
                    elif found == "grant":
                        grants.append(relative)
                    elif found == "policy":
                        policy = True
                    else:
                        problems.append(Problem(_shown_name(relative), 1, found))
        except OSError as exc:
            problems.append(Problem(folder, 1, f"cannot list this folder: {exc.strerror}"))
    if not policy and not any(p.path == POLICY_PATH for p in problems):
        problems.append(Problem(POLICY_PATH, 1, "the policy file is missing"))
    return Layout(tuple(sorted(grants)), policy, tuple(sorted(problems)))


def _place(entry: os.DirEntry[str], relative: str) -> str:
    """``folder``, ``grant`` or ``policy`` for an entry that belongs, else why it does not."""
    if _shown_name(entry.name) != entry.name:
        return _NOT_UTF8  # a folder too: nothing below a name that is not text is read
    hidden = entry.name.startswith(".")
    if entry.is_dir(follow_symlinks=False):
        if hidden:
            return f"a folder that is {_HIDDEN}"
        return "a folder, not the policy file" if relative == POLICY_PATH else "folder"
    if not entry.is_file(follow_symlinks=False):
        return f"{_entry_kind(entry)}: {_NOT_LISTED}"
    if relative == POLICY_PATH:
        return "policy"
    if hidden:
        return f"a file that is {_HIDDEN}"
    return "grant" if entry.name.endswith(GRANT_SUFFIXES) else _OUTSIDE


def _shown_name(name: str) -> str:
    """A file name as text that can be written anywhere: ``name`` itself when it is
    UTF-8, else with each byte that is not (a lone surrogate, as ``os.scandir`` and
    git's output are read) shown as ``\\xNN``."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte: show its code point
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _entry_kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "a symbolic link"
    try:
        return _kind(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return "not a regular file"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "a file"
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "not a regular file")


def grant_paths(root: Path) -> list[str]:
    """Every grant file below ``grants/``, as sorted relative paths (see :func:`scan`)."""
    return list(scan(root).grants)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_regular(path: str) -> bytes:
    """The bytes of a regular file; refuse anything else without reading from it.

    :func:`scan` already left out links and special files; opening with ``O_NOFOLLOW``
    and ``O_NONBLOCK`` and checking the opened file keeps that true even if the entry
    was swapped in the meantime (a FIFO would block the read, ``/dev/zero`` never ends).
    Plain ``os.read`` calls are also faster here than a buffered file object.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks = []
        size = info.st_size + 1  # one read for the whole file, one to see its end
        while chunk := os.read(fd, size):
            chunks.append(chunk)
            size = 1 << 16
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Tree:
    """Everything valid under ``grants/``, and a problem for everything that is not.

    ``policy`` is None when the policy file is missing or invalid; then grants are
    checked against their schema only, since there is no policy to check them against.
    """

    policy: Policy | None
    grants: tuple[Grant, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")


def read_tree(root: Path, now: datetime) -> Tree:
    """Read ``grants/policy.yaml`` and every grant under ``root``; never raise for a file.

    A file with an error gives no grant; the others are loaded as usual.
    """
    layout = scan(root)
    problems = list(layout.problems)
    policy = _load_policy(root, problems) if layout.policy else None
    grants: list[Grant] = []
    for grant, found in _load_grants(root, list(layout.grants), policy, now):
        problems.extend(found)
        if grant is not None:
            grants.append(grant)
    return Tree(policy, tuple(grants), tuple(sorted(problems)))


def load_repo(root: Path, now: datetime) -> Loaded:
    """Load ``grants/policy.yaml`` and every grant under ``root``; raise on any error."""
    tree = read_tree(root, now)
    if tree.errors or tree.policy is None:
        raise InvalidInput(list(tree.problems))
    return Loaded(tree.policy, tree.grants, tree.problems)


def _load_grants(
    root: Path, paths: list[str], policy: Policy | None, now: datetime
) -> Iterator[tuple[Grant | None, list[Problem]]]:
    """Load grant files in order; large repositories use every core.

    Parsing dominates validation time, and each file is independent, so past
    ``PARALLEL_THRESHOLD`` files the work is split into chunks across processes.
    Results come back in path order either way.
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_THRESHOLD or workers < 2:
        yield from _load_chunk(str(root), paths, policy, now)
        return
    size = -(-len(paths) // (workers * 4))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    # forkserver: forking a process that may have threads (an HTTP client, a test runner)
    # risks deadlocks; the server process starts clean and imports grantops once.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(_load_chunk, str(root), chunk, policy, now) for chunk in chunks]
        for job in jobs:
            yield from job.result()


def _load_chunk(
    root: str, paths: list[str], policy: Policy | None, now: datetime
) -> list[tuple[Grant | None, list[Problem]]]:
    results: list[tuple[Grant | None, list[Problem]]] = []
    for relative in paths:
        # plain strings: pathlib objects cost more than parsing here
        try:
            raw = read_regular(os.path.join(root, relative))  # noqa: PTH118
        except OSError as exc:
            results.append((None, [_unreadable(relative, exc)]))
            continue
        results.append(load_grant_text(relative, raw, policy, now))
    return results


def load_policy_text(relative: str, raw: bytes) -> tuple[Policy | None, list[Problem]]:
    """Validate the bytes of a policy file."""
    doc, problems = _parse(relative, raw)
    if doc is None:
        return None, problems
    try:
        policy = Policy.model_validate(doc.data)
    except ValidationError as exc:
        return None, _problems(relative, doc, ((loc, msg, "error") for loc, msg in explain(exc)))
    return policy, _problems(relative, doc, rules.check_policy(policy))


def load_grant_text(
    relative: str, raw: bytes, policy: Policy | None, now: datetime
) -> tuple[Grant | None, list[Problem]]:
    """Validate the bytes of one grant file; policy checks only run when ``policy`` is valid."""
    doc, problems = _parse(relative, raw)
    if doc is None:
        return None, problems
    try:
        spec = _GRANT_ADAPTER.validate_python(doc.data)
    except ValidationError as exc:
        return None, _problems(relative, doc, ((loc, msg, "error") for loc, msg in explain(exc)))
    if policy is None:
        return Grant(relative, spec), []
    found = _problems(relative, doc, rules.check_grant(policy, spec, now))
    if any(p.severity == "error" for p in found):
        return None, found
    return Grant(relative, spec), found


def _load_policy(root: Path, problems: list[Problem]) -> Policy | None:
    """The policy, once :func:`scan` has seen it as a regular file."""
    try:
        raw = read_regular(str(root / POLICY_PATH))
    except OSError as exc:
        problems.append(_unreadable(POLICY_PATH, exc))
        return None
    policy, found = load_policy_text(POLICY_PATH, raw)
    problems.extend(found)
    if any(p.severity == "error" for p in found):
        return None
    return policy


def _unreadable(relative: str, exc: OSError) -> Problem:
    return Problem(relative, 1, f"cannot read the file: {exc.strerror or exc}")


def _parse(relative: str, raw: bytes) -> tuple[YamlDocument | None, list[Problem]]:
    try:
        doc = parse(decode(raw))
    except YamlError as exc:
        return None, [Problem(relative, exc.line, exc.message)]
    if not isinstance(doc.data, dict):
        return None, [Problem(relative, 1, "the file must be a mapping of keys to values")]
    return doc, []


def _problems(relative: str, doc: YamlDocument, findings: Iterable[rules.Finding]) -> list[Problem]:
    return [Problem(relative, doc.line_of(loc), msg, severity) for loc, msg, severity in findings]
