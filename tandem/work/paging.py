"""Keyset pagination: "next" and "previous" by the last row seen, never OFFSET, never COUNT(*).

A page is found by seeking an index to the cursor row's sort key and reading ``size + 1`` rows,
so the cost of page 40,000 is the cost of page 1. A cursor is the id of a row; for sorts on
another column the row's value of that column is read first (one lookup by primary key).

A sort may also name values computed for each row (``keys``: name → expression, e.g. what is
due of a request's promise and agreement); they must never be NULL, since nothing compares
greater or less than NULL. No index serves such a sort: the database reads every row of the
filtered set to order it, so keep it to sets that stay small (a team's open work).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet

M = TypeVar("M", bound=models.Model)

# A sort is a tuple of (field, descending); the last field must be the unique ``id``.
Sort = tuple[tuple[str, bool], ...]
OLDEST_FIRST: Sort = (("id", False),)
NEWEST_FIRST: Sort = (("id", True),)


@dataclass
class KeysetPage(Generic[M]):
    items: list[M]
    next_after: int | None  # pass as ?after= for the next page
    previous_before: int | None  # pass as ?before= for the previous page
    at_start: bool  # no cursor was given: this is the first page


def parse_cursor(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _seek(sort: Sort, values: dict[str, Any], forward: bool) -> Q:
    """Rows strictly after (forward) or before the row with these sort values."""
    clauses = []
    for i, (field, descending) in enumerate(sort):
        goes_up = forward != descending
        equal = {f: values[f] for f, _ in sort[:i]}
        clauses.append(Q(**equal, **{f"{field}__{'gt' if goes_up else 'lt'}": values[field]}))
    return reduce(or_, clauses)


def _order(sort: Sort, forward: bool) -> list[str]:
    return [("-" if descending == forward else "") + field for field, descending in sort]


def _key_of(row: Any, sort: Sort) -> dict[str, Any]:
    return {field: getattr(row, field) for field, _ in sort}


def _read(
    qs: QuerySet[M], order: list[str], limit: int, keys: Mapping[str, Any], computed: bool, related: tuple[str, ...]
) -> list[M]:
    if related:
        # The page's ids (and its computed keys) first, through the filtered query without the
        # joins; then its rows by primary key with them. Planning the filtered query joined to a
        # dozen tables (people and their accounts, units, services, organisation; each with its
        # row-level security policy on PostgreSQL) cost 70 ms a page at a million requests,
        # against 1 ms to run it. The ids came through ``qs``'s filters, so the rows need not.
        names = list(keys)
        found = list(qs.order_by(*order).values_list("pk", *names)[:limit])
        by_id = qs.model._default_manager.select_related(*related).order_by().in_bulk([r[0] for r in found])
        rows = []
        for pk, *values in found:
            if (row := by_id.get(pk)) is not None:  # None: deleted between the two reads
                for name, value in zip(names, values, strict=True):
                    setattr(row, name, value)
                rows.append(row)
        return rows
    if not computed:
        return list(qs.order_by(*order)[:limit])
    # A computed order is sorted in a temporary b-tree whatever the plan, and SQLite then chose
    # to reach a queue's few hundred open rows through the requester's index, reading every
    # request of every person (25 ms for Invoicing's 373 in the demo, growing with the history).
    # Ordering the bare ids keeps it on the queue's index; the page's rows come by primary key.
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[:limit])
    read = {row.pk: row for row in qs.filter(pk__in=ids)}
    return [read[pk] for pk in ids]


def keyset_page(
    qs: QuerySet[M],
    sort: Sort,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int = 25,
    keys: Mapping[str, Any] | None = None,
    related: tuple[str, ...] = (),
) -> KeysetPage[M]:
    """A page of ``qs`` in the order of ``sort``; the rows carry the ``keys`` computed for them.
    With ``related``, the rows are read with those relations joined, by primary key, after the
    page's ids were found without them (``_read``)."""
    fields = [field for field, _ in sort]
    keys = keys or {}
    qs = qs.annotate(**keys)
    computed = any(field in keys for field in fields)
    backward = before is not None and after is None
    cursor_id = after if after is not None else before
    cursor: dict[str, Any] | None = None
    if cursor_id is not None:
        if fields == ["id"]:
            cursor = {"id": cursor_id}
        else:
            # The cursor row may have left the filtered set (picked, resolved) since the
            # previous page was shown; its position in the sort is still the right place.
            every = qs.model._default_manager.annotate(**keys)
            cursor = every.filter(pk=cursor_id).values(*fields).first()
    if cursor is None:
        rows = _read(qs, _order(sort, True), size + 1, keys, computed, related)
        items = rows[:size]
        nxt = items[-1].pk if len(rows) > size else None
        return KeysetPage(items, next_after=nxt, previous_before=None, at_start=True)
    if not backward:  # ?after=: the rows following the cursor
        rows = _read(qs.filter(_seek(sort, cursor, True)), _order(sort, True), size + 1, keys, computed, related)
        items = rows[:size]
        nxt = items[-1].pk if len(rows) > size else None
        prev = (
            items[0].pk
            if items and qs.filter(_seek(sort, _key_of(items[0], sort), False)).exists()
            else None
        )
        return KeysetPage(items, next_after=nxt, previous_before=prev, at_start=False)
    # ?before=: the rows preceding the cursor, read backwards then put in order
    rows = _read(qs.filter(_seek(sort, cursor, False)), _order(sort, False), size + 1, keys, computed, related)
    items = rows[:size][::-1]
    prev = items[0].pk if len(rows) > size else None
    nxt = (
        items[-1].pk
        if items and qs.filter(_seek(sort, _key_of(items[-1], sort), True)).exists()
        else None
    )
    return KeysetPage(items, next_after=nxt, previous_before=prev, at_start=False)
