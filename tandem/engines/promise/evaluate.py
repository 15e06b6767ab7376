"""The published remaining-time protocol (first 80 % of cases by first event to fit, the rest to test); rolling origins.

Rolling origins: at each origin (the first event of the case at 50 %, 65 % and 80 % of the cases by first
event) the engine is fitted on the cases started before it and scored on the block of cases up to the
next origin (the last block runs to the end of the log), with and without the queue features. A case
whose P90 quote at k = 1 (the longest of the models compared) reaches past the end of the log is left out
of its block: it may be cut short by the end of the log, and whether its quotes were kept cannot be known.
The rule reads only the case's start and its quotes, never its outcome, so it selects no outcome.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tandem.engines.eventlog import EventLog
from tandem.engines.promise.features import PromiseError, prefixes
from tandem.engines.promise.model import QUANTILES, Quotes, case_start_order, check_fittable, fit, select_cases

FIT_SHARE = 0.8
ORIGINS = (0.5, 0.65, FIT_SHARE)  # shares of the cases (by first event) before each rolling origin
MIN_BLOCK_CASES = 2


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


def evaluate(log: EventLog, *, rolling: bool = True, leave_out: tuple[str, ...] = (),
             case_attributes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Fit on the first 80 % of cases, score the last 20 %: MAE of P50 over prefixes k ≥ 2, hit rates at k = 1.

    With ``rolling``, also the rolling origins (:func:`rolling_origins`), the 80 % one sharing its fits.
    """
    check_fittable(log)
    is_fit = split(log)
    check_fittable(select_cases(log, is_fit))
    runs = rolling_origins(log, leave_out=leave_out, shares=ORIGINS if rolling else (FIT_SHARE,),
                           case_attributes=case_attributes)
    last = runs[-1]
    model, quotes, fit_seconds, predict_seconds = last["model"], last["quotes"], last["fit_s"], last["predict_s"]
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

    blind = last["blind"]

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
        "notes": list(model.info["notes"]),
        "queue_blind": {
            "mae_days": mae(blind.p50[later]),
            "mae_p50_k1_days": round(float(np.abs(blind.p50[first] - y[first]).mean()), 4),
            "hit_rate_p80": round(_hits(y[first], blind.p80[first]), 4),
            "hit_rate_p90": round(_hits(y[first], blind.p90[first]), 4),
            "fit_seconds": round(last["blind_fit_s"], 3),
        },
        "rolling": {"origins": [r["figures"] for r in runs if r["figures"]],
                    "overall": _pooled(log, [r for r in runs if r["figures"]])} if rolling else None,
    }


def _block_figures(y: np.ndarray, k: np.ndarray, sel: np.ndarray, q: Any, prefix: str = "") -> dict[str, Any]:
    later, first = sel & (k >= 2), sel & (k == 1)
    return {
        f"{prefix}mae_days": round(float(np.abs(q.p50[later] - y[later]).mean()), 4) if later.any() else None,
        f"{prefix}mae_p50_k1_days": round(float(np.abs(q.p50[first] - y[first]).mean()), 4) if first.any() else None,
        f"{prefix}hit_rate_p80": round(_hits(y[first], q.p80[first]), 4) if first.any() else None,
        f"{prefix}hit_rate_p90": round(_hits(y[first], q.p90[first]), 4) if first.any() else None,
        f"{prefix}mean_quote_days_p80": round(float(q.p80[first].mean()), 4) if first.any() else None,
        f"{prefix}mean_quote_days_p90": round(float(q.p90[first].mean()), 4) if first.any() else None,
    }


