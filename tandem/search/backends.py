"""The two full-text backends behind one interface, chosen by the database's vendor:
``matching(qs, query, columns, keys)`` narrows a queryset of requests to those whose document
matches every term of the query in the given columns and, when ``keys`` are given, holds at
least one of those access keys, with a ``search_score`` to order by (lower first).

- SQLite: FTS5 ``MATCH`` with a column filter, ``AND access : (key OR key ...)``, scored by
  ``bm25`` (heading weighs most; the access column weighs nothing);
- PostgreSQL: ``@@`` on the weighted tsvector with the query's lexemes restricted to the
  columns' weights, and ``@@`` on the keys' own tsvector (one GIN index holds both, so the
  index intersects them), scored by ``ts_rank`` on the words alone (negated, so that both
  order the same way).

Both join the document on the request's id, so the permission-aware queryset passed in decides
what may be found: the backends only add the match, and the keys only spare the database the
matches the person could not see anyway."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from tandem.engines.textsearch import Query, fts5_match, tsquery_text
from tandem.work.models import ServiceRequest

#: The columns of the document, in the order of the FTS5 table and of the weights A–D.
COLUMNS = ("heading", "requester", "payload", "internal")
_WEIGHTS = dict(zip(COLUMNS, "ABCD", strict=True))
# bm25 weights per column (heading, requester, payload, internal) and ts_rank's {D, C, B, A}.
_BM25 = "bm25(search_fts, 10.0, 6.0, 2.0, 1.0, 0.0)"
_TS_RANK_WEIGHTS = "{0.2, 0.3, 0.6, 1.0}"


def fts5_any(words: tuple[str, ...], column: str) -> str:
    """An FTS5 expression true when any of these words is in the column. The words are access
    keys the program makes (letters and digits), never typed text."""
    return column + " : (" + " OR ".join(f'"{word}"' for word in words) + ")"


def newest_first(qs: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """The matches newest first, in the order the index can give without ranking them all:
    FTS5 walks its matches by rowid, so this streams instead of scoring every match."""
    if connection.vendor == "sqlite":
        return qs.extra(order_by=["-search_fts.rowid"])
    return qs.order_by("-pk")


def matching(qs: QuerySet[ServiceRequest], query: Query, columns: tuple[str, ...],
             keys: tuple[str, ...] | None = None) -> QuerySet[ServiceRequest]:
    """``keys`` None: every match of the words; otherwise only the documents holding one of
    the keys (an empty tuple matches nothing)."""
    if keys is not None and not keys:
        return qs.none()
    table = ServiceRequest._meta.db_table
    if connection.vendor == "sqlite":
        match = fts5_match(query, columns)
        if keys is not None:
            match = f"{match} AND {fts5_any(keys, 'access')}"
        return qs.extra(  # noqa: S610 (constant SQL; the text goes in params)
            select={"search_score": _BM25},
            tables=["search_fts"],
            where=[f"search_fts.rowid = {table}.id", "search_fts MATCH %s"],
            params=[match],
        )
    weights = "".join(_WEIGHTS[c] for c in columns)
    text = tsquery_text(query, weights)
    tsquery = "to_tsquery('english'::regconfig, %s)"
    where = [f"search_searchdocument.request_id = {table}.id", f"search_searchdocument.vector @@ {tsquery}"]
    params = [text]
    if keys is not None:
        where.append("search_searchdocument.access_vector @@ to_tsquery('simple'::regconfig, %s)")
        params.append(" | ".join(keys))
    return qs.extra(  # noqa: S610 (constant SQL; the text goes in params)
        select={"search_score": f"-ts_rank('{_TS_RANK_WEIGHTS}', search_searchdocument.vector, {tsquery})"},
        select_params=[text],
        tables=["search_searchdocument"],
        where=where,
        params=params,
    )
