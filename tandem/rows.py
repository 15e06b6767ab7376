"""Rows in and out faster than the ORM's general path: one row by a unique key, and many rows
inserted at once.

``one_or_none`` reads one row without the ORDER BY that ``.first()`` adds.

``EpochSeconds`` reads a datetime column as integer epoch seconds computed by the database:
turning tens of thousands of SQLite timestamps into aware datetimes (to turn them back into
seconds) was a third of the time of reading a unit's in-progress spans.

``insert_rows`` inserts many rows given as plain tuples (the demo's history, an imported event
log). ``bulk_create`` builds a model instance per row and compiles every value through the field
API: at a few million events that is most of the load time. ``insert_rows`` asks each field
for its adapter once, then sends plain tuples with ``executemany`` (SQLite's C loop; psycopg's
pipeline on PostgreSQL). Values are adapted exactly as Django adapts them (``connection.ops``),
and every column the caller does not give gets the field's default, so a field added to a
model later does not break the demo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar, cast

import numpy as np
from django.db import connection, models
from django.db.models import Model, QuerySet
from django.db.models.fields import NOT_PROVIDED

M = TypeVar("M", bound=Model)


def one_or_none(qs: QuerySet[M]) -> M | None:
    """The row a lookup by a unique key finds, or None.

    ``.first()`` adds an ORDER BY (the model's ordering, else the primary key) to choose among
    rows, and to resolve an ordering Django hashes every selected column: with a few tables
    joined, that was a third of an API read's CPU, for a query that can find one row at most.
    """
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None

Adapter = Callable[[Any], Any] | None


class EpochSeconds(models.Func):
    """``EpochSeconds("at")``: the column as whole UTC epoch seconds (floored), on both databases."""

    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps UTC datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]" text; %s floors the
        # fraction. Written %%%%s: the template's formatting and the backend's placeholder
        # conversion each halve the percent signs.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint", **extra)


def _adapter(field: models.Field) -> Adapter:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DateTimeField):
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else ops.adapt_datefield_value(value)
    if isinstance(field, models.TimeField):
        return lambda value: None if value is None else ops.adapt_timefield_value(value)
    return None


def db_datetimes(seconds: np.ndarray, none: int = -1) -> list[Any]:
    """UTC epoch seconds as the database takes them (``none`` becomes NULL), many at once.

    On SQLite that is Django's text form of naive UTC (``str(datetime)``, "2026-11-25
    11:00:00"), made by numpy instead of one ``adapt_datetimefield_value`` call per value; on
    PostgreSQL it is aware datetimes, which psycopg sends as they are.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    out: list[Any]
    if connection.vendor == "sqlite":
        iso = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
        out = np.char.replace(iso, "T", " ").tolist()
    else:
        out = [datetime.fromtimestamp(s, tz=UTC) for s in seconds.tolist()]
    for i in np.flatnonzero(seconds == none).tolist():
        out[i] = None
    return out


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]],
                *, batch: int = 5000, prepared: Iterable[str] = ()) -> int:
    """Insert ``rows`` (a value per name in ``names``) into ``model``'s table; return the count.

    Columns named in ``prepared`` hold values already in the database's form (``db_datetimes``).
    """
    given = [cast(models.Field, model._meta.get_field(name)) for name in names]
    # Columns not given take their default; one with only a database default is left to it.
    others = [f for f in model._meta.concrete_fields
              if f not in given and not (f.primary_key and isinstance(f, models.AutoField))
              and not (f.db_default is not NOT_PROVIDED and not f.has_default())]
    fields = [*given, *others]
    ready = set(prepared)
    adapters = [None if name in ready else _adapter(f)
                for name, f in zip(names, given, strict=True)]
    constants = tuple(
        a(f.get_default()) if (a := _adapter(f))
        else f.get_db_prep_save(f.get_default(), connection)
        for f in others
    )
    quote = connection.ops.quote_name
    # Table and column names come from the model, never from input.
    columns = ", ".join(quote(f.column) for f in fields)
    places = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({places})"  # noqa: S608
    adapt = [(i, a) for i, a in enumerate(adapters) if a is not None]
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(iterator, batch)):
            params = []
            for row in chunk:
                values = list(row)
                for i, a in adapt:
                    values[i] = a(values[i])
                params.append((*values, *constants))
            cursor.executemany(sql, params)
            count += len(params)
    return count


def update_rows(objects: Sequence[Model], names: Sequence[str]) -> int:
    """Write ``names`` of each of ``objects`` (instances of one model) by primary key, one
    ``executemany`` of plain UPDATEs: ``bulk_update`` builds a CASE expression per column and
    row, and spent ten minutes on the demo's 23,000 clocks."""
    if not objects:
        return 0
    model = type(objects[0])
    fields = [cast(models.Field, model._meta.get_field(name)) for name in names]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608
    params = [(*(f.get_db_prep_save(getattr(o, f.attname), connection) for f in fields), o.pk) for o in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
