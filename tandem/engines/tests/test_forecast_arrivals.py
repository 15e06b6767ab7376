"""The arrivals forecast against series whose answer is known: their own generating rates."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tandem.engines.forecast.arrivals import TooShort, daily_counts, forecast, infer_country

MONDAY = date(2025, 1, 6)
RATES = [12.0, 10.0, 10.0, 9.0, 7.0, 0.0, 0.0]  # Monday to Sunday


def poisson_median(rate: float) -> int:
    """The smallest k whose Poisson cumulative probability reaches one half, by summation."""
    if rate == 0:
        return 0
    k, term = 0, np.exp(-rate)
    total = term
    while total < 0.5:
        k += 1
        term *= rate / k
        total += term
    return k


def series(weeks: int, rates: list[float], seed: int = 1, start: date = MONDAY) -> np.ndarray:
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    lam = np.array([rates[(start + timedelta(days=i)).weekday()] for i in range(days)])
    return rng.poisson(lam)


def test_a_steady_series_is_forecast_at_its_own_rates() -> None:
    counts = series(30, RATES)
    result = forecast(MONDAY, counts, 28, infer=False)
    assert [d.day for d in result.days] == [MONDAY + timedelta(days=7 * 30 + i) for i in range(28)]
    for d in result.days:
        rate = RATES[d.day.weekday()]
        assert abs(d.p50 - poisson_median(rate)) <= 1, (d.day, d.p50, rate)
        assert d.p10 <= d.p50 <= d.p90
        if rate == 0:
            assert d.p90 == 0
    assert result.holidays_from == "none"


def test_the_recent_level_carries_forward() -> None:
    counts = np.concatenate([series(20, RATES, seed=2), series(10, [2 * r for r in RATES], seed=3)])
    result = forecast(MONDAY, counts, 28, infer=False)
    mondays = [d.expected for d in result.days if d.day.weekday() == 0]
    # The last ten weeks run at twice the first twenty: the forecast follows them, not the average.
    assert all(1.7 * RATES[0] <= m <= 2.3 * RATES[0] for m in mondays), mondays


def test_a_calendar_holiday_is_forecast_empty() -> None:
    counts = series(12, RATES)
    holiday = MONDAY + timedelta(days=7 * 12 + 2)  # a Wednesday ahead
    result = forecast(MONDAY, counts, 14, holidays=lambda d: d == holiday)
    by_day = {d.day: d for d in result.days}
    assert by_day[holiday].p90 == 0 and by_day[holiday + timedelta(days=7)].p50 > 0
    assert result.holidays_from == "calendar"


def test_the_range_covers_most_days_of_an_overdispersed_series() -> None:
    rng = np.random.default_rng(7)
    weeks = 60
    lam = np.array([RATES[i % 7] for i in range(7 * weeks)]) * rng.gamma(8, 1 / 8, 7 * weeks)
    counts = rng.poisson(lam)
    inside = total = 0
    for origin in range(7 * 30, 7 * weeks - 28, 28):
        result = forecast(MONDAY, counts[:origin], 28, infer=False)
        actual = counts[origin:origin + 28]
        inside += sum(d.p10 <= a <= d.p90 for d, a in zip(result.days, actual, strict=True))
        total += 28
    assert 0.70 <= inside / total <= 0.92, inside / total


def test_the_country_whose_holidays_were_quiet_is_found_and_its_next_holiday_forecast_empty() -> None:
    import holidays

    # A back office in Italy: closed on every Italian public holiday of its two years.
    start = date(2023, 1, 2)
    counts = series(104, RATES, seed=4, start=start)
    closed = holidays.country_holidays("IT", years=[2023, 2024])
    for d in closed:
        if 0 <= (d - start).days < len(counts):
            counts[(d - start).days] = 0
    country = infer_country(start, counts)
    assert country is not None
    found = holidays.country_holidays(country, years=[2023, 2024, 2025])
    weekday_closures = [d for d in closed if d.weekday() < 5]
    assert all(d in found for d in weekday_closures)
    result = forecast(start, counts, 60, infer=True)
    assert result.holidays_from == f"inferred {country}"
    ahead = [d for d in result.days if d.day in found and d.day.weekday() < 5]
    assert ahead and all(d.p90 == 0 for d in ahead)  # New Year's Day and Epiphany 2025


def test_no_country_is_claimed_for_a_series_without_quiet_holidays() -> None:
    counts = series(60, RATES, seed=5, start=date(2023, 1, 2))
    assert infer_country(date(2023, 1, 2), counts) is None


def test_it_refuses_less_than_eight_weeks() -> None:
    with pytest.raises(TooShort, match="at least 8 weeks"):
        forecast(MONDAY, series(7, RATES), 28)


def test_daily_counts_fill_the_quiet_days() -> None:
    start, counts = daily_counts([MONDAY.toordinal() + 2, MONDAY.toordinal(), MONDAY.toordinal() + 2])
    assert start == MONDAY and counts.tolist() == [1, 0, 2]
    with pytest.raises(TooShort):
        daily_counts([])
