"""The promise at submission on the demo's history: today's product quote against the promise engine
queue-blind, with the log's queue features, with them and the product's feed (queue ahead with its
corrected effort, people on shift; tandem/engines/promise/feed.py), and with the feed alone.

Builds the demo into a fresh SQLite file (or reuses ``--data-dir``), exports its history as an event
log cut at each request's resolution (the promise is for the resolution), then at each origin (a share
of the requests by submission) fits the engine on the resolved requests submitted before it and quotes
every request of the block after it at its submission (k = 1). Scored on the block's requests resolved
by the end of the history (the same requests for every method):

- MAE of the P50 at submission, in calendar days, against submission → resolution;
- P85 kept per back-office unit, under four per-unit calibrations of the engine's quotes, each fed only
  the block's own requests (out of sample): ``km150`` (the Kaplan–Meier quantile of the unit's 150
  latest, censored while running: ``adaptive_upper``), ``reach`` (the same window reaching back until
  100 have ended), ``track`` (the fit-time calibrated P85 moved by the quantile tracker,
  ``tracked_upper``, after each known miss or keep; also at three step sizes), ``reach+track``, ``fixed``
  (the fit-time calibrated quote as it is) and ``due+cap`` (the tracker reading every outcome at the
  promised time, its shift capped at one fit-time spread of the unit); and the product's quote: the blend's
  P50 with the feed-only engine's P85 under ``due+cap``, never before that P50 (``blend|product: ...``);
  today's product quote is its own stored P85;
- two blends of the engine (product feed only) with today's quote: the mean of both P50s and of both
  P85s (then calibrated like the engine), and the engine's P50 with today's P85;
- the engine's part of one quote with the feed alone, from a log of the request's submission only
  (and that it gives the same P50 as the whole log).

    python bench/promise_feed.py                       # three origins (60 / 70 / 80 %)
    python bench/promise_feed.py --data-dir /tmp/tandem-demo --cache /tmp/feed.npz   # score again, no refit
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _demo import open_demo  # noqa: E402

LEVEL = 0.85
METHODS = ("product", "blind", "log", "feed", "feedonly")
DAY_S = 86_400.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="", help="TANDEM_DATA_DIR with a demo (built when empty)")
    parser.add_argument("--shares", default="0.6,0.7,0.8", help="origins, as shares of requests by submission")
    parser.add_argument("--cache", default="", help="an .npz file: the fitted quotes are read from it when it "
                        "exists (for the same shares), else written to it (scoring again without fitting)")
    parser.add_argument("--max-rounds", type=int, default=300, help="boosting rounds at most per tree")
    parser.add_argument("--budget", type=float, default=20.0, help="each fit's time budget (seconds)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    open_demo(args.data_dir, "tandem-feed-")
    shares = [float(s) for s in args.shares.split(",")]
    result = run(shares, args.cache, args.max_rounds, args.budget)
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_table(result)


def history() -> dict[str, Any]:
    """The demo's requests (one row each, in id order) with what the product knows of them."""
    from tandem.work.models import ServiceRequest, Status

    rows = list(ServiceRequest.objects.order_by("pk").values_list(
        "pk", "unit_id", "service_id", "submitted_at", "status", "resolved_at", "status_changed_at"))
    n = len(rows)
    ended = np.full(n, np.inf)
    resolved = np.full(n, np.inf)
    cancelled = np.zeros(n, dtype=bool)
    for i, (_pk, _u, _s, _sub, status, resolved_at, changed_at) in enumerate(rows):
        if status == Status.CANCELLED:
            ended[i], cancelled[i] = changed_at.timestamp(), True
        elif status in (Status.RESOLVED, Status.CLOSED) and resolved_at is not None:
            ended[i] = resolved[i] = resolved_at.timestamp()
    return {"pk": np.array([r[0] for r in rows]), "unit": np.array([r[1] for r in rows]),
            "service": np.array([r[2] for r in rows]), "submitted": np.array([r[3].timestamp() for r in rows]),
            "ended": ended, "resolved": resolved, "cancelled": cancelled}


