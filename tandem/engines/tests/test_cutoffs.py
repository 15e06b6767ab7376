"""Cut-offs without a database: late or in time, and when a late request enters processing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.agreements.cutoffs import late_many, place

LONDON = ZoneInfo("Europe/London")
TUESDAY_NOON = [(1, time(12))]


def at(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0, zone: ZoneInfo = LONDON) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def test_it_has_nothing_to_say_without_cutoffs() -> None:
    assert place(at(2026, 11, 24, 13), [], "Europe/London") is None


def test_it_is_in_time_before_and_exactly_at_the_cutoff() -> None:
    for moment in (at(2026, 11, 23, 9), at(2026, 11, 24, 11, 59), at(2026, 11, 24, 12)):
        placed = place(moment, TUESDAY_NOON, LONDON)
        assert placed is not None and not placed.late
        assert placed.enters_processing == at(2026, 11, 24, 12)


def test_it_is_late_after_the_cutoff_until_the_week_ends() -> None:
    for moment in (at(2026, 11, 24, 12, 0, 1), at(2026, 11, 27, 16), at(2026, 11, 29, 23, 59)):
        placed = place(moment, TUESDAY_NOON, LONDON)
        assert placed is not None and placed.late and placed.late_index == 0
        assert placed.enters_processing == at(2026, 12, 1, 12)
    monday = place(at(2026, 11, 30, 0, 0, 1), TUESDAY_NOON, LONDON)
    assert monday is not None and not monday.late


def test_several_cutoffs_each_close_a_batch() -> None:
    cutoffs = [(3, time(15)), (1, time(12))]  # Thursday 15:00, Tuesday 12:00 (any order)
    tue = place(at(2026, 11, 24, 13), cutoffs, LONDON)
    assert tue is not None and tue.late_index == 1 and tue.enters_processing == at(2026, 11, 26, 15)
    thu = place(at(2026, 11, 26, 16), cutoffs, LONDON)
    assert thu is not None and thu.late_index == 0 and thu.enters_processing == at(2026, 12, 1, 12)
    mon = place(at(2026, 11, 23, 10), cutoffs, LONDON)
    assert mon is not None and not mon.late and mon.next_index == 1


def test_cutoffs_are_in_the_units_zone_across_summer_time() -> None:
    # The clocks went forward on Sunday 29 March 2026: Tuesday 12:00 is 11:00 UTC after it.
    before = place(datetime(2026, 3, 31, 11, 30, tzinfo=UTC), TUESDAY_NOON, LONDON)
    assert before is not None and before.late
    assert before.enters_processing == datetime(2026, 4, 7, 11, tzinfo=UTC)
    # A week whose cut-off is in GMT: 12:00 local is 12:00 UTC.
    winter = place(datetime(2026, 3, 24, 11, 30, tzinfo=UTC), TUESDAY_NOON, LONDON)
    assert winter is not None and not winter.late
    # A cut-off inside the spring-forward gap (Sunday 01:30 does not exist) is its end.
    gap = place(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), [(6, time(1, 30))], LONDON)
    assert gap is not None and gap.enters_processing == datetime(2026, 3, 29, 1, tzinfo=UTC)
    # New York's weeks are New York's: Monday 00:30 there is still Sunday night in UTC terms.
    ny = ZoneInfo("America/New_York")
    late = place(at(2026, 11, 29, 23, 30, zone=ny), [(0, time(0, 15)), (6, time(9))], ny)
    assert late is not None and late.late_index == 1 and late.enters_processing == at(2026, 11, 30, 0, 15, zone=ny)


def test_it_refuses_a_bad_weekday() -> None:
    with pytest.raises(ValueError, match="weekday"):
        place(at(2026, 11, 24, 13), [(7, time(12))], LONDON)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 60 * 24 * 7 * 60), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 24 * 4 - 1)), min_size=1, max_size=4),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_the_vectorised_rule_agrees_with_the_single_one(minutes: list[int], raw: list[tuple[int, int]], tz: str) -> None:
    cutoffs = [(w, time(q // 4, 15 * (q % 4))) for w, q in raw]
    base = datetime(2026, 1, 5, tzinfo=UTC)
    instants = [base + timedelta(minutes=m) for m in minutes]
    late, enters = late_many(np.array([int(i.timestamp()) for i in instants]), cutoffs, tz)
    for i, moment in enumerate(instants):
        placed = place(moment, cutoffs, tz)
        assert placed is not None
        assert bool(late[i]) == placed.late, moment
        assert int(enters[i]) == (placed.next_at if placed.late else 0)
        assert placed.next_at >= moment.timestamp()
