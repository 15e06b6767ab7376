"""`tandem import-log` and `tandem export-log` on the shared logs, into and out of a fresh SQLite.

Imports Helpdesk and BPIC 2012 W (each into its own service) into a temporary database, verifies
the hash chains, exports everything as XES.gz and CSV, and prints seconds and events per second
for each step. The figures for the import include reading the file, the inserts, and the
rebuild of the evidence tables that follows (timed apart). PM4Py's ``read_xes`` is timed on the
same files in the same run (a subprocess of a throwaway venv, as in ``bench/eventlog.py``:
``--pm4py-venv DIR`` creates it when missing), and each import is compared with it.

    .venv/bin/python bench/import_export.py            # both logs
    .venv/bin/python bench/import_export.py --json
    TANDEM_DATABASE_URL=postgres://… .venv/bin/python bench/import_export.py   # an empty database
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/data")
LOGS = {"helpdesk": "Helpdesk.xes.gz", "bpic-2012-w": "BPI_Challenge_2012_W.xes.gz"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--pm4py", default="/tmp/pm4py-venv/bin/python",  # noqa: S108 - throwaway venv
                        help="python of a venv with PM4Py")
    parser.add_argument("--pm4py-venv", metavar="DIR", help="a venv with PM4Py; created when missing")
    parser.add_argument("--repeat", type=int, default=3, help="runs of PM4Py's read_xes (the best counts)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from eventlog import pm4py_python, pm4py_time

    pm4py = pm4py_python(args.pm4py_venv, args.pm4py)
    if not args.json:
        print("load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    data_dir = Path(tempfile.mkdtemp(prefix="tandem-bench-io-"))
    os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from tandem.catalogue.models import Service
    from tandem.engines.eventlog import read_log, write_log
    from tandem.insights.actions import rebuild_all
    from tandem.insights.logs import database_log, import_log, import_target
    from tandem.org.models import Person, Side, Unit
    from tandem.work.audit import verify_audit

    figures: dict[str, dict[str, float]] = {}

    def step(name: str, seconds: float, events: int) -> None:
        figures[name] = {"seconds": round(seconds, 2), "events": events,
                         "events_per_second": round(events / seconds) if seconds else 0}
        if not args.json:
            print(f"{name:<34}{seconds:>8.2f} s {events:>10,} events {events / seconds:>12,.0f} events/s")

    written = 0
    try:
        call_command("migrate", verbosity=0)
        if Service.objects.exists():
            sys.exit(f"The database {connection.settings_dict['NAME']} is not empty; give an empty one.")
        back = Unit.objects.create(name="Service desk", slug="service-desk", side=Side.BACK)
        user = get_user_model().objects.create_user("owner", password=None)
        owner = Person.objects.create(user=user, unit=back)
        for slug in LOGS:
            Service.objects.create(unit=back, name=slug, slug=slug, summary=slug, scope_includes=slug,
                                   owner=owner, turnaround_days=5)
        for slug, name in LOGS.items():
            path = SHARED / name
            began = time.perf_counter()
            log = read_log(path)
            read = time.perf_counter() - began
            step(f"read {name}", read, len(log))
            began = time.perf_counter()
            report = import_log(log, import_target(slug), source=path)
            write = time.perf_counter() - began
            step(f"  write {report.imported:,} requests", write, report.events)
            step(f"  import {slug} (read + write)", read + write, report.events)
            written += report.events
            pm = pm4py_time(pm4py, path, args.repeat)
            if pm:
                step(f"  PM4Py read_xes {slug}", pm["seconds"], pm["events"])
                figures[f"  PM4Py read_xes {slug}"].update(
                    {"import_speedup": round(pm["seconds"] / (read + write), 2),
                     "read_speedup": round(pm["seconds"] / read, 1)})
                if not args.json:
                    ratio = pm["seconds"] / (read + write)
                    print(f"    PM4Py read_xes ÷ Tandem import (read + write): {ratio:.2f}×, "
                          f"÷ Tandem read: {pm['seconds'] / read:.1f}×")
        began = time.perf_counter()
        rebuild_all()
        step("rebuild evidence (both logs)", time.perf_counter() - began, written)
        began = time.perf_counter()
        verdict = verify_audit()
        step("verify-audit", time.perf_counter() - began, verdict.events)
        assert verdict.ok, verdict.problem
        began = time.perf_counter()
        everything = database_log()
        read_db = time.perf_counter() - began
        step("export: database -> log", read_db, len(everything))
        for suffix in ("xes.gz", "csv"):
            target = data_dir / f"export.{suffix}"
            began = time.perf_counter()
            write_log(everything, target)
            step(f"export: write .{suffix}", time.perf_counter() - began, len(everything))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.json:
            print(json.dumps({"database": connection.vendor, "steps": figures, "peak_memory_mib": round(peak),
                              "load_average": os.getloadavg()}, indent=2))
        else:
            print(f"{'peak memory':<34}{peak:>8.0f} MiB ({connection.vendor})")
            print("load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
