"""Attainment from event trails without a database: the vectorised rounds agree with
``slaclock.replay``, the one-request-at-a-time rule."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.agreements import attainment, slaclock
from tandem.engines.worktime import CalendarSpec, WorkingCalendar

CAL = WorkingCalendar.of(
    CalendarSpec.create(
        tz="Europe/London",
        weekly={d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)},
        country="GB",
        subdivision="ENG",
    )
)
H = 3600
MONDAY = int(datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp())


def test_stopped_runs_merge_consecutive_stops_and_follow_each_requests_pauses() -> None:
    request = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    at = [0, 10, 20, 30, 40, 50, 0, 10, 20, 30]
    status = ["new", "in_progress", "waiting_requester", "in_progress", "resolved", "closed",
              "new", "in_progress", "waiting_third_party", "in_progress"]
    req, start, end = attainment.stopped_runs(
        request, at, status, [frozenset({"waiting_requester"}), frozenset({"waiting_requester"})]
    )
    assert req.tolist() == [0, 0] and start.tolist() == [20, 40] and end.tolist() == [30, attainment.NEVER]
    req, start, end = attainment.stopped_runs(
        request, at, status, [frozenset(), frozenset({"waiting_third_party"})]
    )
    assert req.tolist() == [0, 1] and start.tolist() == [40, 20] and end.tolist() == [attainment.NEVER, 30]


def test_a_pause_moves_the_deadline_and_a_late_pause_does_not() -> None:
    target = 2 * int(7.5 * H)
    sub = np.array([MONDAY, MONDAY, MONDAY])
    res = np.array([MONDAY + 2 * 86400 + H, MONDAY + 2 * 86400 + H, MONDAY + 4 * 86400])
    # Request 0: no pause, resolved an hour after its deadline. Request 1: paused two working
    # hours on Monday, so it met. Request 2: paused only after its deadline passed: still late.
    out = attainment.evaluate(
        CAL, sub, np.full(3, target), res,
        [1, 2], [MONDAY + H, MONDAY + 3 * 86400], [MONDAY + 3 * H + 3600, MONDAY + 3 * 86400 + 2 * H],
    )
    assert out.met.tolist() == [False, True, False]
    assert out.overrun[0] == H and out.overrun[1] == 0
    assert out.paused[2] == 0 and out.deadline[2] == out.deadline[0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10 * 86400),  # submitted, seconds after Monday 10:00 UTC
            st.integers(1, 40),  # target in quarter hours
            st.lists(st.tuples(st.integers(1, 3 * 86400), st.integers(0, 2 * 86400)), max_size=4),
            st.integers(60, 20 * 86400),  # resolved after the last pause
        ),
        min_size=1,
        max_size=12,
    )
)
def test_the_rounds_agree_with_replay(rows: list[tuple[int, int, list[tuple[int, int]], int]]) -> None:
    sub, tgt, res, pr, ps, pe = [], [], [], [], [], []
    expected = []
    for i, (offset, quarters, gaps, tail) in enumerate(rows):
        s = MONDAY + offset
        t = s
        pauses = []
        for gap, length in gaps:  # disjoint pauses, in order
            start, end = t + gap, t + gap + length + 1
            pauses.append((start, end))
            t = end
        resolved = t + tail
        target = quarters * 900
        sub.append(s)
        tgt.append(target)
        res.append(resolved)
        for a, b in pauses:
            pr.append(i)
            ps.append(a)
            pe.append(b)
        clock = slaclock.replay(CAL, s, target, pauses, resolved)
        expected.append((clock.deadline, not clock.breached))
    out = attainment.evaluate(CAL, np.array(sub), np.array(tgt), np.array(res), pr, ps, pe)
    assert out.deadline.tolist() == [d for d, _ in expected]
    assert out.met.tolist() == [m for _, m in expected]


def test_it_handles_no_requests() -> None:
    out = attainment.evaluate(CAL, [], [], [], [], [], [])
    assert len(out.met) == 0
    assert attainment.attainment_percent(0, 0) is None and attainment.attainment_percent(2, 3) == 66.7
