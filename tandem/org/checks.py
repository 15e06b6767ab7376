"""Configuration sanity checks, run by `tandem check` (Django's system check framework)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection
from django.db.utils import OperationalError


@register(Tags.database)
def check_database(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """Runs when databases are checked: `tandem check` does so by default."""
    if not databases:
        return []
    problems: list[Any] = []
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        problems.append(Error(f"Cannot reach the database: {exc}",
                              hint="Check TANDEM_DATABASE_URL (see docs/configuration.md).", id="tandem.E001"))
    return problems


@register("tandem", deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Runs with `tandem check --deploy`: settings that are fine for the demo, not for real data."""
    problems: list[Any] = []
    if not getattr(settings, "PRODUCTION", False):
        problems.append(Warning(
            "TANDEM_ENV is not 'production': cookies are not marked Secure, HSTS and the HTTPS redirect are off, "
            "and unsafe settings are not refused.",
            hint="Set TANDEM_ENV=production for real data (docs/operations.md).", id="tandem.W004"))
    if getattr(settings, "DEMO_SECRET_KEY", None) == settings.SECRET_KEY:
        problems.append(Warning("TANDEM_SECRET_KEY is not set: fine for the demo, never for real data.",
                                hint="Set TANDEM_SECRET_KEY to a long random value.", id="tandem.W002"))
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(Warning("TANDEM_ALLOWED_HOSTS accepts any host name.",
                                hint="Set it to the host names you serve, comma-separated.", id="tandem.W003"))
    return problems
