"""Conformal shifts of the P80/P90 quotes recomputed every day, from the latest cases, cut-short ones included.

A quantile booster's quote drifts with the process. For a prediction at instant t, the shift added to the
booster's quote (in log1p(days)) is the conformal quantile of the scores log1p(truth) − log1p(raw quote) of
the ``WINDOW_CASES`` latest cases by start (for the quote at k = 1; for k ≥ 2, the latest prefixes, as many
as those cases have on average) of which at least 95 % had ended, as they stood at the last midnight
(UTC) before t. A case that had ended
by then (its first end: an end activity, or a silence longer than the time-out, the rule of the queue
features) gives its score; one still running gives a lower bound (it lasts at least until then), and the
quantile is the Kaplan–Meier quantile of those scores. Without the cases still running, the window would
hold only the quick ones among recent cases and the quotes would be too short exactly when the process
slows down. Everything read happened at or before that midnight, so a quote still never changes when
later events are removed from the log.

Only cases that started after the newest case the quantile boosters were trained on enter the window
(their scores are out of sample). Until ``MIN_CASES`` of them are in the window, or when the Kaplan–Meier
curve does not reach the level (too many cases still running), the shift measured on the validation
cases at fit time is used (``static``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

WINDOW_CASES = 300
MIN_CASES = 30
ENDED_SHARE = 0.95  # the window is the latest one in which at least this share of the cases had ended (so the
# Kaplan–Meier curve can reach the P90 level: the cases still running are the long ones)
US_PER_DAY = 86_400_000_000


def conformal(scores: np.ndarray, alpha: float) -> float:
    """The shift that makes ``alpha`` of the scores (truth minus quote) ≤ 0, with the n+1 correction.

    The quantile at level ⌈(n + 1) alpha⌉ / n, taking the higher score between two: at most one rank above
    the textbook ⌈(n + 1) alpha⌉-th smallest, which the quantile boosters' refit on every case needs (their
    quotes move a little after the shift is measured).
    """
    if len(scores) == 0:
        return 0.0
    level = min(1.0, np.ceil((len(scores) + 1) * alpha) / len(scores))
    return float(np.quantile(scores, level, method="higher"))


def km_quantile(scores: np.ndarray, ended: np.ndarray, alpha: float) -> float | None:
    """The Kaplan–Meier ``alpha`` quantile (n+1 corrected) of scores, those not ``ended`` right-censored; None if
    the curve does not reach it."""
    n = len(scores)
    if n == 0:
        return None
    order = np.lexsort((~ended, scores))  # at equal scores, ends before censorings
    s, e = scores[order], ended[order]
    at_risk = n - np.arange(n)
    surv = np.cumprod(1.0 - e / at_risk)
    level = min(1.0, (n + 1) * alpha / n)
    reached = np.flatnonzero(1.0 - surv >= level - 1e-12)
    return float(s[reached[0]]) if len(reached) else None


def last_window(ended: np.ndarray, window: int) -> int | None:
    """The end of the latest window of ``window`` items (fewer, if there are fewer) of which at least
    ``ENDED_SHARE`` have ended; None when no window has, or fewer than ``MIN_CASES`` items."""
    n = len(ended)
    if n < MIN_CASES:
        return None
    size = min(window, n)
    running = np.r_[0, np.cumsum(~ended)]
    ends = np.arange(size, n + 1)
    ok = np.flatnonzero(running[ends] - running[ends - size] <= (1 - ENDED_SHARE) * size)
    return int(ends[ok[-1]]) if len(ok) else None


def online_shifts(*, start_at: np.ndarray, first_end_event: np.ndarray, first_end_at: np.ndarray,
                  case_bounds: np.ndarray, case_codes: np.ndarray, after_us: int, row_case: np.ndarray,
                  row_k: np.ndarray, row_event: np.ndarray, time: np.ndarray, raw: Mapping[float, np.ndarray],
                  static: Mapping[str, Mapping[float, float]], window_prefixes: int) -> dict[float, np.ndarray]:
    """Per row (every prefix of a log, ``row_*``): the shift to add to ``raw[alpha]`` of that row.

    Per case code: ``start_at`` (first event time), ``first_end_event`` (event index, -1 none),
    ``first_end_at`` (instant the end became known). ``raw`` holds the uncalibrated quotes in log1p(days).
    """
    case = row_case
    end_ev = first_end_event[case]
    pool_rows = (start_at[case] > after_us) & ((end_ev < 0) | (row_event < end_ev))
    at = time[row_event]
    midnight = (at // US_PER_DAY) * US_PER_DAY
    out: dict[float, np.ndarray] = {alpha: np.zeros(len(case)) for alpha in raw}
    for group, sel_pool, sel_rows, window in (
        ("k1", pool_rows & (row_k == 1), row_k == 1, WINDOW_CASES),
        ("k2+", pool_rows & (row_k >= 2), row_k >= 2, window_prefixes),
    ):
        pool = np.flatnonzero(sel_pool)
        pool = pool[np.lexsort((row_k[pool], case[pool], at[pool]))]  # by instant; ties in a fixed order
        pool_at = at[pool]
        known = first_end_at[case[pool]]
        known = np.where(known >= 0, known, np.iinfo(np.int64).max)  # never ended (in this log)
        queries = np.flatnonzero(sel_rows)
        for alpha in raw:
            out[alpha][queries] = static[group][alpha]
        days, inverse = np.unique(midnight[queries], return_inverse=True)
        by_day = np.split(queries[np.argsort(inverse, kind="stable")], np.cumsum(np.bincount(inverse))[:-1])
        for g, hit_rows in zip(days.tolist(), by_day, strict=True):
            upto = int(np.searchsorted(pool_at, g, "right"))
            end = last_window(known[:upto] <= g, window)
            if end is None:
                continue
            items = pool[max(0, end - window):end]
            ended = known[max(0, end - window):end] <= g
            end_t = time[np.maximum(end_ev[items], 0)]
            reach = np.where(ended, end_t, g)  # a case running at g lasts at least until g
            truth = np.log1p(np.maximum(reach - at[items], 0) / US_PER_DAY)
            for alpha, q in raw.items():
                shift = km_quantile(truth - q[items], ended, alpha)
                if shift is not None:
                    out[alpha][hit_rows] = shift
    return out
