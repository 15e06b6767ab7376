"""Messages up the layers: one row per reaction owed, written in the transaction of the change
that owes it (docs/architecture.md, "Upward: the outbox")."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

PENDING = Q(handled_at__isnull=True, failed_at__isnull=True)


class Message(models.Model):
    """``consumer`` has to react to ``topic`` about ``key``. Messages of one consumer and key are
    handled one at a time, oldest first."""

    topic = models.CharField(max_length=60, help_text='What happened: "request.assigned", "absence.recorded".')
    key = models.CharField(max_length=60, help_text='What it happened to: "request:12", "unit:3".')
    consumer = models.CharField(max_length=40, help_text="Who reacts (an app's consumer, named in its ready()).")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now, help_text="Not handled before then (a retry waits).")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A handler holds it until then.")
    claimed_by = models.CharField(max_length=100, blank=True, help_text="host:pid of the process holding it.")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Given up on; `tandem outbox --retry` retries.")

    #: The object the publishing action held (the request), for handlers in the same process; not
    #: stored, so a message read from the table has none.
    subject: Any = None

    class Meta:
        indexes = [
            # The handler's "oldest pending message of this consumer and key".
            models.Index(fields=["consumer", "key", "id"], name="outbox_pending_by_key", condition=PENDING),
            # The worker's "which keys have messages due".
            models.Index(fields=["available_at"], name="outbox_pending_due", condition=PENDING),
            # The worker's purge of messages handled long ago.
            models.Index(fields=["handled_at"], name="outbox_handled", condition=Q(handled_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.key} → {self.consumer}"
