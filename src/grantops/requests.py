"""Writing grant files for people: new requests, extensions, revocations (pure helpers).

``grantops request`` should produce exactly the file a careful person would write: the
schema line for editors, keys in the documented order, times in UTC with ``Z``, and a
path that says who and what at a glance (``grants/<who>/<date>-<target>.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from grantops.values import format_timestamp

SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/grant.schema.json\n"


@dataclass(frozen=True)
class Request:
    """What someone asks for; exactly one of ``repos`` or ``team`` names the target."""

    user: str | None
    team: str | None
    repos: tuple[str, ...]
    permission: str | None
    role: str | None
    starts: datetime | None
    expires: datetime
    reason: str

    @property
    def who(self) -> str:
        return self.user or self.team or "unknown"

    @property
    def target_name(self) -> str:
        if self.repos:
            more = f"-and-{len(self.repos) - 1}-more" if len(self.repos) > 1 else ""
            return self.repos[0] + more
        return self.team or "access"

    def describe(self, org: str) -> str:
        if self.repos:
            where = ", ".join(f"{org}/{r}" for r in self.repos)
            holder = f"user {self.user}" if self.user else f"team {self.team}"
            return f"{holder}: {self.permission} on {where}"
        return f"user {self.user}: {self.role or 'member'} of team {org}/{self.team}"


def render(request: Request) -> str:
    lines = []
    if request.user:
        lines.append(f"user: {request.user}")
    if request.team:
        lines.append(f"team: {request.team}")
    if len(request.repos) == 1:
        lines.append(f"repo: {request.repos[0]}")
    elif request.repos:
        lines.append(f"repos: [{', '.join(request.repos)}]")
    if request.repos:
        lines.append(f"permission: {request.permission}")
    elif request.role:
        lines.append(f"role: {request.role}")
    if request.starts is not None:
        lines.append(f"starts: {format_timestamp(request.starts)}")
    lines.append(f"expires: {format_timestamp(request.expires)}")
    lines.append(f"reason: {_quote(request.reason)}")
    return SCHEMA_LINE + "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """Quote a free-text value whenever plain YAML could read it as something else.

    Inside double quotes, backslashes and quotes are escaped, and so is every character
    YAML would not keep as written (control characters, line and paragraph separators).
    """
    plain = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/()-]*", text) and not text.endswith(" ")
    if plain and text not in ("null", "Null", "NULL"):  # plain null would read as nothing
        return text
    escaped = []
    for char in text:
        if char in '\\"':
            escaped.append("\\" + char)
        elif not char.isprintable() or char in "\u2028\u2029\x85\ufeff":
            code = ord(char)
            escaped.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def grant_path(root: Path, request: Request, now: datetime) -> Path:
    """``grants/<who>/<YYYY-MM-DD>-<target>.yaml``, numbered if that name is taken."""
    day = (request.starts or now).strftime("%Y-%m-%d")
    folder = root / "grants" / request.who.lower()
    path = folder / f"{day}-{request.target_name.lower()}.yaml"
    number = 2
    while path.exists():
        path = folder / f"{day}-{request.target_name.lower()}-{number}.yaml"
        number += 1
    return path


def extend_text(text: str, expires_line: int, new_expires: datetime) -> str:
    """The file with only its ``expires:`` line changed (comments and order kept)."""
    lines = text.splitlines(keepends=True)
    old = lines[expires_line - 1]
    indent = old[: len(old) - len(old.lstrip())]
    trailing = re.search(r"\s+#.*$", old.rstrip("\n"))
    comment = trailing.group(0) if trailing else ""
    lines[expires_line - 1] = f"{indent}expires: {format_timestamp(new_expires)}{comment}\n"
    return "".join(lines)


def window(
    starts: datetime | None, now: datetime, duration: timedelta | None, until: datetime | None
) -> datetime:
    """The end of a request from ``--for`` (counted from ``--starts`` or now) or ``--until``."""
    if until is not None:
        return until
    assert duration is not None
    return (starts or now) + duration
