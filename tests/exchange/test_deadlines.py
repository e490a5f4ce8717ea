"""Directive (EU) 2023/977 Art. 5(1) deadlines: 8 hours, 3 and 7 calendar days from receipt,
on the requested agency's calendar — across time zones, month ends and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liaison.core.policy import request_deadline

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_urgent_directly_accessible_is_eight_hours() -> None:
    received = at(BERLIN, 2026, 3, 29, 0, 30)  # the night clocks go forward
    d = request_deadline(urgent=True, directly_accessible=True, received_at=received, zone=BERLIN)
    assert d.at - received == dt.timedelta(hours=8)
    assert "8 hours" in d.rule
    assert "5(1)" in d.rule


def test_urgent_indirect_is_three_calendar_days_at_the_same_local_time() -> None:
    received = at(BERLIN, 2026, 10, 23, 10, 0)  # CEST; clocks go back on 25 October
    d = request_deadline(urgent=True, directly_accessible=False, received_at=received, zone=BERLIN)
    assert d.at.astimezone(BERLIN).replace(tzinfo=None) == dt.datetime(2026, 10, 26, 10, 0)
    assert d.at - received == dt.timedelta(hours=73)
    assert "3 calendar days" in d.rule


def test_non_urgent_is_seven_calendar_days_across_a_month_end() -> None:
    received = at(BERLIN, 2026, 1, 28, 16, 45)
    d = request_deadline(urgent=False, directly_accessible=True, received_at=received, zone=BERLIN)
    assert d.at.astimezone(BERLIN).replace(tzinfo=None) == dt.datetime(2026, 2, 4, 16, 45)
    assert "7 calendar days" in d.rule


def test_leap_year_month_end() -> None:
    received = at(TOKYO, 2028, 2, 27, 9, 0)
    d = request_deadline(urgent=True, directly_accessible=False, received_at=received, zone=TOKYO)
    assert d.at.astimezone(TOKYO).replace(tzinfo=None) == dt.datetime(2028, 3, 1, 9, 0)


def test_calendar_days_follow_the_requested_agencys_calendar() -> None:
    # 23:30 UTC on 31 March is already 1 April in Tokyo: the deadline is 4 April, 08:30 Tokyo.
    received = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
    d = request_deadline(urgent=True, directly_accessible=False, received_at=received, zone=TOKYO)
    assert d.at.astimezone(TOKYO).replace(tzinfo=None) == dt.datetime(2026, 4, 4, 8, 30)
    assert d.at.tzinfo is dt.UTC


def test_a_deadline_in_a_skipped_hour_moves_forward() -> None:
    # 02:30 on 8 March 2026 does not exist in New York (clocks jump from 02:00 to 03:00).
    received = at(NEW_YORK, 2026, 3, 5, 2, 30)
    d = request_deadline(
        urgent=True, directly_accessible=False, received_at=received, zone=NEW_YORK
    )
    local = d.at.astimezone(NEW_YORK)
    assert (local.month, local.day, local.hour, local.minute) == (3, 8, 3, 30)


def test_naive_receipt_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        request_deadline(
            urgent=True,
            directly_accessible=True,
            received_at=dt.datetime(2026, 1, 1),
            zone=BERLIN,
        )


ZONES = st.sampled_from(
    [ZoneInfo(z) for z in ("Europe/Berlin", "Europe/Lisbon", "Asia/Tokyo", "America/New_York",
                           "Australia/Lord_Howe", "UTC")]
)  # fmt: skip


@given(
    received=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    zone=ZONES,
    urgent=st.booleans(),
    direct=st.booleans(),
)
def test_deadlines_are_within_an_hour_of_whole_days(
    received: dt.datetime, zone: ZoneInfo, urgent: bool, direct: bool
) -> None:
    d = request_deadline(urgent=urgent, directly_accessible=direct, received_at=received, zone=zone)
    span = d.at - received
    if urgent and direct:
        assert span == dt.timedelta(hours=8)
        return
    days = 3 if urgent else 7
    # Daylight saving moves local time by at most an hour (half an hour on Lord Howe Island).
    assert abs(span - dt.timedelta(days=days)) <= dt.timedelta(hours=1)
    assert d.at > received
