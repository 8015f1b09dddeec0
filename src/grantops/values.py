"""Scalar value types of grant and policy files: names, timestamps, durations.

Each is an ``Annotated`` type, so the same rule validates a file and shows up in the
generated JSON Schema that editors use. Parsing is strict on purpose: a timestamp
without an offset means different instants on different machines, and a date alone
does not say when access ends.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

LOGIN_PATTERN = r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$"
"""GitHub logins: alphanumeric or single hyphens, not at either end (and 1-39 long)."""

TEAM_SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$"
REPO_NAME_PATTERN = r"^\.*[A-Za-z0-9_-][A-Za-z0-9._-]*$"
"""Letters, digits, ".", "-", "_", and not only dots (``.github`` is fine, ``..`` is not)."""
REPO_GLOB_PATTERN = r"^[A-Za-z0-9._*?\[\]!-]{1,100}$"
ROLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,99}$"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_RFC3339_SCHEMA = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_DURATION_SCHEMA = r"^(\d+w)?(\d+d)?(\d+h)?(\d+m)?$"
_DURATION_MAX_CHARS = 64
"""Far beyond any real duration, and short enough that ``int()`` never meets its digit limit."""


def parse_timestamp(value: object) -> datetime:
    """RFC 3339 with an explicit offset (``Z`` or ``+02:00``), returned in UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamp has no UTC offset")
        return _in_utc(value, value)
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 timestamp such as 2026-11-30T18:00:00Z")
    match = _RFC3339.match(value)
    if not match:
        if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise ValueError(f"'{value}' is a date without a time; write e.g. {value}T18:00:00Z")
        if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", value):
            raise ValueError(f"'{value}' has no UTC offset; add Z or an offset like +02:00")
        raise ValueError(f"'{value}' is not an RFC 3339 timestamp such as 2026-11-30T18:00:00Z")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        parsed = datetime.fromisoformat(
            f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction or ''}"
            f"{'+00:00' if offset in ('Z', 'z') else offset}"
        )
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a real date and time ({exc})") from None
    return _in_utc(parsed, value)


def _in_utc(value: datetime, written: object) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is in year 10000 in UTC
        raise ValueError(f"'{written}' is outside the years 1 to 9999 in UTC") from None


def format_timestamp(value: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: the one form grantops writes."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_duration(value: object) -> timedelta:
    """``30m``, ``8h``, ``7d``, ``2w`` or combinations such as ``1d12h``; never zero."""
    if isinstance(value, timedelta):
        return value
    text = value if isinstance(value, str) else ""
    match = _DURATION.match(text)
    if not text or not match:
        raise ValueError(f"'{value}' is not a duration such as 30m, 8h, 7d or 1d12h")
    if len(text) > _DURATION_MAX_CHARS:
        raise _too_long(text)
    weeks, days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    try:
        duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    except OverflowError:  # timedelta stops at 999999999 days
        raise _too_long(text) from None
    if duration <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return duration


def _too_long(text: str) -> ValueError:
    shown = text if len(text) <= 24 else text[:24] + "..."
    return ValueError(f"'{shown}' is longer than any duration grantops can count")


_UNITS = (("w", 10080), ("d", 1440), ("h", 60), ("m", 1))


def largest_unit(text: object) -> str:
    """The largest unit a duration is written in (``72h`` -> ``h``), ``d`` by default:
    durations are shown in the units their author chose."""
    found = _DURATION.match(text) if isinstance(text, str) else None
    if found:
        for (unit, _size), count in zip(_UNITS, found.groups(), strict=True):
            if count:
                return unit
    return "d"


def format_duration(value: timedelta, largest: str = "d") -> str:
    """Inverse of :func:`parse_duration` for whole minutes (``1d12h``), using no unit
    larger than ``largest`` (``format_duration(3 days, "h")`` is ``72h``)."""
    minutes = int(value.total_seconds() // 60)
    parts = []
    units = [u for u in _UNITS if u[1] <= dict(_UNITS)[largest]]
    for unit, size in units:
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": _RFC3339_SCHEMA,
            "description": "RFC 3339 with an explicit offset, e.g. 2026-11-30T18:00:00Z",
        }
    ),
]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _DURATION_SCHEMA,
            "description": "weeks, days, hours, minutes: 30m, 8h, 7d, 1d12h",
        }
    ),
]
Login = Annotated[
    str,
    Field(pattern=LOGIN_PATTERN, max_length=39, description="A GitHub login (case-insensitive)."),
]
TeamSlug = Annotated[str, Field(pattern=TEAM_SLUG_PATTERN, description="A team's slug.")]
RepoName = Annotated[
    str,
    Field(
        pattern=REPO_NAME_PATTERN,
        max_length=100,
        description="A repository name, without the owner.",
    ),
]
RepoGlob = Annotated[
    str,
    Field(pattern=REPO_GLOB_PATTERN, description="A repository name or glob such as deploy-*."),
]


def _builtin_lower(value: object) -> object:
    """Built-in role names are case-insensitive, as GitHub's are: ``Push`` is ``push``."""
    if isinstance(value, str) and value.lower() in BUILT_IN_ROLES:
        return value.lower()
    return value


BUILT_IN_ROLES = ("pull", "triage", "push", "maintain", "admin")
"""GitHub's built-in repository roles, weakest first."""

RoleName = Annotated[
    str,
    Field(
        pattern=ROLE_NAME_PATTERN,
        description="pull, triage, push, maintain, admin, or a custom role the policy declares.",
    ),
    BeforeValidator(_builtin_lower),
]
Reason = Annotated[
    str, Field(min_length=3, max_length=1000, description="Why the access is needed.")
]
