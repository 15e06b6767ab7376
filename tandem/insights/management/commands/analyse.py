"""``tandem analyse --log FILE``: process figures of a CSV/XES event log (docs/analyse.md).

The ``tandem`` console script runs this without Django (``tandem.engines.eventlog.command``);
this management command is the same thing for ``manage.py`` and ``call_command``.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.eventlog.command import ANALYSE_HELP, add_analyse_arguments, run_analyse, table


class Command(BaseCommand):
    help = ANALYSE_HELP
    requires_system_checks: list[str] = []  # reads a file; nothing of the site is involved

    def add_arguments(self, parser: CommandParser) -> None:
        add_analyse_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        code = run_analyse(options, self.stdout)  # type: ignore[arg-type]
        if code:
            sys.exit(code)

    def table(self, f: dict[str, Any]) -> str:
        return table(f)
