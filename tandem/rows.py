"""Reading one row by a unique key."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def one_or_none(qs: QuerySet[M]) -> M | None:
    """The row a lookup by a unique key finds, or None.

    ``.first()`` adds an ORDER BY (the model's ordering, else the primary key) to choose among
    rows, and to resolve an ordering Django hashes every selected column: with a few tables
    joined, that was a third of an API read's CPU, for a query that can find one row at most.
    """
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None
