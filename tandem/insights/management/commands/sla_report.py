"""`tandem sla_report`: SLA attainment per agreement over a period, recomputed from the event
trail (``tandem.insights.attainment``), as text or JSON."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tandem.insights.attainment import build_report


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option}: give a date as YYYY-MM-DD, not {value!r}.") from error


class Command(BaseCommand):
    help = (
        "SLA attainment per agreement (and the default terms of each service) over requests "
        "resolved in a period: count, met, breached, attainment against the target, the breaches "
        "with their overrun in working time, and late-for-cut-off asks per requesting unit. "
        "Recomputed from the event trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="First day, YYYY-MM-DD (default: 30 days ago).")
        parser.add_argument("--until", help="Day after the last, YYYY-MM-DD (default: now).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--breaches", type=int, default=10, help="Breaches listed per agreement in text (default 10)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        zone = timezone.get_default_timezone()
        now = timezone.now()
        since = (
            datetime.combine(_day(options["since"], "--since"), time(), zone)
            if options["since"]
            else now - timedelta(days=30)
        )
        until = datetime.combine(_day(options["until"], "--until"), time(), zone) if options["until"] else now
        if until <= since:
            raise CommandError("--until must be after --since.")
        report = build_report(since, until)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"SLA attainment, requests resolved {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M}\n")
        for g in report["agreements"]:
            share = "—" if g["attainment_percent"] is None else f"{g['attainment_percent']:.1f} %"
            verdict = "" if g["meets_target"] is None else ("  on target" if g["meets_target"] else "  BELOW TARGET")
            self.stdout.write(
                f"{g['service']} · {g['name']}: {g['count']} resolved, {g['met']} met, {g['breached']} breached; "
                f"{share} of target {g['target_percent']:.0f} %{verdict}"
            )
            for b in g["breaches"][: options["breaches"]]:
                due, done = b["resolve_by"][:16], b["resolved_at"][:16]
                self.stdout.write(f"    {b['reference']} resolve by {due}, resolved {done} (+{b['overrun']})")
        if report["late_for_cutoff"]:
            self.stdout.write("\nLate for a cut-off, by requesting unit:")
            for row in report["late_for_cutoff"]:
                self.stdout.write(f"    {row['unit']}: {row['late']} of {row['requests']} asks late")
