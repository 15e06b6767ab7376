"""`tandem db-roles ROLE`: the role the web server and the worker connect as on PostgreSQL, one
that owns no table, so that row-level security holds it (docs/isolation.md)."""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_sql(role: str, database: str, password: str | None = None) -> list[str]:
    """The statements that create (or bring up to date) ``role`` and grant it the rows of every
    table, now and in the tables later migrations create: reading and writing rows, never
    owning a table, so that the policies of docs/isolation.md hold it."""
    quoted = f'"{role}"'
    login = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {quoted} {login}; END IF; END $$",
        f"ALTER ROLE {quoted} {login}",
        f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}',
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        # Tables a later `tandem migrate` creates (run as the owner) are granted too.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {quoted}",
    ]
    if password is not None:
        statements.insert(2, "ALTER ROLE {} PASSWORD '{}'".format(quoted, password.replace("'", "''")))
    return statements


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL role the web server and the worker connect as: it may read and "
        "write rows but owns no table, so row-level security keeps each client organisation to its own rows. "
        "Run it as the role that owns the tables (the one `tandem migrate` runs as), after `tandem migrate`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The application role's name, e.g. tandem_app (lower case, digits, _).")
        parser.add_argument(
            "--password-env", metavar="VARIABLE",
            help="Set the role's password from this environment variable (kept off the command line).",
        )
        parser.add_argument("--sql", action="store_true", help="Print the SQL instead of running it.")
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if not ROLE_NAME.match(role):
            raise CommandError(
                f"{role!r} is not a role name this command accepts: lower-case letters, digits and _, "
                "starting with a letter or _, at most 63 characters."
            )
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"The environment variable {options['password_env']} is empty or not set.")
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError(
                "Row-level security needs PostgreSQL: on SQLite there is no role to create "
                "(the query entries' scoping holds alone; docs/isolation.md)."
            )
        statements = grant_sql(role, connection.settings_dict["NAME"], password)
        if options["sql"]:
            for statement in statements:
                self.stdout.write(statement.replace(password or "\0", "********") + ";")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            if cursor.fetchone()[0] == role:
                raise CommandError(
                    f"You are connected as {role}: run this as the role that owns the tables, and let "
                    f"the web server and the worker connect as {role}."
                )
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role])
            owned = cursor.fetchone()[0]
        if owned:
            raise CommandError(
                f"{role} owns {owned} table(s): row-level security does not hold an owner that may switch "
                "it off. Give them to the migrating role (ALTER TABLE ... OWNER TO ...) and run this again."
            )
        self.stdout.write(
            f"{role} may read and write the rows of every table and owns none. Connect the web server and "
            f"the worker as {role}; run `tandem migrate` as the owner."
        )
