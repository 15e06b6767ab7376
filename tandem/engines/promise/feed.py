"""The product's feed: what Tandem knows about a unit's queue that an event log cannot say.

An event log shows when cases started and ended; the product also knows how much hands-on work each
open request will take (its service's corrected effort, docs/figures.md) and who is on shift over the
next days (working patterns, absences, people lent in). For an instant ``t`` in a unit::

    feed:effort_ahead_h      hands-on hours of the unit's requests open at t, the request itself left out
    feed:staffed_h_per_day   hours given to requests per working day by the people on shift, over the
                             ``horizon_days`` calendar days from t's day (absences out, loans in)
    feed:drain_days          effort ahead ÷ (staffed hours over the horizon ÷ its days): calendar days
                             the unit needs to clear what is ahead at the staffing it has
    feed:people_on_shift     people working on t's day

The promise engine takes them as ``extra_features`` (one number per event of the log). Causal: a
request counts at t when it was submitted at or before t and had not ended by t, so removing what
happened after t (later requests, later ends) changes nothing. The staffing is the unit's plan as
stored (a plan is known ahead; an absence entered after t is read as if it had been known: the
demo's absences are all entered up front). Days outside the capacity given: missing values (NaN).

:func:`adaptive_upper` is the calibration that keeps the upper quote of every unit at its level when a
unit drifts (Invoicing's processing time triples over the demo's half year): the shift on the P50 is
recomputed for each unit at each midnight from that unit's latest requests, the ones still running
counted as censored (Kaplan–Meier), so a unit that slows down is quoted longer within days.

Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tandem.engines.promise.calibration import km_quantile
from tandem.engines.quoting import backlog_at

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

FEED = ("feed:effort_ahead_h", "feed:staffed_h_per_day", "feed:drain_days", "feed:people_on_shift")
HORIZON_DAYS = 7
DAY_S = 86_400
WINDOW = 150  # requests per unit the adaptive shift reads
MIN_CASES = 30


@dataclass(frozen=True)
class UnitQueue:
    """One unit as the product knows it: its requests and its staffing by day.

    ``submitted`` / ``ended`` (epoch seconds; ``inf`` while open) and ``effort`` (hands-on seconds
    expected, its service's corrected effort) per request; ``day_start`` (epoch seconds of each
    calendar day's midnight in the unit's zone, consecutive days), ``staffed`` (seconds given to
    requests that day by the people on shift) and ``people`` (how many work that day) per day."""

    submitted: Floats
    ended: Floats
    effort: Floats
    day_start: Ints
    staffed: Floats
    people: Ints

    @classmethod
    def of(cls, submitted: npt.ArrayLike, ended: npt.ArrayLike, effort: npt.ArrayLike, day_start: npt.ArrayLike,
           staffed: npt.ArrayLike, people: npt.ArrayLike) -> UnitQueue:
        q = cls(np.asarray(submitted, dtype=np.float64), np.asarray(ended, dtype=np.float64),
                np.asarray(effort, dtype=np.float64), np.asarray(day_start, dtype=np.int64),
                np.asarray(staffed, dtype=np.float64), np.asarray(people, dtype=np.int64))
        if not (len(q.submitted) == len(q.ended) == len(q.effort)):
            raise ValueError("submitted, ended and effort must have one value per request")
        if not (len(q.day_start) == len(q.staffed) == len(q.people)):
            raise ValueError("day_start, staffed and people must have one value per day")
        return q


def queue_feed(q: UnitQueue, at: npt.ArrayLike, own: npt.ArrayLike | None = None, *,
               horizon_days: int = HORIZON_DAYS) -> dict[str, Floats]:
    """The feed columns at each instant of ``at`` (epoch seconds). ``own``: for each instant, the index
    in ``q`` of the request the prediction is for (its own effort is not ahead of it), or -1."""
    t = np.asarray(at, dtype=np.float64)
    ahead = backlog_at(t, q.submitted, q.ended, q.effort)
    if own is not None:
        o = np.asarray(own, dtype=np.int64)
        mine = o >= 0
        idx = np.where(mine, o, 0)
        is_open = mine & (q.submitted[idx] <= t) & (q.ended[idx] > t) if len(q.submitted) else mine & False
        ahead = ahead - np.where(is_open, q.effort[idx] if len(q.effort) else 0.0, 0.0)
    ahead = np.maximum(ahead, 0.0)  # float sums of equal weights can leave -1e-12
    n_days = len(q.day_start)
    staffed_per_day = np.full(len(t), np.nan)
    per_calendar_day = np.full(len(t), np.nan)
    people = np.full(len(t), np.nan)
    if n_days:
        day = np.searchsorted(q.day_start, t, side="right") - 1
        known = (day >= 0) & (day + horizon_days <= n_days)
        cum = np.concatenate(([0.0], np.cumsum(q.staffed)))
        worked = np.concatenate(([0], np.cumsum(q.staffed > 0)))
        d = np.where(known, day, 0)
        total = cum[d + horizon_days] - cum[d]
        working_days = worked[d + horizon_days] - worked[d]
        staffed_per_day = np.where(known & (working_days > 0), total / np.maximum(working_days, 1) / 3600, np.nan)
        per_calendar_day = np.where(known, total / horizon_days, np.nan)
        people = np.where((day >= 0) & (day < n_days), q.people[np.clip(day, 0, n_days - 1)], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        drain = np.where(per_calendar_day > 0, ahead / per_calendar_day, np.nan)
    return {"feed:effort_ahead_h": ahead / 3600, "feed:staffed_h_per_day": staffed_per_day,
            "feed:drain_days": drain, "feed:people_on_shift": people.astype(np.float64)}


def event_feed(time_us: npt.ArrayLike, case: npt.ArrayLike, unit_of_case: npt.ArrayLike,
               own_of_case: npt.ArrayLike, queues: Mapping[int, UnitQueue], *,
               horizon_days: int = HORIZON_DAYS) -> dict[str, Floats]:
    """The feed for every event of a log (``time_us`` in microseconds, ``case`` its case code), aligned
    with the log: event i reads the queue of ``unit_of_case[case[i]]`` at its instant, leaving out its
    own request ``own_of_case[case[i]]`` (an index into that unit's queue, or -1). Events of a case
    whose unit has no queue get NaN."""
    t = np.asarray(time_us, dtype=np.int64) / 1e6
    c = np.asarray(case, dtype=np.int64)
    units = np.asarray(unit_of_case, dtype=np.int64)[c]
    own = np.asarray(own_of_case, dtype=np.int64)[c]
    out = {name: np.full(len(t), np.nan) for name in FEED}
    for unit, q in queues.items():
        rows = np.flatnonzero(units == unit)
        if not len(rows):
            continue
        cols = queue_feed(q, t[rows], own[rows], horizon_days=horizon_days)
        for name in FEED:
            out[name][rows] = cols[name]
    return out


def adaptive_upper(*, at_s: npt.ArrayLike, group: npt.ArrayLike, p50_days: npt.ArrayLike,
                   hist_start_s: npt.ArrayLike, hist_end_s: npt.ArrayLike, hist_group: npt.ArrayLike,
                   hist_p50_days: npt.ArrayLike, level: float, fallback_days: npt.ArrayLike | None = None,
                   window: int = WINDOW, min_cases: int = MIN_CASES, min_ended: int = 0) -> Floats:
    """The upper quote (days) at ``level`` for predictions at ``at_s`` in ``group`` with median ``p50_days``.

    The shift, in log1p(days), is the Kaplan–Meier ``level`` quantile of the scores
    log1p(duration) − log1p(its P50) of the ``window`` latest history items of the same group started
    before the last midnight (UTC) at or before the prediction: an item ended by that midnight
    (``hist_end_s``; ``inf`` when it never ended) gives its score, one still running a lower bound (its
    duration so far). Fewer than ``min_cases`` such items: ``fallback_days`` (e.g. the model's own
    quote calibrated at fit time; the P50 when not given). Never below the P50. Reads nothing after
    that midnight, so a quote does not change when later history is removed.

    ``min_ended``: the window reaches further back, past ``window`` items, until it holds that many
    items ended by the midnight (those started in that span and still running stay in it, censored):
    where most of the latest items are still running, the curve then reaches the level."""
    t = np.asarray(at_s, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    p50 = np.asarray(p50_days, dtype=np.float64)
    hs = np.asarray(hist_start_s, dtype=np.float64)
    he = np.asarray(hist_end_s, dtype=np.float64)
    hg = np.asarray(hist_group, dtype=np.int64)
    hp = np.log1p(np.maximum(np.asarray(hist_p50_days, dtype=np.float64), 0.0))
    midnight = np.floor(t / DAY_S) * DAY_S
    fallback = p50 if fallback_days is None else np.asarray(fallback_days, dtype=np.float64)
    shift = np.full(len(t), np.nan)
    for unit in np.unique(g):
        mine = np.flatnonzero(hg == unit)
        order = mine[np.argsort(hs[mine], kind="stable")]
        starts = hs[order]
        rows = np.flatnonzero(g == unit)
        for m in np.unique(midnight[rows]):
            hi = int(np.searchsorted(starts, m, side="left"))  # started before the midnight
            lo = max(0, hi - window)
            if min_ended:
                done = np.cumsum((he[order[:hi]] <= m)[::-1])  # ended by m, counted from the latest back
                reach = int(np.searchsorted(done, min_ended, side="left")) + 1  # items back to the min_ended-th
                lo = min(lo, max(0, hi - reach))
            pick = order[lo:hi]
            if len(pick) < min_cases:
                continue
            ended = he[pick] <= m
            days = (np.where(ended, he[pick], m) - hs[pick]) / DAY_S
            scores = np.log1p(np.maximum(days, 0.0)) - hp[pick]
            # Where the curve does not reach the level, the highest score: a lower bound, the best the window says.
            reached = km_quantile(scores, ended, level)
            shift[rows[midnight[rows] == m]] = float(scores.max()) if reached is None else reached
    upper = np.where(np.isnan(shift), fallback, np.expm1(np.log1p(np.maximum(p50, 0.0)) + np.nan_to_num(shift)))
    return np.maximum(upper, p50)
