"""Client organisations at scale: how long adding a client takes, and whether the migrations
of the client models take longer with 1,000 client organisations than with one (issue 20).

    .venv/bin/python bench/clients.py                 # SQLite in a temporary folder
    TANDEM_DATABASE_URL=postgres://… .venv/bin/python bench/clients.py   # PostgreSQL (an empty database)

1. **Adding a client**: a fresh database with the provider's catalogue (2 back-office teams,
   12 services); ``--adds`` clients are added one after another through the action
   (``tandem.agreements.clients.add_client``), each with 3 front-office units, 10 people and 8
   contracted services with their own targets. Prints the median and the slowest add.
2. **Migrations with 1 and with 1,000 clients**: the client migrations (org 0008, catalogue
   0008, agreements 0004: the holiday columns, contracts, a client's cut-offs and targets) are
   rolled back, ``N`` client organisations are written (each with 2 units and 5 people: 1,000
   clients hold 2,000 units and 5,000 people), and the migrations are run forward again, timed.
   Done for N = 1 and N = 1,000 (``--many``) on the same database.

The load average (``os.getloadavg()``) is printed beside every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Rolled back and run again, in this order forward (each app's newest).
CLIENT_MIGRATIONS = (("org", "0008_client_contracts"), ("catalogue", "0008_client_contracts"),
                     ("agreements", "0004_client_contracts"))
BEFORE = (("agreements", "0003_service_calendar"), ("catalogue", "0007_service_approval"),
          ("org", "0007_organisations_and_sign_in"))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adds", type=int, default=20, help="clients added one after another (default 20)")
    parser.add_argument("--many", type=int, default=1000, help="client organisations for the second run (1000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args()


def load() -> float:
    return round(os.getloadavg()[0], 2)


def setup() -> None:
    if not os.environ.get("TANDEM_DATABASE_URL"):
        os.environ["TANDEM_DATA_DIR"] = tempfile.mkdtemp(prefix="tandem-clients-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def catalogue() -> object:
    from django.contrib.auth import get_user_model

    from tandem.catalogue.models import Service
    from tandem.org.models import Person, Role, Side, Unit

    admin_unit = Unit.objects.create(name="Operations", slug="operations", side=Side.BACK)
    user = get_user_model().objects.create_user(username="provider-admin", email="admin@provider.test")
    admin = Person.objects.create(user=user, unit=admin_unit, role=Role.ADMIN)
    for t, team in enumerate(("Payroll", "Invoicing")):
        unit = Unit.objects.create(name=team, slug=team.lower(), side=Side.BACK)
        for s in range(6):
            Service.objects.create(unit=unit, name=f"{team} service {s}", slug=f"{team.lower()}-{s}",
                                   summary="A service.", owner=admin, turnaround_days=2 + t)
    return admin


def adding(admin: object, adds: int) -> dict[str, float]:
    from tandem.agreements.clients import NewClient, NewContract, NewPerson, add_client

    seconds = []
    loads = []
    for n in range(adds):
        units = [(f"Client {n} branch {u}", f"client-{n}-branch-{u}") for u in range(3)]
        client = NewClient(
            name=f"Client {n}", slug=f"client-{n}", holiday_country="GB", holiday_subdivision="SCT" if n % 2 else "",
            units=units,
            people=[NewPerson(f"c{n}-p{p}", "Person", str(p), f"p{p}@client{n}.test", units[p % 3][1], "member")
                    for p in range(10)],
            contracts=[NewContract(f"{'payroll' if c < 4 else 'invoicing'}-{c % 4}", first_response_minutes=60,
                                   resolution_minutes=960) for c in range(8)],
        )
        loads.append(load())
        started = time.perf_counter()
        add_client(admin, client)  # type: ignore[arg-type]
        seconds.append(time.perf_counter() - started)
    # The first add of a process is cold: it loads the holidays library's country tables.
    warm = seconds[1:] or seconds
    return {"adds": adds, "first_s": round(seconds[0], 4), "median_s": round(statistics.median(warm), 4),
            "max_s": round(max(warm), 4), "load": max(loads)}


def clients(count: int, first: int) -> None:
    """``count`` client organisations written in bulk, without the client migrations' tables."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    # The client migrations are rolled back: the ORM's models have columns the tables lack,
    # so rows go in with plain SQL.
    users = get_user_model()
    with connection.cursor() as cursor:
        for n in range(first, first + count):
            cursor.execute("INSERT INTO org_organisation (name, slug, local_passwords) VALUES (%s, %s, %s)",
                           [f"Bulk client {n}", f"bulk-{n}", True])
        cursor.execute("SELECT id, slug FROM org_organisation WHERE slug LIKE 'bulk-%%'")
        orgs = cursor.fetchall()
        cursor.execute("SELECT slug FROM org_unit")
        have = {row[0] for row in cursor.fetchall()}
        units = [(f"Bulk {slug} unit {u}", f"{slug}-u{u}", "front", oid) for oid, slug in orgs for u in range(2)
                 if f"{slug}-u{u}" not in have]
        cursor.executemany(
            "INSERT INTO org_unit (name, slug, side, description, time_zone, allocation_mode, "
            "customer_head_start_hours, queue_jump_reason_required, organisation_id) "
            "VALUES (%s, %s, %s, '', 'Europe/London', 'suggest', 0, TRUE, %s)", units)
    from tandem.org.models import Unit

    fresh = [slug for oid, slug in orgs if f"{slug}-u0" not in have]
    made = users.objects.bulk_create([users(username=f"{slug}-p{p}", password="!") for slug in fresh for p in range(5)])
    unit_ids = dict(Unit.objects.filter(slug__in=[u[1] for u in units]).values_list("slug", "pk"))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO org_person (user_id, unit_id, role, job_title, time_zone, working_pattern, request_share, "
            "email_notifications) VALUES (%s, %s, 'member', '', 'Europe/London', '{}', 1.0, TRUE)",
            [(u.pk, unit_ids[f"{u.username.rsplit('-p', 1)[0]}-u{int(u.username.rsplit('-p', 1)[1]) % 2}"])
             for u in made])


def migrations(count: int, done: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    for app, name in BEFORE:
        call_command("migrate", app, name, verbosity=0)
    clients(count - done, done)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM org_organisation WHERE slug LIKE 'bulk-%%'")
        present = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM org_unit")
        units = cursor.fetchone()[0]
    before = load()
    started = time.perf_counter()
    for app, name in CLIENT_MIGRATIONS:
        call_command("migrate", app, name, verbosity=0)
    return {"organisations": present, "units": units, "seconds": round(time.perf_counter() - started, 3),
            "load": max(before, load())}


def main() -> None:
    args = parse()
    setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    admin = catalogue()
    figures: dict[str, object] = {"database": connection.vendor, "adding": adding(admin, args.adds)}
    one = migrations(1, 0)
    many = migrations(args.many, 1)
    figures["migrations"] = [one, many]
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    a = figures["adding"]
    print(f"database: {connection.vendor}")
    print(f"adding a client (3 units, 10 people, 8 contracts), {a['adds']} adds: "  # type: ignore[index]
          f"first (cold) {a['first_s'] * 1000:.0f} ms, then median {a['median_s'] * 1000:.0f} ms, "  # type: ignore[index]
          f"slowest {a['max_s'] * 1000:.0f} ms "  # type: ignore[index]
          f"(load {a['load']}; target < 1 s)")  # type: ignore[index]
    for run in (one, many):
        print(f"client migrations with {run['organisations']:,} client organisations ({run['units']:,} units): "
              f"{run['seconds']:.3f} s (load {run['load']})")


if __name__ == "__main__":
    main()
