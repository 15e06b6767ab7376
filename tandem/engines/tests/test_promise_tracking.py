"""The per-unit quantile tracker (online conformal, shift form): recounted by hand, calibrated under
drift where a fixed shift is not, and causal."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tandem.engines.promise.tracking import tracked_upper

DAY = 86_400


def test_it_moves_the_shift_by_hand():
    # Day 0: two requests quoted at base 1 day (theta 0). The first ends after 0.5 day (kept, known at
    # 0.5 d), the second after 3 days (missed, known at its promise, 1 d + 10 s). Day 1's quote reads only
    # the kept one: theta = 0.1 * (0 - 0.15) = -0.015; day 2's both: -0.015 + 0.1 * (1 - 0.15) = 0.07.
    at = [0.0, 10.0, 1 * DAY + 60, 2 * DAY + 60]
    end = [0.5 * DAY, 3 * DAY, math.nan, math.nan]
    got, theta = tracked_upper(at_s=at, group=[0, 0, 0, 0], base_days=[1.0, 1.0, 1.0, 1.0], end_s=end,
                               level=0.85, eta=0.1)
    assert got[0] == pytest.approx(1.0)
    assert got[1] == pytest.approx(1.0)
    assert got[2] == pytest.approx(math.expm1(math.log1p(1.0) - 0.015))
    assert got[3] == pytest.approx(math.expm1(math.log1p(1.0) + 0.07))
    assert theta[0] == pytest.approx(0.07)


def test_it_keeps_its_level_where_a_unit_slows_down_and_a_fixed_shift_does_not():
    # Durations triple over 200 days; the base quote is calibrated for the start (exponential, mean 1 day).
    rng = np.random.default_rng(7)
    at = np.sort(rng.uniform(0, 200 * DAY, 4000))
    scale = 1.0 + 2.0 * at / (200 * DAY)
    end = at + rng.exponential(scale) * DAY
    base = np.full(len(at), -math.log(0.15))  # the exponential(1)'s 85 % quantile
    got, _ = tracked_upper(at_s=at, group=np.zeros(len(at)), base_days=base, end_s=end, level=0.85, eta=0.05)
    late = at > 100 * DAY
    truth = (end - at) / DAY
    assert abs(np.mean(truth[late] <= got[late]) - 0.85) < 0.03
    assert np.mean(truth[late] <= base[late]) < 0.7


def test_a_quote_reads_nothing_after_its_midnight():
    rng = np.random.default_rng(11)
    at = np.sort(rng.uniform(0, 60 * DAY, 500))
    end = at + rng.exponential(3 * DAY, 500)
    end[rng.random(500) < 0.05] = math.nan  # cancelled: no outcome
    group = rng.integers(0, 3, 500)
    base = rng.uniform(1, 5, 500)
    full, _ = tracked_upper(at_s=at, group=group, base_days=base, end_s=end, level=0.85)
    for cut_day in (20, 35, 50):
        m = cut_day * DAY
        keep = at < m + DAY  # the requests of the cut day are quoted with what was known at its midnight
        known_end = np.where(end <= m, end, math.inf)  # later ends removed: still running at m
        known_end[np.isnan(end)] = math.nan
        cut, _ = tracked_upper(at_s=at[keep], group=group[keep], base_days=base[keep], end_s=known_end[keep],
                               level=0.85)
        today = (at[keep] >= m) & (at[keep] < m + DAY)
        assert np.array_equal(cut[today], full[keep][today])


def test_read_at_the_promised_time_a_kept_promise_moves_the_shift_no_sooner_than_a_missed_one():
    # A request quoted 2 days ends after half a day (kept). Read at its end, day 1's quote already reads it
    # (theta = 0.1 * (0 - 0.15) = -0.015); read at its promised time (day 2), day 1's quote does not, day 3's does.
    at = [0.0, 1 * DAY + 60, 3 * DAY + 60]
    end = [0.5 * DAY, math.nan, math.nan]
    options: dict[str, Any] = {"group": [0, 0, 0], "base_days": [2.0] * 3, "end_s": end, "level": 0.85, "eta": 0.1}
    at_end, _ = tracked_upper(at_s=at, **options)
    at_due, theta = tracked_upper(at_s=at, reveal_at_due=True, **options)
    shorter = math.expm1(math.log1p(2.0) - 0.015)
    assert at_end[1] == pytest.approx(shorter) and at_end[2] == pytest.approx(shorter)
    assert at_due[1] == pytest.approx(2.0) and at_due[2] == pytest.approx(shorter)
    assert theta[0] == pytest.approx(-0.015)


def test_the_cap_bounds_the_shift_after_a_burst_of_misses():
    # Every request misses (it never ends): uncapped the shift grows by 0.05 * 0.85 per miss without end.
    at = np.arange(200) * DAY / 4
    end = np.full(200, math.inf)
    base = np.ones(200)
    free, free_theta = tracked_upper(at_s=at, group=np.zeros(200), base_days=base, end_s=end, level=0.85)
    capped, theta = tracked_upper(at_s=at, group=np.zeros(200), base_days=base, end_s=end, level=0.85,
                                  cap={0: 0.4})
    assert free_theta[0] > 2.0 and free.max() > 10.0
    assert theta[0] == pytest.approx(0.4)
    assert capped.max() == pytest.approx(math.expm1(math.log1p(1.0) + 0.4))
    assert np.all(capped <= free + 1e-12)


def test_read_at_the_promised_time_and_capped_a_quote_still_reads_nothing_after_its_midnight():
    rng = np.random.default_rng(12)
    at = np.sort(rng.uniform(0, 60 * DAY, 500))
    end = at + rng.exponential(3 * DAY, 500)
    group = rng.integers(0, 3, 500)
    base = rng.uniform(1, 5, 500)
    options: dict[str, Any] = {"level": 0.85, "reveal_at_due": True, "cap": 0.3}
    full, _ = tracked_upper(at_s=at, group=group, base_days=base, end_s=end, **options)
    for cut_day in (20, 35, 50):
        m = cut_day * DAY
        keep = at < m + DAY
        known_end = np.where(end <= m, end, math.inf)
        cut, _ = tracked_upper(at_s=at[keep], group=group[keep], base_days=base[keep], end_s=known_end[keep],
                               **options)
        today = (at[keep] >= m) & (at[keep] < m + DAY)
        assert np.array_equal(cut[today], full[keep][today])
