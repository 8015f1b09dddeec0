"""Timestamps, durations and names are parsed strictly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grantops.values import format_duration, format_timestamp, parse_duration, parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T18:00:00Z", datetime(2026, 11, 30, 18, tzinfo=UTC)),
        ("2026-11-30t18:00:00z", datetime(2026, 11, 30, 18, tzinfo=UTC)),
        ("2026-11-30T20:00:00+02:00", datetime(2026, 11, 30, 18, tzinfo=UTC)),
        ("2026-11-30T12:30:00-05:30", datetime(2026, 11, 30, 18, tzinfo=UTC)),
        ("2026-11-30 18:00:00.250Z", datetime(2026, 11, 30, 18, 0, 0, 250000, tzinfo=UTC)),
        ("2028-02-29T00:00:00Z", datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_timestamps_normalise_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-11-30", "date without a time"),
        ("2026-11-30T18:00:00", "no UTC offset"),
        ("2026-11-30T18:00", "no UTC offset"),
        ("2026-02-30T10:00:00Z", "not a real date"),
        ("2026-11-30T24:00:00Z", "not a real date"),
        ("2027-02-29T00:00:00Z", "not a real date"),
        ("tomorrow", "not an RFC 3339 timestamp"),
        ("1764525600", "not an RFC 3339 timestamp"),
        ("2026-11-30T18:00:00+0200", "not an RFC 3339 timestamp"),
    ],
)
def test_timestamps_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_timestamp(text)


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_timestamp(datetime(2026, 11, 30))


def test_timestamp_format_round_trips() -> None:
    value = datetime(2026, 11, 30, 18, 0, 5, tzinfo=UTC)
    assert format_timestamp(value) == "2026-11-30T18:00:05Z"
    assert parse_timestamp(format_timestamp(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("8h", timedelta(hours=8)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1h30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "0h", "8", "h", "8 h", "1.5h", "-2h", "12h1d", "8hours"])
def test_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:00:00-05:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+00:01",  # year 0 in UTC
        "0001-01-01T01:00:00+05:00",
    ],
)
def test_timestamps_beyond_the_calendar_in_utc_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999 in UTC"):
        parse_timestamp(text)


def test_the_calendar_edges_themselves_are_fine() -> None:
    assert parse_timestamp("9999-12-31T23:59:59Z") == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse_timestamp("0001-01-01T00:00:00-01:00") == datetime(1, 1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["999999999w", "1000000000d", "99999999999999999999h", "9" * 5000 + "m"]
)
def test_durations_beyond_what_can_be_counted_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="longer than any duration grantops can count"):
        parse_duration(text)


def test_the_longest_countable_duration_is_fine() -> None:
    assert parse_duration("999999999d") == timedelta(days=999999999)
