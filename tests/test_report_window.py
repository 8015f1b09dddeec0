"""A grant record's window is the grant's: the report, notices and activity read it the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from grantops.audit.report import PAST, GrantRecord
from grantops.values import format_timestamp

from .builders import grant

MOMENTS = st.datetimes(
    min_value=datetime(2026, 11, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
).map(lambda at: at.replace(microsecond=0))


@given(starts=st.none() | MOMENTS, length=st.integers(1, 10**6), now=MOMENTS)
def test_a_record_is_open_exactly_when_its_grant_is(
    starts: datetime | None, length: int, now: datetime
) -> None:
    expires = (starts or datetime(2026, 11, 15, tzinfo=UTC)) + timedelta(seconds=length)
    window = {"expires": format_timestamp(expires)}
    if starts is not None:
        window["starts"] = format_timestamp(starts)
    g = grant("g.yaml", user="octocat", repo="payments-api", permission="push", **window)
    record = GrantRecord(g.path, tuple(g.grantables("acme")), g.starts, g.expires, "INC-1")
    assert record.active_at(now) == g.active_at(now)
    assert record.ended_recently(now) == (g.expires <= now <= g.expires + PAST)
