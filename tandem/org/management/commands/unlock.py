"""`tandem unlock USERNAME` / `--ip ADDRESS` / `--list`: lift a sign-in lockout (docs/operations.md)."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tandem.org.lockout import locked_now, unlock


class Command(BaseCommand):
    help = (
        "Lift the sign-in lockout of an account (USERNAME) or a client address (--ip) at once, "
        "by forgetting their failed sign-ins. --list shows who is locked out now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="The account to unlock (as typed at sign-in).")
        parser.add_argument("--ip", metavar="ADDRESS", help="Also (or only) unlock this client address.")
        parser.add_argument("--list", action="store_true", help="List the accounts and addresses locked out now.")
        parser.add_argument("--json", action="store_true", help="With --list: print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        username, ip = options["username"], options["ip"]
        if options["list"]:
            locked = locked_now()
            if options["json"]:
                rows = [{"scope": s, "who": w, "until": u.isoformat()} for s, w, u in locked]
                self.stdout.write(json.dumps(rows))
            for scope, who, until in [] if options["json"] else locked:
                self.stdout.write(f"{scope:8} {who:40} until {timezone.localtime(until):%Y-%m-%d %H:%M}")
            if not locked and not options["json"]:
                self.stdout.write("Nobody is locked out.")
            return
        if not username and not ip:
            raise CommandError("Name the account to unlock (tandem unlock USERNAME), or give --ip ADDRESS, or --list.")
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip.strip()))
            except ValueError as error:
                raise CommandError(f"{ip!r} is not an IP address (e.g. 192.0.2.7 or 2001:db8::7).") from error
        forgotten = unlock(username=username, ip=ip)
        who = " and ".join(x for x in (username and f"account {username!r}", ip and f"address {ip}") if x)
        self.stdout.write(f"Unlocked {who}: forgot {forgotten} failed sign-in{'s' if forgotten != 1 else ''}.")
