"""Hands-on effort under multitasking, against answers worked out by hand and, over random
spans, against the invariants every figure relies on."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.durations import duration_text
from tandem.engines.effort import busy_seconds, split_effort
from tandem.engines.worktime import CalendarSpec, WorkingCalendar

NINE_TO_FIVE = WorkingCalendar.of(CalendarSpec.create(tz="UTC", weekly={d: [("09:00", "17:00")] for d in range(5)}))
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # no holiday in the spec


def at(hour: float, day: int = 0) -> int:
    return int(MONDAY.timestamp() + day * 86400 + hour * 3600)


def test_two_overlapping_spans_by_hand() -> None:
    # A from 09:00 to 11:00, B from 10:00 to 12:00, one person.
    holder, start, end = [1, 1], [at(9), at(10)], [at(11), at(12)]
    cal = {1: NINE_TO_FIVE}
    # Serial: 09–11 goes to A, which ends first; 11–12 to B.
    assert split_effort(holder, start, end, cal, {1: 1.0}).tolist() == [7200.0, 3600.0]
    # Even: 09–10 all A, 10–11 half each, 11–12 all B.
    assert split_effort(holder, start, end, cal, {1: 1.0}, rule="even").tolist() == [5400.0, 5400.0]
    # A person who gives half their time to requests did half of it.
    assert split_effort(holder, start, end, cal, {1: 0.5}).tolist() == [3600.0, 1800.0]


def test_only_working_time_counts_and_people_do_not_share() -> None:
    # One span from Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
    friday = at(16, day=-3)
    assert split_effort([7], [friday], [at(10)], {7: NINE_TO_FIVE}, {7: 1.0}).tolist() == [7200.0]
    # Two people holding one request each at the same time: neither splits with the other.
    assert split_effort([1, 2], [at(9), at(9)], [at(10), at(10)], {1: NINE_TO_FIVE, 2: NINE_TO_FIVE},
                        {1: 1.0, 2: 1.0}).tolist() == [3600.0, 3600.0]
    # Someone without a calendar contributes nothing.
    assert split_effort([3], [at(9)], [at(10)], {}, {}).tolist() == [0.0]


def test_busy_time_by_bucket_by_hand() -> None:
    holder, start, end = [1, 1], [at(9), at(10)], [at(11), at(12)]
    edges = [at(0), at(10.5), at(24)]
    busy = busy_seconds(holder, start, end, {1: NINE_TO_FIVE}, {1: 0.5}, edges)
    assert busy[1].tolist() == [0.5 * 5400, 0.5 * 5400]  # 09:00–10:30, then 10:30–12:00


spans = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5 * 48), st.integers(1, 48)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(spans, st.sampled_from(["serial", "even"]), st.floats(0.1, 1.0))
def test_a_persons_spans_never_add_up_to_more_than_their_time(rows: list[tuple[int, int, int]], rule: str,
                                                               share: float) -> None:
    holder = np.array([r[0] for r in rows])
    start = np.array([at(r[1] / 2) for r in rows])  # half-hour grid over a week
    end = start + np.array([r[2] * 1800 for r in rows])
    cals = {p: NINE_TO_FIVE for p in range(3)}
    shares = {p: share for p in range(3)}
    effort = split_effort(holder, start, end, cals, shares, rule=rule)
    edges = [at(0), at(0, day=3), at(0, day=8)]
    busy = busy_seconds(holder, start, end, cals, shares, edges)
    for person in set(holder.tolist()):
        mine = holder == person
        # Plain Python: the person's working time while holding anything, on a one-minute grid.
        minutes = {m for a, b in zip(start[mine], end[mine], strict=True) for m in range(int(a) // 60, int(b) // 60)
                   if NINE_TO_FIVE.between(m * 60, m * 60 + 60) == 60}
        assert abs(effort[mine].sum() - share * 60 * len(minutes)) < 1e-6
        assert abs(busy[person].sum() - share * 60 * len(minutes)) < 1e-6
        for i in range(len(edges) - 1):
            assert busy[person][i] <= share * NINE_TO_FIVE.between(edges[i], edges[i + 1]) + 1e-6
        assert (effort[mine] >= 0).all() and (effort[mine] <= share * (end[mine] - start[mine]) + 1e-6).all()


def test_durations_read_as_people_write_them() -> None:
    assert [duration_text(s) for s in (0, 20, 2100, 3600, 5400, 35999, 82785)] == [
        "0 min", "under 1 min", "35 min", "1 h", "1 h 30 min", "10 h", "23 h"]
