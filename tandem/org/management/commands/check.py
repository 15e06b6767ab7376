"""`tandem check`: Django's system checks plus Tandem's, with the database checked by default."""

from typing import Any

from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = (
        "Check the configuration: settings, models, the database connection (always), and with "
        "--deploy the settings that must change before real data goes in."
    )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        options["databases"] = options.get("databases") or ["default"]
        super().handle(*app_labels, **options)