def unit_queues(h: dict[str, Any], origin: datetime) -> tuple[dict[int, Any], np.ndarray]:
    """Each back-office unit's queue (``tandem.promises.feed.unit_queue``: every request at its service's
    median effort as known at ``origin``, the staffing by day) and each request's index in it."""
    from tandem.org.models import Unit
    from tandem.promises.feed import unit_queue

    first = datetime.fromtimestamp(float(h["submitted"].min()) - 8 * DAY_S).astimezone()
    last = datetime.fromtimestamp(float(h["submitted"].max()) + 1).astimezone()
    row_of = {int(pk): i for i, pk in enumerate(h["pk"])}
    own = np.full(len(h["pk"]), -1)
    queues = {}
    for unit in Unit.objects.filter(services__isnull=False).distinct():
        queue, request_ids = unit_queue(unit, first, last, effort_as_of=origin)
        own[[row_of[int(pk)] for pk in request_ids]] = np.arange(len(request_ids))
        queues[unit.pk] = queue
    return queues, own


def cut_at_resolution(log: Any, resolved_us: np.ndarray) -> Any:
    """The log with each case's events after its resolution left out (the promise is for the resolution;
    closing, surveys and comments afterwards are not the wait)."""
    from tandem.engines.eventlog import EventLog

    idx = np.flatnonzero(log.time <= resolved_us[log.case.codes])
    return EventLog(case=log.case.take(idx), activity=log.activity.take(idx), time=log.time[idx],
                    attributes={k: a.take(idx) for k, a in log.attributes.items()}, types=dict(log.types),
                    case_attributes=dict(log.case_attributes), case_types=dict(log.case_types),
                    problems=list(log.problems))


ENGINES = ("blind", "log", "feed", "feedonly")
CALIBRATIONS = ("fixed", "km150", "reach", "track", "reach+track", "due+cap")
CAP_SPREADS = 1.0  # due+cap: the shift within ± this many of the unit's median fit-time log1p(P85) − log1p(P50)
REACH_ENDED = 100  # the reach-back window: back until this many of the unit's requests had ended
ETAS = (0.02, 0.05, 0.1)
ETA = 0.05


def run(shares: list[float], cache: str = "", max_rounds: int = 300, budget_s: float = 20.0) -> dict[str, Any]:
    """Fit (or read from ``cache``) every engine at every origin, then score every calibration."""
    fitted = load_cache(cache) if cache and Path(cache).exists() else None
    if fitted is None or fitted["shares"] != shares:
        fitted = fit_origins(shares, max_rounds, budget_s)
        if cache:
            save_cache(cache, fitted)
    return score(fitted)


def fit_origins(shares: list[float], max_rounds: int, budget_s: float) -> dict[str, Any]:
    """Per origin, every engine's P50 and fit-time calibrated P85 (days) at each case's submission."""
    from tandem.engines.promise import fit
    from tandem.engines.promise.feed import event_feed
    from tandem.insights.logs import database_log
    from tandem.org.models import Unit
    from tandem.promises.backtest import past_promises
    from tandem.work.models import ServiceRequest

    h = history()
    log = database_log()
    pk_of_reference = dict(ServiceRequest.objects.values_list("reference", "pk"))
    pk_of_case = np.array([pk_of_reference[name] for name in log.case.names])
    row_of_pk = {int(pk): i for i, pk in enumerate(h["pk"])}
    row = np.array([row_of_pk[int(pk)] for pk in pk_of_case])
    resolved_us = np.where(np.isfinite(h["resolved"][row]), h["resolved"][row] * 1e6, np.inf)
    log = cut_at_resolution(log, np.where(np.isfinite(resolved_us), resolved_us, np.iinfo(np.int64).max))
    is_resolved = np.isfinite(h["resolved"][row])
    start_s = h["submitted"][row]
    order = np.argsort(start_s, kind="stable")
    cut_points = [float(start_s[order[int(len(order) * s)]]) for s in shares] + [np.inf]
    out: dict[str, Any] = {"shares": shares, "cut_points": cut_points, "start_s": start_s,
                           "unit": h["unit"][row], "resolved": h["resolved"][row], "cancelled": h["cancelled"][row],
                           "names": {u.pk: u.name for u in Unit.objects.all()}, "blocks": []}
    for b, share in enumerate(shares):
        lo, hi = cut_points[b], cut_points[b + 1]
        origin = datetime.fromtimestamp(lo).astimezone()
        queues, own = unit_queues(h, origin)
        extra = event_feed(log.time, log.case.codes, h["unit"][row], own[row], queues)
        fit_cases = is_resolved & (start_s < lo)
        block = (start_s >= lo) & (start_s < hi)
        got: dict[str, Any] = {"origin": origin.date().isoformat(), "share": share, "fit_seconds": {}}
        options: dict[str, dict[str, Any]] = {"blind": {"queue_features": False}, "log": {},
                                              "feed": {"extra_features": extra},
                                              "feedonly": {"queue_features": False, "extra_features": extra}}
        for name in ENGINES:
            kwargs = options[name]
            began = time.perf_counter()
            model = fit(log, cases=fit_cases, case_attributes=["unit", "service"], max_rounds=max_rounds,
                        time_budget_s=budget_s, **kwargs)
            got["fit_seconds"][name] = round(time.perf_counter() - began, 1)
            print(f"origin {share:.0%}: {name} fitted in {got['fit_seconds'][name]} s", file=sys.stderr, flush=True)
            q = model.predict_prefixes(log, extra_features=kwargs.get("extra_features"))
            k1 = q.k == 1
            at_case = {c: i for i, c in enumerate(np.array(q.case_id)[k1])}
            idx = np.array([at_case.get(c, -1) for c in log.case.names])
            got[f"p50_{name}"] = np.where(idx >= 0, q.p50[k1][np.maximum(idx, 0)], np.nan)
            got[f"p85_{name}"] = np.where(idx >= 0, np.sqrt(q.p80[k1] * q.p90[k1])[np.maximum(idx, 0)], np.nan)
            if name == "feedonly":
                got.update(one_request_quotes(model, log, extra, np.flatnonzero(block & (idx >= 0))[:200],
                                              got["p50_feedonly"]))
        got["p50_product"], got["p85_product"] = product_quotes(past_promises, h, row, lo, hi)
        out["blocks"].append(got)
    return out


