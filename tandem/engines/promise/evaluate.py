"""The published remaining-time protocol (cases by first event, first 80 % to fit, last 20 % to test)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tandem.engines.eventlog import EventLog
from tandem.engines.promise.features import PromiseError, prefixes
from tandem.engines.promise.model import QUANTILES, case_start_order, check_fittable, fit, select_cases

FIT_SHARE = 0.8


def truncate(log: EventLog, until_us: int) -> EventLog:
    """The log as it was known at ``until_us``: events with a later timestamp removed."""
    idx = np.flatnonzero(log.time <= until_us)
    return EventLog(case=log.case.take(idx), activity=log.activity.take(idx), time=log.time[idx],
                    attributes={k: a.take(idx) for k, a in log.attributes.items()}, types=dict(log.types),
                    case_attributes=dict(log.case_attributes), case_types=dict(log.case_types),
                    problems=list(log.problems))


def split(log: EventLog) -> np.ndarray:
    """True per case code for the fitting cases: the first ``FIT_SHARE`` of cases by first event (rounded down)."""
    order = case_start_order(log)
    n_fit = int(len(order) * FIT_SHARE)
    if n_fit < 2 or n_fit == len(order):
        raise PromiseError(f"the log has {len(order)} cases; the 80/20 protocol needs at least 5")
    is_fit = np.zeros(len(log.case.names), dtype=bool)
    is_fit[order[:n_fit]] = True
    return is_fit


def _hits(truth: np.ndarray, quote: np.ndarray) -> float:
    return float((truth <= quote).mean()) if len(truth) else float("nan")


def evaluate(log: EventLog) -> dict[str, Any]:
    """Fit on the first 80 % of cases, score the last 20 %: MAE of P50 over prefixes k ≥ 2, hit rates at k = 1."""
    check_fittable(log)
    is_fit = split(log)
    check_fittable(select_cases(log, is_fit))
    t0 = time.perf_counter()
    model = fit(log, cases=is_fit)  # the test cases are context only (load up to each instant)
    fit_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    quotes = model.predict_prefixes(log)
    predict_seconds = time.perf_counter() - t0
    rows = prefixes(log)  # same rows, same order as the quotes
    y = rows.remaining_days
    test = ~is_fit[rows.case]
    fitting = ~test
    later = test & (rows.k >= 2)
    first = test & (rows.k == 1)
    if not later.any():
        raise PromiseError("no test case has three or more events, so there is no prefix k ≥ 2 to score")

    # Trivial baselines from the fitting cases' prefixes.
    global_median = float(np.median(y[fitting]))  # over every fitting prefix, k ≥ 1
    max_k = int(rows.k.max()) + 1
    by_k = np.full(max_k, global_median)
    ks = rows.k[fitting]
    order = np.argsort(ks, kind="stable")
    uniq, start = np.unique(ks[order], return_index=True)
    for kk, part in zip(uniq.tolist(), np.split(y[fitting][order], start[1:]), strict=True):
        by_k[kk] = float(np.median(part))
    first_fit = y[fitting & (rows.k == 1)]
    trivial_quote = {a: float(np.quantile(first_fit, a)) for a in QUANTILES}

    def mae(pred: np.ndarray) -> float:
        return round(float(np.abs(pred - y[later]).mean()), 4)

    return {
        "cases": int(log.n_cases), "events": len(log),
        "fit_cases": int(is_fit[np.unique(log.case.codes)].sum()),
        "test_cases": int((~is_fit[np.unique(log.case.codes)]).sum()),
        "test_prefixes": int(later.sum()),
        "test_cases_quoted": int(first.sum()),
        "mae_days": mae(quotes.p50[later]),
        "baselines": {
            "global_median_mae_days": mae(np.full(int(later.sum()), global_median)),
            "median_by_prefix_length_mae_days": mae(by_k[rows.k[later]]),
            "trivial_quote_hit_rate_p80": round(_hits(y[first], np.full(int(first.sum()), trivial_quote[0.8])), 4),
            "trivial_quote_hit_rate_p90": round(_hits(y[first], np.full(int(first.sum()), trivial_quote[0.9])), 4),
            "trivial_quote_days_p80": round(trivial_quote[0.8], 4),
            "trivial_quote_days_p90": round(trivial_quote[0.9], 4),
        },
        "hit_rate_p80": round(_hits(y[first], quotes.p80[first]), 4),
        "hit_rate_p90": round(_hits(y[first], quotes.p90[first]), 4),
        "mean_quote_days_p80": round(float(quotes.p80[first].mean()), 4),
        "mean_quote_days_p90": round(float(quotes.p90[first].mean()), 4),
        "mae_p50_k1_days": round(float(np.abs(quotes.p50[first] - y[first]).mean()), 4),
        "fit_seconds": round(fit_seconds, 3),
        "predictions": len(rows.k),
        "predictions_per_second": round(len(rows.k) / max(predict_seconds, 1e-9), 1),
        "model": {"half_life": model.info["half_life"], "trials": model.info["trials"]},
        "problems": list(log.problems),
    }


def check_input(log: EventLog) -> list[str]:
    """Refuse a log whose times cannot be trusted (PromiseError); return the problems that were repaired.

    Refused: events without a readable timestamp, case id or activity; timestamps with a UTC offset
    mixed with timestamps without one (the local zone is unknown); rows with a different number of
    fields than the header; an empty log. Repaired and reported: events out of time order within a case
    (sorted by time), exact duplicate events (kept, as the published figures count them), several
    explicit UTC offsets, e.g. summer time (normalised to UTC).
    """
    if len(log) == 0:
        raise PromiseError("the log has no events")
    fatal, repaired = [], []
    for p in log.problems:
        if "without a readable timestamp" in p or "without a case id" in p or "without an activity" in p:
            fatal.append(p)
        elif "no UTC offset" in p:
            naive = int(p.split()[0])
            if naive < len(log):
                fatal.append(f"time zones are mixed: {naive} of {len(log)} timestamps have no UTC offset "
                             "while the others have one")
            else:
                repaired.append(p)
        elif "different number of fields" in p or "could not be read" in p:
            fatal.append(p)
        else:
            repaired.append(p)
    if fatal:
        raise PromiseError("; ".join(fatal))
    return repaired
