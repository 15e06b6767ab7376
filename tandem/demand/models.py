"""Demand ahead: the forecast of each service's daily arrivals, and the demand front-office units
declare for the weeks to come (docs/demand.md)."""

from __future__ import annotations

from django.db import models

from tandem.catalogue.models import Service
from tandem.org.models import Person, Unit


class ArrivalForecast(models.Model):
    """One service's forecast for one day (tandem.engines.forecast.arrivals), replaced whole
    by the worker each day. ``dispersion`` is the service's: variance = mean + dispersion × mean²."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="arrival_forecasts")
    day = models.DateField()
    expected = models.FloatField()
    p10 = models.FloatField()
    p50 = models.FloatField()
    p90 = models.FloatField()
    dispersion = models.FloatField(default=0.0)
    made_on = models.DateField(help_text="The day the forecast was made: only arrivals before it were read.")
    basis = models.CharField(max_length=200, blank=True, help_text="How it was made, in words.")

    class Meta:
        ordering = ["service", "day"]
        constraints = [models.UniqueConstraint(fields=["service", "day"], name="one_forecast_per_service_day")]

    def __str__(self) -> str:
        return f"{self.service} {self.day}: {self.p50:g}"


class WeekForecast(models.Model):
    """A week's forecast as it stood when made, kept so that it can be held against what came:
    the forecast accuracy executives read."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="week_forecasts")
    week = models.DateField(help_text="The Monday the week starts.")
    made_on = models.DateField()
    expected = models.FloatField()
    p10 = models.FloatField()
    p90 = models.FloatField()

    class Meta:
        ordering = ["service", "week", "made_on"]
        constraints = [
            models.UniqueConstraint(fields=["service", "week", "made_on"], name="one_week_forecast_per_day_made")
        ]

    def __str__(self) -> str:
        return f"{self.service} week of {self.week} (made {self.made_on}): {self.expected:.0f}"


class DeclaredDemand(models.Model):
    """How many requests of a service a front-office unit expects to make in a week: its lead's
    correction of Tandem's forecast for the unit ("20 contractor starts in week 3")."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="declared_demand")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="declared_demand")
    week = models.DateField(help_text="The Monday the week starts.")
    count = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    declared_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["week", "service"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "service", "week"], name="one_declaration_per_unit_service_week")
        ]

    def __str__(self) -> str:
        return f"{self.unit} expects {self.count} × {self.service} in the week of {self.week}"


class DemandAsk(models.Model):
    """A front-office unit's leads were asked for the month's demand: one row per unit and
    month, written with the notifications, so that two workers never ask twice."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month asked.")
    asked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="one_demand_ask_per_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit} asked for {self.month:%B %Y}"


class PlanInputs(models.Model):
    """What the four-week plan needs of a service besides its forecast, worked out by the worker
    with the forecast each day so that the plan page reads it instead of computing it: the
    service's typical hands-on time (learned from the unit's events and time entries) and each
    requesting unit's share of its requests over the last twelve weeks."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="plan_inputs")
    made_on = models.DateField()
    effort_seconds = models.FloatField()
    effort_learned = models.BooleanField(help_text="False: no resolved request had logged effort; a default.")
    shares = models.JSONField(default=dict, help_text="Requesting unit id → its share of the service's requests.")

    def __str__(self) -> str:
        return f"{self.service}: {self.effort_seconds / 60:.0f} min each (made {self.made_on})"
