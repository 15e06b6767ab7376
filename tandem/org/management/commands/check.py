"""`tandem check`: Django's system checks plus Tandem's, with the database checked by default."""

from typing import Any

from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = (
        "Check the configuration: settings, models, the database connection (always), and with "
        "--deploy the settings that must change before real data goes in (with --deploy, any "
        "warning fails the check: exit status 1)."
    )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        options["databases"] = options.get("databases") or ["default"]
        if options.get("deploy") and options.get("fail_level") == "ERROR":
            # A deployment check that passes with warnings would let a demo setting into production.
            options["fail_level"] = "WARNING"
        super().handle(*app_labels, **options)
