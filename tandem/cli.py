"""The ``tandem`` console script: Django's management commands under one name.

``tandem demo``, ``tandem serve``, ``tandem createuser``, ``tandem check`` and every other
command take ``--help``.
"""

from __future__ import annotations

import os
import sys

# Commands that only read and write files run without Django (no settings, no database): its
# start-up is most of the time of a one-shot command (tandem/engines/eventlog/command.py).
FILE_COMMANDS = ("analyse", "convert-log", "forecast")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "tandem"
    if len(argv) > 1 and argv[1] == "forecast":
        from tandem.engines.forecast.command import main as forecast_command

        raise SystemExit(forecast_command(argv[2:]))
    if len(argv) > 1 and argv[1] in FILE_COMMANDS:
        from tandem.engines.eventlog.command import main as file_command

        raise SystemExit(file_command(argv[1], argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from tandem.isolation import provider_context

    try:
        # Commands and the worker act for the provider, across every client's rows (the web
        # server's requests each set their own context in OrganisationContextMiddleware).
        with provider_context():
            execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        # The settings refused the environment (e.g. production with the demo secret key): the
        # message says which variable to set; a traceback would only hide it.
        sys.stderr.write(f"tandem: the configuration is refused: {error}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
