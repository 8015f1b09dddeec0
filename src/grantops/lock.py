"""One apply at a time: a lock file in the access repository's git directory.

The lock lives in ``.git/``, which no commit can write: a lock file committed to the
checkout would otherwise "hold" every CI run's lock, and stop every expiry, until
someone deleted it. Outside a git repository it lives in the checkout.

In CI the workflow's concurrency group already serialises runs; this lock catches
the rest (a person running ``apply`` by hand next to a scheduled run on the same
checkout). It holds who took it and until when, so a lock left by a crashed run
expires instead of blocking every later run.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from grantops.constants import LOCK_NAME
from grantops.errors import GrantopsError
from grantops.gitrepo import git_dir
from grantops.values import format_timestamp, parse_timestamp

DEFAULT_TTL = timedelta(minutes=30)


class Locked(GrantopsError):
    """Another apply holds the lock."""

    exit_code = 1


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_path(root: Path) -> Path:
    """Where the lock of the checkout at ``root`` lives."""
    return (git_dir(root) or root) / LOCK_NAME


@contextmanager
def apply_lock(root: Path, now: datetime, ttl: timedelta = DEFAULT_TTL) -> Iterator[None]:
    """Hold the lock for the duration of the block; refuse while another run holds it."""
    path = lock_path(root)
    me = _holder()
    body = json.dumps(
        {"holder": me, "acquired": format_timestamp(now), "expires": format_timestamp(now + ttl)}
    )
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        _take_over_if_stale(path, now, body)
    else:
        with os.fdopen(handle, "w") as file:
            file.write(body)
    try:
        yield
    finally:
        try:
            if json.loads(path.read_text()).get("holder") == me:
                path.unlink()
        except (OSError, ValueError):
            pass


def _take_over_if_stale(path: Path, now: datetime, body: str) -> None:
    try:
        current = json.loads(path.read_text())
        expires = parse_timestamp(current["expires"])
        holder = str(current["holder"])
    except (OSError, ValueError, KeyError, TypeError):
        expires, holder = now, "an unreadable lock"  # a torn write: treat as expired
    if expires > now and not _dead_here(holder):
        raise Locked(
            f"another apply is running ({holder}, lock until {format_timestamp(expires)}); "
            f"if it crashed, the lock expires then or remove {path}"
        )
    temporary = path.with_suffix(".tmp")
    temporary.write_text(body)
    temporary.replace(path)
    if json.loads(path.read_text()).get("holder") != _holder():
        raise Locked("another apply took the expired lock first")


def _dead_here(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
