"""``tandem allocate --input FILE.json [--json]``: who does what now (docs/allocation.md)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.allocation import AllocationInputError, Plan, allocate, plan_to_json, problem_from_json
from tandem.engines.allocation.highs import flush_c_stdout


@contextmanager
def solver_output_to_stderr() -> Iterator[None]:
    """Send anything the solver's C++ code prints on file descriptor 1 to stderr instead.

    Why: HiGHS's MIP solver occasionally prints a diagnostic line on stdout even when asked to
    be silent, and with --json stdout must hold the JSON document and nothing else.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        flush_c_stdout()  # the C library buffers stdout when it is not a terminal
        os.dup2(saved, 1)
        os.close(saved)


class Command(BaseCommand):
    help = ("Assign open items to qualified people within their capacity, most urgent first; "
            "reports the objective, the solver's bound and the optimality gap.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, metavar="FILE", help="the problem as JSON (docs/allocation.md)")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
        parser.add_argument("--time-limit", type=float, default=20.0, metavar="SECONDS",
                            help="stop the solver after this long and report the best plan and bound (default 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = Path(options["input"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.fail(f"cannot read {options['input']}: {exc}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.fail(f"{options['input']} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
        try:
            problem = problem_from_json(data)
        except AllocationInputError as exc:
            self.fail(str(exc))
        with solver_output_to_stderr():
            plan = allocate(problem, time_limit=options["time_limit"])
        if options["json"]:
            self.stdout.write(json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False))
            return
        self.stdout.write(self.summary(plan))

    def fail(self, message: str) -> Any:
        sys.stderr.write(f"tandem allocate: {message}\n")
        sys.exit(2)

    def summary(self, plan: Plan) -> str:
        lines = [
            f"assigned     {len(plan.assignments):>10,}",
            f"unassigned   {len(plan.unassigned):>10,}",
            f"objective    {plan.objective:>14,.1f}",
            f"bound        {plan.bound:>14,.1f}",
            f"gap          {plan.gap:>14.4%}",
            f"solve time   {plan.seconds:>13.3f} s",
        ]
        if plan.assignments:
            lines += ["", "assignments (item → person):"]
            lines += [f"  {item} → {person}" for item, person in plan.assignments]
        if plan.unassigned:
            lines += ["", "unassigned:"]
            lines += [f"  {u.item}: {u.reason}" for u in plan.unassigned]
        return "\n".join(lines)
