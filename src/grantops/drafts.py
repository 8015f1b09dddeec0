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

from grantops.constants import GRANTS_DIR
from grantops.values import (
    LOGIN_PATTERN,
    REPO_NAME_PATTERN,
    ROLE_NAME_PATTERN,
    TEAM_SLUG_PATTERN,
    format_timestamp,
)

SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/grant.schema.json\n"
MAX_TARGET_IN_NAME = 100
"""Longest target part of a file name, so the name stays under file systems' 255 bytes."""

_LOGIN = (re.compile(LOGIN_PATTERN), 39, "a GitHub login (1-39 letters, digits or single hyphens)")
_TEAM = (re.compile(TEAM_SLUG_PATTERN), 255, "a team slug (letters, digits, '-' and '_')")
_REPO = (
    re.compile(REPO_NAME_PATTERN),
    100,
    "a repository name (up to 100 letters, digits, '.', '-' and '_', not only dots)",
)
_ROLE = (re.compile(ROLE_NAME_PATTERN), 100, "a role name (letters, digits, spaces, '-', '_')")


@dataclass(frozen=True)
class Request:
    """What someone asks for; exactly one of ``repos`` or ``team`` names the target.

    The window is ``expires`` (from ``starts`` or the merge), or, without either, a
    ``duration`` counted from the approving merge, so review time does not eat it.
    """

    user: str | None
    team: str | None
    repos: tuple[str, ...]
    permission: str | None
    role: str | None
    starts: datetime | None
    expires: datetime | None
    reason: str
    duration: str | None = None
    """As written, in its author's units (``48h``), when ``expires`` is None."""

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


def name_errors(request: Request) -> list[str]:
    """Why each name in ``request`` is not one GitHub allows (empty when all are fine).

    Names become folders, file names, branch names and API paths, so each must match
    GitHub's own rules before anything is written: no ``/``, ``..``, NUL or line break.
    """
    names = [("--user", request.user, _LOGIN), ("--team", request.team, _TEAM)]
    names += [("--repo", repo, _REPO) for repo in request.repos]
    names.append(("--permission", request.permission, _ROLE))
    return [
        error
        for flag, value, rule in names
        if value is not None and (error := _name_error(flag, value, rule)) is not None
    ]


def slug_error(slug: str) -> str | None:
    """Why ``OWNER/NAME`` does not name a GitHub repository, if it does not."""
    owner, _, name = slug.partition("/")
    return _name_error("owner", owner, _LOGIN) or _name_error("repository", name, _REPO)


def _name_error(flag: str, value: str, rule: tuple[re.Pattern[str], int, str]) -> str | None:
    pattern, longest, what = rule
    if len(value) <= longest and pattern.fullmatch(value):
        return None
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"{flag} {shown!r} is not {what}"


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
    if request.expires is not None:
        lines.append(f"expires: {format_timestamp(request.expires)}")
    else:
        lines.append(f"duration: {request.duration}")
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
    folder = _grantee_folder(root / GRANTS_DIR, request.who)
    target = request.target_name.lower()[:MAX_TARGET_IN_NAME]
    path = folder / f"{day}-{target}.yaml"
    number = 2
    while path.exists():
        path = folder / f"{day}-{target}-{number}.yaml"
        number += 1
    return path


def _grantee_folder(grants: Path, who: str) -> Path:
    """``grants/<who>``: a folder already there whose name differs only in case (logins
    and slugs are case-insensitive, so ``OctoCat/`` is octocat's), else in lower case."""
    key = who.lower()
    if grants.is_dir():
        for entry in sorted(grants.iterdir()):
            if entry.name.lower() == key and entry.is_dir() and not entry.is_symlink():
                return entry
    return grants / key


def inside_grants(root: Path, path: Path) -> bool:
    """Whether ``path``, once links and ``..`` are resolved, is ``grants/<folder>/<name>``."""
    grants = (root / GRANTS_DIR).resolve()
    resolved = path.resolve()
    return resolved.parent.parent == grants and resolved.name == path.name


def extend_text(text: str, line: int, key: str, value: str) -> str:
    """The file with only the ``key:`` line (``expires`` or ``duration``) changed to
    ``value``, comments and order kept."""
    lines = text.splitlines(keepends=True)
    old = lines[line - 1]
    indent = old[: len(old) - len(old.lstrip())]
    trailing = re.search(r"\s+#.*$", old.rstrip("\n"))
    comment = trailing.group(0) if trailing else ""
    lines[line - 1] = f"{indent}{key}: {value}{comment}\n"
    return "".join(lines)


def window(
    starts: datetime | None, now: datetime, duration: timedelta | None, until: datetime | None
) -> datetime:
    """The end of a request from ``--for`` (counted from ``--starts`` or now) or ``--until``."""
    if until is not None:
        return until
    assert duration is not None
    try:
        return (starts or now) + duration
    except OverflowError:
        raise ValueError("the window would end after the year 9999") from None
