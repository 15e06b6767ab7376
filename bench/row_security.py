"""What PostgreSQL's row-level security costs on the request list (docs/isolation.md).

Builds, in an empty migrated PostgreSQL database, the test cast with ``--clients`` client
organisations (one front-office unit and one person each) and ``--requests`` requests spread
over them and the provider's own units (copies of real submitted requests, each with its
submitted event), then times ``GET /api/requests`` in process through the whole middleware
stack:

- ``baseline``: the suite's owner connection with the organisation setting switched off
  (what Tandem did before the backstop);
- ``owner``: the same connection carrying the setting (the cost of ``set_config`` per transaction);
- ``provider`` / ``client``: connected as a role that owns no table (``tandem db-roles``), so the
  policies apply: the payroll lead (provider, sees every client) and a client's consultant.

It prints p50 / p95 in milliseconds per case, the load average, and EXPLAIN of the request
list and of one request's events as the client, to show each policy uses an index.

    TANDEM_DATABASE_URL=postgres://.../tandem_bench tandem migrate
    TANDEM_DATABASE_URL=postgres://.../tandem_bench python bench/row_security.py --requests 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APP_ROLE = "tandem_bench_app"


def build(clients: int, requests: int) -> None:
    from django.db import connection

    from tandem.catalogue.tests.test_intake_rules import TIMESHEET_OK
    from tandem.org.models import Organisation, Side, Unit
    from tandem.work import actions
    from tests.cast import build_cast, make_person

    cast = build_cast()
    people = []
    for n in range(clients):
        organisation = Organisation.objects.create(name=f"Agency {n}", slug=f"agency-{n}")
        unit = Unit.objects.create(name=f"Agency {n} branch", slug=f"agency-{n}-branch", side=Side.FRONT,
                                   organisation=organisation)
        people.append(make_person(f"agent_of_{n}", unit))
    for person in (*people[:2], cast.consultant):
        actions.submit_request(person, cast.timesheet, dict(TIMESHEET_OK))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'work_servicerequest' "
            "AND column_name NOT IN ('id', 'requesting_unit_id', 'requester_id', 'idempotency_key')"
        )
        columns = [c for (c,) in cursor.fetchall()]
        cursor.execute(
            "CREATE TEMP TABLE bench_who AS SELECT row_number() OVER (ORDER BY p.id) - 1 AS k, p.id AS person_id, "
            "p.unit_id FROM org_person p JOIN org_unit u ON u.id = p.unit_id WHERE u.side = 'front'"
        )
        cursor.execute("SELECT count(*) FROM bench_who")
        (who,) = cursor.fetchone()
        listed = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(
            # Column names from information_schema, values as parameters.
            f"INSERT INTO work_servicerequest ({listed}, requesting_unit_id, requester_id) "  # noqa: S608
            f"SELECT {', '.join(f't.{c}' for c in listed.split(', '))}, w.unit_id, w.person_id "
            f"FROM (SELECT * FROM work_servicerequest ORDER BY id LIMIT 1) t "
            f"CROSS JOIN generate_series(1, %s) g JOIN bench_who w ON w.k = g %% %s ORDER BY g",
            [requests, who],
        )
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'work_event' "
            "AND column_name NOT IN ('id', 'request_id')"
        )
        event_columns = ", ".join(f'"{c}"' for (c,) in cursor.fetchall())
        cursor.execute(
            f"INSERT INTO work_event ({event_columns}, request_id) "  # noqa: S608
            f"SELECT {', '.join('e.' + c for c in event_columns.split(', '))}, r.id "
            f"FROM work_servicerequest r CROSS JOIN (SELECT * FROM work_event ORDER BY id LIMIT 1) e "
            f"WHERE NOT EXISTS (SELECT 1 FROM work_event x WHERE x.request_id = r.id)"
        )
        cursor.execute("ANALYZE")
        grant_sql = import_module("tandem.org.management.commands.db-roles").grant_sql
        for statement in grant_sql(APP_ROLE, connection.settings_dict["NAME"]):
            cursor.execute(statement)


def timed(client: object, path: str, token: str, samples: int) -> tuple[float, float]:
    times = []
    for _ in range(samples + 3):
        start = time.perf_counter()
        answer = client.get(path, headers={"authorization": f"Bearer {token}"})  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.content[:300]
    times = sorted(times[3:])
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    if not os.environ.get("TANDEM_DATABASE_URL", "").startswith("postgres"):
        sys.exit("Row-level security is PostgreSQL's: set TANDEM_DATABASE_URL to a migrated, empty database.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ.setdefault("TANDEM_DEBUG", "0")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from tandem import isolation
    from tandem.org.models import Person
    from tandem.org.tokens import issue_token
    from tandem.work.models import ServiceRequest

    settings.ALLOWED_HOSTS = ["*"]
    with isolation.provider_context():
        if not ServiceRequest.objects.exists():
            started = time.perf_counter()
            build(args.clients, args.requests)
            print(f"built {ServiceRequest.objects.count():,} requests in {time.perf_counter() - started:.0f} s")
        lead = Person.objects.get(user__username="payroll_lead")
        client_person = Person.objects.get(user__username="agent_of_0")
        tokens = {
            "provider": issue_token(lead.user, "bench").raw,
            "client": issue_token(client_person.user, "bench").raw,
        }
        total = ServiceRequest.objects.count()
        theirs = ServiceRequest.objects.filter(requesting_unit_id=client_person.unit_id).count()
    print(f"{total:,} requests; the client's consultant's organisation has {theirs:,}; "
          f"load average {os.getloadavg()[0]:.1f}")
    client = Client()
    path = "/api/requests?limit=50"
    rows = []
    wrappers = list(connection.execute_wrappers)
    connection.ensure_connection()
    for case, who in (("baseline", "provider"), ("owner", "provider"), ("provider", "provider"),
                      ("client", "client"), ("baseline", "client"), ("owner", "client")):
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {APP_ROLE}" if case in ("provider", "client") else "RESET ROLE")
        connection.execute_wrappers[:] = [] if case == "baseline" else wrappers
        p50, p95 = timed(client, path, tokens[who], args.samples)
        rows.append((f"{case} ({who})", p50, p95))
    connection.execute_wrappers[:] = wrappers
    print(f"\nGET {path}, {args.samples} samples each; load average now {os.getloadavg()[0]:.1f}")
    print(f"{'case':<22}{'p50 ms':>9}{'p95 ms':>9}")
    for name, p50, p95 in rows:
        print(f"{name:<22}{p50:>9.1f}{p95:>9.1f}")
    with isolation.organisation_context(client_person.unit.organisation_id), connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
        one = ServiceRequest.objects.filter(requesting_unit_id=client_person.unit_id).values_list("id", flat=True)[0]
        for title, sql in (
            ("the client's newest 50 requests", "SELECT id FROM work_servicerequest ORDER BY id DESC LIMIT 50"),
            ("one request's events", f"SELECT * FROM work_event WHERE request_id = {int(one)}"),  # noqa: S608
        ):
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
            print(f"\nEXPLAIN {title} (as the client):")
            print("\n".join(line for (line,) in cursor.fetchall()))
        cursor.execute("RESET ROLE")


if __name__ == "__main__":
    main()
