"""How long the four-week plan takes: the worker's daily forecast of every service (with the
plan's stored inputs: learned efforts, requesting units' shares), and the plan page and API per
back-office unit (docs/demand.md).

Builds the demo into a fresh SQLite file (a temporary folder unless ``--data-dir`` names a
built one to reuse; ``TANDEM_DATABASE_URL`` for PostgreSQL), then times
``refresh_arrival_forecasts`` (target: every service of the demo in under 30 s), the plan's
figures (``four_week_plan``), and the page (``/manage/demand/?unit=``) and the API
(``/api/units/{slug}/demand-plan``) through Django's test client as an executive, ``--runs``
times per unit after one warm-up view (p50 and p95; target: the page under 300 ms at 1,000,000
stored requests). The load average is printed beside the figures: the machine is shared.

``--grow-to N`` first copies the requests until about N, as ``bench/search.py --grow-to`` does
(each copy a new request of the same unit, service, requester and submission time; events are
not copied), then runs the worker's forecast again on the grown database.

    python bench/demand_plan.py [--data-dir DIR] [--runs 10]
    python bench/demand_plan.py --data-dir /tmp/plan-1m --grow-to 1000000 --runs 20
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def timed(call, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    call()  # warm-up: the process's calendars and the template
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - began))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--grow-to", type=int, default=0, help="first copy the requests until about this many")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from _demo import open_demo

    open_demo(args.data_dir, "tandem-demand-")
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tandem.demand.actions import refresh_arrival_forecasts
    from tandem.demand.queries import four_week_plan
    from tandem.org.models import Person, Role, Side, Unit
    from tandem.work.models import ServiceRequest

    settings.ALLOWED_HOSTS = ["*"]
    if args.grow_to:
        from search import grow  # bench/search.py

        grow(args.grow_to)
    print(f"{connection.vendor}, {ServiceRequest.objects.count():,} requests; {load()}")
    began = time.perf_counter()
    services = refresh_arrival_forecasts(timezone.localdate(), force=True)
    print(f"forecast of {services} services and the plan's inputs: {time.perf_counter() - began:.2f} s "
          "(target < 30 s for the demo)")
    # The provider's executive (a client's sees no plan: client organisations are served by it).
    executive = (Person.objects.filter(role=Role.EXECUTIVE, unit__organisation__isnull=True)
                 .select_related("user").first())
    client = Client()
    client.force_login(executive.user)
    client.get("/")  # the process's first request imports the URLs and the API
    print(f"{'unit':<14}{'figures p50/p95 ms':>20}{'page p50/p95 ms':>18}{'API p50/p95 ms':>17}"
          "   (target: the page under 300 ms)")
    for unit in Unit.objects.filter(side=Side.BACK).order_by("name"):
        figures = timed(lambda u=unit: four_week_plan(u), args.runs)
        page = timed(lambda u=unit: client.get(f"/manage/demand/?unit={u.slug}"), args.runs)
        api = timed(lambda u=unit: client.get(f"/api/units/{u.slug}/demand-plan"), args.runs)
        assert client.get(f"/manage/demand/?unit={unit.slug}").status_code == 200
        print(f"{unit.slug:<14}{figures[0]:10.0f} /{figures[1]:6.0f}{page[0]:10.0f} /{page[1]:6.0f}"
              f"{api[0]:9.0f} /{api[1]:6.0f}")
    print(load())


if __name__ == "__main__":
    main()
