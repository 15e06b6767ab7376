"""Requests' numbers within their requesting organisation, and the references people read
(docs/isolation.md, "References").

Each client organisation numbers its requests 1, 2, 3, ... (``NORTHERN-000042``); the provider's
own requests, between its own units, keep one numbering (``SR-000042``). A client reading two of
its references learns how many requests *it* made between them, never how many another client
did: the id every request shares stays in the back office.

A number is taken in the submission's transaction. On PostgreSQL two submissions of the same
organisation would both read the same highest number under READ COMMITTED, so the first takes a
transaction-scoped advisory lock on its organisation's numbering and the second waits for its
commit before reading; different organisations never wait on each other. On SQLite every writing
transaction begins IMMEDIATE (settings), so writers already run one at a time. The unique
constraints on (organisation, number) and on the reference are the backstop on both.
"""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import Max

from tandem.org.models import Organisation
from tandem.work.models import ServiceRequest

#: The provider's own references' prefix; a client's is its organisation's slug, upper case.
PROVIDER_PREFIX = "SR"
#: A reference as typed: a prefix (letters, digits, hyphens; a slug's), then the number after a
#: hyphen, or straight after a letter (``SR42``).
_REFERENCE = re.compile(r"^\s*([A-Za-z](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?)(?:-|(?<=[A-Za-z]))\s*0*(\d{1,9})\s*$")
# pg_advisory_xact_lock(key1, key2): key1 says "request numbering", key2 the organisation (0: the
# provider's own), so the lock never meets another use of advisory locks.
_LOCK_SPACE = 7_401


def prefix_of(organisation: Organisation | None) -> str:
    return PROVIDER_PREFIX if organisation is None else organisation.slug.upper()


def reference_for(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def reserve(organisation: Organisation | None, count: int = 1) -> int:
    """The first of ``count`` consecutive numbers, reserved for ``organisation`` (None: the
    provider's own) until the calling transaction ends. Call it inside that transaction."""
    organisation_id = organisation.pk if organisation is not None else None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, organisation_id or 0])
    mine = ServiceRequest.objects.filter(
        organisation_id=organisation_id) if organisation_id is not None else ServiceRequest.objects.filter(
        organisation__isnull=True)
    highest = mine.aggregate(highest=Max("number"))["highest"]
    return (highest or 0) + 1


def give_number(sr: ServiceRequest, organisation: Organisation | None) -> None:
    """Number a request being submitted (before its first save)."""
    sr.organisation = organisation
    sr.number = reserve(organisation)
    sr.reference = reference_for(prefix_of(organisation), sr.number)


def parse(text: str) -> tuple[str, int] | None:
    """(PREFIX, number) of a reference as typed: ``NORTHERN-000042``, ``sr-42``, ``SR42``; None
    when the text is not one."""
    match = _REFERENCE.match(text or "")
    if match is None or int(match.group(2)) == 0:
        return None
    return match.group(1).upper(), int(match.group(2))


def canonical(text: str) -> str | None:
    """The stored form of a reference as typed (``sr-42`` → ``SR-000042``), or None."""
    parsed = parse(text)
    return reference_for(*parsed) if parsed else None


def _numbering_sql(vendor: str, which: str) -> str:
    """One statement giving the client requests ``which`` selects (a condition on ``r``, the
    request, and ``u``, its requesting unit) their unit's organisation and its next numbers, in
    the order of their ids."""
    ranked = (
        "SELECT r.id AS id, u.organisation_id AS organisation_id, COALESCE(b.top, 0)"  # noqa: S608 (constant SQL)
        " + ROW_NUMBER() OVER (PARTITION BY u.organisation_id ORDER BY r.id) AS n, UPPER(o.slug) AS prefix "
        "FROM work_servicerequest r JOIN org_unit u ON u.id = r.requesting_unit_id "
        "JOIN org_organisation o ON o.id = u.organisation_id "
        "LEFT JOIN (SELECT organisation_id, MAX(number) AS top FROM work_servicerequest "
        "WHERE organisation_id IS NOT NULL GROUP BY organisation_id) b ON b.organisation_id = u.organisation_id "
        f"WHERE {which}"
    )
    return (
        "UPDATE work_servicerequest SET organisation_id = ranked.organisation_id, number = ranked.n, "  # noqa: S608 (constant SQL)
        f"reference = ranked.prefix || '-' || {_pad(vendor, 'ranked.n')} "
        f"FROM ({ranked}) AS ranked WHERE work_servicerequest.id = ranked.id"
    )


