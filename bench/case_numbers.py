"""How long migration work 0020 (cases numbered within their organisation) takes on a big
database (docs/isolation.md, "References"; figures in docs/benchmarks.md).

Builds a scratch database migrated to the end with the test cast, ``--clients`` client
organisations (one unit and one person each) and one real case; steps back to work 0019 (the
columns gone); copies that case ``--cases`` times spread evenly over the clients' units and the
provider's own; then times ``migrate work 0020`` and checks every client's numbers are 1..n and
the provider's keep their ids. It refuses a database that already holds cases.

    TANDEM_DATABASE_URL=sqlite:////tmp/cases.sqlite3 python bench/case_numbers.py --cases 1000000
    TANDEM_DATABASE_URL=postgres://.../tandem_scratch python bench/case_numbers.py --cases 1000000
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
    """The cast, the clients and one case; the (unit, person) pairs cases come from."""
    from tandem.isolation import provider_context
    from tandem.org.models import Organisation, Side, Unit
    from tandem.work import actions
    from tests.cast import build_cast, make_person

    with provider_context():
        cast = build_cast()
        owners = [(cast.consultant.unit_id, cast.consultant.pk)]
        for n in range(clients):
            organisation = Organisation.objects.create(name=f"Agency {n}", slug=f"agency-{n}")
            unit = Unit.objects.create(name=f"Agency {n} branch", slug=f"agency-{n}-branch", side=Side.FRONT,
                                       organisation=organisation)
            owners.append((unit.pk, make_person(f"agent_of_{n}", unit).pk))
        actions.create_case(cast.consultant, customer_reference="CUST-1", title="A customer's matter")
    return owners


def copy_cases(owners: list[tuple[int, int]], total: int) -> None:
    """``total`` copies of the first case, spread evenly over ``owners``, in set-based inserts."""
    from django.db import connection, transaction

    from tandem.isolation import provider_context

    each = total // len(owners)
    with provider_context(), transaction.atomic(), connection.cursor() as cursor:
        for k, (unit, person) in enumerate(owners):
            count = each + (total - each * len(owners) if k == 0 else 0)
            done = 0
            while done < count:
                step = min(100_000, count - done)
                cursor.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
                    "INSERT INTO work_case (customer_reference, title, status, created_at, closed_at, unit_id, "
                    "owner_id) SELECT customer_reference, title, status, created_at, closed_at, %s, %s "
                    "FROM work_case, n "
                    "WHERE work_case.id = (SELECT MIN(id) FROM work_case)",
                    [step, unit, person],
                )
                done += step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tandem.isolation import provider_context
    from tandem.work.models import Case

    with provider_context():
        call_command("migrate", verbosity=0)
        if Case.objects.exists():
            sys.exit("The database holds cases already: give an empty scratch database.")
        owners = build(args.clients)
        call_command("migrate", "work", "0019", verbosity=0)
        began = time.perf_counter()
        copy_cases(owners, args.cases)
        built = time.perf_counter() - began
        began = time.perf_counter()
        call_command("migrate", "work", "0020", verbosity=0)
        took = time.perf_counter() - began
        with connection.cursor() as cursor:
            cursor.execute("SELECT organisation_id, COUNT(*), MIN(number), MAX(number) FROM work_case "
                           "WHERE organisation_id IS NOT NULL GROUP BY organisation_id")
            spans = cursor.fetchall()
            cursor.execute("SELECT COUNT(*) FROM work_case WHERE organisation_id IS NULL AND number <> id")
            moved = cursor.fetchone()[0]
        assert len(spans) == args.clients and all(lo == 1 and hi == n for _, n, lo, hi in spans), spans[:3]
        assert moved == 0, moved
        call_command("migrate", verbosity=0)
    total = Case.objects.count()
    print(f"database: {connection.vendor}; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"cases: {total:,} over {args.clients} clients and the provider (copied in {built:.1f} s)")
    print(f"migrate work 0020: {took:.1f} s ({total / took:,.0f} cases a second)")


if __name__ == "__main__":
    main()
