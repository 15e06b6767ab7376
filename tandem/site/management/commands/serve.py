"""`tandem serve`: the pages and the API under gunicorn, as in production."""

from __future__ import annotations

from io import TextIOBase
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from gunicorn.app.base import BaseApplication

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 2


class TandemApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn running ``tandem.wsgi:application`` with options given in code, not argv."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from tandem.wsgi import application

        return application


def address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - only for display
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def run_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = DEFAULT_WORKERS,
    *,
    access_log: bool = False,
    out: TextIOBase | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C). `tandem demo` calls this too."""
    # The workers are forked from this process: they must not share its database connection.
    connections.close_all()
    # WhiteNoise serves from the app folders but warns in every worker when STATIC_ROOT is missing.
    if settings.STATIC_ROOT:
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    if out is not None:
        out.write(
            f"Serving Tandem at {address(host, port)} with {workers} gunicorn worker"
            f"{'s' if workers != 1 else ''} (Ctrl-C stops).\n"
        )
        out.flush()
    TandemApplication(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "tandem",
        }
    ).run()


class Command(BaseCommand):
    help = (
        "Serve Tandem's pages and REST API with gunicorn (sync workers), the way it runs in "
        "production. Static files are served by WhiteNoise; no collectstatic step is needed. "
        "Run `tandem migrate` first on a new database, and `tandem worker` beside it for emails "
        "and automatic closing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help=f"Address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for every interface).",
        )
        parser.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT})."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=f"Worker processes (default {DEFAULT_WORKERS}; about 2 per core).",
        )
        parser.add_argument(
            "--access-log", action="store_true", help="Log every request to stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        run_server(
            options["host"],
            options["port"],
            options["workers"],
            access_log=options["access_log"],
            out=self.stdout,
        )
