"""The SLA clock engine: pure arithmetic over a working calendar, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.agreements import slaclock
from tandem.engines.worktime import CalendarSpec, WorkingCalendar, to_epoch

LONDON = ZoneInfo("Europe/London")
SPEC = CalendarSpec.create(
    tz="Europe/London",
    weekly={d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)},
    country="GB",
    subdivision="ENG",
)
CAL = WorkingCalendar.of(SPEC)
DAY = slaclock.day_length(SPEC)  # 7.5 h
H = 3600


def at(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return to_epoch(datetime(year, month, day, hour, minute, tzinfo=LONDON))


def test_it_measures_a_working_day_of_seven_and_a_half_hours() -> None:
    assert DAY == 7.5 * H


def test_it_skips_the_lunch_break() -> None:
    # One working hour from 12:00 on Monday 23 November 2026: 30 min, lunch, 30 min.
    assert slaclock.deadline(CAL, at(2026, 11, 23, 12, 0), H, 0) == at(2026, 11, 23, 14, 0)


def test_it_skips_christmas_and_the_substitute_boxing_day() -> None:
    # Thu 24 Dec 16:00 + 2 working days: Fri 25 is Christmas, Mon 28 the Boxing Day holiday
    # (26 December 2026 is a Saturday); 1.5 h + Tue 7.5 h + Wed 6 h (lunch skipped).
    assert slaclock.deadline(CAL, at(2026, 12, 24, 16, 0), 2 * DAY, 0) == at(2026, 12, 30, 16, 0)


def test_it_crosses_the_clocks_going_back() -> None:
    # Friday 23 October 2026 16:45 BST; one working hour later is Monday 09:15 GMT.
    due = slaclock.deadline(CAL, at(2026, 10, 23, 16, 45), H, 0)
    assert due == at(2026, 10, 26, 9, 15)
    assert datetime.fromtimestamp(due, UTC).hour == 9  # GMT: UTC and local agree again


def test_it_moves_the_deadline_by_exactly_the_working_time_paused() -> None:
    sub = at(2026, 11, 23, 10, 0)  # Monday
    before = slaclock.deadline(CAL, sub, 2 * DAY, 0)
    assert before == at(2026, 11, 25, 10, 0)
    # Paused from Monday 12:00 to Tuesday 10:00: 30 min + 4 h + 1 h of working time.
    credit = slaclock.resume_credit(CAL, sub, 2 * DAY, 0, at(2026, 11, 23, 12, 0), at(2026, 11, 24, 10, 0))
    assert credit == 5.5 * H
    assert slaclock.deadline(CAL, sub, 2 * DAY, credit) == at(2026, 11, 25, 16, 30)


def test_it_reads_a_paused_clock() -> None:
    sub = at(2026, 11, 23, 10, 0)
    clock = slaclock.read(CAL, sub, 2 * DAY, 0, at(2026, 11, 23, 12, 0), at(2026, 11, 24, 10, 0))
    assert (clock.elapsed, clock.paused, clock.remaining) == (2 * H, 5.5 * H, 2 * DAY - 2 * H)
    assert not clock.running and not clock.breached and clock.due is None


def test_a_pause_after_the_deadline_takes_nothing_off_the_clock() -> None:
    sub = at(2026, 11, 23, 10, 0)
    assert slaclock.resume_credit(CAL, sub, H, 0, at(2026, 11, 23, 15, 0), at(2026, 11, 24, 15, 0)) == 0
    late = slaclock.read(CAL, sub, H, 0, at(2026, 11, 23, 15, 0), at(2026, 11, 24, 15, 0))
    assert late.breached and late.due == at(2026, 11, 23, 11, 0)


def test_it_is_met_at_the_deadline_and_breached_a_second_later() -> None:
    sub = at(2026, 11, 23, 10, 0)
    assert not slaclock.read(CAL, sub, H, 0, None, at(2026, 11, 23, 11, 0)).breached
    assert slaclock.read(CAL, sub, H, 0, None, at(2026, 11, 23, 11, 0) + 1).breached


def test_it_warns_at_eighty_percent() -> None:
    sub = at(2026, 11, 23, 9, 0)
    assert slaclock.warning(CAL, sub, 10 * 60, 0) == sub + 8 * 60


def test_it_refuses_a_target_of_zero_or_less_naming_the_field() -> None:
    for bad in (0, -60):
        with pytest.raises(ValueError, match=r"^resolution: a target must be more than zero"):
            slaclock.check_target(bad, "resolution")
    assert slaclock.check_target(60, "resolution") == 60


def test_it_says_durations_in_words() -> None:
    assert slaclock.words(3 * H + 10 * 60, DAY) == "3 h 10 m"
    assert slaclock.words(DAY + 2 * H, DAY) == "1 d 2 h"
    assert slaclock.words(0, DAY) == "0 m"
    assert slaclock.words(-90 * 60, DAY) == "-1 h 30 m"
    assert slaclock.target_words(3 * DAY, DAY) == "3 working days"
    assert slaclock.target_words(90 * 60, DAY) == "1 h 30 m of working time"


instants = st.integers(min_value=at(2026, 1, 1, 0, 0), max_value=at(2027, 12, 31, 0, 0))


@settings(max_examples=300, deadline=None)
@given(
    sub=instants,
    target=st.integers(min_value=60, max_value=20 * DAY),
    gaps=st.lists(st.tuples(st.integers(0, 10 * 86400), st.integers(1, 5 * 86400)), max_size=4),
    tail=st.integers(0, 30 * 86400),
)
def test_replay_agrees_with_the_step_by_step_clock(sub: int, target: int, gaps: list, tail: int) -> None:
    pauses, t, paused = [], sub, 0
    for gap, length in gaps:
        start, end = t + gap, t + gap + length
        paused += slaclock.resume_credit(CAL, sub, target, paused, start, end)
        pauses.append((start, end))
        t = end
    now = t + tail
    clock = slaclock.replay(CAL, sub, target, pauses, now)
    assert clock.paused == paused and clock.running
    assert clock.elapsed + clock.remaining == target
    assert clock.deadline == slaclock.deadline(CAL, sub, target, paused)
    assert clock.breached == (clock.deadline < now)
    if not clock.breached:
        # Working time to the deadline, minus what was paused, is exactly the target.
        assert CAL.between(sub, clock.deadline) - paused == target
        assert clock.elapsed == CAL.between(sub, now) - paused


def test_replay_of_an_open_pause_stops_the_clock() -> None:
    sub = at(2026, 11, 23, 10, 0)
    pause = (at(2026, 11, 23, 12, 0), None)
    clock = slaclock.replay(CAL, sub, 2 * DAY, [pause], at(2026, 11, 30, 10, 0))
    assert not clock.running and clock.elapsed == 2 * H and clock.due is None
    assert clock.paused == CAL.between(pause[0], at(2026, 11, 30, 10, 0))
    assert timedelta(seconds=clock.remaining) == timedelta(hours=13)
