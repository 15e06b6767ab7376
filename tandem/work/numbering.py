"""Requests' and cases' numbers within their organisation, and the references people read
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
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Model

from tandem.org.models import Organisation
from tandem.work.models import Case, ServiceRequest

#: The provider's own references' prefix; a client's is its organisation's slug, upper case.
PROVIDER_PREFIX = "SR"
#: A reference as typed: a prefix (letters, digits, hyphens; a slug's), then the number after a
#: hyphen, or straight after a letter (``SR42``).
_REFERENCE = re.compile(r"^\s*([A-Za-z](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?)(?:-|(?<=[A-Za-z]))\s*0*(\d{1,9})\s*$")


@dataclass(frozen=True)
class Numbering:
    """One numbered table: whose unit names the organisation, the references' prefixes, the lock."""

    model: type[Model]
    table: str
    unit_column: str  # the unit whose organisation numbers the row
    provider_prefix: str
    client_prefix_sql: str  # of ``o``, the organisation: SQL for its prefix
    # pg_advisory_xact_lock(key1, key2): key1 says which numbering, key2 the organisation (0: the
    # provider's own), so the lock never meets another use of advisory locks.
    lock_space: int

    def client_prefix(self, organisation: Organisation) -> str:
        slug = organisation.slug.upper()
        return slug if self.model is ServiceRequest else f"{self.provider_prefix}-{slug}"

    def prefix_of(self, organisation: Organisation | None) -> str:
        return self.provider_prefix if organisation is None else self.client_prefix(organisation)


REQUESTS = Numbering(ServiceRequest, "work_servicerequest", "requesting_unit_id", PROVIDER_PREFIX, "UPPER(o.slug)",
                     lock_space=7_401)
CASES = Numbering(Case, "work_case", "unit_id", "C", "'C-' || UPPER(o.slug)", lock_space=7_402)
NUMBERINGS = (REQUESTS, CASES)


def prefix_of(organisation: Organisation | None) -> str:
    """A request's prefix."""
    return REQUESTS.prefix_of(organisation)


def reference_for(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def reserve(organisation: Organisation | None, count: int = 1, *, numbering: Numbering = REQUESTS) -> int:
    """The first of ``count`` consecutive numbers of ``numbering`` (requests unless told),
    reserved for ``organisation`` (None: the provider's own) until the calling transaction ends.
    Call it inside that transaction."""
    organisation_id = organisation.pk if organisation is not None else None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [numbering.lock_space, organisation_id or 0])
    rows = numbering.model._default_manager.all()
    mine = rows.filter(organisation_id=organisation_id) if organisation_id is not None else rows.filter(
        organisation__isnull=True)
    highest = mine.aggregate(highest=Max("number"))["highest"]
    return (highest or 0) + 1


def give_number(row: ServiceRequest | Case, organisation: Organisation | None) -> None:
    """Number a request being submitted or a case being opened (before its first save)."""
    numbering = CASES if isinstance(row, Case) else REQUESTS
    row.organisation = organisation
    row.number = reserve(organisation, numbering=numbering)
    row.reference = reference_for(numbering.prefix_of(organisation), row.number)


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


def _numbering_sql(vendor: str, which: str, numbering: Numbering = REQUESTS) -> str:
    """One statement giving the client rows ``which`` selects (a condition on ``r``, the row, and
    ``u``, the unit that names its organisation) that organisation and its next numbers, in the
    order of their ids."""
    table, unit = numbering.table, numbering.unit_column
    ranked = (
        "SELECT r.id AS id, u.organisation_id AS organisation_id, COALESCE(b.top, 0)"  # noqa: S608 (constant SQL)
        " + ROW_NUMBER() OVER (PARTITION BY u.organisation_id ORDER BY r.id) AS n, "
        f"{numbering.client_prefix_sql} AS prefix "
        f"FROM {table} r JOIN org_unit u ON u.id = r.{unit} "
        "JOIN org_organisation o ON o.id = u.organisation_id "
        f"LEFT JOIN (SELECT organisation_id, MAX(number) AS top FROM {table} "
        "WHERE organisation_id IS NOT NULL GROUP BY organisation_id) b ON b.organisation_id = u.organisation_id "
        f"WHERE {which}"
    )
    return (
        f"UPDATE {table} SET organisation_id = ranked.organisation_id, number = ranked.n, "  # noqa: S608 (constant SQL)
        f"reference = ranked.prefix || '-' || {_pad(vendor, 'ranked.n')} "
        f"FROM ({ranked}) AS ranked WHERE {table}.id = ranked.id"
    )


