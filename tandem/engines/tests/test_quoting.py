"""The promise engine: backlog over time, Kaplan-Meier quantiles, neighbours by queue."""

from __future__ import annotations

import numpy as np
import pytest

from tandem.engines.quoting import MIN_SAMPLES, ServiceHistory, backlog_at, km_quantiles


def test_backlog_counts_what_is_open_at_each_instant() -> None:
    starts, ends, weights = [0, 10, 20], [15, np.inf, 25], [1.0, 2.0, 4.0]
    assert backlog_at([0, 9, 10, 15, 20, 24, 25, 100], starts, ends, weights).tolist() == [
        1.0, 1.0, 3.0, 2.0, 6.0, 6.0, 2.0, 2.0,
    ]


def test_without_censoring_km_quantiles_are_the_empirical_ones() -> None:
    d = np.arange(1.0, 101.0)
    q = km_quantiles(d, np.ones(100, dtype=bool), [0.5, 0.85])
    assert q is not None and q.tolist() == [50.0, 85.0]


def test_open_requests_push_the_quantile_up_instead_of_being_ignored() -> None:
    done = np.arange(1.0, 51.0)
    still_open = np.full(50, 60.0)  # half are still open after 60: they will take longer
    d = np.concatenate([done, still_open])
    observed = np.concatenate([np.ones(50, dtype=bool), np.zeros(50, dtype=bool)])
    q = km_quantiles(d, observed, [0.5, 0.85])
    ignoring = np.quantile(done, [0.5, 0.85])
    assert q is not None and q[1] >= 60.0 > ignoring[1]  # P85 is at least the longest seen


def test_too_little_history_gives_no_quote() -> None:
    h = ServiceHistory.of(np.zeros(MIN_SAMPLES - 1), np.ones(MIN_SAMPLES - 1), np.ones(MIN_SAMPLES - 1))
    assert h.quantiles(0.0, [0.5]) is None


def test_a_longer_queue_quotes_longer_and_a_started_request_is_quoted_what_remains() -> None:
    rng = np.random.default_rng(7)
    load = rng.uniform(0, 40 * 3600, 2000)
    own = rng.exponential(2 * 3600, 2000)
    h = ServiceHistory.of(load, load + own, np.ones(2000, dtype=bool))
    short, long_ = h.quantiles(3600.0, [0.85]), h.quantiles(30 * 3600.0, [0.85])
    assert short is not None and long_ is not None and long_[0] - short[0] == pytest.approx(29 * 3600, rel=0.1)
    remaining = h.quantiles(10 * 3600.0, [0.5], elapsed=5 * 3600.0)
    assert remaining is not None and 4 * 3600 < remaining[0] < 8 * 3600


def test_quotes_are_calibrated_on_fresh_requests_like_the_history() -> None:
    rng = np.random.default_rng(2026)
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        load = rng.uniform(0, 20 * 3600, n)
        return load, load * rng.uniform(0.8, 1.2, n) + rng.lognormal(8.5, 1.0, n)
    load, duration = draw(4000)
    h = ServiceHistory.of(load, duration, np.ones(len(load), dtype=bool))
    new_load, new_duration = draw(2000)
    quotes = np.array([h.quantiles(x, [0.5, 0.85]) for x in new_load])
    assert abs(np.mean(new_duration <= quotes[:, 1]) - 0.85) < 0.04
    assert abs(np.mean(new_duration <= quotes[:, 0]) - 0.50) < 0.05


def test_the_chance_of_lasting_longer_is_the_share_longer_and_agrees_with_the_quantiles() -> None:
    rng = np.random.default_rng(7)
    duration = rng.exponential(8 * 3600, 200)
    load = rng.exponential(4 * 3600, 200)
    # Without censoring, and a queue no longer than any seen (nothing added): the plain share.
    whole = ServiceHistory.of(load, duration, np.ones(200, dtype=bool))
    for x in (0.0, 3600.0, 5 * 3600.0, 20 * 3600.0):
        assert whole.chance_longer(0.0, x, neighbours=200) == pytest.approx(float(np.mean(duration > x)))
    # With censoring: the quantile at p is where the chance of lasting longer falls to 1 - p.
    censored = ServiceHistory.of(load, duration, rng.random(200) > 0.2)
    for p in (0.5, 0.85):
        q = censored.quantiles(2 * 3600.0, [p])
        assert q is not None
        at = censored.chance_longer(2 * 3600.0, float(q[0]))
        before = censored.chance_longer(2 * 3600.0, float(q[0]) - 1)
        assert at is not None and before is not None
        assert at <= 1 - p + 1e-9 < before
    assert ServiceHistory.of(load[:5], duration[:5], np.ones(5, dtype=bool)).chance_longer(0.0, 1.0) is None
