"""`tandem outbox`: the reactions still owed (per consumer: pending, oldest, failed) and the
last failures with their errors. `--retry` gives failed messages a fresh set of attempts once
their cause is mended; the worker then handles them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.outbox.actions import retry_failed
from tandem.outbox.queries import backlog, failures


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0].replace("`", "")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--retry", action="store_true", help="Retry every failed message.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        retried = retry_failed() if options["retry"] else 0
        rows = backlog()
        failed = failures()
        if options["json"]:
            out = {
                "retried": retried,
                "consumers": [{**r, "oldest": r["oldest"].isoformat() if r["oldest"] else None} for r in rows],
                "failures": [
                    {"id": m.pk, "consumer": m.consumer, "topic": m.topic, "key": m.key,
                     "attempts": m.attempts, "error": m.last_error, "failed_at": m.failed_at.isoformat()}
                    for m in failed if m.failed_at
                ],
            }
            self.stdout.write(json.dumps(out))
            return
        if retried:
            self.stdout.write(f"Retrying {retried} failed message(s); the worker handles them next round.")
        if not rows:
            self.stdout.write("Nothing owed: every message has been handled.")
        for r in rows:
            oldest = f", oldest from {r['oldest']:%Y-%m-%d %H:%M}" if r["oldest"] else ""
            self.stdout.write(f"{r['consumer']}: {r['pending']} pending{oldest}; {r['failed']} failed")
        for m in failed:
            self.stdout.write(f"  failed #{m.pk} {m.topic} {m.key} → {m.consumer} after {m.attempts}: {m.last_error}")
