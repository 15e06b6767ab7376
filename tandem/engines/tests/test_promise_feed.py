"""The product's feed to the promise engine (queue ahead with effort, staffing) and the per-unit
adaptive calibration: recounted in plain Python on small histories, and causal."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.promise.feed import FEED, UnitQueue, adaptive_upper, event_feed, queue_feed

H = 3600
DAY = 86_400
INF = math.inf

# Four requests; day 0 is a Monday, days 5 and 6 the weekend (nobody on shift).
SUBMITTED = [1 * H, 2 * H, 3 * H, DAY + 1 * H]
ENDED = [2.5 * H, INF, DAY + 4 * H, INF]
EFFORT = [1 * H, 2 * H, 0.5 * H, 3 * H]
STAFFED_H = [16, 16, 8, 16, 16, 0, 0, 16, 16, 16]  # hours given to requests that day
PEOPLE = [2, 2, 1, 2, 2, 0, 0, 2, 2, 2]


def queue() -> UnitQueue:
    return UnitQueue.of(SUBMITTED, ENDED, EFFORT, [d * DAY for d in range(10)], [h * H for h in STAFFED_H], PEOPLE)


def recount(t: float, own: int, horizon: int = 7) -> dict[str, float]:
    """The feed at instant t in plain Python, from the definitions in the module's docstring."""
    ahead = sum(e for i, (s, f, e) in enumerate(zip(SUBMITTED, ENDED, EFFORT, strict=True))
                if s <= t < f and i != own) / H
    day = int(t // DAY)
    window = STAFFED_H[day:day + horizon] if day + horizon <= len(STAFFED_H) else None
    if window is None:
        staffed = drain = math.nan
    else:
        working = [h for h in window if h > 0]
        staffed = sum(working) / len(working) if working else math.nan
        drain = ahead / (sum(window) / horizon) if sum(window) > 0 else math.nan
    people = PEOPLE[day] if 0 <= day < len(PEOPLE) else math.nan
    return {"feed:effort_ahead_h": ahead, "feed:staffed_h_per_day": staffed, "feed:drain_days": drain,
            "feed:people_on_shift": people}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


def test_it_recounts_the_queue_ahead_and_the_staffing():
    instants = [0, 1 * H, 2 * H, 2.5 * H, 3 * H, 5 * H, DAY + 1 * H, DAY + 4 * H, 2 * DAY, 3.5 * DAY, 9 * DAY]
    owns = [-1, 0, 1, -1, 2, 1, 3, 3, -1, 1, -1]
    got = queue_feed(queue(), instants, owns)
    for i, (t, own) in enumerate(zip(instants, owns, strict=True)):
        want = recount(t, own)
        for name in FEED:
            assert same(float(got[name][i]), want[name]), (name, t, own, got[name][i], want[name])


def test_it_gives_known_answers_at_hand_worked_instants():
    got = queue_feed(queue(), [3 * H, DAY + 1 * H], [2, 3])
    # At 03:00 on day 0, request 2 arrives: ahead of it are request 1 (2 h; request 0 ended at 02:30).
    assert got["feed:effort_ahead_h"][0] == pytest.approx(2.0)
    # Days 0–6: 72 staffed hours over 5 working days (14.4 h each), 72 / 7 per calendar day.
    assert got["feed:staffed_h_per_day"][0] == pytest.approx(14.4)
    assert got["feed:drain_days"][0] == pytest.approx(2.0 / (72 / 7))
    assert got["feed:people_on_shift"][0] == 2
    # Day 1 01:00, request 3 arrives behind requests 1 and 2: 2.5 hands-on hours.
    assert got["feed:effort_ahead_h"][1] == pytest.approx(2.5)


def truncated(q: UnitQueue, until: float) -> UnitQueue:
    """The queue as known at ``until``: later requests gone, later ends not yet happened."""
    keep = q.submitted <= until
    return UnitQueue.of(q.submitted[keep], np.where(q.ended[keep] <= until, q.ended[keep], INF), q.effort[keep],
                        q.day_start, q.staffed, q.people)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9 * DAY), st.integers(1, 5 * DAY), st.integers(60, 8 * H)),
                min_size=1, max_size=25), st.integers(0, 9 * DAY))
def test_it_does_not_change_when_later_events_are_removed(rows, until):
    submitted = np.array([float(s) for s, _, _ in rows])
    q = UnitQueue.of(submitted, submitted + [d for _, d, _ in rows], [e for _, _, e in rows],
                     [d * DAY for d in range(10)], [h * H for h in STAFFED_H], PEOPLE)
    known = np.flatnonzero(submitted <= until)
    if not len(known):
        return
    at = np.full(len(known), float(until))
    full = queue_feed(q, at, known)
    cut = queue_feed(truncated(q, until), at, np.arange(len(known)))  # the known keep their order
    for name in FEED:
        np.testing.assert_array_equal(full[name], cut[name])


def test_it_aligns_the_feed_with_the_events_of_a_log():
    q = queue()
    # Two cases of unit 7 (its requests 2 and 3) and one of a unit with no queue.
    time_us = np.array([3 * H, 5 * H, DAY + 1 * H, 4 * H]) * 1_000_000
    case = np.array([0, 0, 1, 2])
    got = event_feed(time_us, case, unit_of_case=[7, 7, 8], own_of_case=[2, 3, -1], queues={7: q})
    direct = queue_feed(q, [3 * H, 5 * H, DAY + 1 * H], [2, 2, 3])
    for name in FEED:
        np.testing.assert_array_equal(got[name][:3], direct[name])
        assert math.isnan(got[name][3])


