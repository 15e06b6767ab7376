"""`tandem backup` and `tandem restore`: a whole-database copy, taken and put back while the
server runs.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot page by
page through the live connection, so writers carry on meanwhile (WAL) and the copy never holds a
half-written transaction. The copy goes to a temporary file first and is renamed into place, so a
crash never leaves a truncated backup under the requested name.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` with the
connection details of ``TANDEM_DATABASE_URL`` (docs/operations.md); both must be installed
(Debian: ``postgresql-client`` of the server's major version or newer).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.db.migrations.loader import MigrationLoader

SQLITE_HEADER = b"SQLite format 3\x00"
TANDEM_APPS = ("org", "catalogue", "agreements", "work", "notifications")


class BackupRefused(Exception):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    missing_migrations: int  # the backup is older than this version: `tandem migrate` next


def backup(path: Path, *, force: bool = False, database: str = "default") -> str:
    """Copy the live database to ``path``; returns which kind of backup was written."""
    path = path.expanduser().resolve()
    if path.exists() and not force:
        raise BackupRefused(f"{path} already exists; choose a new file name, or add --force to replace it.")
    if not path.parent.is_dir():
        raise BackupRefused(f"The folder {path.parent} does not exist; create it first.")
    connection = connections[database]
    if connection.vendor == "sqlite":
        _sqlite_backup(connection, path)
        return "sqlite"
    if connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"], connection)
        return "pg_dump"
    raise BackupRefused(f"Backups of {connection.vendor} databases are not supported; see docs/operations.md.")


def restore(path: Path, *, force: bool = False, database: str = "default") -> Restored:
    """Replace the whole database with the backup at ``path``."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise BackupRefused(f"There is no backup file {path}.")
    connection = connections[database]
    if connection.vendor == "sqlite":
        applied = _tandem_migrations_in_sqlite_file(path)
    elif connection.vendor == "postgresql":
        applied = None  # a dump lists its tables, not its rows: the migrations are compared after
        _check_pg_dump_file(path)
    else:
        raise BackupRefused(f"Restoring {connection.vendor} databases is not supported; see docs/operations.md.")
    if not force and "django_migrations" in connection.introspection.table_names():
        raise BackupRefused(
            f"The database {connection.settings_dict['NAME']} already holds a Tandem database; restoring "
            "replaces all of it. Take a backup of it first (tandem backup), then run again with --force."
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    if applied is not None:
        newer = sorted(f"{app}.{name}" for app, name in applied - known if app in TANDEM_APPS)
        if newer:
            raise BackupRefused(
                f"{path} was made by a newer Tandem (it has migrations this version does not know: "
                f"{', '.join(newer[:5])}); restore it with that version or a later one."
            )
    if connection.vendor == "sqlite":
        _sqlite_restore(connection, path)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", str(path)], connection, dbname_flag=True)
    return Restored(missing_migrations=len(_pending(known, connection)))


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_backup(connection: Any, path: Path) -> None:
    connection.ensure_connection()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        # Small steps let writers in between: a big database is copied without stalling them.
        connection.connection.backup(target, pages=1024)
    finally:
        target.close()
    os.replace(partial, path)


def _tandem_migrations_in_sqlite_file(path: Path) -> set[tuple[str, str]]:
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupRefused(f"{path} is not an SQLite database file, so not a Tandem backup.")
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        try:
            rows = source.execute("SELECT app, name FROM django_migrations").fetchall()
        except sqlite3.DatabaseError as error:
            raise BackupRefused(f"{path} is not a Tandem database (no migrations table: {error}).") from error
    finally:
        source.close()
    applied = {(app, name) for app, name in rows}
    if not any(app in TANDEM_APPS for app, _ in applied):
        raise BackupRefused(f"{path} is a Django database but not a Tandem one (none of Tandem's migrations).")
    return applied


def _sqlite_restore(connection: Any, path: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


# --- PostgreSQL --------------------------------------------------------------------------------


def _run(command: list[str], connection: Any, *, dbname_flag: bool = False) -> None:
    program = shutil.which(command[0])
    if program is None:
        raise BackupRefused(
            f"{command[0]} is not installed. Install the PostgreSQL client tools (Debian: apt-get install "
            "postgresql-client), or back up with your provider's tools; see docs/operations.md."
        )
    settings = connection.settings_dict
    env = {**os.environ}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings.get(key):
            env[variable] = str(settings[key])
    database = ["--dbname", settings["NAME"]] if dbname_flag else [settings["NAME"]]
    result = subprocess.run([program, *command[1:], *database], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupRefused(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _check_pg_dump_file(path: Path) -> None:
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupRefused(
            "pg_restore is not installed. Install the PostgreSQL client tools (Debian: apt-get install "
            "postgresql-client); see docs/operations.md."
        )
    listing = subprocess.run([program, "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupRefused(f"{path} is not a pg_dump archive (custom format): {listing.stderr.strip()[-500:]}")
    if not re.search(r"TABLE DATA \S+ django_migrations ", listing.stdout) or " org_unit " not in listing.stdout:
        raise BackupRefused(f"{path} is a pg_dump archive but not of a Tandem database.")


def _pending(known: set[tuple[str, str]], connection: Any) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    return {key for key in known if key[0] in TANDEM_APPS} - applied


# --- the attached files -------------------------------------------------------------------------


def files_path(path: Path) -> Path:
    """Where the files of the backup ``path`` go: the folder ``PATH.files`` beside it."""
    path = path.expanduser().resolve()
    return path.with_name(path.name + ".files")


def _local_files() -> Path | None:
    """The folder of the attached files when they are kept on this machine (None otherwise:
    an object store such as S3 is backed up by its own versioning, docs/operations.md)."""
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def backup_files(path: Path) -> int:
    """Copy the attached files beside the database backup; returns how many. Run after the
    database copy: files are only ever added, so every file that copy names is there."""
    source, target = _local_files(), files_path(path)
    if source is None or not source.is_dir():
        return 0
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return sum(1 for p in target.rglob("*") if p.is_file())


def restore_files(path: Path) -> int:
    """Put the backup's files back (beside those already there); returns how many."""
    source, target = files_path(path), _local_files()
    if target is None or not source.is_dir():
        return 0
    shutil.copytree(source, target, dirs_exist_ok=True)
    return sum(1 for p in source.rglob("*") if p.is_file())
