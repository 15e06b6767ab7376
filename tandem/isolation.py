"""Whose data this piece of work may read: the organisation context PostgreSQL's row-level
security reads (docs/isolation.md).

Every client table carries a policy keyed on the setting ``tandem.organisation``:
``provider`` sees every row, a client organisation's id sees that organisation's rows and the
provider's shared ones, anything else (unset, empty, an unknown id) sees no client row.

The context is a context variable: the web middleware sets it from the signed-in person for
one request (``tandem.org.middleware.OrganisationContextMiddleware``), the CLI and the worker
run in the provider's (``tandem.cli``), and nothing else sets it, so work started without one
sees nothing rather than everything.

How the setting reaches the database. It is never a session setting: it is applied with
``set_config(..., true)`` (``SET LOCAL``) inside every transaction, so it ends with the
transaction and a pooled connection (PgBouncer in transaction mode hands each transaction to
any server connection) never carries one request's organisation into the next. A statement
run in autocommit mode is wrapped in a transaction of its own with the setting first. The
wrapper is installed on every PostgreSQL connection Django opens; on SQLite there is nothing to
set and the scoping in the query entries holds alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

PROVIDER = "provider"
SETTING = "tandem.organisation"
_SET = "SELECT set_config('tandem.organisation', %s, true)"
# The statements that read or write rows, which the policies govern. Others (CREATE DATABASE,
# VACUUM, ...) may refuse to run inside a transaction and touch no row.
_READS_OR_WRITES_ROWS = re.compile(
    r"\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|DECLARE|COPY|MERGE|EXPLAIN|TABLE)\b", re.IGNORECASE
)

# None: no context (fail closed). PROVIDER or str(organisation id) otherwise.
_context: ContextVar[str | None] = ContextVar("tandem_organisation", default=None)


def current() -> str:
    """The value the next transaction carries: ``provider``, an organisation id, or ``""``."""
    return _context.get() or ""


@contextmanager
def organisation_context(organisation_id: int | None) -> Iterator[None]:
    """Run the block as one organisation: ``None`` is the provider (the organisation running
    Tandem), an id a client organisation."""
    token = _context.set(PROVIDER if organisation_id is None else str(int(organisation_id)))
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def provider_context() -> Iterator[None]:
    """Run the block as the provider: every client's rows (the worker, the CLI, sign-in's
    look-up of who is signing in, reactions to a change)."""
    with organisation_context(None):
        yield


@contextmanager
def no_context() -> Iterator[None]:
    """Run the block with no organisation: no client row is visible."""
    token = _context.set(None)
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def one_transaction_for_reads() -> Iterator[None]:
    """Run a page's reads in one transaction on PostgreSQL, so the setting is applied once
    rather than around each statement (BEGIN, the setting, the statement, COMMIT: four round
    trips a statement; the team queue's 26 statements cost it 40 % of its time on a loaded
    machine, docs/benchmarks.md). For pages that only read: an action inside would refuse to
    run, as it owns a durable transaction. On SQLite nothing: there a transaction begins
    IMMEDIATE (tandem/settings.py) and would hold the write lock while the page renders."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        yield


def set_context(value: str | None) -> Any:
    """Set the context until ``reset_context(token)`` (for middleware wrapping a response)."""
    return _context.set(value)


def reset_context(token: Any) -> None:
    _context.reset(token)


def _carry_organisation(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    db = context["connection"]
    raw = db.connection
    value = current()
    if raw.autocommit:
        if not _READS_OR_WRITES_ROWS.match(sql):
            return execute(sql, params, many, context)  # CREATE DATABASE, VACUUM: no rows, no transaction
        # Outside a transaction each statement is its own: give it one, with the setting first.
        with raw.transaction():
            raw.execute(_SET, (value,))
            db.tandem_organisation_applied = value
            return execute(sql, params, many, context)
    idle = raw.info.transaction_status == 0  # psycopg.pq.TransactionStatus.IDLE
    if not _READS_OR_WRITES_ROWS.match(sql):
        if idle or sql.startswith("ROLLBACK TO SAVEPOINT"):
            # A new transaction (which may have to begin with SET TRANSACTION ISOLATION LEVEL), or
            # a rollback that also undid a setting applied after the savepoint: the setting goes
            # before the next statement that reads or writes rows.
            db.tandem_organisation_applied = None
        return execute(sql, params, many, context)
    # psycopg begins a transaction before the first statement when it is idle: the setting goes
    # first. Within a transaction, apply it again only when the context changed meanwhile.
    if idle or getattr(db, "tandem_organisation_applied", None) != value:
        raw.execute(_SET, (value,))
        db.tandem_organisation_applied = value
    return execute(sql, params, many, context)


def _install(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    if _carry_organisation not in connection.execute_wrappers:
        connection.execute_wrappers.append(_carry_organisation)


def install() -> None:
    """Carry the context on every PostgreSQL connection opened from now on (AppConfig.ready)."""
    connection_created.connect(_install, dispatch_uid="tandem.isolation")
