"""The promise a requester was given at submission, and the live forecast that keeps it honest."""

from __future__ import annotations

from django.db import models

from tandem.catalogue.models import Service
from tandem.org.models import Unit
from tandem.work.models import ServiceRequest


class Basis(models.TextChoices):
    HISTORY = "history", "Quoted from the queue and the history of similar requests"
    TURNAROUND = "turnaround", "Published turnaround (not enough history yet)"


class Promise(models.Model):
    """Written once at submission (``p50_at``, ``promised_at`` and the explanation are never
    rewritten); the ``forecast_*`` columns are refreshed by the worker whenever the request
    moves or its unit's queue or capacity changes materially (``refresh_due_at``)."""

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, primary_key=True, related_name="promise")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    quoted_at = models.DateTimeField()
    confidence = models.PositiveSmallIntegerField(help_text="Per cent: how likely the promised time is kept.")
    p50_at = models.DateTimeField(help_text="As likely to be done before as after.")
    promised_at = models.DateTimeField(help_text="Done by then with the stated confidence.")
    basis = models.CharField(max_length=10, choices=Basis.choices)
    explanation = models.CharField(max_length=300)
    queue_hours = models.FloatField(help_text="Estimated working hours queued in the unit at the quote.")
    drain_seconds = models.FloatField(
        help_text="Working seconds the unit needed, at its recent pace, to clear the queue at the quote."
    )
    people_on_shift = models.PositiveSmallIntegerField()

    forecast_p50_at = models.DateTimeField(null=True, blank=True)
    forecast_at = models.DateTimeField(null=True, blank=True, help_text="Live forecast at the promise's confidence.")
    forecast_queue_hours = models.FloatField(null=True, blank=True)
    forecast_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_due_at = models.DateTimeField(null=True, blank=True, help_text="The worker refreshes the forecast then.")
    slipped_at = models.DateTimeField(null=True, blank=True, help_text="When the requester was told it slips.")
    slip_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["refresh_due_at"], name="promise_refresh_due"),
            models.Index(fields=["unit", "quoted_at"], name="promise_unit_quoted"),
            models.Index(fields=["service", "quoted_at"], name="promise_service_quoted"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.confidence} % by {self.promised_at:%Y-%m-%d %H:%M}"
