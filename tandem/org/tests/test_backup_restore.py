"""`tandem backup` and `tandem restore`: a live database round-trips with nothing lost, and bad
input (wrong files, existing targets, newer backups) is refused with a message."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast, build_cast

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite online backup path")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql" or not shutil.which("pg_dump"), reason="the pg_dump path"
)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every Tandem table and of the accounts, in primary-key order."""
    models = [m for m in apps.get_models() if m._meta.app_label in {"org", "catalogue", "agreements", "work",
                                                                   "notifications", "auth"}]
    return {m._meta.label: list(m._default_manager.order_by("pk").values()) for m in models}


def work(cast: Cast) -> None:
    for n in range(3):
        sr = actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, "worker": f"Worker {n}"}).request
        actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
        actions.add_comment(cast.payroll_agent, sr.pk, f"Looking at it ({n}) — ✓ ünïcode")


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_it_round_trips_a_live_database(tmp_path: Path) -> None:
    cast = build_cast()
    work(cast)
    before = snapshot()
    assert len(before["work.ServiceRequest"]) == 3 and len(before["work.Event"]) >= 9
    target = tmp_path / "tandem.backup.sqlite3"
    out = io.StringIO()
    call_command("backup", str(target), stdout=out)
    assert "Backed up" in out.getvalue() and target.is_file()
    assert not target.with_name(target.name + ".partial").exists()

    # Life goes on after the backup: more work, and some of the old work is gone.
    actions.submit_request(cast.colleague, cast.timesheet, TIMESHEET_OK)
    ServiceRequest.objects.filter(pk=before["work.ServiceRequest"][1]["id"]).update(title="changed behind")
    assert snapshot() != before

    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(target), stdout=io.StringIO())
    assert snapshot() != before  # the refusal changed nothing
    call_command("restore", str(target), "--force", stdout=io.StringIO())
    assert snapshot() == before
    # The restored database works: the audit chain verifies and new work goes in.
    call_command("verify-audit", stdout=io.StringIO())
    actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)


@pytest.mark.django_db
def test_it_refuses_to_overwrite_a_backup_or_write_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"precious")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(target), stdout=io.StringIO())
    assert target.read_bytes() == b"precious"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "nowhere" / "b.sqlite3"), stdout=io.StringIO())


def make_sqlite(path: Path, *statements: str) -> Path:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: p / "missing.sqlite3", "There is no backup file"),
        (lambda p: (p / "text.sqlite3").write_text("not a database") and p / "text.sqlite3", "not an SQLite database"),
        (lambda p: make_sqlite(p / "other.sqlite3", "CREATE TABLE t (x)"), "no migrations table"),
        (
            lambda p: make_sqlite(
                p / "django.sqlite3",
                "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)",
                "INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2026-01-01')",
            ),
            "not a Tandem one",
        ),
        (
            lambda p: make_sqlite(
                p / "newer.sqlite3",
                "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)",
                "INSERT INTO django_migrations (app, name, applied) VALUES ('work', '9999_future', '2030-01-01')",
            ),
            "made by a newer Tandem",
        ),
    ],
)
@sqlite_only
@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_a_tandem_backup(tmp_path: Path, build, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(build(tmp_path)), "--force", stdout=io.StringIO())


def tandem(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "tandem.cli", *args], env={**env, "TANDEM_DATA_DIR": str(data_dir)},
                          capture_output=True, text=True, timeout=120)


@sqlite_only
def test_it_backs_up_while_a_writer_holds_a_transaction_and_restores_under_open_connections(tmp_path: Path) -> None:
    """The commands on a file database that another process is using, as in production."""
    live = tmp_path / "live"
    assert tandem(live, "migrate", "-v0").returncode == 0
    database = live / "tandem.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("INSERT INTO org_unit (name, slug, side, description, time_zone) "
                   "VALUES ('Payroll', 'payroll', 'back', '', 'Europe/London')")
    writer.execute("BEGIN IMMEDIATE")  # a write in flight while the backup runs
    writer.execute("INSERT INTO org_unit (name, slug, side, description, time_zone) "
                   "VALUES ('Uncommitted', 'uncommitted', 'back', '', 'Europe/London')")
    backup_file = tmp_path / "backup.sqlite3"
    result = tandem(live, "backup", str(backup_file))
    assert result.returncode == 0, result.stderr
    writer.execute("COMMIT")
    copy = sqlite3.connect(backup_file)
    assert [r[0] for r in copy.execute("SELECT slug FROM org_unit ORDER BY slug")] == ["payroll"]
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()

    refused = tandem(live, "restore", str(backup_file))
    assert refused.returncode == 1 and "--force" in refused.stderr
    reader = sqlite3.connect(database)  # an open connection, as a running server has
    restored = tandem(live, "restore", str(backup_file), "--force")
    assert restored.returncode == 0, restored.stderr
    assert [r[0] for r in reader.execute("SELECT slug FROM org_unit ORDER BY slug")] == ["payroll"]
    reader.close()
    writer.close()
    # Into an empty data folder no --force is needed.
    fresh = tandem(tmp_path / "fresh", "restore", str(backup_file))
    assert fresh.returncode == 0, fresh.stderr


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_it_round_trips_postgresql_through_pg_dump_and_pg_restore(tmp_path: Path) -> None:
    cast = build_cast()
    work(cast)
    before = snapshot()
    target = tmp_path / "tandem.dump"
    call_command("backup", str(target), stdout=io.StringIO())
    ServiceRequest.objects.filter(pk=before["work.ServiceRequest"][1]["id"]).update(title="changed behind")
    actions.submit_request(cast.colleague, cast.timesheet, TIMESHEET_OK)
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(target), stdout=io.StringIO())
    call_command("restore", str(target), "--force", stdout=io.StringIO())
    assert snapshot() == before
    actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)  # sequences came back too


@postgresql_only
@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_a_tandem_dump(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")
    with pytest.raises(CommandError, match="not a pg_dump archive"):
        call_command("restore", str(junk), "--force", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_backup_keeps_the_attached_files_and_restore_puts_them_back(tmp_path: Path, settings, cast: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tandem.org.backups import backup_files, files_path, restore_files

    store = tmp_path / "files"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(store)}}}
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    comment = actions.add_comment(cast.consultant, sr.pk, "Sheet", files=[SimpleUploadedFile("a.pdf", b"%PDF-1 x")])
    kept = comment.attachments.get()
    target = tmp_path / "backup.sqlite3"

    assert backup_files(target) == 1
    assert (files_path(target) / kept.file.name).read_bytes() == b"%PDF-1 x"
    shutil.rmtree(store)  # the machine lost its files
    assert restore_files(target) == 1
    assert kept.file.storage.open(kept.file.name).read() == b"%PDF-1 x"