def save_cache(path: str, fitted: dict[str, Any]) -> None:
    arrays = {k: fitted[k] for k in ("start_s", "unit", "resolved", "cancelled")}
    meta = {k: fitted[k] for k in ("shares", "cut_points")}
    meta["names"] = {str(k): v for k, v in fitted["names"].items()}
    meta["blocks"] = []
    for b, got in enumerate(fitted["blocks"]):
        meta["blocks"].append({k: v for k, v in got.items() if not isinstance(v, np.ndarray)})
        arrays.update({f"{b}:{k}": v for k, v in got.items() if isinstance(v, np.ndarray)})
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_cache(path: str) -> dict[str, Any]:
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    fitted = {k: data[k] for k in ("start_s", "unit", "resolved", "cancelled")}
    fitted.update(shares=meta["shares"], cut_points=meta["cut_points"],
                  names={int(k): v for k, v in meta["names"].items()}, blocks=[])
    for b, got in enumerate(meta["blocks"]):
        got.update({k.split(":", 1)[1]: data[k] for k in data.files if k.startswith(f"{b}:")})
        fitted["blocks"].append(got)
    return fitted


def calibrate(how: str, *, start_s: np.ndarray, unit: np.ndarray, end: np.ndarray, hist: np.ndarray,
              p50: np.ndarray, fixed: np.ndarray, eta: float = ETA) -> np.ndarray:
    """The P85 (days) of every case under calibration ``how``, from the block's own requests (``hist``)."""
    from tandem.engines.promise.feed import adaptive_upper
    from tandem.engines.promise.tracking import tracked_upper

    if how == "fixed":
        return np.maximum(np.nan_to_num(fixed), np.nan_to_num(p50))
    if how == "due+cap":
        spread = np.log1p(np.nan_to_num(fixed)) - np.log1p(np.nan_to_num(p50))
        caps = {int(u): CAP_SPREADS * float(np.median(spread[hist & (unit == u)])) if np.any(hist & (unit == u))
                else 0.0 for u in np.unique(unit)}
        upper, _theta = tracked_upper(at_s=start_s, group=unit, base_days=np.nan_to_num(fixed),
                                      end_s=np.where(hist, end, np.nan), level=LEVEL, eta=eta,
                                      floor_days=np.nan_to_num(p50), reveal_at_due=True, cap=caps)
        return upper
    if how in ("km150", "reach", "reach+track"):
        base = adaptive_upper(at_s=start_s, group=unit, p50_days=np.nan_to_num(p50), hist_start_s=start_s[hist],
                              hist_end_s=end[hist], hist_group=unit[hist], hist_p50_days=p50[hist], level=LEVEL,
                              fallback_days=np.nan_to_num(fixed), min_ended=0 if how == "km150" else REACH_ENDED)
        if how != "reach+track":
            return base
    else:
        base = np.nan_to_num(fixed)
    ends = np.where(hist, end, np.nan)
    upper, _theta = tracked_upper(at_s=start_s, group=unit, base_days=base, end_s=ends, level=LEVEL, eta=eta,
                                  floor_days=np.nan_to_num(p50))
    return upper


