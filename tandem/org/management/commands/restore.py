"""`tandem restore PATH --force`: replace the database with a backup (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.org.backups import BackupRefused, restore, restore_files


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `tandem backup`. Refuses to overwrite an "
        "existing Tandem database without --force, and refuses files that are not Tandem databases; "
        "puts back the attached files of the folder PATH.files when there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The backup file to restore.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the current database (all of its data) with the backup."
        )
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = restore(Path(options["path"]), force=options["force"], database=options["database"])
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(f"Restored the database from {options['path']}.")
        copied = restore_files(Path(options["path"]))
        if copied:
            self.stdout.write(f"Put back {copied} attached file(s) from {options['path']}.files.")
        if restored.missing_migrations:
            self.stdout.write(
                f"The backup is from an older version ({restored.missing_migrations} migrations behind): "
                "run `tandem migrate` before serving it."
            )
