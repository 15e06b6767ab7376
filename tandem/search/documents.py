"""Writing the search documents: a request's words, read from its rows, by who may read them.

``index_requests`` writes the documents of some requests again (the reaction to a request's
change, in the action's transaction); ``index_missing`` and ``rebuild`` write them in batches
for every request (the migration's backfill, ``tandem search_index``, the demo). They read
plain values, never model methods, so that the migration can run them on its historical models.

Besides its words, a document holds the request's **access keys** (``access``): hidden words
naming who may see the request, so that the full-text index narrows a search to what the person
may see before a row is read (``tandem.search.queries``). Every key is a column of the request
that never changes once it is submitted (the providing unit, the requester, the approver, the
requesting unit, the case, confidentiality: the approver is set in the submission's
transaction, before its document is written), so the keys need no reindexing when people move, are lent or take
over a case: who holds which key is decided when searching. The keys only narrow; the
permission-aware queryset stays the final filter, so a wrong key can hide a request from a
search but never show one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction

#: The longest text one column keeps: PostgreSQL's tsvector holds at most 1 MB, and a search
#: finds a request by its first words as well as by its last.
COLUMN_LIMIT = 100_000
_NAME_PARTS = re.compile(r"[\W_]+")
BATCH = 2_000


def _models(apps: Any = None) -> tuple[Any, Any, Any]:
    if apps is None:
        from django.apps import apps as live

        apps = live
    return (apps.get_model("work", "ServiceRequest"), apps.get_model("work", "Comment"),
            apps.get_model("search", "SearchDocument"))


def _live_apps() -> Any:
    from django.apps import apps as live

    return live


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value not in (None, ""):
        yield str(value)


def unit_key(unit_id: int) -> str:
    """Held by the people who work the unit's queue (the providing unit's key)."""
    return f"unit{unit_id}"


def asker_key(person_id: int) -> str:
    """Held by the requester."""
    return f"asker{person_id}"


def approver_key(person_id: int) -> str:
    """Held by the request's approver (confidential or not: they decide on its details)."""
    return f"approver{person_id}"


def from_key(unit_id: int) -> str:
    """Held by the people of the requesting unit (only on a request that is not confidential)."""
    return f"from{unit_id}"


def case_key(case_id: int) -> str:
    """Held by the case's owner, whoever that is now (only on a request that is not confidential)."""
    return f"case{case_id}"


def access_keys(unit_id: int, requester_id: int, approver_id: int | None, requesting_unit_id: int,
                case_id: int | None, confidential: bool) -> str:
    """The request's access keys, following ``requests_visible_to``: its providing unit, its
    requester and its approver see it always; the requesting unit's people and the case owner
    only when it is not confidential, so a confidential request carries no key of theirs."""
    keys = [unit_key(unit_id), asker_key(requester_id)]
    if approver_id is not None:
        keys.append(approver_key(approver_id))
    if not confidential:
        keys.append(from_key(requesting_unit_id))
        if case_id is not None:
            keys.append(case_key(case_id))
    return " ".join(keys)


_KEY_FIELDS = ("unit_id", "requester_id", "approver_id", "requesting_unit_id", "case_id", "confidential")


def _documents(ids: list[int], apps: Any = None) -> list[Any]:
    request_model, comment_model, document_model = _models(apps)
    # The heading carries the reference people see (work 0019 added it; earlier migrations that
    # build documents see a model without it, and head them by the id as the reference was then).
    referenced = any(f.name == "reference" for f in request_model._meta.concrete_fields)
    rows = request_model.objects.filter(pk__in=ids).values_list(
        "pk", "reference" if referenced else "pk", "title", "intake",
        "resolution", "requester__user__first_name", "requester__user__last_name",
        "requester__user__username", *_KEY_FIELDS,
    )
    shared: dict[int, list[str]] = {}
    internal: dict[int, list[str]] = {}
    comments = comment_model.objects.filter(request_id__in=ids).order_by("request_id", "created_at", "id")
    for request_id, body, visibility in comments.values_list("request_id", "body", "visibility"):
        (internal if visibility == "internal" else shared).setdefault(request_id, []).append(body)
    # The files' names, by who may read them (``attachments_for``): a file of an internal note
    # is in the internal notes' column, any other in the payload's. The migration that brought
    # search runs this on historical models that may have no attachments yet.
    try:
        attachment_model = (apps or _live_apps()).get_model("work", "Attachment")
    except LookupError:
        attachment_model = None
    if attachment_model is not None:
        files = attachment_model.objects.filter(request_id__in=ids).order_by("request_id", "id")
        for request_id, name, visibility in files.values_list("request_id", "name", "comment__visibility"):
            # As words: PostgreSQL's parser reads "rota-june.pdf" as one host name, not three words.
            words = _NAME_PARTS.sub(" ", name).strip()
            (internal if visibility == "internal" else shared).setdefault(request_id, []).append(words)
    # The migration that brought search (0001) runs this on a model without the keys' column.
    keyed = any(f.name == "access" for f in document_model._meta.concrete_fields)
    documents = []
    for pk, reference, title, intake, resolution, first, last, username, *keys in rows:
        name = f"{first} {last}".strip()
        payload = [*_flatten(intake or {}), *shared.get(pk, []), resolution or ""]
        documents.append(document_model(
            request_id=pk,
            heading=f"{reference if referenced else f'SR-{pk:06d}'} {title}",
            requester=f"{name} {username}" if name else username,
            payload="\n".join(p for p in payload if p)[:COLUMN_LIMIT],
            internal="\n".join(internal.get(pk, []))[:COLUMN_LIMIT],
            **({"access": access_keys(*keys)} if keyed else {}),
        ))
    return documents


