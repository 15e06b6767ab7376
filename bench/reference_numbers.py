"""How long the migrations that number requests (work 0019) and cases (work 0020) within their
organisation take on a big database (docs/isolation.md, "References"; figures in
docs/benchmarks.md).

Builds a scratch database migrated to the end with the test cast, ``--clients`` client
organisations (one unit and one person each) and one real request and case; steps back to the
migration before the one measured (its columns gone); copies the request (or the case)
``--rows`` times spread evenly over the clients' units and the provider's own; then times the
migration and checks every client's numbers are 1..n and the provider's keep their ids. It
refuses a database that already holds requests.

    TANDEM_DATABASE_URL=sqlite:////tmp/numbers.sqlite3 python bench/reference_numbers.py requests --rows 1000000
    TANDEM_DATABASE_URL=postgres://.../tandem_scratch python bench/reference_numbers.py cases --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Numbered:
    """One numbered table: the migration that numbers it and the columns naming whose a row is."""

    table: str
    migration: str
    before: str
    unit_column: str
    person_column: str
    skipped: tuple[str, ...] = ()


MEASURED = {
    "requests": Numbered("work_servicerequest", "0019", "0018", "requesting_unit_id", "requester_id",
                         ("idempotency_key",)),
    "cases": Numbered("work_case", "0020", "0019", "unit_id", "owner_id"),
}


def build(clients: int) -> list[tuple[int, int]]:
    """The cast, the clients, one request and one case; the (unit, person) pairs rows come from."""
    from tandem.isolation import provider_context
    from tandem.org.models import Organisation, Side, Unit
    from tandem.work import actions
    from tests.cast import TIMESHEET_OK, build_cast, make_person

    with provider_context():
        cast = build_cast()
        owners = [(cast.consultant.unit_id, cast.consultant.pk)]
        for n in range(clients):
            organisation = Organisation.objects.create(name=f"Agency {n}", slug=f"agency-{n}")
            unit = Unit.objects.create(name=f"Agency {n} branch", slug=f"agency-{n}-branch", side=Side.FRONT,
                                       organisation=organisation)
            owners.append((unit.pk, make_person(f"agent_of_{n}", unit).pk))
        actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
        actions.create_case(cast.consultant, customer_reference="CUST-1", title="A customer's matter")
    return owners


def copy_rows(what: Numbered, owners: list[tuple[int, int]], total: int) -> None:
    """``total`` copies of the table's first row, spread evenly over ``owners``, in set-based inserts."""
    from django.db import connection, transaction

    from tandem.isolation import provider_context

    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, what.table)
    mine = ("id", what.unit_column, what.person_column, *what.skipped)
    listed = ", ".join(c.name for c in described if c.name not in mine)
    each = total // len(owners)
    with provider_context(), transaction.atomic(), connection.cursor() as cursor:
        for k, (unit, person) in enumerate(owners):
            count = each + (total - each * len(owners) if k == 0 else 0)
            done = 0
            while done < count:
                step = min(100_000, count - done)
                cursor.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "  # noqa: S608 (names from the schema)
                    f"INSERT INTO {what.table} ({listed}, {what.unit_column}, {what.person_column}) "
                    f"SELECT {listed}, %s, %s FROM {what.table}, n "
                    f"WHERE {what.table}.id = (SELECT MIN(id) FROM {what.table})",
                    [step, unit, person],
                )
                done += step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=sorted(MEASURED), help="the rows numbered")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    what = MEASURED[args.what]
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
        owners = build(args.clients)
        call_command("migrate", "work", what.before, verbosity=0)
        began = time.perf_counter()
        copy_rows(what, owners, args.rows)
        built = time.perf_counter() - began
        began = time.perf_counter()
        call_command("migrate", "work", what.migration, verbosity=0)
        took = time.perf_counter() - began
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT organisation_id, COUNT(*), MIN(number), MAX(number) FROM {what.table} "  # noqa: S608
                           "WHERE organisation_id IS NOT NULL GROUP BY organisation_id")
            spans = cursor.fetchall()
            cursor.execute(f"SELECT COUNT(*), COUNT(*) FILTER (WHERE number <> id) FROM {what.table} "  # noqa: S608
                           "WHERE organisation_id IS NULL")
            total, moved = cursor.fetchone()
            total += sum(n for _, n, _, _ in spans)
        assert len(spans) == args.clients and all(lo == 1 and hi == n for _, n, lo, hi in spans), spans[:3]
        assert moved == 0, moved  # the provider's rows keep their id as their number
        call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{args.what}: {total:,} over {args.clients} clients and the provider (copied in {built:.1f} s)")
    print(f"migrate work {what.migration}: {took:.1f} s ({total / took:,.0f} {args.what} a second)")


if __name__ == "__main__":
    main()
