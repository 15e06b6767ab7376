"""``tandem verify-audit [--json] [--request ID]``: check every request's event hash chain.

Prints "OK: N events in M requests verified" and exits 0, or prints the first problem and
exits 1. docs/audit.md says what is chained and what a clean run proves.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.work.audit import verify_audit
from tandem.work.models import ServiceRequest
from tandem.work.numbering import canonical


def _request_id(value: str) -> int:
    """An id (``123``), or a reference (``SR-000042``, ``NORTHERN-000042``): the request it names."""
    if value.strip().isdigit():
        return int(value.strip())
    reference = canonical(value)
    found = ServiceRequest.objects.filter(reference=reference).values_list("pk", flat=True).first() \
        if reference else None
    match = re.fullmatch(r"(?:SR-)?0*(\d+)", value.strip(), flags=re.IGNORECASE)
    if found is not None:
        return int(found)
    if not match:
        raise CommandError(f"--request takes a request id or reference such as SR-000123, not {value!r}.")
    return int(match.group(1))


class Command(BaseCommand):
    help = "Verify the hash chains of the service requests' events; exit 1 at the first problem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--request", metavar="ID", help="check one request only (123 or SR-000123)")

    def handle(self, *args: Any, **options: Any) -> None:
        request_id = _request_id(options["request"]) if options["request"] else None
        began = time.perf_counter()
        verdict = verify_audit(request_id=request_id)
        seconds = time.perf_counter() - began
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": verdict.ok,
                "events": verdict.events,
                "requests": verdict.requests,
                "problem": verdict.problem.as_dict() if verdict.problem else None,
                "seconds": round(seconds, 3),
            }))
        elif verdict.problem is None:
            self.stdout.write(
                f"OK: {verdict.events:,} events in {verdict.requests:,} requests verified ({seconds:.1f} s)."
            )
        else:
            self.stdout.write(f"{verdict.problem.message}\n"
                              f"(verified {verdict.events:,} events in {verdict.requests:,} requests before it)")
        if not verdict.ok:
            sys.exit(1)
