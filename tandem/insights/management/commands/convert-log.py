"""``tandem convert-log IN OUT``: CSV ↔ XES (plain or .gz), by the file extensions.

The ``tandem`` console script runs this without Django (``tandem.engines.eventlog.command``);
this management command is the same thing for ``manage.py`` and ``call_command``.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.eventlog.command import CONVERT_HELP, add_convert_arguments, run_convert


class Command(BaseCommand):
    help = CONVERT_HELP
    requires_system_checks: list[str] = []  # reads and writes files; nothing of the site is involved

    def add_arguments(self, parser: CommandParser) -> None:
        add_convert_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        code = run_convert(options, self.stdout)  # type: ignore[arg-type]
        if code:
            sys.exit(code)
