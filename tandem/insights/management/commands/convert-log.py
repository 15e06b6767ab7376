"""``tandem convert-log IN OUT``: CSV ↔ XES (plain or .gz), by the file extensions."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.eventlog import EventLogError, read_log, write_log


class Command(BaseCommand):
    help = "Convert an event log between CSV and XES (either optionally .gz), chosen by extension."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", metavar="IN")
        parser.add_argument("target", metavar="OUT")
        parser.add_argument(
            "--drop-duplicates", action="store_true",
            help="leave out events that repeat another event of their case exactly (kept by default)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            log = read_log(options["source"], drop_duplicates=options["drop_duplicates"])
            write_log(log, options["target"])
        except (EventLogError, OSError) as exc:
            sys.stderr.write(f"tandem convert-log: {exc}\n")
            sys.exit(2)
        for p in log.problems:
            sys.stderr.write(f"problem: {p}\n")
        self.stdout.write(f"{len(log):,} events of {log.n_cases:,} cases written to {options['target']}")
