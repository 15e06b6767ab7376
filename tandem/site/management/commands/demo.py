"""`tandem demo`: build the demo recruitment agency (first run only) and serve it."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tandem.demo.load import build_demo, database_is_empty, demo_present, sign_in_accounts
from tandem.demo.people import PASSWORD
from tandem.demo.provider import build_provider_demo, provider_accounts, provider_present
from tandem.site.management.commands.serve import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_WORKERS,
    address,
    run_server,
)


class Command(BaseCommand):
    help = (
        "Build the demo organisation (a recruitment agency: 6 front-office and 6 back-office "
        "units, 60 people, 25 services and a seeded, simulated history of six months with over "
        "20,000 service requests) in the database, print the address and the sign-in accounts "
        '(password "demo"), then serve it like `tandem serve`. The first run builds the '
        "database (under a minute); later runs serve what is there. See docs/demo.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Seed of the simulation: the same seed and --end give the same data "
            "(default 2026).",
        )
        parser.add_argument(
            "--weeks", type=int, default=26, help="Weeks of history up to now (default 26)."
        )
        parser.add_argument(
            "--end",
            default="",
            help="The history's 'now' as an ISO date-time, e.g. 2026-11-25T11:00:00Z "
            "(default: the current time). Give it to rebuild exactly the same data.",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Start again: on SQLite delete the database file; on PostgreSQL empty "
            "every table (after a confirmation, unless --no-input).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Build and print the accounts, then stop."
        )
        parser.add_argument(
            "--provider",
            action="store_true",
            help="Build the provider demo instead: the back office serving three client agencies "
            "(Northern Recruitment, Caledonia Staffing in Scotland, Harbour Temps) over the same "
            "history (docs/organisations.md). Into an empty database (with --rebuild).",
        )
        parser.add_argument(
            "--host", default=DEFAULT_HOST, help=f"Address to serve on (default {DEFAULT_HOST})."
        )
        parser.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT})."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=f"gunicorn worker processes (default {DEFAULT_WORKERS}).",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Never ask for confirmation (PostgreSQL --rebuild empties the tables).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["weeks"] < 1:
            raise CommandError("--weeks must be at least 1.")
        end = self._end(options["end"])
        if options["rebuild"]:
            self._start_again(options["interactive"])
        began = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        if demo_present():
            self.stdout.write(
                "The demo is already in the database (use --rebuild to build it again)."
            )
            if options["provider"] and not provider_present():
                self.stdout.write(
                    "It is the default demo, not the provider demo: add --rebuild to build that."
                )
        elif not database_is_empty():
            raise CommandError(
                f"The database ({self._where()}) already holds data that is not the demo, so "
                "the demo will not be mixed into it. Use --rebuild to start again, or point "
                "TANDEM_DATA_DIR or TANDEM_DATABASE_URL at another database."
            )
        else:
            self._build(options, end, began)
        self._print_accounts(options["host"], options["port"])
        if not options["no_serve"]:
            run_server(options["host"], options["port"], options["workers"], out=self.stdout)

    def _end(self, text: str) -> datetime | None:
        if not text:
            return None
        moment = parse_datetime(text.replace("Z", "+00:00"))
        if moment is None:
            raise CommandError(
                f"--end {text!r} is not an ISO date-time; write e.g. 2026-11-25T11:00:00Z."
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def _where(self) -> str:
        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            return f"SQLite file {settings['NAME']}"
        host = settings.get("HOST") or "localhost"
        return f"{connection.vendor} database {settings['NAME']!r} on {host}"

    def _start_again(self, interactive: bool) -> None:
        if connection.vendor == "sqlite":
            name = str(connection.settings_dict["NAME"])
            if name == ":memory:" or name.startswith("file:"):
                raise CommandError("--rebuild deletes the SQLite file; this database is in memory.")
            connections.close_all()
            for path in (Path(name), Path(name + "-wal"), Path(name + "-shm")):
                if path.is_file():
                    path.unlink()
            self.stdout.write(f"Deleted {name}; building a new database.")
            return
        call_command("migrate", verbosity=0, interactive=False)
        if database_is_empty():
            return
        if interactive:
            answer = input(
                f"--rebuild empties EVERY table of {self._where()}. Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was changed.")
        call_command("flush", interactive=False, verbosity=0)
        self.stdout.write(f"Emptied {self._where()}.")

    def _build(self, options: dict[str, Any], end: datetime | None, began: float) -> None:
        self.stdout.write(
            f"Building the demo organisation and {options['weeks']} weeks of history "
            f"(seed {options['seed']})…"
        )
        self.stdout.flush()
        summary = (build_provider_demo if options["provider"] else build_demo)(
            seed=options["seed"],
            weeks=options["weeks"],
            end=end,
            report=lambda message: self.stdout.write(message),
        )
        total = time.perf_counter() - began
        s, c = summary.seconds, summary.counts
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in s.items())
        migrate = total - sum(s.values())
        self.stdout.write(self.style.SUCCESS(
            f"Built in {total:.1f} s (migrate {migrate:.1f} s, {phases})."))
        self.stdout.write(
            f"{c['units']} units, {c['people']} people, {c['services']} services; "
            f"{c['requests']:,} service requests, {c['events']:,} events, "
            f"{c['comments']:,} comments, {c['cases']:,} cases "
            f"from {summary.start:%d %b %Y} to {summary.end:%d %b %Y %H:%M}."
        )
        if "clients" in c:
            self.stdout.write(
                f"{c['clients']} client organisations; {c['client clocks replayed']:,} of their requests' clocks "
                f"worked out on their own calendars and targets; {c['service reports']} service reports."
            )

    def _print_accounts(self, host: str, port: int) -> None:
        clients = provider_accounts() if provider_present() else []
        named = {row[0] for row in clients}  # a client's person is listed once, as the client's
        rows = [row for row in sign_in_accounts() if row[0] not in named] + clients
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Tandem is at {address(host, port)}"))
        self.stdout.write(f'Sign in as any of these people; every password is "{PASSWORD}":')
        self.stdout.write("")
        width = max(len(r[0]) for r in rows)
        name_width = max(len(r[1]) for r in rows)
        self.stdout.write(f"  {'username'.ljust(width)}  {'name'.ljust(name_width)}  role")
        for username, name, role in rows:
            self.stdout.write(f"  {username.ljust(width)}  {name.ljust(name_width)}  {role}")
        self.stdout.write("")
