"""How long migration work 0019 (requests numbered within their organisation) takes on a big
database (docs/isolation.md, "References"; figures in docs/benchmarks.md).

Builds a scratch database migrated to the end with the test cast, ``--clients`` client
organisations (one unit and one person each) and a few real submissions; steps back to work 0018
(the columns gone); copies a real request ``--requests`` times spread evenly over the clients'
units and the provider's own; then times ``migrate work 0019`` and checks every client's numbers
are 1..n. It refuses a database that already holds requests.

    TANDEM_DATABASE_URL=sqlite:////tmp/numbers.sqlite3 python bench/request_numbers.py --requests 1000000
    TANDEM_DATABASE_URL=postgres://.../tandem_scratch python bench/request_numbers.py --requests 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(clients: int) -> list[tuple[int, int]]:
    """The cast, the clients and one request each; the (unit, person) pairs requests come from."""
    from tandem.isolation import provider_context
    from tandem.org.models import Organisation, Side, Unit
    from tandem.work import actions
    from tests.cast import TIMESHEET_OK, build_cast, make_person

    with provider_context():
        cast = build_cast()
        askers = [(cast.consultant.unit_id, cast.consultant.pk)]
        for n in range(clients):
            organisation = Organisation.objects.create(name=f"Agency {n}", slug=f"agency-{n}")
            unit = Unit.objects.create(name=f"Agency {n} branch", slug=f"agency-{n}-branch", side=Side.FRONT,
                                       organisation=organisation)
            person = make_person(f"agent_of_{n}", unit)
            askers.append((unit.pk, person.pk))
        actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    return askers


def copy_requests(askers: list[tuple[int, int]], total: int) -> None:
    """``total`` copies of the first request, spread evenly over ``askers``, in set-based inserts."""
    from django.db import connection, transaction

    from tandem.isolation import provider_context

    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, "work_servicerequest")
    columns = [c.name for c in described
               if c.name not in ("id", "requesting_unit_id", "requester_id", "idempotency_key")]
    listed = ", ".join(columns)
    each = total // len(askers)
    with provider_context(), transaction.atomic(), connection.cursor() as cursor:
        for k, (unit, person) in enumerate(askers):
            count = each + (total - each * len(askers) if k == 0 else 0)
            done = 0
            while done < count:
                step = min(100_000, count - done)
                cursor.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "  # noqa: S608 (column names from the schema)
                    f"INSERT INTO work_servicerequest ({listed}, requesting_unit_id, requester_id) "
                    f"SELECT {listed}, %s, %s FROM work_servicerequest, n "
                    "WHERE work_servicerequest.id = (SELECT MIN(id) FROM work_servicerequest)",
                    [step, unit, person],
                )
                done += step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tandem.isolation import provider_context
    from tandem.work.models import ServiceRequest

    with provider_context():
        call_command("migrate", verbosity=0)
        if ServiceRequest.objects.exists():
            sys.exit("The database holds requests already: give an empty scratch database.")
        askers = build(args.clients)
        call_command("migrate", "work", "0018", verbosity=0)
        began = time.perf_counter()
        copy_requests(askers, args.requests)
        built = time.perf_counter() - began
        began = time.perf_counter()
        call_command("migrate", "work", "0019", verbosity=0)
        took = time.perf_counter() - began
        with connection.cursor() as cursor:
            cursor.execute("SELECT organisation_id, COUNT(*), MIN(number), MAX(number) FROM work_servicerequest "
                           "WHERE organisation_id IS NOT NULL GROUP BY organisation_id")
            spans = cursor.fetchall()
        assert len(spans) == args.clients and all(lo == 1 and hi == n for _, n, lo, hi in spans), spans[:3]
        call_command("migrate", verbosity=0)
    total = ServiceRequest.objects.count()
    print(f"database: {connection.vendor}; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"requests: {total:,} over {args.clients} clients and the provider (copied in {built:.1f} s)")
    print(f"migrate work 0019: {took:.1f} s ({total / took:,.0f} requests a second)")


if __name__ == "__main__":
    main()
