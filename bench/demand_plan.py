"""How long the four-week plan takes: the worker's daily forecast of every service, and the
plan page's figures per back-office unit (docs/demand.md).

Builds the demo into a fresh SQLite file (a temporary folder unless ``--data-dir`` names a
built one to reuse; ``TANDEM_DATABASE_URL`` for PostgreSQL), then times
``refresh_arrival_forecasts`` (target: every service of the demo in under 30 s) and
``four_week_plan`` for each back-office unit, ``--runs`` times (p50 and p95; target: the page
under 300 ms).

    python bench/demand_plan.py [--data-dir DIR] [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    os.environ["TANDEM_DATA_DIR"] = str(Path(args.data_dir or tempfile.mkdtemp(prefix="tandem-demand-")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from tandem.demand.actions import refresh_arrival_forecasts
    from tandem.demand.queries import four_week_plan
    from tandem.demo.load import build_demo, database_is_empty
    from tandem.org.models import Side, Unit
    from tandem.work.models import ServiceRequest

    call_command("migrate", verbosity=0)
    if database_is_empty():
        build_demo()
    print(f"{ServiceRequest.objects.count():,} requests")
    began = time.perf_counter()
    services = refresh_arrival_forecasts(timezone.localdate(), force=True)
    print(f"forecast of {services} services: {time.perf_counter() - began:.2f} s (target < 30 s)")
    print(f"{'unit':<14}{'p50 ms':>8}{'p95 ms':>8}   (target: the page under 300 ms)")
    for unit in Unit.objects.filter(side=Side.BACK).order_by("name"):
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            four_week_plan(unit)
            times.append(1000 * (time.perf_counter() - began))
        print(f"{unit.slug:<14}{np.percentile(times, 50):8.0f}{np.percentile(times, 95):8.0f}")


if __name__ == "__main__":
    main()
