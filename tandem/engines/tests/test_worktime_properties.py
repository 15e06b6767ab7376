"""Algebraic properties of the clock, to the second, on realistic calendars over 2023-2026."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.worktime import CalendarSpec, WorkingCalendar

OFFICE = {d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)}
LONDON = CalendarSpec.create(
    tz="Europe/London",
    weekly={
        **OFFICE,
        4: [("09:00", "12:30"), ("13:30", "16:00"), ("22:00", "24:00")],
        5: [("00:00", "02:00")],
        6: [("01:00", "03:00")],
    },
    country="GB",
    subdivision="ENG",
    closures={"2024-12-24": [("00:00", "12:30")]},
    openings={"2024-12-28": [("10:00", "14:00")]},
)
NEW_YORK = CalendarSpec.create(
    tz="America/New_York",
    weekly={d: [("08:00", "12:00"), ("12:45:30", "17:00")] for d in range(5)}
    | {6: [("01:30", "02:30")]},
    country="US",
    subdivision="NY",
)
CALENDARS = {"london": WorkingCalendar(LONDON), "new_york": WorkingCalendar(NEW_YORK)}

LO = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
HI = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
instant = st.integers(LO, HI)
duration = st.one_of(st.integers(0, 3600), st.integers(0, 40 * 8 * 3600))
calendar = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
EXAMPLES = settings(max_examples=1000, deadline=None)


@EXAMPLES
@given(calendar, instant, duration)
def test_add_then_between_gives_back_the_duration_and_nothing_earlier_does(cal, a, d) -> None:
    e = cal.add(a, d)
    assert e >= a
    assert cal.between(a, e) == d
    if d > 0:
        assert cal.between(a, e - 1) == d - 1  # earliest: the last second before e is working
        assert cal.is_open(e - 1)
        assert e > cal.next_open(a)


@EXAMPLES
@given(calendar, instant, instant, duration)
def test_add_is_monotonic_in_the_instant(cal, a, b, d) -> None:
    a, b = sorted((a, b))
    assert cal.add(a, d) <= cal.add(b, d)


@EXAMPLES
@given(calendar, instant, duration, duration)
def test_add_is_monotonic_in_the_duration_and_additive(cal, a, d1, d2) -> None:
    assert cal.add(a, min(d1, d2)) <= cal.add(a, max(d1, d2))
    assert cal.add(cal.add(a, d1), d2) == cal.add(a, d1 + d2)


@EXAMPLES
@given(calendar, instant, instant, instant)
def test_between_is_additive_antisymmetric_and_bounded(cal, a, b, c) -> None:
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)
    assert cal.between(b, a) == -cal.between(a, b)
    lo, hi = sorted((a, b))
    assert 0 <= cal.between(lo, hi) <= hi - lo


@EXAMPLES
@given(calendar, instant, duration)
def test_subtract_is_the_mirror_of_add(cal, t, d) -> None:
    s = cal.subtract(t, d)
    assert s <= t
    assert cal.between(s, t) == d
    if d > 0:
        assert cal.between(s + 1, t) == d - 1  # latest: the second at s is working
    assert cal.add(s, d) <= t
    assert cal.subtract(cal.add(t, d), d) >= t


@EXAMPLES
@given(calendar, instant)
def test_next_open_is_the_first_working_instant(cal, t) -> None:
    n = cal.next_open(t)
    assert n >= t
    assert cal.is_open(n)
    assert cal.between(t, n) == 0
    assert (n == t) == cal.is_open(t)
    if n > t:
        assert not cal.is_open(n - 1)


@settings(max_examples=40, deadline=None)
@given(calendar, st.lists(st.tuples(instant, instant, duration), min_size=1, max_size=60))
def test_vectorised_forms_equal_the_scalar_ones(cal, rows) -> None:
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    d = np.array([r[2] for r in rows], dtype=np.int64)
    assert cal.between_many(a, b).tolist() == [cal.between(x, y) for x, y, _ in rows]
    assert cal.add_many(a, d).tolist() == [cal.add(x, z) for x, _, z in rows]
    assert cal.is_open_many(a).tolist() == [cal.is_open(x) for x, _, _ in rows]


@settings(max_examples=100, deadline=None)
@given(
    calendar, instant, instant, duration, st.sampled_from(["UTC", "Europe/London", "Asia/Tokyo"])
)
def test_datetimes_and_epoch_seconds_give_the_same_answers(cal, a, b, d, tz) -> None:
    zone = ZoneInfo(tz)
    da = datetime.fromtimestamp(a, zone)
    db = datetime.fromtimestamp(b, zone)
    assert cal.between(da, db) == cal.between(a, b)
    e = cal.add(da, timedelta(seconds=d))
    assert e.tzinfo is UTC
    assert int(e.timestamp()) == cal.add(a, d)
    assert int(cal.next_open(da).timestamp()) == cal.next_open(a)
    assert int(cal.subtract(db, d).timestamp()) == cal.subtract(b, d)


@settings(max_examples=30, deadline=None)
@given(st.integers(2001, 2038), st.integers(0, 364 * 86400), st.integers(0, 600 * 3600))
def test_answers_do_not_depend_on_which_years_were_built_first(year, offset, d) -> None:
    t = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) + offset
    fresh = WorkingCalendar(LONDON)
    grown = WorkingCalendar(LONDON, years=(2024, 2026))
    assert grown.add(t, d) == fresh.add(t, d)
    assert grown.between(t, t + 90 * 86400) == fresh.between(t, t + 90 * 86400)
    assert WorkingCalendar(LONDON).add_many(np.array([t]), np.array([d]))[0] == fresh.add(t, d)


def test_datetime64_arrays_come_back_as_datetime64() -> None:
    cal = CALENDARS["london"]
    t = np.array(["2024-12-24T11:00:00", "2024-12-27T08:00"], dtype="datetime64[s]")
    out = cal.add_many(t, np.array([3600, 3600], dtype="timedelta64[s]"))
    assert out.dtype == np.dtype("datetime64[s]")
    # 24 Dec closes at 12:30; Christmas and Boxing Day are holidays; 27 Dec opens at 09:00 (GMT = UTC)
    assert out.tolist() == [datetime(2024, 12, 24, 12, 0), datetime(2024, 12, 27, 10, 0)]
    assert cal.between_many(t[0], t[1]).tolist() == 5400


def test_large_durations_grow_the_window_forward() -> None:
    cal = WorkingCalendar(LONDON)
    start = int(datetime(2024, 6, 3, 9, tzinfo=UTC).timestamp())
    twenty_years = 20 * 250 * 7 * 3600
    end = cal.add(start, twenty_years)
    assert datetime.fromtimestamp(end, UTC).year >= 2040
    assert cal.between(start, end) == twenty_years
    assert cal.subtract(end, twenty_years) <= start


def test_bad_queries_are_refused_with_a_reason() -> None:
    cal = CALENDARS["london"]
    with pytest.raises(ValueError, match="naive datetime"):
        cal.between(datetime(2024, 1, 1, 9), datetime(2024, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive datetime"):
        cal.add(datetime(2024, 1, 1, 9), 60)
    with pytest.raises(TypeError, match="epoch seconds"):
        cal.is_open(1.7e9)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        cal.add(LO, -1)
    with pytest.raises(ValueError, match="non-negative"):
        cal.add_many(np.array([LO]), np.array([-1]))
    with pytest.raises(ValueError, match="whole seconds"):
        cal.add(LO, timedelta(microseconds=1))
    with pytest.raises(ValueError, match="outside the years"):
        cal.between(LO, int(datetime(2600, 1, 1, tzinfo=UTC).timestamp()))
