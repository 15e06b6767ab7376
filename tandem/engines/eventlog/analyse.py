"""Process figures of an event log, vectorised (definitions in docs/analyse.md)."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np

from tandem.engines.eventlog.model import EventLog

_US_PER_DAY = 86_400_000_000


def _stats(days: np.ndarray) -> dict[str, float]:
    if len(days) == 0:
        return {"mean": 0.0, "median": 0.0, "p90": 0.0}
    return {"mean": float(days.mean()), "median": float(np.median(days)), "p90": float(np.percentile(days, 90))}


def case_durations_days(log: EventLog) -> np.ndarray:
    """Last event time minus first event time of every case, in days."""
    bounds = log.case_bounds()
    if len(log) == 0:
        return np.zeros(0)
    return (log.time[bounds[1:] - 1] - log.time[bounds[:-1]]) / _US_PER_DAY


def variant_count(log: EventLog) -> int:
    """Distinct activity sequences; the Python loop is per case, not per event."""
    codes = log.activity.codes.astype("<i4").tobytes()
    bounds = (log.case_bounds() * 4).tolist()
    return len(Counter(codes[a:b] for a, b in itertools.pairwise(bounds)))


def directly_follows(log: EventLog) -> list[dict[str, Any]]:
    """a→b for consecutive events of one case, with count and mean time between them."""
    same = log.case.codes[1:] == log.case.codes[:-1]
    a, b = log.activity.codes[:-1][same].astype(np.int64), log.activity.codes[1:][same].astype(np.int64)
    dt = (log.time[1:] - log.time[:-1])[same] / 1e6
    n = len(log.activity.names)
    pair = a * n + b
    if n * n <= 4_000_000:  # a count per possible pair: no sort
        all_counts = np.bincount(pair, minlength=n * n)
        keys = np.flatnonzero(all_counts)
        counts = all_counts[keys]
        mean_s = np.bincount(pair, weights=dt, minlength=n * n)[keys] / np.maximum(counts, 1)
    else:
        keys, inv, counts = np.unique(pair, return_inverse=True, return_counts=True)
        mean_s = np.bincount(inv.ravel(), weights=dt, minlength=len(keys)) / np.maximum(counts, 1)
    names = log.activity.names
    rows: list[dict[str, Any]] = [
        {"from": names[k // n], "to": names[k % n], "count": int(c), "mean_seconds": float(s),
         "mean_days": float(s / 86400)}
        for k, c, s in zip(keys.tolist(), counts.tolist(), mean_s.tolist(), strict=True)
    ]
    rows.sort(key=lambda r: (-r["count"], r["from"], r["to"]))
    return rows


def group_flow(log: EventLog, attribute: str) -> dict[str, float]:
    """Handovers per case and ping-pong rate on ``attribute`` (events without it are skipped)."""
    group = log.attribute(attribute).codes
    has = group >= 0
    case, g = log.case.codes[has], group[has]
    n_cases = log.n_cases
    if n_cases == 0:
        return {"handovers_per_case": 0.0, "ping_pong_rate": 0.0}
    same_case = case[1:] == case[:-1]
    handover = same_case & (g[1:] != g[:-1])
    # Runs of equal consecutive groups within a case.
    run_start = np.r_[True, ~same_case | (g[1:] != g[:-1])] if len(g) else np.zeros(0, dtype=bool)
    rc, rg = case[run_start], g[run_start]
    pp = (rc[2:] == rc[:-2]) & (rg[2:] == rg[:-2])
    return {
        "handovers_per_case": float(handover.sum() / n_cases),
        "ping_pong_rate": float(len(np.unique(rc[:-2][pp])) / n_cases),
    }


def analyse(log: EventLog, group_attribute: str | None = None) -> dict[str, Any]:
    """Everything ``tandem analyse`` prints, as plain data with stable keys."""
    out: dict[str, Any] = {
        "cases": log.n_cases,
        "events": len(log),
        "activities": int(np.count_nonzero(np.bincount(log.activity.codes[log.activity.codes >= 0],
                                                       minlength=len(log.activity.names)))),
        "variants": variant_count(log) if len(log) else 0,
        "case_duration_days": _stats(case_durations_days(log)),
        "directly_follows": directly_follows(log) if len(log) > 1 else [],
        "problems": list(log.problems),
    }
    if group_attribute is not None:
        out["group_attribute"] = group_attribute
        out.update(group_flow(log, group_attribute))
    return out


def per_case(log: EventLog, group_attribute: str | None = None) -> dict[str, Any]:
    """The parts of :func:`analyse` that add up over cases, case by case, so that a caller can
    group the cases (by week, say) and sum the groups. Per case, indexed by case code: ``events``,
    ``duration_seconds`` (last event minus first), ``handovers`` and ``ping_pong`` (as in
    :func:`group_flow`; zeros without ``group_attribute``) and ``sequence`` (its activity codes,
    a tuple: equal tuples are one variant). Per directly-follows pair: ``pair_case``,
    ``pair_from``, ``pair_to`` (activity codes) and ``pair_seconds``."""
    n = len(log.case.names)
    codes = log.case.codes.astype(np.int64)
    acts = log.activity.codes.astype(np.int64)
    events = np.bincount(codes, minlength=n)
    duration = np.zeros(n, dtype=np.float64)
    sequence: list[tuple[int, ...]] = [()] * n
    if len(log):
        bounds = log.case_bounds()
        firsts = codes[bounds[:-1]]
        duration[firsts] = (log.time[bounds[1:] - 1] - log.time[bounds[:-1]]) / 1e6
        act_list = acts.tolist()
        for c, a, b in zip(firsts.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            sequence[c] = tuple(act_list[a:b])
    same = codes[1:] == codes[:-1]
    handovers = np.zeros(n, dtype=np.int64)
    ping_pong = np.zeros(n, dtype=bool)
    if group_attribute is not None and len(log):
        group = log.attribute(group_attribute).codes
        has = group >= 0
        case, g = codes[has], group[has]
        same_case = case[1:] == case[:-1]
        handover = same_case & (g[1:] != g[:-1])
        handovers = np.bincount(case[1:][handover], minlength=n)
        run_start = np.r_[True, ~same_case | (g[1:] != g[:-1])] if len(g) else np.zeros(0, dtype=bool)
        rc, rg = case[run_start], g[run_start]
        pp = (rc[2:] == rc[:-2]) & (rg[2:] == rg[:-2])
        ping_pong[rc[:-2][pp]] = True
    return {
        "events": events, "duration_seconds": duration, "handovers": handovers, "ping_pong": ping_pong,
        "sequence": sequence,
        "pair_case": codes[:-1][same], "pair_from": acts[:-1][same], "pair_to": acts[1:][same],
        "pair_seconds": ((log.time[1:] - log.time[:-1])[same] / 1e6).astype(np.float64),
    }
