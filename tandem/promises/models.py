"""The promise a requester was given at submission, and the live forecast that keeps it honest."""

from __future__ import annotations

from django.db import models

from tandem.catalogue.models import Service
from tandem.org.models import Unit
from tandem.work.models import ServiceRequest


class Basis(models.TextChoices):
    ENGINE = "engine", "Quoted from the fitted queue model blended with similar past requests"
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


class EngineFit(models.Model):
    """One nightly fit of the promise engine (``tandem.promises.engine``): claimed by the worker that
    inserts the day's row (``due_on`` is unique, so two workers never fit the same night), then filled
    in with the fitted model's JSON or with why the fit failed. Quotes read the latest row that
    ``FITTED``; a failed fit leaves the previous model answering."""

    class State(models.TextChoices):
        FITTING = "fitting", "Fitting"
        FITTED = "fitted", "Fitted"
        FAILED = "failed", "Failed"

    due_on = models.DateField(unique=True, help_text="The night this fit belongs to (one per night).")
    state = models.CharField(max_length=8, choices=State.choices, default=State.FITTING)
    claimed_at = models.DateTimeField()
    fitted_at = models.DateTimeField(null=True, blank=True)
    history_from = models.DateTimeField(null=True, blank=True, help_text="First submission of the fitted requests.")
    history_until = models.DateTimeField(null=True, blank=True, help_text="Last submission of the fitted requests.")
    cases = models.PositiveIntegerField(default=0, help_text="Resolved requests the model was fitted on.")
    fit_seconds = models.FloatField(null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="The back-test measured at the fit.")
    model_json = models.TextField(blank=True, help_text="The fitted model (PromiseModel.to_json).")
    reason = models.CharField(max_length=300, blank=True, help_text="Why the fit failed.")

    class Meta:
        indexes = [models.Index(fields=["state", "fitted_at"], name="engine_fit_state")]

    def __str__(self) -> str:
        return f"{self.due_on}: {self.state}"
