"""Reads of the outbox, for operators: what is pending, what failed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Q

from tandem.outbox.models import PENDING, Message


def backlog() -> list[dict[str, Any]]:
    """Per consumer: messages pending, the oldest pending one's creation time, and failed ones."""
    rows = (
        Message.objects.filter(handled_at__isnull=True)
        .values("consumer")
        .annotate(
            pending=Count("pk", filter=PENDING),
            oldest=Min("created_at", filter=PENDING),
            failed=Count("pk", filter=Q(failed_at__isnull=False)),
        )
        .order_by("consumer")
    )
    return list(rows)


def failures(limit: int = 20) -> list[Message]:
    """The most recent failed messages, with their last error."""
    return list(Message.objects.filter(failed_at__isnull=False, handled_at__isnull=True).order_by("-failed_at")[:limit])
