"""Is the change real? An individuals (XmR) control chart with the usual run rules.

    chart = xmr(weekly_medians, baseline=8)
    chart.verdict            # "sustained shift up since point 11", "within noise", ...

The limits come from a *baseline* (the first ``baseline`` points, or fewer when the series is
short): centre = their median, sigma = mean moving range / 1.128 after screening out ranges
above 3.268 times the mean (so one freak week in the baseline does not widen the limits),
limits = centre ± 3 sigma (the lower one not below zero for times). Each
point is read against them with three rules from Western Electric / Nelson:

1. *outside*: one point beyond a limit. Alone it is a one-off, worth a look, not a change:
   a single good week does not prove the backlog is solved.
2. *shift*: ``RUN`` (8) points in a row on the same side of the centre: a sustained shift,
   dated from the first point of the run.
3. *trend*: ``TREND`` (7) points in a row each higher (or each lower) than the one before
   (seven rather than Nelson's six: queues are autocorrelated, and six fire on the ordinary
   recovery after a bad week).

Only rules 2 and 3 say the process changed. docs/analyse.md has the definitions and why.
Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

D2 = 1.128
#: Moving ranges above this many times their mean are screened out of the baseline before
#: sigma is estimated (Wheeler's upper range limit), so one freak week does not widen the
#: limits until nothing is ever a signal.
URL_FACTOR = 3.268
RUN = 8
TREND = 7


@dataclass(frozen=True)
class Chart:
    values: list[float | None]  # None: no data that period (skipped by the rules)
    centre: float
    upper: float
    lower: float
    baseline: int
    outside: list[int] = field(default_factory=list)  # indexes of points beyond a limit
    shift_from: int | None = None  # first point of the first sustained run
    shift_direction: str = ""  # "up" or "down"
    trend_from: int | None = None
    trend_direction: str = ""

    @property
    def changed(self) -> bool:
        return self.shift_from is not None or self.trend_from is not None

    @property
    def verdict(self) -> str:
        if self.shift_from is not None:
            return f"sustained shift {self.shift_direction} since point {self.shift_from + 1}"
        if self.trend_from is not None:
            return f"trend {self.trend_direction} since point {self.trend_from + 1}"
        if self.outside:
            return "a one-off outside the limits; not yet a change"
        return "within noise"

    def signal_at(self, i: int) -> str:
        """What the rules say about point ``i``: "shift", "trend", "outside" or ""."""
        if self.shift_from is not None and i >= self.shift_from:
            return "shift"
        if self.trend_from is not None and i >= self.trend_from:
            return "trend"
        return "outside" if i in self.outside else ""


def xmr(values: Sequence[float | None], *, baseline: int = 8) -> Chart:
    """Chart ``values`` (one per period, oldest first). Needs at least two baseline points."""
    present = [(i, float(v)) for i, v in enumerate(values) if v is not None and np.isfinite(v)]
    if len(present) < 2:
        raise ValueError("a control chart needs at least two periods with data")
    base = np.array([v for _, v in present[: max(2, min(baseline, len(present)))]])
    centre = float(np.median(base))
    sigma = _sigma(base)
    upper, lower = centre + 3 * sigma, max(0.0, centre - 3 * sigma)
    outside = [i for i, v in present if v > upper or v < lower]
    shift_from, shift_dir = _first_run(present, centre)
    trend_from, trend_dir = _first_trend(present)
    return Chart(
        values=[None if v is None else float(v) for v in values],
        centre=centre, upper=upper, lower=lower, baseline=len(base), outside=outside,
        shift_from=shift_from, shift_direction=shift_dir, trend_from=trend_from, trend_direction=trend_dir,
    )


def _sigma(base: np.ndarray) -> float:
    ranges = np.abs(np.diff(base))
    if len(ranges) == 0:
        return 0.0
    kept = ranges[ranges <= URL_FACTOR * ranges.mean()]
    return float((kept if len(kept) else ranges).mean() / D2)


def _first_run(present: list[tuple[int, float]], centre: float) -> tuple[int | None, str]:
    run, side, start = 0, 0, 0
    for i, v in present:
        s = 1 if v > centre else -1 if v < centre else 0
        if s != 0 and s == side:
            run += 1
        else:
            run, side, start = (1, s, i) if s else (0, 0, i)
        if run >= RUN:
            return start, "up" if side > 0 else "down"
    return None, ""


def _first_trend(present: list[tuple[int, float]]) -> tuple[int | None, str]:
    # TREND points in a row each above (below) the last: TREND - 1 steps the same way.
    steps, direction, start = 0, 0, 0
    for (i0, a), (_, b) in pairwise(present):
        d = 1 if b > a else -1 if b < a else 0
        if d != 0 and d == direction:
            steps += 1
        else:
            steps, direction, start = (1, d, i0) if d else (0, 0, i0)
        if steps >= TREND - 1:
            return start, "up" if direction > 0 else "down"
    return None, ""
