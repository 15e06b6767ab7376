"""``tandem import-log FILE --service SLUG``: another system's history as closed requests
(docs/analyse.md, "Import and export")."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from tandem.engines.eventlog import EventLogError, read_log
from tandem.insights.actions import rebuild_all
from tandem.insights.logs import ImportRefused, import_log, import_target
from tandem.work.models import Channel


class Command(BaseCommand):
    help = ("Load a CSV or XES event log from another system as closed service requests with their events "
            "(one request per case), so promises and evidence start from the organisation's past.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="a .csv or .xes file, optionally .gz")
        parser.add_argument("--service", required=True, metavar="SLUG", help="the service that handled the cases")
        parser.add_argument("--requester", metavar="USERNAME",
                            help="the person recorded as requester (default: the service's owner)")
        parser.add_argument("--requesting-unit", metavar="SLUG",
                            help="the requesting unit (default: the requester's unit)")
        parser.add_argument("--channel", choices=Channel.values, default=Channel.INTERNAL,
                            help="internal (default) or external")
        parser.add_argument("--dry-run", action="store_true", help="read and check, report, write nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")

    def fail(self, message: str) -> None:
        self.stderr.write(f"tandem import-log: {message}")
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        try:
            target = import_target(options["service"], requester=options["requester"],
                                   requesting_unit=options["requesting_unit"], channel=options["channel"])
            if target.channel == Channel.EXTERNAL and not target.service.external_allowed:
                raise ImportRefused(f"{target.service.name} takes internal requests only; import with "
                                    "--channel internal")
            log = read_log(options["file"])
            report = import_log(log, target, source=options["file"], dry_run=options["dry_run"])
        except (ImportRefused, EventLogError, OSError) as exc:
            self.fail(str(exc))
        except DatabaseError as exc:  # the transaction was rolled back: nothing was written
            self.fail(f"the database refused the import, nothing was written: {exc}")
        warning = ""
        if report.imported and not report.dry_run:
            warning = self.refresh()
        seconds = time.perf_counter() - began
        for p in report.problems:
            self.stderr.write(f"problem: {p}")
        if options["json"]:
            self.stdout.write(json.dumps({**report.as_dict(), "seconds": round(seconds, 3)}))
        else:
            verb = "Would import" if report.dry_run else "Imported"
            self.stdout.write(
                f"{verb} {report.imported:,} of {report.cases:,} cases as closed requests of "
                f"{target.service.name} ({report.foreign_events:,} events of the log, {report.events:,} "
                f"Tandem events); skipped {report.skipped:,} imported before ({seconds:.1f} s)."
            )
        if warning:
            self.stderr.write(f"tandem import-log: {warning}")
            sys.exit(1)

    def refresh(self) -> str:
        """Let the evidence tables see the imported history (the promises learn of it from the
        import's own message: ``history.imported``)."""
        try:
            rebuild_all()
        except Exception as exc:  # the import is committed: say so rather than show a traceback
            return f"the history was imported, but the evidence tables were not rebuilt ({exc})"
        return ""
