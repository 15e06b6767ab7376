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

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
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


#: PostgreSQL: the newest requests a search looks among first, then a window wide enough for the
#: matches wanted at the density found, until enough matches are found (``newest_matches``).
FIRST_WINDOW = 10_000


def newest_matches(qs: QuerySet[ServiceRequest], limit: int, top: int | None) -> list[tuple[int, float, bool]]:
    """The newest ``limit`` matches of a ``matching`` queryset, as (request id, score, open),
    in the order the index can give without ranking every match. Whether each is open comes
    with its match (the tie-break: open before closed), not from a look-up of its own.

    - SQLite: FTS5 walks its matches by rowid, newest first, and stops at the limit.
    - PostgreSQL: a GIN index gives its matches in no order, and asked for the newest few, the
      planner walks the requests newest first checking each document instead, which takes
      seconds when the word is rare among the person's requests. So the matches are asked for
      without an order among the newest ``FIRST_WINDOW`` requests up to ``top`` (the newest
      document, given by ``search_transaction``), then in a window as much wider as the matches found there
      say is needed (all requests when none were found), until there are enough: each step
      reads the documents of its window only, and most stop at the first. Run inside
      ``search_transaction``."""
    rows = qs.values_list("pk", "search_score", "is_open")  # type: ignore[misc]  # an extra select
    if connection.vendor == "sqlite":
        return list(rows.extra(order_by=["-search_fts.rowid"])[:limit])
    top = top or 0
    window = FIRST_WINDOW
    while True:
        low = top - window
        found = list(rows.extra(where=["search_searchdocument.request_id > %s"], params=[low]) if low > 0 else rows)
        if len(found) >= limit or low <= 0:
            return sorted(found, key=lambda row: -row[0])[:limit]
        # Wide enough, at the density of matches seen so far, to hold half as many again as
        # wanted; everything when there were none.
        window = max(2 * window, window * limit * 3 // (2 * len(found))) if found else top


#: PostgreSQL settings for the search's statements, in their transaction only: a search reads a
#: few thousand rows at most, so starting parallel workers (tens of milliseconds each on a busy
#: machine) and compiling the plan to machine code (JIT: 30-260 ms, measured at a million
#: requests) cost more than they save.
SEARCH_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0", "enable_indexscan": "off"}


@contextmanager
def search_transaction() -> Iterator[int | None]:
    """A whole search's statements in one transaction on PostgreSQL, planned with their values,
    with ``SEARCH_SETTINGS`` set by one statement, which also reads the newest document's
    request id (where ``newest_matches`` starts its windows; None on SQLite). It is read by the
    statement that sets the settings, because its plan is made before they apply: with plain
    index scans off, ``ORDER BY request_id DESC LIMIT 1`` sorts every document (0.5 s).

    One transaction: outside one each statement would be its own (four round trips a statement
    with the organisation's setting, tandem.isolation), and the settings and the newest document
    were read again for each group of columns (20 statements a search where 8-10 do).

    Planned with their values: psycopg prepares a query run five times
    (``tandem.settings.prepared_statements``), and after five runs of a prepared statement
    PostgreSQL may keep a generic plan made without the values: for a search, one that walks
    the requests newest first checking every document (measured: 60 ms a search planned with
    its values, 600-900 ms with the generic plan). On SQLite nothing: a transaction there
    begins IMMEDIATE (tandem/settings.py) and would hold the write lock."""
    if connection.vendor != "postgresql":
        yield None
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            settings = ", ".join("set_config(%s, %s, true)" for _ in SEARCH_SETTINGS)
            cursor.execute(f"SELECT (SELECT max(request_id) FROM search_searchdocument), {settings}",  # noqa: S608
                           [part for setting in SEARCH_SETTINGS.items() for part in setting])
            yield cursor.fetchone()[0] or 0
    finally:
        raw.prepare_threshold = before


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
