"""`tandem createuser`: add a person (a Django user and their profile) to a unit."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tandem.org.models import Person, Role, Unit


class Command(BaseCommand):
    help = (
        "Create a person: a user who can sign in, with a home unit and a role (member, lead, "
        "executive or admin; admin also opens Django's admin site). The password is asked for "
        "twice unless given with --password-stdin (safest in scripts: "
        '`echo "$PASS" | tandem createuser ...`) or --password (visible to other local users '
        "in the process list)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Sign-in name, e.g. first.last.")
        parser.add_argument(
            "--unit", required=True, help="Slug of the person's home unit, e.g. payroll."
        )
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.MEMBER,
            help="member (default), lead, executive or admin.",
        )
        parser.add_argument("--email", default="", help="Email address for notifications.")
        parser.add_argument("--first-name", default="", help="First name (shown in the product).")
        parser.add_argument("--last-name", default="", help="Last name.")
        parser.add_argument("--job-title", default="", help="Job title, e.g. Payroll officer.")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            "--password", help="The password (visible in the process list; prefer the prompt)."
        )
        secret.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        unit = Unit.objects.filter(slug=options["unit"]).first()
        if unit is None:
            known = (
                ", ".join(Unit.objects.order_by("slug").values_list("slug", flat=True))
                or "none yet"
            )
            raise CommandError(f"There is no unit {options['unit']!r}. Known units: {known}.")
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"The username {username!r} is taken; choose another.")
        email = options["email"].strip()
        if email and User.objects.filter(email__iexact=email).exists():
            raise CommandError(
                f"Another person already uses {email}; each person needs their own address."
            )
        user = User(
            username=username,
            email=email,
            first_name=options["first_name"].strip(),
            last_name=options["last_name"].strip(),
        )
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as error:
            raise CommandError(_messages(error)) from error
        password = self._password(options, user)
        role = options["role"]
        with transaction.atomic():
            user.set_password(password)
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.save()
            Person.objects.create(
                user=user, unit=unit, role=role, job_title=options["job_title"].strip()
            )
        self.stdout.write(self.style.SUCCESS(f"Created {username} ({role}) in {unit.name}."))

    def _password(self, options: dict[str, Any], user: Any) -> str:
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
        elif options["password"] is not None:
            password = options["password"]
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords differ; nothing was created.")
        else:
            raise CommandError(
                "No password: give --password-stdin (or --password), or run in a terminal."
            )
        if not password:
            raise CommandError("The password is empty; nothing was created.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("The password was refused: " + _messages(error)) from error
        return password


def _messages(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)