def score(fitted: dict[str, Any]) -> dict[str, Any]:
    """MAE at submission and P85 kept per unit, per origin and over all origins, for every method and
    calibration; two blends of the engine (product feed only) and today's quote measured the same way."""
    start_s, unit, resolved, cancelled = (fitted[k] for k in ("start_s", "unit", "resolved", "cancelled"))
    names = fitted["names"]
    truth = (resolved - start_s) / DAY_S
    cuts = fitted["cut_points"]
    blocks = []
    pooled: dict[str, list[Any]] = {}
    for b, got in enumerate(fitted["blocks"]):
        block = (start_s >= cuts[b]) & (start_s < cuts[b + 1])
        got = dict(got)
        got["p50_blend"] = (got["p50_feedonly"] + got["p50_product"]) / 2
        got["p85_blend"] = (got["p85_feedonly"] + got["p85_product"]) / 2
        got["p50_median+nr"] = got["p50_feedonly"]
        ok = block & np.isfinite(resolved) & np.isfinite(got["p50_feed"]) & np.isfinite(got["p50_product"])
        figures: dict[str, Any] = {k: v for k, v in got.items() if not isinstance(v, np.ndarray)}
        figures["scored"] = int(ok.sum())
        for name in (*METHODS, "blend", "median+nr"):
            p50 = got[f"p50_{name}"]
            err = np.abs(p50[ok] - truth[ok])
            figures[f"mae_{name}"] = float(err.mean())
            pooled.setdefault(f"abs:{name}", []).append(err)
            hist = block & ~cancelled & np.isfinite(p50)
            if name in ("product", "median+nr"):
                uppers = {"own": got["p85_product"]}
            else:
                uppers = {c: calibrate(c, start_s=start_s, unit=unit, end=resolved, hist=hist, p50=p50,
                                       fixed=got[f"p85_{name}"]) for c in CALIBRATIONS}
                if name == "blend":  # the product's promise: the feed-only engine's, tracked, never before this P50
                    own = block & ~cancelled & np.isfinite(got["p50_feedonly"])
                    engine = calibrate("due+cap", start_s=start_s, unit=unit, end=resolved, hist=own,
                                       p50=got["p50_feedonly"], fixed=got["p85_feedonly"])
                    uppers["product: engine due+cap"] = np.maximum(engine, np.nan_to_num(p50))
                if name == "feedonly":
                    uppers.update({f"track eta={e}": calibrate("track", start_s=start_s, unit=unit, end=resolved,
                                                               hist=hist, p50=p50, fixed=got[f"p85_{name}"], eta=e)
                                   for e in ETAS})
            for c, upper in uppers.items():
                kept = truth[ok] <= upper[ok] + 1e-9
                key = f"{name}|{c}"
                per = {names[int(u)]: [int(kept[unit[ok] == u].sum()), int((unit[ok] == u).sum())]
                       for u in np.unique(unit[ok])}
                figures.setdefault("kept", {})[key] = {"all": float(kept.mean()), "units": per,
                                                       "mean_p85_days": float(np.mean(upper[ok]))}
                pooled.setdefault(f"kept:{key}", []).append(per)
        blocks.append(figures)
    overall: dict[str, Any] = {"mae": {}, "kept": {}}
    for key, parts in pooled.items():
        kind, name = key.split(":", 1)
        if kind == "abs":
            overall["mae"][name] = float(np.mean(np.concatenate(parts)))
        else:
            units: dict[str, list[int]] = {}
            for per in parts:
                for u, (k, n) in per.items():
                    units.setdefault(u, [0, 0])
                    units[u][0] += k
                    units[u][1] += n
            overall["kept"][name] = {u: k / n for u, (k, n) in units.items()}
    return {"blocks": blocks, "overall": overall}


