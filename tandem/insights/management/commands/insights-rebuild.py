"""`tandem insights-rebuild`: rebuild every week of the evidence's weekly rows (flow, waits on
other teams, procedure conformance) from the requests and their events. The worker keeps the
current and the previous week up to date; run this after changing a procedure to judge the
whole history by it, or after loading history by other means than `tandem import-log`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from tandem.insights.actions import rebuild_all


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0].replace("`", "")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        rows = rebuild_all()
        self.stdout.write(f"Rebuilt {rows:,} weekly rows in {time.perf_counter() - began:.1f} s.")
