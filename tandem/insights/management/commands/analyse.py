"""``tandem analyse --log FILE``: process figures of a CSV/XES event log (docs/analyse.md)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.eventlog import EventLogError, analyse, read_log


class Command(BaseCommand):
    help = "Counts, case durations, directly-follows pairs, handovers and ping-pong of a CSV or XES event log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--log", required=True, metavar="FILE", help="a .csv or .xes file, optionally .gz")
        parser.add_argument("--group-attribute", metavar="NAME",
                            help="event attribute for handovers and ping-pong, e.g. org:group or org:resource")
        parser.add_argument("--json", action="store_true", help="print JSON on stdout")
        parser.add_argument(
            "--drop-duplicates", action="store_true",
            help="leave out events that repeat another event of their case exactly (kept by default)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            log = read_log(options["log"], drop_duplicates=options["drop_duplicates"])
            figures = analyse(log, options["group_attribute"])
        except (EventLogError, KeyError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            sys.stderr.write(f"tandem analyse: {message}\n")
            sys.exit(2)
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False))
            return
        self.stdout.write(self.table(figures))

    def table(self, f: dict[str, Any]) -> str:
        d = f["case_duration_days"]
        lines = [
            f"cases        {f['cases']:>12,}",
            f"events       {f['events']:>12,}",
            f"activities   {f['activities']:>12,}",
            f"variants     {f['variants']:>12,}",
            f"case duration (days): mean {d['mean']:.2f}, median {d['median']:.2f}, p90 {d['p90']:.2f}",
        ]
        if "handovers_per_case" in f:
            lines.append(f"handovers per case ({f['group_attribute']}): {f['handovers_per_case']:.3f}")
            lines.append(f"ping-pong rate: {f['ping_pong_rate']:.2%}")
        lines += ["", "directly follows (top 20 by count):", f"{'count':>8}  {'mean days':>10}  from → to"]
        lines += [f"{r['count']:>8,}  {r['mean_days']:>10.3f}  {r['from']} → {r['to']}"
                  for r in f["directly_follows"][:20]]
        if f["problems"]:
            lines += ["", "problems:", *(f"  - {p}" for p in f["problems"])]
        return "\n".join(lines)
