"""Cut-offs and runs without a database: the run a request is in, and late only for the run it
asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.agreements.cutoffs import CutOffSpec, next_run, place, run_asked

LONDON = ZoneInfo("Europe/London")
PAYROLL = [(1, time(12), 4)]  # timesheets by Tuesday 12:00 for Friday's payroll


def at(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0, zone: ZoneInfo = LONDON) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def test_it_has_nothing_to_say_without_cutoffs() -> None:
    assert place(at(2026, 11, 24, 13), [], "Europe/London") is None
    assert next_run(at(2026, 11, 24, 13), [], LONDON) is None


def test_a_timesheet_sent_on_sunday_evening_is_in_time_for_fridays_payroll() -> None:
    # Sunday 13 Dec 2026, 21:00, for the week ending that day: Tuesday 15 Dec's cut-off, Friday 18 Dec's payroll.
    placed = place(at(2026, 12, 13, 21), PAYROLL, LONDON, asked_on=date(2026, 12, 13))
    assert placed is not None and not placed.late
    assert placed.run.on == date(2026, 12, 18) and placed.run.closes == at(2026, 12, 15, 12)


def test_it_is_in_time_exactly_at_the_cutoff_and_late_a_second_after() -> None:
    week_ending = date(2026, 11, 22)  # Sunday: asks for Friday 27 Nov's payroll
    on_time = place(at(2026, 11, 24, 12), PAYROLL, LONDON, asked_on=week_ending)
    assert on_time is not None and not on_time.late and on_time.run.on == date(2026, 11, 27)
    late = place(at(2026, 11, 24, 12, 0, 1), PAYROLL, LONDON, asked_on=week_ending)
    assert late is not None and late.late
    assert late.asked is not None and late.asked.on == date(2026, 11, 27)
    assert late.run.on == date(2026, 12, 4) and late.run.closes == at(2026, 12, 1, 12)


def test_asking_for_no_run_is_never_late_it_goes_in_the_next() -> None:
    for moment, run_on in (
        (at(2026, 11, 24, 12, 30), date(2026, 12, 4)),  # just missed Tuesday's: next week's run
        (at(2026, 11, 29, 23, 59), date(2026, 12, 4)),
        (at(2026, 11, 23, 9), date(2026, 11, 27)),
    ):
        placed = place(moment, PAYROLL, LONDON)
        assert placed is not None and not placed.late and placed.asked is None
        assert placed.run.on == run_on


def test_a_request_for_a_run_far_ahead_is_in_that_run() -> None:
    rate_change = [(2, time(17), 4)]  # by Wednesday 17:00 for this Friday's pay
    placed = place(at(2026, 12, 14, 10), rate_change, LONDON, asked_on=date(2026, 12, 25))
    assert placed is not None and not placed.late
    assert placed.run.on == date(2026, 12, 25) and placed.run.closes == at(2026, 12, 23, 17)


def test_same_day_runs_without_a_run_weekday() -> None:
    faster_payment = [(d, time(14)) for d in range(5)]
    before = next_run(at(2026, 12, 8, 13, 59), faster_payment, LONDON)
    assert before is not None and before.on == date(2026, 12, 8)
    after = next_run(at(2026, 12, 11, 14, 1), faster_payment, LONDON)  # Friday afternoon: Monday's
    assert after is not None and after.on == date(2026, 12, 14) and after.closes == at(2026, 12, 14, 14)


def test_the_run_asked_for_is_the_first_dated_on_or_after_the_date() -> None:
    # Monday's cut-off feeds Saturday's run, Tuesday's feeds Tuesday's: asked for a Monday, the
    # earliest run on or after it is Tuesday's (closing later, but run sooner).
    mixed: list[CutOffSpec] = [(0, time(9), 5), (1, time(9))]
    run = run_asked(date(2026, 12, 7), mixed, LONDON)
    assert run is not None and run.on == date(2026, 12, 8) and run.index == 1
    saturday = run_asked(date(2026, 12, 12), mixed, LONDON)
    assert saturday is not None and saturday.on == date(2026, 12, 12) and saturday.index == 0


def test_cutoffs_are_in_the_units_zone_across_summer_time() -> None:
    # The clocks went forward on Sunday 29 March 2026: Tuesday 12:00 is 11:00 UTC after it.
    after = next_run(datetime(2026, 3, 31, 11, 30, tzinfo=UTC), PAYROLL, LONDON)
    assert after is not None and after.closes == datetime(2026, 4, 7, 11, tzinfo=UTC)
    winter = next_run(datetime(2026, 3, 24, 11, 30, tzinfo=UTC), PAYROLL, LONDON)
    assert winter is not None and winter.closes == datetime(2026, 3, 24, 12, tzinfo=UTC)
    # A cut-off inside the spring-forward gap (Sunday 01:30 does not exist) is its end.
    gap = next_run(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), [(6, time(1, 30))], LONDON)
    assert gap is not None and gap.closes == datetime(2026, 3, 29, 1, tzinfo=UTC)
    # New York's weeks are New York's.
    ny = ZoneInfo("America/New_York")
    run = next_run(at(2026, 11, 29, 23, 30, zone=ny), [(0, time(0, 15)), (6, time(9))], ny)
    assert run is not None and run.closes == at(2026, 11, 30, 0, 15, zone=ny) and run.on == date(2026, 11, 30)


def test_it_refuses_a_bad_weekday() -> None:
    with pytest.raises(ValueError, match="weekday"):
        place(at(2026, 11, 24, 13), [(7, time(12))], LONDON)
    with pytest.raises(ValueError, match="run weekday"):
        place(at(2026, 11, 24, 13), [(1, time(12), 9)], LONDON)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 60 * 24 * 7 * 20),
    st.one_of(st.none(), st.integers(-30, 60)),
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(3 * 4, 23 * 4), st.one_of(st.none(), st.integers(0, 6))),
        min_size=1, max_size=4, unique_by=lambda c: (c[0], c[1]),  # the catalogue refuses twins
    ),
    st.sampled_from(["Europe/London", "America/New_York", "UTC"]),
)
def test_it_agrees_with_a_brute_force_over_every_run(
    minute: int, asked_offset: int | None, raw: list[tuple[int, int, int | None]], tz: str
) -> None:
    # Cut-off times from 03:00 keep clear of the DST gaps (01:00-03:00 in these zones).
    cutoffs = [(w, time(q // 4, 15 * (q % 4)), r) for w, q, r in raw]
    zone = ZoneInfo(tz)
    submitted = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=minute)
    asked = None if asked_offset is None else submitted.astimezone(zone).date() + timedelta(days=asked_offset)
    # Every run over a generous span, by plain date arithmetic.
    runs = []
    for day in (date(2025, 11, 3) + timedelta(days=n) for n in range(7 * 40)):
        for w, clock, r in cutoffs:
            if day.weekday() == w:
                closes = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
                runs.append((closes, day + timedelta(days=(r - w) % 7) if r is not None else day))
    upcoming = min((c, on) for c, on in runs if c >= submitted)
    placed = place(submitted, cutoffs, tz, asked_on=asked)
    assert placed is not None
    if asked is None:
        assert (placed.run.closes, placed.run.on) == upcoming and not placed.late
        return
    wanted = min(((on, c) for c, on in runs if on >= asked))
    assert placed.asked is not None and (placed.asked.on, placed.asked.closes) == wanted
    late = wanted[1] < submitted
    assert placed.late == late
    assert (placed.run.closes, placed.run.on) == (upcoming if late else (wanted[1], wanted[0]))
