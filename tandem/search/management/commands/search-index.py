"""``tandem search-index [--rebuild] [--json]``: build the search index (docs/search.md)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.search.documents import index_missing, rebuild


class Command(BaseCommand):
    help = ("Give every request without a search document its document (after an upgrade or an import); "
            "with --rebuild, write every document again and rebuild the full-text index.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true",
                            help="write every document again (after people's names changed, or to mend the index)")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        count = rebuild() if options["rebuild"] else index_missing()
        seconds = round(time.perf_counter() - began, 1)
        if options["json"]:
            self.stdout.write(json.dumps({"documents": count, "rebuilt": options["rebuild"], "seconds": seconds}))
        else:
            done = "Wrote" if options["rebuild"] else "Indexed"
            self.stdout.write(f"{done} {count:,} request{'s' if count != 1 else ''} in {seconds} s.")