def test_it_calibrates_each_unit_on_its_own_latest_requests():
    # Unit 1 keeps to its P50; unit 2 takes three times its P50 of 1 day: each is shifted on its own.
    starts = np.arange(60) * 0.5 * DAY
    hist_start = np.concatenate([starts, starts])
    hist_group = np.array([1] * 60 + [2] * 60)
    hist_p50 = np.ones(120)
    hist_end = hist_start + np.where(hist_group == 1, 1.0, 3.0) * DAY
    at = np.array([40 * DAY + 100, 40 * DAY + 100])
    got = adaptive_upper(at_s=at, group=[1, 2], p50_days=[1.0, 1.0], hist_start_s=hist_start, hist_end_s=hist_end,
                         hist_group=hist_group, hist_p50_days=hist_p50, level=0.85, window=50, min_cases=10)
    assert got[0] == pytest.approx(1.0)
    assert got[1] == pytest.approx(3.0)


def test_it_counts_running_requests_as_censored_and_recounts_by_hand():
    # Ten requests started on days 0..9 with P50 1 day; the first six took 1 day, the last four still run
    # at day 10's midnight. By hand (Kaplan–Meier on log1p(days) - log1p(1)): six scores of 0 observed,
    # the running ones censored at log1p(10 - start) - log1p(1) > 0. Survival after the six: 1 - 6/10 = 0.4,
    # and nothing observed above, so the 85 % level is not reached: the highest score, a lower bound.
    start = np.arange(10) * DAY
    end = np.where(np.arange(10) < 6, start + DAY, INF)
    got = adaptive_upper(at_s=[10 * DAY + 5], group=[0], p50_days=[1.0], hist_start_s=start, hist_end_s=end,
                         hist_group=np.zeros(10), hist_p50_days=np.ones(10), level=0.85, min_cases=5)
    highest = math.log1p(10 - 6) - math.log1p(1)
    assert got[0] == pytest.approx(math.expm1(math.log1p(1) + highest))
    # Fewer than min_cases in the window: the fallback shift.
    few = adaptive_upper(at_s=[10 * DAY + 5], group=[0], p50_days=[1.0], hist_start_s=start, hist_end_s=end,
                         hist_group=np.zeros(10), hist_p50_days=np.ones(10), level=0.85, min_cases=11,
                         fallback_days=[2.5])
    assert few[0] == pytest.approx(2.5)


@pytest.mark.parametrize(("seed", "mean_days", "extra"), [(3, 2, {}), (5, 6, {"window": 20, "min_ended": 60})])
def test_the_adaptive_quote_reads_nothing_after_its_midnight(seed: int, mean_days: float, extra: dict) -> None:
    # The second case: long requests and a short window that reaches back until 60 have ended.
    rng = np.random.default_rng(seed)
    start = np.sort(rng.uniform(0, 60 * DAY, 300))
    end = start + rng.exponential(mean_days * DAY, 300)
    group = rng.integers(0, 3, 300)
    p50 = rng.uniform(0.5, 3, 300)
    at = np.array([30 * DAY + 7, 45 * DAY + 3])

    def quote(hist_start: np.ndarray, hist_end: np.ndarray, hist_group: np.ndarray, hist_p50: np.ndarray) -> np.ndarray:
        return adaptive_upper(at_s=at, group=[0, 2], p50_days=[1.0, 2.0], level=0.85, min_cases=10,
                              hist_start_s=hist_start, hist_end_s=hist_end, hist_group=hist_group,
                              hist_p50_days=hist_p50, **extra)

    full = quote(start, end, group, p50)
    for i, t in enumerate(at):
        m = np.floor(t / DAY) * DAY
        keep = start < m
        cut = quote(start[keep], np.where(end[keep] <= m, end[keep], INF), group[keep], p50[keep])
        assert cut[i] == full[i]


def test_the_window_reaches_back_until_enough_requests_have_ended():
    # Twenty requests started on days 0..19 with P50 1 day: the first ten took 2 days, the last ten still
    # run at day 30's midnight (11 to 20 days so far). The 10 latest are all running: the curve reaches
    # nothing, so the highest score, the oldest running one's 20 days (a lower bound). Reaching back until
    # 10 have ended takes all twenty: by hand, ten ends at 2 days among twenty at risk (the censored ones
    # are all longer), survival 0.5, so the 45 % level (n + 1 corrected: 21 / 20 × 0.45 = 0.4725) is
    # reached at 2 days.
    start = np.arange(20) * DAY
    end = np.where(np.arange(20) < 10, start + 2 * DAY, INF)
    kwargs = {"at_s": [30 * DAY + 5], "group": [0], "p50_days": [1.0], "hist_start_s": start, "hist_end_s": end,
              "hist_group": np.zeros(20), "hist_p50_days": np.ones(20), "level": 0.45, "min_cases": 5, "window": 10}
    assert adaptive_upper(**kwargs)[0] == pytest.approx(20.0)  # type: ignore[arg-type]
    assert adaptive_upper(**kwargs, min_ended=10)[0] == pytest.approx(2.0)  # type: ignore[arg-type]
    assert adaptive_upper(**kwargs, min_ended=5)[0] == pytest.approx(20.0)  # type: ignore[arg-type]  # 5 of 15
