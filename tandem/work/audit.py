"""Verify the hash chains of the stored events (``tandem verify-audit``; docs/audit.md).

Streams events ordered by (request, seq) and requests ordered by id, with server-side cursors
on PostgreSQL, into ``tandem.engines.auditchain.verify_chains``: memory stays flat at millions
of events. On PostgreSQL both streams read one REPEATABLE READ snapshot, so an action
committing meanwhile cannot look like a truncated chain.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import connection, transaction

from tandem.engines.auditchain import EVENT_FIELDS, Verdict, reference, verify_chains
from tandem.work.models import Event, ServiceRequest

CHUNK = 20_000


def verify_audit(*, request_id: int | None = None, chunk_size: int = CHUNK) -> Verdict:
    """The first broken link of any request's event chain (``request_id``: of that one only)."""
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if fresh and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        events = Event.objects.order_by("request_id", "seq")
        requests = ServiceRequest.objects.order_by("id")
        if request_id is not None:
            events = events.filter(request_id=request_id)
            requests = requests.filter(pk=request_id)
        verdict = verify_chains(
            events.values_list(*EVENT_FIELDS).iterator(chunk_size=chunk_size),
            requests.values_list("id", "last_event_seq").iterator(chunk_size=chunk_size),
        )
        problem = verdict.problem
        if problem is not None:
            # The engine names a request by its id; people know it by its reference.
            stored = ServiceRequest.objects.filter(pk=problem.request_id).values_list("reference", flat=True).first()
            if stored:
                named = problem.message.replace(reference(problem.request_id), stored)
                verdict.problem = replace(problem, message=named)
        return verdict