def _pad(vendor: str, n: str) -> str:
    """SQL for ``f"{n:06d}"``."""
    if vendor == "sqlite":
        return f"printf('%06d', {n})"
    return f"CASE WHEN {n} < 1000000 THEN lpad(({n})::text, 6, '0') ELSE ({n})::text END"


def number_unnumbered_sql(vendor: str, *, keep_provider_ids: bool = False) -> list[str]:
    """SQL giving every request without a number its organisation, number and reference: a
    client's the next numbers of its organisation in the order of their ids; the provider's own
    the next of the provider's numbering, or (``keep_provider_ids``: the migration that brings
    numbers) their id, so that a reference already written down (``SR-000123``) keeps naming
    the same request."""
    if keep_provider_ids:
        provider = (
            f"UPDATE work_servicerequest SET number = id, reference = 'SR-' || {_pad(vendor, 'id')} "  # noqa: S608 (constant SQL)
            "WHERE number IS NULL"
        )
    else:
        ranked = (
            "SELECT r.id AS id, (SELECT COALESCE(MAX(number), 0) FROM work_servicerequest "
            "WHERE organisation_id IS NULL AND number IS NOT NULL) + ROW_NUMBER() OVER (ORDER BY r.id) AS n "
            "FROM work_servicerequest r JOIN org_unit u ON u.id = r.requesting_unit_id "
            "WHERE r.number IS NULL AND u.organisation_id IS NULL"
        )
        provider = (
            "UPDATE work_servicerequest SET number = ranked.n, "  # noqa: S608 (constant SQL)
            f"reference = '{PROVIDER_PREFIX}-' || {_pad(vendor, 'ranked.n')} "
            f"FROM ({ranked}) AS ranked WHERE work_servicerequest.id = ranked.id"
        )
    return [_numbering_sql(vendor, "r.number IS NULL"), provider]


def number_unnumbered() -> int:
    """The worker's duty: number the requests the previous release wrote during a rolling
    upgrade (it knows no numbers), each after its organisation's last. On PostgreSQL it takes
    every numbering's lock first, as a submission takes its own, so that no submission reads
    the same highest number meanwhile. Returns how many were numbered."""
    waiting = ServiceRequest.objects.filter(number__isnull=True)
    if not waiting.exists():  # every round but an upgrade's: one look at an empty index
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        count = waiting.count()
        if connection.vendor == "postgresql":
            ids = sorted({organisation_id or 0 for organisation_id in
                          waiting.values_list("requesting_unit__organisation_id", flat=True).distinct()})
            for organisation_id in ids:  # in one order: a submission holds at most one of them
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, organisation_id])
        for statement in number_unnumbered_sql(connection.vendor):
            cursor.execute(statement)
    return count


def renumber_clients(organisation_ids: list[int]) -> None:
    """Give the requests of units just handed to these client organisations (the demo) their
    clients' numbering, after any number each already gave, as if they had been asked there."""
    if not organisation_ids:
        return
    listed = ", ".join(str(int(pk)) for pk in organisation_ids)
    moved = (f"u.organisation_id IN ({listed}) "
             "AND (r.organisation_id IS NULL OR r.organisation_id <> u.organisation_id)")
    with connection.cursor() as cursor:
        cursor.execute(_numbering_sql(connection.vendor, moved))
