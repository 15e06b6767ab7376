"""`tandem db-roles`: the application role that owns no table (docs/isolation.md)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")


def _rows(sql: str, params: list | None = None) -> list[tuple]:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def test_it_refuses_a_name_it_would_have_to_quote() -> None:
    with pytest.raises(CommandError, match="lower-case letters, digits and _"):
        call_command("db-roles", 'app"; DROP TABLE work_event; --')


def test_it_refuses_an_empty_password_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_PROBE_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="TANDEM_PROBE_PASSWORD is empty or not set"):
        call_command("db-roles", "tandem_app", "--password-env", "TANDEM_PROBE_PASSWORD")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite answer")
def test_it_says_sqlite_has_no_row_level_security() -> None:
    with pytest.raises(CommandError, match="Row-level security needs PostgreSQL"):
        call_command("db-roles", "tandem_app")


@on_postgres
def test_it_prints_the_sql_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_PROBE_PASSWORD", "s3cret-value")
    out = io.StringIO()
    call_command("db-roles", "tandem_app", "--password-env", "TANDEM_PROBE_PASSWORD", "--sql", stdout=out)
    text = out.getvalue()
    assert "NOBYPASSRLS" in text and "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES" in text
    assert "s3cret-value" not in text and "PASSWORD '********'" in text
    assert _rows("SELECT count(*) FROM pg_roles WHERE rolname = 'tandem_app'") == [(0,)]  # printed, not run


@on_postgres
def test_it_creates_a_role_that_reads_and_writes_rows_and_owns_nothing() -> None:
    out = io.StringIO()
    call_command("db-roles", "tandem_probe_app", stdout=out)
    assert "owns none" in out.getvalue()
    assert _rows(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'tandem_probe_app'"
    ) == [(False, False, True)]
    assert _rows(
        "SELECT has_table_privilege('tandem_probe_app', 'work_servicerequest', 'SELECT, INSERT, UPDATE, DELETE'),"
        " has_table_privilege('tandem_probe_app', 'work_servicerequest', 'TRUNCATE')"
    ) == [(True, False)]
    assert _rows("SELECT count(*) FROM pg_tables WHERE tableowner = 'tandem_probe_app'") == [(0,)]
    call_command("db-roles", "tandem_probe_app", stdout=io.StringIO())  # again: brought up to date, no error
    _rows("SET ROLE tandem_probe_app")
    try:
        with pytest.raises(CommandError, match="run this as the role that owns the tables"):
            call_command("db-roles", "tandem_probe_app")
    finally:
        _rows("RESET ROLE")
