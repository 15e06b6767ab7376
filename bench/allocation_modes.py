"""The cost of the allocation modes' moving parts, on a fresh database (SQLite in a temporary
folder, or ``TANDEM_DATABASE_URL``'s server when set: it must be an empty database).

    .venv/bin/python bench/allocation_modes.py [--requests 300] [--units 20] [--repeat 20]

Prints, in milliseconds (median and max of ``--repeat`` runs):

- the worker's auto step (``place_new_work``) when nothing is new, with ``--units`` back-office
  units in auto mode each holding placed work: the price every worker round pays;
- one auto placement of ``--requests`` new requests of one unit (plan built, stored, applied);
- ``take_next`` in pull mode with ``--requests`` requests waiting (rank, lock, assign);
- submitting a request to a unit in auto mode (no solver call: the worker places it later).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - began) * 1000)
    return statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("TANDEM_DATA_DIR", tempfile.mkdtemp(prefix="tandem-modes-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    import time_machine

    from tandem.allocation import actions as alloc
    from tandem.catalogue.models import Service
    from tandem.org.models import AllocationMode, Role, Side, Unit
    from tandem.work.actions import submit_request
    from tests.cast import TIMESHEET_OK, build_cast, make_person

    # A Monday morning: the people have a working day of capacity ahead (1 h per request).
    clock = time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=True)
    clock.start()
    cast = build_cast()
    for i in range(8):
        make_person(f"payroll_bench{i}", cast.payroll, Role.MEMBER)
    for u in range(args.units):
        unit = Unit.objects.create(name=f"Bench unit {u}", slug=f"bench-{u}", side=Side.BACK,
                                   allocation_mode=AllocationMode.AUTO)
        lead = make_person(f"bench_lead{u}", unit, Role.LEAD)
        make_person(f"bench_agent{u}", unit, Role.MEMBER)
        service = Service.objects.create(unit=unit, name=f"Bench {u}", slug=f"bench-service-{u}", summary="Bench.",
                                         owner=lead, turnaround_days=3)
        for _ in range(3):
            submit_request(cast.consultant, service, {})
    alloc.place_new_work()  # every bench unit's work placed once: nothing new afterwards

    idle = timed(alloc.place_new_work, args.repeat)
    Unit.objects.filter(pk=cast.payroll.pk).update(allocation_mode=AllocationMode.AUTO)
    ids = [submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request.pk
           for _ in range(args.requests)]
    began = time.perf_counter()
    placed = alloc.place_new_work()
    placement = (time.perf_counter() - began) * 1000
    submit = timed(lambda: submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)), args.repeat)

    from tandem.work.models import ServiceRequest

    ServiceRequest.objects.filter(pk__in=ids).update(assignee=None, status="new")
    Unit.objects.filter(pk=cast.payroll.pk).update(allocation_mode=AllocationMode.PULL)
    cast.payroll.refresh_from_db()
    take = timed(lambda: alloc.take_next(cast.payroll_agent, cast.payroll), args.repeat)

    vendor = django.db.connection.vendor
    print(f"database: {vendor}; cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    print(f"worker auto step, nothing new, {args.units} auto units: median {idle[0]:.1f} ms, max {idle[1]:.1f} ms")
    print(f"auto placement of {args.requests} new requests (one unit): {placement:.0f} ms, {placed} placed")
    print(f"submit to a unit in auto mode: median {submit[0]:.1f} ms, max {submit[1]:.1f} ms")
    print(f"take next, ~{args.requests} waiting: median {take[0]:.1f} ms, max {take[1]:.1f} ms")


if __name__ == "__main__":
    main()