def one_request_quotes(model: Any, log: Any, extra: dict[str, np.ndarray], cases: np.ndarray,
                       p50: np.ndarray) -> dict[str, float]:
    """The product-feed-only model reads nothing of other cases but the feed, so a request can be quoted
    from a log of its own submission event: time that (features, boosters, quantiles) per request, and
    check it gives the same P50 as the whole log."""
    from tandem.engines.promise import select_cases

    took = []
    worst = 0.0
    for c in cases.tolist():
        keep = np.zeros(len(log.case.names), dtype=bool)
        keep[c] = True
        events = np.flatnonzero(log.case.codes == c)
        one = select_cases(log, keep)
        one = truncate_first(one)
        submission = events[np.argmin(log.time[events])]
        feed = {k: v[[submission]] for k, v in extra.items()}
        began = time.perf_counter()
        q = model.predict_prefixes(one, include_last=True, extra_features=feed)
        took.append(time.perf_counter() - began)
        worst = max(worst, abs(float(q.p50[0]) - float(p50[c])))
    return {"quote_ms_median": 1000 * float(np.median(took)), "quote_ms_p95": 1000 * float(np.quantile(took, 0.95)),
            "one_request_max_p50_difference_days": worst}


def truncate_first(log: Any) -> Any:
    """A one-case log cut to its first event (the submission)."""
    from tandem.engines.eventlog import EventLog

    idx = np.array([int(np.argmin(log.time))])
    return EventLog(case=log.case.take(idx), activity=log.activity.take(idx), time=log.time[idx],
                    attributes={k: a.take(idx) for k, a in log.attributes.items()}, types=dict(log.types),
                    case_attributes=dict(log.case_attributes), case_types=dict(log.case_types),
                    problems=list(log.problems))


def product_quotes(past_promises: Any, h: dict[str, Any], row: np.ndarray, lo: float, hi: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Today's product quote (the neighbour rule) for every request submitted in [lo, hi), as the demo
    stores its walk-forward promises: P50 and P85 in days after submission, aligned with the log's cases."""
    from tandem.org.models import Unit

    start = datetime.fromtimestamp(lo).astimezone()
    end = datetime.fromtimestamp(min(hi, float(h["submitted"].max()) + 1)).astimezone()
    p50 = {}
    p85 = {}
    for unit in Unit.objects.filter(services__isnull=False).distinct():
        promises, _outcome = past_promises(unit, start, end, confidence=int(LEVEL * 100))
        for p in promises:
            p50[p.request_id] = (p.p50_at - p.quoted_at).total_seconds() / DAY_S
            p85[p.request_id] = (p.promised_at - p.quoted_at).total_seconds() / DAY_S
    pks = h["pk"][row]
    return (np.array([p50.get(int(pk), np.nan) for pk in pks]), np.array([p85.get(int(pk), np.nan) for pk in pks]))


LABELS = {"product": "today's product quote (neighbour rule)", "blind": "engine, queue-blind",
          "log": "engine, log queue features", "feed": "engine, log queue + product feed",
          "feedonly": "engine, product feed only", "blend": "blend: mean of engine (feed only) and today's",
          "median+nr": "blend: engine median, today's P85"}


def print_table(result: dict[str, Any]) -> None:
    def units(per: dict[str, Any]) -> str:
        return ", ".join(f"{u} {(v[0] / v[1] if isinstance(v, list) else v):.1%}" for u, v in sorted(per.items()))

    for b in result["blocks"]:
        print(f"origin {b['origin']} ({b['share']:.0%}): {b['scored']} requests scored; fit s {b['fit_seconds']}; "
              f"one quote median {b['quote_ms_median']:.1f} ms, p95 {b['quote_ms_p95']:.1f} ms")
        for name, label in LABELS.items():
            print(f"  {label:<46} MAE {b[f'mae_{name}']:.3f} d")
        for key, k in b["kept"].items():
            print(f"    P85 {key:<26} kept {k['all']:.1%} mean {k['mean_p85_days']:.2f} d [{units(k['units'])}]")
    o = result["overall"]
    print("all origins:")
    for name, label in LABELS.items():
        print(f"  {label:<46} MAE {o['mae'][name]:.3f} d  ({o['mae'][name] / o['mae']['blind']:.3f} x queue-blind, "
              f"{o['mae'][name] / o['mae']['product']:.3f} x today's)")
    for key, per in o["kept"].items():
        worst = max(abs(v - LEVEL) for v in per.values())
        print(f"    P85 {key:<26} worst unit off by {worst:.1%} [{units(per)}]")
    print(f"load average {result['load_average']}")


if __name__ == "__main__":
    main()
