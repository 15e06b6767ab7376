"""Per-unit upper quotes that follow drift by tracking their own misses (online conformal, shift form).

Adaptive conformal inference (Gibbs & Candès, 2021) moves the quantile level after each observed outcome;
its shift form (the quantile tracker of Angelopoulos, Candès & Tibshirani, 2023) moves the shift itself:
after each outcome, ``theta += eta * (missed - (1 - level))``. A unit whose quotes are missed more often
than ``1 - level`` is quoted longer at once, without waiting for its slow requests to end: a miss is known
at the promised time (the request is still open then), a kept promise at the request's end. A unit that
slows down (the demo's Invoicing, whose processing time triples over its half year) is the case the
Kaplan–Meier window of :func:`tandem.engines.promise.feed.adaptive_upper` cannot follow: most of its
latest requests are still running.

Two options bound it for product use (measured on the demo's three origins, docs/benchmarks.md):

- ``reveal_at_due``: every outcome is read at the promise's end, kept or missed. Read at the request's end,
  a kept promise is known days before a missed one, so after a quiet start the shift falls before the
  misses arrive (every unit's quotes kept less often than with no tracking at all); read at the promised
  time, both come in the order the promises fall due.
- ``cap``: the shift stays within ± ``cap`` (log1p days; per group or one for all), e.g. one fit-time
  spread log1p(P85) − log1p(P50): after a burst of misses the uncapped shift had quoted 48 to 1,500 days.

Causal: the shift used on a day reads only outcomes known at that day's midnight (UTC), so a quote does
not change when later events are removed. Pure: numpy only.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
DAY_S = 86_400
ETA = 0.05  # log1p(days) per outcome; 0.02 / 0.05 / 0.1 measured across every unit in docs/benchmarks.md


def tracked_upper(*, at_s: npt.ArrayLike, group: npt.ArrayLike, base_days: npt.ArrayLike,
                  end_s: npt.ArrayLike, level: float, eta: float = ETA, floor_days: npt.ArrayLike | None = None,
                  theta0: float = 0.0, now_s: float | None = None, reveal_at_due: bool = False,
                  cap: float | Mapping[int, float] | None = None) -> tuple[Floats, dict[int, float]]:
    """Upper quotes (days after ``at_s``) at ``level`` for requests in ``group``, each ``base_days`` (a
    calibrated-at-fit quote) moved by its group's tracked shift, in log1p(days), as it stood at the last
    midnight at or before ``at_s``.

    ``end_s``: when the request ended (``inf`` while open, NaN when it gives no outcome, e.g. cancelled).
    A request's outcome is known at its end when that is within its quote (kept), else at the quote's
    end (missed). Never below ``floor_days`` (e.g. the P50). Also returns each group's shift after the
    outcomes known by ``now_s`` (default: the last quote's instant): what the next quotes start from.
    ``reveal_at_due`` and ``cap``: the module's doc."""
    t = np.asarray(at_s, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    base = np.log1p(np.maximum(np.asarray(base_days, dtype=np.float64), 0.0))
    end = np.asarray(end_s, dtype=np.float64)
    upper = np.zeros(len(t))
    final: dict[int, float] = {}
    now = float(t.max()) if now_s is None and len(t) else float(now_s or 0.0)
    for unit in np.unique(g).tolist():
        rows = np.flatnonzero(g == unit)
        rows = rows[np.argsort(t[rows], kind="stable")]
        bound = np.inf if cap is None else float(cap[unit] if isinstance(cap, Mapping) else cap)
        theta = theta0
        pending: list[tuple[float, int, bool]] = []  # (instant the outcome is known, row, missed)
        midnights = np.floor(t[rows] / DAY_S) * DAY_S
        for m in np.unique(midnights).tolist():
            while pending and pending[0][0] <= m:
                _known, _i, missed = heapq.heappop(pending)
                theta = min(max(theta + eta * (float(missed) - (1.0 - level)), -bound), bound)
            today = rows[midnights == m]
            upper[today] = np.expm1(base[today] + theta)
            for i in today.tolist():
                if np.isnan(end[i]):
                    continue
                due = t[i] + upper[i] * DAY_S
                missed = bool(end[i] > due)
                heapq.heappush(pending, (due if missed or reveal_at_due else float(end[i]), i, missed))
        while pending and pending[0][0] <= now:  # known after the last quote's day, by now
            _known, _i, missed = heapq.heappop(pending)
            theta = min(max(theta + eta * (float(missed) - (1.0 - level)), -bound), bound)
        final[int(unit)] = theta
    if floor_days is not None:
        upper = np.maximum(upper, np.asarray(floor_days, dtype=np.float64))
    return np.maximum(upper, 0.0), final
