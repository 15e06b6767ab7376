"""Materialised evidence: one row per service, requesting unit, channel and week of resolution,
so that every dashboard reads a few hundred rows however long the history (docs/analyse.md)."""

from __future__ import annotations

from django.db import models

from tandem.catalogue.models import Service
from tandem.org.models import Unit


class WeeklySlice(models.Model):
    """What the evidence filters on: the week of resolution, the service and its providing
    unit, the requesting unit and the channel. Every row of these tables is one such slice."""

    week = models.DateField(help_text="The Monday of the week the requests were resolved in.")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", help_text="The providing unit.")
    requesting_unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8)

    class Meta:
        abstract = True


class WeeklyFlow(WeeklySlice):
    """Requests resolved in one week (Monday, in the server's time zone): how many, how long
    they took end to end in working time, where that time went, and the turnaround bands."""

    resolved = models.PositiveIntegerField()
    reopened = models.PositiveIntegerField(help_text="Of those, resolved after a reopen.")
    total_seconds = models.BigIntegerField(help_text="Working seconds from submission to resolution, summed.")
    queued_seconds = models.BigIntegerField()
    in_progress_seconds = models.BigIntegerField()
    waiting_requester_seconds = models.BigIntegerField()
    waiting_third_party_seconds = models.BigIntegerField()
    waiting_team_seconds = models.BigIntegerField(db_default=0, help_text="Waiting on another back-office team.")
    waiting_approval_seconds = models.BigIntegerField(
        db_default=0, help_text="Waiting on the approver before work started."
    )
    band_3 = models.PositiveIntegerField(help_text="Resolved within 3 working days.")
    band_6 = models.PositiveIntegerField(help_text="4 to 6 working days.")
    band_15 = models.PositiveIntegerField(help_text="7 to 15 working days.")
    band_30 = models.PositiveIntegerField(help_text="16 to 30 working days.")
    band_over = models.PositiveIntegerField(help_text="More than 30 working days.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week", "service", "requesting_unit", "channel"], name="one_flow_row"),
        ]
        indexes = [models.Index(fields=["unit", "week"], name="flow_unit_week")]

    def __str__(self) -> str:
        return f"{self.week} {self.service_id}→{self.requesting_unit_id}: {self.resolved}"


class WeeklyTeamWait(WeeklySlice):
    """Working time that requests resolved in one week spent waiting on another back-office
    team, per team waited on: the back-office-to-back-office part of who waits on whom."""

    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="+", help_text="The waiting (providing) unit."
    )
    waited_on = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", help_text="The team waited on.")
    requests = models.PositiveIntegerField(help_text="Requests that waited on that team.")
    seconds = models.BigIntegerField(help_text="Working seconds they waited, summed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "service", "requesting_unit", "channel", "waited_on"], name="one_team_wait_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.unit_id} waited on {self.waited_on_id}: {self.seconds} s"


class WeeklyConformance(WeeklySlice):
    """How the requests resolved in one week followed their service's procedure, judged against
    the procedure in force when the week was last rebuilt: how many were checked, how many
    followed it, and how many showed each deviation (``tandem.engines.evidence.conformance``)."""

    checked = models.PositiveIntegerField()
    following = models.PositiveIntegerField()
    deviations = models.JSONField(default=list, help_text='[[kind, [step ids], requests], ...]')

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "service", "requesting_unit", "channel"], name="one_conformance_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.service_id}: {self.following}/{self.checked}"


class WeeklyProcess(models.Model):
    """The flow of one service's requests resolved in one week, from their whole event logs
    (``tandem.insights.logs.database_log``): what the flow page sums over its weeks."""

    week = models.DateField(help_text="The Monday of the week the requests were resolved in.")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    cases = models.PositiveIntegerField(help_text="Requests.")
    events = models.PositiveIntegerField(help_text="Their events.")
    handovers = models.PositiveIntegerField(help_text="Changes of unit between consecutive events.")
    ping_pong = models.PositiveIntegerField(help_text="Requests that went back to a unit they had left.")
    duration_seconds = models.BigIntegerField(help_text="First to last event of each request, summed.")
    steps = models.JSONField(default=list, help_text="[[from activity, to activity, count, summed seconds], ...]")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "week"], name="one_process_row")]

    def __str__(self) -> str:
        return f"{self.week} {self.service_id}: {self.cases} requests"


class WeeklyVariant(models.Model):
    """A path (sequence of activities) the requests of one service resolved in one week took,
    and how many took it: the flow page counts the distinct keys over its weeks."""

    week = models.DateField(help_text="The Monday of the week the requests were resolved in.")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40, help_text="SHA-1 of the activities, one per line.")
    activities = models.TextField(help_text="The activities in order, one per line.")
    cases = models.PositiveIntegerField(help_text="Requests that took this path.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "week", "key"], name="one_variant_row")]

    def __str__(self) -> str:
        return f"{self.week} {self.service_id} {self.key[:8]}: {self.cases}"
