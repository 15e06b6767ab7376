"""The promise at submission on the demo's history: today's product quote against the promise engine
queue-blind, with the log's queue features, with them and the product's feed (queue ahead with its
corrected effort, people on shift; tandem/engines/promise/feed.py), and with the feed alone.

Builds the demo into a fresh SQLite file (or reuses ``--data-dir``), exports its history as an event
log cut at each request's resolution (the promise is for the resolution), then at each origin (a share
of the requests by submission) fits the engine on the resolved requests submitted before it and quotes
every request of the block after it at its submission (k = 1). Scored on the block's requests resolved
by the end of the history (the same requests for every method):

- MAE of the P50 at submission, in calendar days, against submission → resolution;
- P85 kept per back-office unit: the engine's P50 with the per-unit shift recomputed every midnight
  from the unit's latest requests of the block (``adaptive_upper``; censored while running); today's
  product quote is its own stored P85;
- the engine's part of one quote with the feed alone, from a log of the request's submission only
  (and that it gives the same P50 as the whole log).

    python bench/promise_feed.py                       # three origins (50 / 65 / 80 %)
    python bench/promise_feed.py --data-dir /tmp/tandem-demo --shares 0.8 --json
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
    parser.add_argument("--shares", default="0.5,0.65,0.8", help="origins, as shares of requests by submission")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    open_demo(args.data_dir, "tandem-feed-")
    shares = [float(s) for s in args.shares.split(",")]
    result = run(shares)
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


def run(shares: list[float]) -> dict[str, Any]:
    from tandem.engines.promise import fit
    from tandem.engines.promise.feed import adaptive_upper, event_feed
    from tandem.insights.logs import database_log
    from tandem.org.models import Unit
    from tandem.promises.backtest import past_promises

    h = history()
    log = database_log()
    pk_of_case = np.array([int(name[3:]) for name in log.case.names])
    row_of_pk = {int(pk): i for i, pk in enumerate(h["pk"])}
    row = np.array([row_of_pk[int(pk)] for pk in pk_of_case])
    resolved_us = np.where(np.isfinite(h["resolved"][row]), h["resolved"][row] * 1e6, np.inf)
    log = cut_at_resolution(log, np.where(np.isfinite(resolved_us), resolved_us, np.iinfo(np.int64).max))
    names = {u.pk: u.name for u in Unit.objects.all()}
    is_resolved = np.isfinite(h["resolved"][row])
    start_s = h["submitted"][row]
    order = np.argsort(start_s, kind="stable")
    cut_points = [start_s[order[int(len(order) * s)]] for s in shares] + [np.inf]
    blocks = []
    pooled: dict[str, dict[str, list[Any]]] = {}
    for b, share in enumerate(shares):
        lo, hi = cut_points[b], cut_points[b + 1]
        origin = datetime.fromtimestamp(lo).astimezone()
        queues, own = unit_queues(h, origin)
        extra = event_feed(log.time, log.case.codes, h["unit"][row], own[row], queues)
        fit_cases = is_resolved & (start_s < lo)
        block = (start_s >= lo) & (start_s < hi)
        scored = block & is_resolved
        truth = (h["resolved"][row] - start_s) / DAY_S
        quotes: dict[str, np.ndarray] = {}
        p50s: dict[str, np.ndarray] = {}
        fits = {}
        for name, kwargs in (("blind", {"queue_features": False}), ("log", {}),
                             ("feed", {"extra_features": extra}),
                             ("feedonly", {"queue_features": False, "extra_features": extra})):
            began = time.perf_counter()
            model = fit(log, cases=fit_cases, case_attributes=["unit", "service"], **kwargs)
            fits[name] = time.perf_counter() - began
            q = model.predict_prefixes(log, extra_features=kwargs.get("extra_features"))
            k1 = q.k == 1
            at_case = {c: i for i, c in enumerate(np.array(q.case_id)[k1])}
            idx = np.array([at_case.get(c, -1) for c in log.case.names])
            p50 = np.where(idx >= 0, q.p50[k1][np.maximum(idx, 0)], np.nan)
            p85_fixed = np.where(idx >= 0, np.sqrt(q.p80[k1] * q.p90[k1])[np.maximum(idx, 0)], np.nan)
            hist = block & ~h["cancelled"][row] & (idx >= 0)
            p85 = adaptive_upper(
                at_s=start_s, group=h["unit"][row], p50_days=np.nan_to_num(p50),
                hist_start_s=start_s[hist], hist_end_s=h["resolved"][row][hist], hist_group=h["unit"][row][hist],
                hist_p50_days=p50[hist], level=LEVEL, fallback_days=np.nan_to_num(p85_fixed))
            p50s[name], quotes[name] = p50, p85
            if name == "feedonly":
                figures_speed = one_request_quotes(model, log, extra, np.flatnonzero(block & (idx >= 0))[:200], p50)
        product = product_quotes(past_promises, h, row, lo, hi)
        p50s["product"], quotes["product"] = product
        ok = scored & np.isfinite(p50s["feed"]) & np.isfinite(p50s["product"])
        figures: dict[str, Any] = {"origin": origin.date().isoformat(), "share": share,
                                   "scored": int(ok.sum()), "fit_seconds": {k: round(v, 1) for k, v in fits.items()},
                                   **figures_speed}
        for name in METHODS:
            figures[f"mae_{name}"] = float(np.mean(np.abs(p50s[name][ok] - truth[ok])))
            kept = truth[ok] <= quotes[name][ok] + 1e-9
            figures[f"kept_{name}"] = float(kept.mean())
            per = {}
            for unit in np.unique(h["unit"][row][ok]):
                u = h["unit"][row][ok] == unit
                per[names[int(unit)]] = [int(kept[u].sum()), int(u.sum())]
                pooled.setdefault(name, {}).setdefault(names[int(unit)], []).append((int(kept[u].sum()), int(u.sum())))
            figures[f"units_{name}"] = per
            figures[f"mean_p85_days_{name}"] = float(np.mean(quotes[name][ok]))
            pooled.setdefault("_abs", {}).setdefault(name, []).append(np.abs(p50s[name][ok] - truth[ok]))
        blocks.append(figures)
    overall: dict[str, Any] = {}
    for name in METHODS:
        overall[f"mae_{name}"] = float(np.mean(np.concatenate(pooled["_abs"][name])))
        overall[f"units_{name}"] = {u: sum(k for k, _ in v) / sum(n for _, n in v) for u, v in pooled[name].items()}
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


def print_table(result: dict[str, Any]) -> None:
    names = {"product": "today's product quote", "blind": "engine, queue-blind", "log": "engine, log queue features",
             "feed": "engine, log queue + product feed", "feedonly": "engine, product feed only"}
    for b in result["blocks"]:
        print(f"origin {b['origin']} ({b['share']:.0%}): {b['scored']} requests scored; fit s {b['fit_seconds']}")
        for key, label in names.items():
            units = ", ".join(f"{u} {k / n:.1%}" for u, (k, n) in sorted(b[f"units_{key}"].items()))
            print(f"  {label:<28} MAE {b[f'mae_{key}']:.2f} d  P85 kept {b[f'kept_{key}']:.1%}  "
                  f"mean P85 {b[f'mean_p85_days_{key}']:.2f} d  [{units}]")
    o = result["overall"]
    print("overall:")
    for key, label in names.items():
        units = ", ".join(f"{u} {v:.1%}" for u, v in sorted(o[f"units_{key}"].items()))
        print(f"  {label:<28} MAE {o[f'mae_{key}']:.2f} d  [{units}]")
    print(f"feed / queue-blind MAE: {o['mae_feed'] / o['mae_blind']:.2f}x; load average {result['load_average']}")


if __name__ == "__main__":
    main()
