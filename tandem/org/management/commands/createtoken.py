"""`tandem createtoken USERNAME --name NAME [--expires-days N]`: issue a personal API token."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.org.tokens import MAX_EXPIRY_DAYS, issue_token
from tandem.refusal import Refused


class Command(BaseCommand):
    help = (
        "Issue a personal API token for USERNAME and print it. The token is shown this once: "
        "only its SHA-256 is stored. Send it as `Authorization: Bearer <token>` to /api/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The account the token acts as.")
        parser.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'payroll export script'."
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            metavar="N",
            help=f"Expire the token after N days (1 to {MAX_EXPIRY_DAYS}); default: never.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the token and its details as JSON instead of the bare token.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"There is no user {username!r}; create one with `tandem createuser`."
            )
        try:
            issued = issue_token(user, options["name"], expires_in_days=options["expires_days"])
        except Refused as refusal:
            raise CommandError(refusal.message) from refusal
        token = issued.token
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": token.pk,
                        "name": token.name,
                        "prefix": token.prefix,
                        "username": username,
                        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                        "token": issued.raw,
                    }
                )
            )
            return
        self.stdout.write(issued.raw)
        expiry = (
            f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC"
            if token.expires_at
            else "never expires"
        )
        self.stderr.write(
            f"Token {token.name!r} for {username} ({expiry}). "
            "It is shown only now: store it safely."
        )
