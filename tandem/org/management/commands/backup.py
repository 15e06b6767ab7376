"""`tandem backup PATH`: copy the live database to a file (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.org.backups import BackupRefused, backup, backup_files


class Command(BaseCommand):
    help = (
        "Copy the whole database to PATH while the server runs: SQLite through its online backup API "
        "(a consistent snapshot), PostgreSQL through pg_dump --format=custom; "
        "then the attached files kept on this machine to the folder PATH.files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The backup file to write, e.g. backups/tandem-2026-11-25.sqlite3.")
        parser.add_argument("--force", action="store_true", help="Replace PATH if it already exists.")
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            kind = backup(Path(options["path"]), force=options["force"], database=options["database"])
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(f"Backed up the database to {options['path']} ({kind}).")
        copied = backup_files(Path(options["path"]))
        if copied:
            self.stdout.write(f"Copied {copied} attached file(s) to {options['path']}.files.")