def rolling_origins(log: EventLog, *, shares: tuple[float, ...] = ORIGINS, leave_out: tuple[str, ...] = (),
                    case_attributes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per origin: the fitted models, their quotes of every prefix, timings and the block's figures (or None)."""
    order = case_start_order(log)
    bounds = log.case_bounds()
    rows = prefixes(log)
    y = rows.remaining_days
    start_at = np.zeros(len(log.case.names), dtype=np.int64)
    start_at[log.case.codes[bounds[:-1]]] = log.time[bounds[:-1]]
    end_of_log = int(log.time.max())
    cuts = [int(len(order) * s) for s in shares] + [len(order)]
    runs = []
    for i, share in enumerate(shares):
        is_fit = np.zeros(len(log.case.names), dtype=bool)
        is_fit[order[:cuts[i]]] = True
        block = np.zeros(len(log.case.names), dtype=bool)
        block[order[cuts[i]:cuts[i + 1]]] = True
        t0 = time.perf_counter()
        model = fit(log, cases=is_fit, leave_out=leave_out, case_attributes=case_attributes)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        quotes = model.predict_prefixes(log)
        predict_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        blind_model = fit(log, cases=is_fit, queue_features=False, case_attributes=case_attributes)
        blind_fit_s = time.perf_counter() - t0
        blind = blind_model.predict_prefixes(log)
        online = model.predict_prefixes(log, online=True)
        run: dict[str, Any] = {"model": model, "quotes": quotes, "blind": blind, "fit_s": fit_s,
                               "predict_s": predict_s, "blind_fit_s": blind_fit_s, "figures": None}
        runs.append(run)
        # A block case is scored when its longest P90 quote at k = 1 ends by the end of the log.
        k1 = rows.k == 1
        reach = np.zeros(len(log.case.names), dtype=np.int64)
        longest = np.maximum.reduce([quotes.p90[k1], blind.p90[k1], online.p90[k1]])
        reach[rows.case[k1]] = start_at[rows.case[k1]] + (longest * 86_400_000_000).astype(np.int64)
        scored = block & (reach <= end_of_log)
        sel = scored[rows.case]
        if int(scored.sum()) < MIN_BLOCK_CASES or not (sel & k1).any():
            continue
        figures: dict[str, Any] = {"origin": _iso(int(start_at[order[cuts[i]]])), "share": share,
                   "fit_cases": int(is_fit.sum()), "test_cases": int(scored.sum()),
                   "left_out_cut_short": int((block & ~scored).sum()),
                   "test_prefixes": int((sel & (rows.k >= 2)).sum()), **_block_figures(y, rows.k, sel, quotes)}
        online_figures = _block_figures(y, rows.k, sel, online, "online_")
        figures["online_hit_rate_p80"] = online_figures["online_hit_rate_p80"]
        figures["online_hit_rate_p90"] = online_figures["online_hit_rate_p90"]
        figures["queue_blind"] = _block_figures(y, rows.k, sel, blind)
        figures["fit_seconds"] = round(fit_s, 3)
        figures["queue_blind"]["fit_seconds"] = round(blind_fit_s, 3)
        figures["predictions_per_second"] = round(len(quotes.k) / max(predict_s, 1e-9), 1)
        run["figures"], run["sel"] = figures, sel
        run["online"] = online
    return runs


def _pooled(log: EventLog, runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The blocks together, each prefix weighing the same."""
    if not runs:
        return None
    rows = prefixes(log)
    y = rows.remaining_days

    def stack(key: str) -> Quotes:
        q = [r[key] for r in runs]
        return Quotes([], np.zeros(0), *(np.concatenate([getattr(x, a)[r["sel"]] for x, r in zip(q, runs, strict=True)])
                                         for a in ("p50", "p80", "p90")))

    sel = np.ones(sum(int(r["sel"].sum()) for r in runs), dtype=bool)
    yy = np.concatenate([y[r["sel"]] for r in runs])
    kk = np.concatenate([rows.k[r["sel"]] for r in runs])
    out: dict[str, Any] = {"test_cases": sum(r["figures"]["test_cases"] for r in runs),
                           **_block_figures(yy, kk, sel, stack("quotes"))}
    online = _block_figures(yy, kk, sel, stack("online"), "online_")
    out["online_hit_rate_p80"], out["online_hit_rate_p90"] = online["online_hit_rate_p80"], online[
        "online_hit_rate_p90"]
    out["queue_blind"] = _block_figures(yy, kk, sel, stack("blind"))
    return out


def _iso(t_us: int) -> str:
    return datetime.fromtimestamp(t_us / 1_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M")


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
