"""``tandem forecast --log FILE --until YYYY-MM-DD``: daily arrivals ahead (docs/forecast.md).

The ``tandem`` console script runs this without Django (``tandem.engines.forecast.command``);
this management command is the same thing for ``manage.py`` and ``call_command``.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.engines.forecast.command import HELP, add_arguments, run


class Command(BaseCommand):
    help = HELP
    requires_system_checks: list[str] = []  # reads a file; nothing of the site is involved

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        code = run(options, self.stdout)  # type: ignore[arg-type]
        if code:
            sys.exit(code)
