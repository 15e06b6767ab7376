"""``tandem export-log FILE``: Tandem's own event log as XES or CSV (docs/analyse.md, "Import and export")."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.catalogue.models import Service
from tandem.engines.eventlog import EventLogError, write_log
from tandem.insights.logs import database_log

FORMATS = (".xes", ".csv", ".xes.gz", ".csv.gz")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = ("Write every service request (a case, id SR-000123) and its events as an XES or CSV event log "
            "for PM4Py, ProM, Disco or Celonis; the format follows the extension (.xes, .csv, optionally .gz).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="where to write: .xes, .csv, .xes.gz or .csv.gz")
        parser.add_argument("--since", type=_date, metavar="DATE",
                            help="only requests submitted on or after this day (YYYY-MM-DD, TANDEM_TIME_ZONE)")
        parser.add_argument("--until", type=_date, metavar="DATE",
                            help="only requests submitted on or before this day (YYYY-MM-DD)")
        parser.add_argument("--service", action="extend", nargs="+", metavar="SLUG", default=None,
                            help="only requests to these services (slugs; repeatable)")

    def fail(self, message: str) -> None:
        self.stderr.write(f"tandem export-log: {message}")
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["file"])
        if not target.name.lower().endswith(FORMATS):
            self.fail(f"{target}: the name must end in {', '.join(FORMATS)}")
        if not target.parent.is_dir():
            self.fail(f"{target.parent}: no such folder")
        since, until = options["since"], options["until"]
        if since and until and until < since:
            self.fail(f"--until {until} is before --since {since}")
        services = None
        if options["service"]:
            slugs = list(dict.fromkeys(options["service"]))
            found = dict(Service.objects.filter(slug__in=slugs).values_list("slug", "pk"))
            unknown = [s for s in slugs if s not in found]
            if unknown:
                self.fail(f"no service with the slug {', '.join(map(repr, unknown))}")
            services = [found[s] for s in slugs]
        began = time.perf_counter()
        log = database_log(since=since, until=until, services=services)
        try:
            write_log(log, target)
        except (EventLogError, OSError) as exc:
            self.fail(str(exc))
        seconds = time.perf_counter() - began
        self.stdout.write(f"{len(log):,} events of {log.n_cases:,} requests written to {target} ({seconds:.1f} s)")
