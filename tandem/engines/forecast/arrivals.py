"""Daily arrivals for the next weeks: a forecast with its 80 % range, from a daily count series.

Pure (numpy, scipy, the ``holidays`` package; no Django). The model, chosen by measurement on
rolling origins (docs/benchmarks.md, "Arrivals forecast"), is multiplicative:

    expected(day) = level × weekday(day) × month edge(day) × open(day)

- **weekday**: the mean count of each weekday over the last 26 weeks, public holidays left out;
- **open**: 0 on a public holiday, 1 otherwise. The holidays are the calendar's when the caller
  knows it (a unit's calendar), else a country's when given, else the country whose holidays
  best explain the quiet weekdays of the history (``infer_country``), else none;
- **month edge**: the ratio of actual to expected counts on the last three and first two weekdays
  of a month (a surge a back office sees at month end), when the history shows it clearly;
- **level**: the ratio of actual to expected weekly totals, smoothed exponentially with the
  smoothing weight that made the smallest one-week-ahead errors over the history.

The range: counts are negative binomial around the expected value, with the over-dispersion
measured on the history's own residuals (Poisson when there is none); the forecast's ``p50``
is that distribution's median (what minimises the absolute error), ``p10`` and ``p90`` its
10th and 90th percentiles.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from scipy import stats

#: The fewest weeks of history worth a forecast.
MIN_WEEKS = 8
PROFILE_WEEKS = 26
MONTH_END_DAYS, MONTH_START_DAYS = 3, 2
#: A month-edge factor is used only when the history shows it clearly: at least this many edge
#: days whose ratios to the weekday pattern differ from 1 by this many standard errors.
EDGE_DAYS, EDGE_T = 6, 3.0
SMOOTHING = (0.05, 0.1, 0.2, 0.3, 0.5)
#: A holiday's arrivals as a share of its weekday's, when closed; the score (log-likelihood ratio
#: less the holidays' cost) a country's holidays must reach to be believed (e^10 to one, well past
#: the chance of the best of several hundred countries matching a few quiet days).
CLOSED_SHARE, INFER_EVIDENCE, HOLIDAY_COST = 0.1, 10.0, 1.0

Holidays = Callable[[date], bool]


class TooShort(ValueError):
    """Less history than a forecast needs."""


@dataclass(frozen=True)
class Day:
    day: date
    expected: float
    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class Forecast:
    days: list[Day]
    level: float  # the level's ratio to the weekday pattern
    weekday_means: tuple[float, ...]  # Monday first
    month_end: float
    month_start: float
    dispersion: float  # negative binomial: variance = mean + dispersion × mean²
    holidays_from: str  # "calendar", "country XX", "inferred XX" or "none"
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> list[dict[str, object]]:
        return [{"date": d.day.isoformat(), "p10": d.p10, "p50": d.p50, "p90": d.p90} for d in self.days]


def daily_counts(days: npt.ArrayLike) -> tuple[date, npt.NDArray[np.int64]]:
    """(first date, count per date) from the date ordinal (``date.toordinal()``) of each arrival."""
    ordinals = np.asarray(days, dtype=np.int64)
    if len(ordinals) == 0:
        raise TooShort("There are no arrivals to forecast from.")
    first = int(ordinals.min())
    return date.fromordinal(first), np.bincount(ordinals - first)


def country_holidays(country: str, first: date, last: date) -> Holidays:
    import holidays

    code, _, subdivision = country.partition("-")
    found = holidays.country_holidays(code, subdiv=subdivision or None, years=range(first.year, last.year + 1))
    return lambda d: d in found


def _weekday_means(y: np.ndarray, weekday: np.ndarray, use: np.ndarray) -> np.ndarray:
    means = np.zeros(7)
    for d in range(7):
        sel = use & (weekday == d)
        means[d] = y[sel].mean() if sel.any() else 0.0
    return means


def infer_country(start: date, counts: npt.ArrayLike, candidates: Iterable[str] | None = None) -> str | None:
    """The country whose public holidays best explain the history's quiet weekdays, or None
    when none explains them clearly.

    Each candidate's holidays on weekdays that are usually busy are scored by the Poisson
    log-likelihood ratio of "closed" (a tenth of the weekday's mean) against "open as usual":
    empty holidays add to it, holidays as busy as any other day take from it, and each holiday
    costs ``HOLIDAY_COST`` so that a country with fewer holidays explaining the same quiet days
    wins. The best country is kept only when its score passes ``INFER_EVIDENCE``: with hundreds
    of candidates, a few quiet days on low volumes match some country's holidays by chance."""
    import holidays

    y = np.asarray(counts, dtype=float)
    n = len(y)
    weekday = (np.arange(n) + start.weekday()) % 7
    means = _weekday_means(y, weekday, np.ones(n, dtype=bool))
    busy = means[weekday] >= max(1.0, 0.3 * means.max())
    last = start + timedelta(days=n - 1)
    names = candidates or sorted(holidays.list_supported_countries())
    best: tuple[float, str] | None = None
    for code in names:
        try:
            found = holidays.country_holidays(code, years=range(start.year, last.year + 1))
        except (NotImplementedError, KeyError, AttributeError):
            continue
        idx = np.array([i for i in ((d - start).days for d in found if start <= d <= last) if busy[i]], dtype=int)
        if len(idx) == 0:
            continue
        mu = means[weekday[idx]]
        evidence = float(np.sum(stats.poisson.logpmf(y[idx], CLOSED_SHARE * mu) - stats.poisson.logpmf(y[idx], mu)))
        evidence -= HOLIDAY_COST * len(idx)  # parsimony: each claimed closure must earn its place
        if evidence > INFER_EVIDENCE and (best is None or evidence > best[0]):
            best = (evidence, code)
    return best[1] if best else None


def month_edges(start: date, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: among the last three weekdays of its month? Among the first two?"""
    last = np.zeros(n, dtype=bool)
    first = np.zeros(n, dtype=bool)
    for i in range(n):
        d = start + timedelta(days=i)
        if d.weekday() >= 5:
            continue
        length = calendar.monthrange(d.year, d.month)[1]
        after = sum(1 for k in range(d.day + 1, length + 1) if date(d.year, d.month, k).weekday() < 5)
        before = sum(1 for k in range(1, d.day) if date(d.year, d.month, k).weekday() < 5)
        last[i] = after < MONTH_END_DAYS
        first[i] = before < MONTH_START_DAYS
    return last, first


def _smoothed_level(actual: np.ndarray, expected: np.ndarray) -> float:
    """The level (actual / expected weekly totals), exponentially smoothed with the weight whose
    one-week-ahead absolute errors over the history were smallest."""
    best: tuple[float, float] | None = None
    for alpha in SMOOTHING:
        level = actual[0] / expected[0] if expected[0] > 0 else 1.0
        error = 0.0
        for a, e in zip(actual[1:], expected[1:], strict=True):
            error += abs(a - level * e)
            if e > 0:
                level = alpha * (a / e) + (1 - alpha) * level
        if best is None or error < best[0]:
            best = (error, level)
    assert best is not None
    return best[1]


def _dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """Method of moments: mean of ((y − μ)² − μ) / μ² over the days expected to be open."""
    sel = mu > 0.5
    if sel.sum() < 14:
        return 0.0
    return float(max(0.0, np.mean(((y[sel] - mu[sel]) ** 2 - mu[sel]) / mu[sel] ** 2)))


def _quantiles(mu: np.ndarray, dispersion: float, qs: tuple[float, ...]) -> list[np.ndarray]:
    mu = np.maximum(mu, 1e-9)
    if dispersion <= 1e-6:
        return [stats.poisson.ppf(q, mu) for q in qs]
    size = 1.0 / dispersion  # scipy's n: variance = μ + μ² / n
    return [stats.nbinom.ppf(q, size, size / (size + mu)) for q in qs]


def forecast(
    start: date,
    counts: npt.ArrayLike,
    days: int = 28,
    *,
    holidays: Holidays | None = None,
    country: str | None = None,
    infer: bool = True,
    edges: bool = True,
) -> Forecast:
    """Forecast the ``days`` days after the series ``counts`` (one count per day from ``start``).

    ``holidays`` (a calendar's) wins over ``country``, which wins over inferring one."""
    y = np.asarray(counts, dtype=float)
    n = len(y)
    if n < 7 * MIN_WEEKS:
        raise TooShort(
            f"{n} days of arrivals from {start:%Y-%m-%d}: a forecast needs at least {MIN_WEEKS} weeks "
            f"({7 * MIN_WEEKS} days)."
        )
    if days < 1:
        raise ValueError("days: at least 1")
    notes: list[str] = []
    end = start + timedelta(days=n + days - 1)
    source = "none"
    if holidays is not None:
        source = "calendar"
    elif country:
        holidays = country_holidays(country, start, end)
        source = f"country {country}"
    elif infer:
        found = infer_country(start, y)
        if found is not None:
            holidays = country_holidays(found, start, end)
            source = f"inferred {found}"
    closed = np.array([holidays(start + timedelta(days=i)) for i in range(n + days)]) if holidays else \
        np.zeros(n + days, dtype=bool)
    weekday = (np.arange(n + days) + start.weekday()) % 7
    recent = np.zeros(n, dtype=bool)
    recent[max(0, n - 7 * PROFILE_WEEKS):] = True
    means = _weekday_means(y, weekday[:n], recent & ~closed[:n])
    if means.sum() == 0:
        notes.append("No arrivals in the last 26 weeks: the forecast is zero.")
    base = means[weekday]
    last, first = month_edges(start, n + days)
    usable = ~closed[:n] & (base[:n] > 0)

    def edge(mask: np.ndarray) -> float:
        sel = usable & mask[:n]
        ratios = y[sel] / base[:n][sel]
        if len(ratios) < EDGE_DAYS:
            return 1.0
        spread = ratios.std(ddof=1) / np.sqrt(len(ratios))
        clear = spread > 0 and abs(ratios.mean() - 1.0) > EDGE_T * spread
        return float(y[sel].sum() / base[:n][sel].sum()) if clear else 1.0

    month_end, month_start = (edge(last), edge(first)) if edges else (1.0, 1.0)
    pattern = base * np.where(last, month_end, 1.0) * np.where(first, month_start, 1.0) * ~closed
    weeks = n // 7
    tail = slice(n - 7 * weeks, n)
    level = _smoothed_level(y[tail].reshape(weeks, 7).sum(1), pattern[:n][tail].reshape(weeks, 7).sum(1))
    expected = level * pattern[n:]
    recent_weeks = slice(max(n - 7 * PROFILE_WEEKS, 0), n)  # the weeks the pattern describes
    dispersion = _dispersion(y[recent_weeks], level * pattern[:n][recent_weeks])
    # The median of a Poisson count around the expected value is the point forecast: measured,
    # it errs less than the over-dispersed median, whose dispersion also holds the level's own
    # drift; the range keeps the measured dispersion.
    (p50,) = _quantiles(expected, 0.0, (0.5,))
    p10, p90 = _quantiles(expected, dispersion, (0.1, 0.9))
    out = [
        Day(start + timedelta(days=n + i), float(expected[i]), float(p10[i]), float(p50[i]), float(p90[i]))
        for i in range(days)
    ]
    return Forecast(
        days=out, level=level, weekday_means=tuple(float(m) for m in means), month_end=month_end,
        month_start=month_start, dispersion=dispersion, holidays_from=source, notes=notes,
    )


def period_range(expected: npt.ArrayLike, dispersion: float) -> tuple[float, float, float, float]:
    """(expected, p10, p50, p90) of the total over several days (a week): the days' counts
    summed, as a negative binomial with the total's mean and variance (Poisson when the days
    are not over-dispersed)."""
    mu = np.asarray(expected, dtype=float)
    total = float(mu.sum())
    if total <= 0:
        return 0.0, 0.0, 0.0, 0.0
    variance = float(np.sum(mu + dispersion * mu**2))
    if variance <= total * (1 + 1e-9):
        p10, p50, p90 = (float(stats.poisson.ppf(q, total)) for q in (0.1, 0.5, 0.9))
    else:
        size = total**2 / (variance - total)
        p10, p50, p90 = (float(stats.nbinom.ppf(q, size, size / (size + total))) for q in (0.1, 0.5, 0.9))
    return total, p10, p50, p90
