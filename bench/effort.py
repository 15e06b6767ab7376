"""Hands-on effort on the demo: the product's estimate against the simulated truth.

Builds the demo into a fresh SQLite file (a temporary folder unless ``--data-dir`` names a built
one to reuse), simulates the same history again (the simulation is deterministic for a seed
and an end) to read how many hands-on minutes the agents really spent on each request, and
compares, per service with at least 30 requests resolved in the effort window, the product's
effort (``tandem.work.effort.service_efforts``, what capacity, plans, loans and quotes use)
with the median of the true efforts of the same requests. Also checks, per back-office unit,
that the capacity page's committed hours are the held requests' efforts, and that
utilisation stays within 0–100 %.

    python bench/effort.py [--end 2026-12-07T12:00:00Z] [--data-dir DIR] [--json]

Target: every service's estimated median within ±20 % of the simulated truth.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 0.20
MIN_RESOLVED = 30


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--end", default="", help="the history's 'now', ISO (default: today 12:00 UTC)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--data-dir", default="", help="reuse a demo built with the same --end and --seed here")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="tandem-effort-"))
    os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from tandem.allocation.productivity import unit_productivity
    from tandem.allocation.queries import unit_capacity
    from tandem.demo.load import build_demo, database_is_empty
    from tandem.demo.organisation import demo_organisation
    from tandem.engines.effort import split_effort
    from tandem.engines.history import Params, simulate
    from tandem.org.models import Side, Unit
    from tandem.work.effort import LEAD_IN, WINDOW, in_progress_spans, request_efforts, service_efforts
    from tandem.work.models import ServiceRequest

    end = datetime.fromisoformat(args.end.replace("Z", "+00:00")) if args.end else datetime.now(UTC).replace(
        hour=12, minute=0, second=0, microsecond=0)
    call_command("migrate", verbosity=0)
    if database_is_empty():
        build_demo(seed=args.seed, weeks=args.weeks, end=end)
    began = time.perf_counter()
    org = demo_organisation(end.astimezone(django.utils.timezone.get_default_timezone()).date(), args.weeks, args.seed)
    history = simulate(org.engine(), Params(end=end, weeks=args.weeks, seed=args.seed))
    truth_minutes = history.requests.worked_minutes
    # Row i of the simulation became the i-th request loaded (primary keys in submission order).
    first_pk = ServiceRequest.objects.order_by("pk").values_list("pk", flat=True).first() or 1

    services: list[dict[str, object]] = []
    units: list[dict[str, object]] = []
    effort_seconds = 0.0
    for unit in Unit.objects.filter(side=Side.BACK).order_by("name"):
        t0 = time.perf_counter()
        efforts = service_efforts(unit, end)
        effort_seconds += time.perf_counter() - t0
        spans = in_progress_spans(unit, end - WINDOW - LEAD_IN, end)
        resolved = request_efforts(unit, end - WINDOW, end, spans)
        # The alternative rule, measured beside the product's: each moment split evenly.
        even: dict[int, float] = {}
        split = split_effort(spans.holder, spans.start, spans.end, spans.calendars, spans.shares, rule="even")
        for rid, seconds in zip(spans.request.tolist(), split.tolist(), strict=True):
            even[rid] = even.get(rid, 0.0) + seconds
        by_service: dict[int, list[int]] = {}
        for rid, (sid, _at, _seconds) in resolved.items():
            by_service.setdefault(sid, []).append(rid)
        names = dict(unit.services.values_list("pk", "name"))
        for sid, rids in sorted(by_service.items()):
            if len(rids) < MIN_RESOLVED:
                continue
            truth = float(np.median([truth_minutes[rid - first_pk] for rid in rids])) / 60
            estimate = efforts[sid].hours
            even_hours = float(np.median([even.get(rid, 0.0) for rid in rids])) / 3600
            services.append({"unit": unit.name, "service": names[sid], "resolved": len(rids),
                             "estimate_hours": round(estimate, 3), "truth_hours": round(truth, 3),
                             "error": round(estimate / truth - 1, 3),
                             "within": abs(estimate / truth - 1) <= TOLERANCE,
                             "even_split_error": round(even_hours / truth - 1, 3),
                             "even_split_within": abs(even_hours / truth - 1) <= TOLERANCE})
        capacity = unit_capacity(unit, end)
        held = ServiceRequest.objects.filter(unit=unit, status__in=["assigned", "in_progress"],
                                             assignee__isnull=False).values_list("service_id", flat=True)
        explained = sum(efforts[sid].hours if sid in efforts else 1.0 for sid in held)
        weeks = unit_productivity(unit, now=end)["weeks"]
        shares = [w["utilisation"] for w in weeks if w["utilisation"] is not None]
        units.append({"unit": unit.name, "committed_hours": round(capacity.committed_hours, 1),
                      "held_efforts_hours": round(explained, 1), "capacity_hours": round(capacity.capacity_hours, 1),
                      "utilisation_min": round(min(shares), 3) if shares else None,
                      "utilisation_max": round(max(shares), 3) if shares else None})
    out = {"end": end.isoformat(), "services": services, "units": units,
           "within_share": sum(s["within"] for s in services) / len(services) if services else None,
           "service_efforts_seconds": round(effort_seconds, 2), "seconds": round(time.perf_counter() - began, 1)}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{'unit':20} {'service':30} {'n':>5} {'estimate h':>10} {'truth h':>8} {'error':>7}      {'even split':>10}")
    for s in services:
        print(f"{s['unit']:20} {s['service']:30} {s['resolved']:>5} {s['estimate_hours']:>10.2f} "
              f"{s['truth_hours']:>8.2f} {s['error']:>+7.0%} {'ok  ' if s['within'] else 'MISS'} "
              f"{s['even_split_error']:>+10.0%}")
    print(f"within ±{TOLERANCE:.0%}: {sum(s['within'] for s in services)} of {len(services)} services "
          f"(even split: {sum(s['even_split_within'] for s in services)})")
    for u in units:
        print(f"{u['unit']:12} committed {u['committed_hours']} h = held efforts {u['held_efforts_hours']} h; "
              f"capacity {u['capacity_hours']} h; utilisation {u['utilisation_min']}–{u['utilisation_max']}")
    print(f"service_efforts, all back-office units: {effort_seconds:.2f} s")


if __name__ == "__main__":
    main()