def _pad(vendor: str, n: str) -> str:
    """SQL for ``f"{n:06d}"``."""
    if vendor == "sqlite":
        return f"printf('%06d', {n})"
    return f"CASE WHEN {n} < 1000000 THEN lpad(({n})::text, 6, '0') ELSE ({n})::text END"


def number_unnumbered_sql(vendor: str, *, keep_provider_ids: bool = False,
                          numbering: Numbering = REQUESTS) -> list[str]:
    """SQL giving every row of ``numbering`` without a number its organisation, number and
    reference: a client's the next numbers of its organisation in the order of their ids; the
    provider's own the next of the provider's numbering, or (``keep_provider_ids``: the migration
    that brings numbers) their id, so that a reference already written down (``SR-000123``,
    ``C-000123``) keeps naming the same row."""
    table, unit, prefix = numbering.table, numbering.unit_column, numbering.provider_prefix
    if keep_provider_ids:
        provider = (
            f"UPDATE {table} SET number = id, reference = '{prefix}-' || {_pad(vendor, 'id')} "  # noqa: S608 (constant SQL)
            "WHERE number IS NULL"
        )
    else:
        ranked = (
            f"SELECT r.id AS id, (SELECT COALESCE(MAX(number), 0) FROM {table} "  # noqa: S608 (constant SQL)
            "WHERE organisation_id IS NULL AND number IS NOT NULL) + ROW_NUMBER() OVER (ORDER BY r.id) AS n "
            f"FROM {table} r JOIN org_unit u ON u.id = r.{unit} "
            "WHERE r.number IS NULL AND u.organisation_id IS NULL"
        )
        provider = (
            f"UPDATE {table} SET number = ranked.n, "  # noqa: S608 (constant SQL)
            f"reference = '{prefix}-' || {_pad(vendor, 'ranked.n')} "
            f"FROM ({ranked}) AS ranked WHERE {table}.id = ranked.id"
        )
    return [_numbering_sql(vendor, "r.number IS NULL", numbering), provider]


def number_unnumbered() -> int:
    """The worker's duty: number the requests and cases the previous release wrote during a
    rolling upgrade (it knows no numbers), each after its organisation's last. On PostgreSQL it
    takes every numbering's lock first, as a submission takes its own, so that no submission
    reads the same highest number meanwhile. Returns how many were numbered."""
    count = 0
    for numbering in NUMBERINGS:
        waiting = numbering.model._default_manager.filter(number__isnull=True)
        if not waiting.exists():  # every round but an upgrade's: one look at an empty index
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            count += waiting.count()
            if connection.vendor == "postgresql":
                unit = numbering.unit_column.removesuffix("_id")
                ids = sorted({organisation_id or 0 for organisation_id in
                              waiting.values_list(f"{unit}__organisation_id", flat=True).distinct()})
                for organisation_id in ids:  # in one order: a submission holds at most one of them
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [numbering.lock_space, organisation_id])
            for statement in number_unnumbered_sql(connection.vendor, numbering=numbering):
                cursor.execute(statement)
    return count


def renumber_clients(organisation_ids: list[int]) -> None:
    """Give the requests and cases of units just handed to these client organisations (the demo)
    their clients' numbering, after any number each already gave, as if they had been asked there."""
    if not organisation_ids:
        return
    listed = ", ".join(str(int(pk)) for pk in organisation_ids)
    moved = (f"u.organisation_id IN ({listed}) "
             "AND (r.organisation_id IS NULL OR r.organisation_id <> u.organisation_id)")
    with connection.cursor() as cursor:
        for numbering in NUMBERINGS:
            cursor.execute(_numbering_sql(connection.vendor, moved, numbering))