def index_requests(ids: Iterable[int], apps: Any = None) -> int:
    """Write the documents of these requests again (deleted and inserted: on SQLite the
    triggers take the old words out of the index and put the new ones in)."""
    ids = list(ids)
    _, _, document_model = _models(apps)
    documents = _documents(ids, apps)
    document_model.objects.filter(request_id__in=ids).delete()
    document_model.objects.bulk_create(documents, batch_size=500)
    return len(documents)


#: ``access_keys`` in SQL (the same text on SQLite and PostgreSQL), for writing every document's
#: keys in one statement per range of requests rather than a row at a time.
_ACCESS_SQL = (
    "'unit' || r.unit_id || ' asker' || r.requester_id || COALESCE(' approver' || r.approver_id, '') "
    "|| CASE WHEN r.confidential THEN '' "
    "ELSE ' from' || r.requesting_unit_id || COALESCE(' case' || r.case_id, '') END"
)
_ACCESS_RANGE = 50_000


def write_access(apps: Any = None, *, missing_only: bool = False) -> int:
    """Write the access keys of every document from its request, a range of requests per
    transaction (the migration that brought the keys; documents written since carry theirs).
    ``missing_only``: only documents without keys (written by an older release during an
    upgrade; every request has at least two keys)."""
    request_model, _, document_model = _models(apps)
    requests, documents = request_model._meta.db_table, document_model._meta.db_table
    top = request_model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    done = 0
    for low in range(0, top, _ACCESS_RANGE):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {documents} SET access = {_ACCESS_SQL} FROM {requests} r "  # noqa: S608 (names from the models)
                f"WHERE r.id = {documents}.request_id AND {documents}.request_id > %s "
                f"AND {documents}.request_id <= %s" + (f" AND {documents}.access = ''" if missing_only else ""),
                [low, low + _ACCESS_RANGE],
            )
            done += cursor.rowcount
    return done


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def index_missing(apps: Any = None) -> int:
    """Give every request without a document its document, in batches of their own
    transactions (a million requests take minutes; readers see the batches arrive), and every
    document without access keys its keys. Returns the documents written."""
    request_model, _, document_model = _models(apps)
    done = 0
    last = 0
    while True:
        ids = list(
            request_model.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH * 10]
        )
        if not ids:
            break
        last = ids[-1]
        have = set(document_model.objects.filter(request_id__in=ids).values_list("request_id", flat=True))
        for batch in _batches(pk for pk in ids if pk not in have):
            with transaction.atomic():
                document_model.objects.bulk_create(_documents(batch, apps), batch_size=500)
            done += len(batch)
    if any(f.name == "access" for f in document_model._meta.concrete_fields):
        done += write_access(apps, missing_only=True)
    return done


def rebuild(apps: Any = None) -> int:
    """Every document written again from the requests (after a change of people's names, or to
    mend an index that is out of step), then the full-text index rebuilt and compacted."""
    request_model, _, document_model = _models(apps)
    # Read first: SQLite must not write the table it is reading through an open cursor.
    ids = list(request_model.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for batch in _batches(ids):
        with transaction.atomic():
            done += index_requests(batch, apps)
    with transaction.atomic():
        document_model.objects.exclude(request_id__in=request_model.objects.values("pk")).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        else:
            cursor.execute("ANALYZE search_searchdocument")
    return done
