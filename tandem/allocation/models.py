"""A lead's allocation plans: who should hold each open, not-yet-started request of a unit.

A plan is proposed (by a lead, or by Tandem when someone's absence starts), then accepted as a
whole or line by line. A newer proposal supersedes the unit's older ones, so two leads never
apply conflicting plans (``tandem.allocation.actions``; docs/allocation.md).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tandem.org.models import Person, Unit
from tandem.work.models import ServiceRequest


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    SUPERSEDED = "superseded", "Superseded"

    @property
    def colour(self) -> str:
        return {"proposed": "blue", "accepted": "green", "superseded": "grey"}[self.value]


class Plan(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="plans")
    created_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Null: proposed by Tandem (an absence started).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it was proposed, in words.")
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED)
    accepted_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    # What the engine reported (tandem.engines.allocation.Plan).
    objective = models.FloatField(default=0.0)
    bound = models.FloatField(default=0.0)
    gap = models.FloatField(default=0.0)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["unit", "-id"], name="plan_unit_latest")]

    def __str__(self) -> str:
        return f"Plan {self.pk} of {self.unit} ({self.status})"

    @property
    def status_enum(self) -> PlanStatus:
        return PlanStatus(self.status)

    @property
    def gap_percent(self) -> float:
        return self.gap * 100

    @property
    def author(self) -> str:
        return self.created_by.display_name if self.created_by else "Tandem"


class LineOutcome(models.TextChoices):
    PENDING = "", "Not accepted yet"
    APPLIED = "applied", "Applied"
    KEPT = "kept", "Already with that person"
    CHANGED = "changed", "Changed since the plan"
    REFUSED = "refused", "Could not be applied"


class PlanLine(models.Model):
    """One request of a plan: who holds it now, who the plan proposes (or why nobody)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="lines")
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="plan_lines")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Null: nobody could take it (see the reason).",
    )
    reason = models.CharField(max_length=300, blank=True)
    # The request as the plan saw it: a line whose request moved since is not applied.
    was_status = models.CharField(max_length=20)
    was_assignee = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    effort_hours = models.FloatField(default=1.0)
    due = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=LineOutcome.choices, default=LineOutcome.PENDING, blank=True)
    outcome_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "due", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "request"], name="one_line_per_request")]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.person_id or 'nobody'}"

    @property
    def moves(self) -> bool:
        """The plan gives the request to someone other than its holder."""
        return self.person_id is not None and not (
            self.person_id == self.was_assignee_id and self.was_status == "assigned"
        )
