"""The pulse: "How often were you frustrated by <unit>'s performance this month?", one answer per
front-office person, back-office unit and period, never shown one by one (docs/pulse.md)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tandem.org.models import Person, Unit


class Frequency(models.IntegerChoices):
    NEVER = 1, "Never"
    RARELY = 2, "Rarely"
    SOMETIMES = 3, "Sometimes"
    OFTEN = 4, "Often"
    ALWAYS = 5, "Always"


FRUSTRATED = (Frequency.OFTEN, Frequency.ALWAYS)


class PulseAnswer(models.Model):
    """Who answered is kept only to allow one answer per person, unit and period (and changing
    it); no page, export or API call reads ``person`` back."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="pulse_answers")
    period = models.DateField(help_text="The first day of the period answered about.")
    answer = models.PositiveSmallIntegerField(choices=Frequency.choices)
    comment = models.CharField(max_length=1000, blank=True)
    request_ids = models.JSONField(default=list, blank=True, help_text="Requests the answer is about.")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "unit", "period"], name="one_pulse_answer"),
            models.CheckConstraint(condition=models.Q(answer__gte=1, answer__lte=5), name="pulse_answer_1_to_5"),
        ]
        indexes = [models.Index(fields=["unit", "period"], name="pulse_unit_period")]

    def __str__(self) -> str:
        return f"An answer about {self.unit_id} for {self.period}"  # never who, never what


class PulseDismissal(models.Model):
    """"Not now": the banner stops asking about this unit for this period."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "unit", "period"], name="one_pulse_dismissal")]

    def __str__(self) -> str:
        return f"Dismissed: {self.unit_id} for {self.period}"


class PulseInvitation(models.Model):
    """The email asking the question was sent (once per person, unit and period)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    emailed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "unit", "period"], name="one_pulse_invitation")]

    def __str__(self) -> str:
        return f"Invited: {self.unit_id} for {self.period}"


class UsedPulseLink(models.Model):
    """A one-click link answers once: its digest is kept so that a second click is refused."""

    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Link used {self.used_at:%Y-%m-%d %H:%M}"


class RequestRating(models.Model):
    """The requester's rating of a resolved request, and the providing unit's answer to it."""

    request = models.OneToOneField("work.ServiceRequest", on_delete=models.CASCADE, primary_key=True,
                                   related_name="rating")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", help_text="The providing unit.")
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=1000, blank=True)
    rated_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=1000, blank=True)
    answered_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_1_to_5")]
        indexes = [models.Index(fields=["unit", "answered_at", "rated_at"], name="rating_unit_unanswered")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.score}/5"


class AskRating(models.Model):
    """The back office's view of the ask, at resolution: was the information complete, and did
    it come in time for the cut-off."""

    request = models.OneToOneField("work.ServiceRequest", on_delete=models.CASCADE, primary_key=True,
                                   related_name="ask_rating")
    requesting_unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    complete = models.BooleanField()
    in_time = models.BooleanField()
    rated_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.request_id}: complete={self.complete} in_time={self.in_time}"


class Kudos(models.Model):
    """Thanks from anyone to a back-office person or unit, optionally about a request. Shown to
    the unit and in a monthly digest; never counted into points or rankings."""

    given_by = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="kudos_given")
    to_person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="kudos")
    to_unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="kudos",
                                help_text="The unit thanked (the person's unit when a person is thanked).")
    request = models.ForeignKey("work.ServiceRequest", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    digested_at = models.DateTimeField(null=True, blank=True, help_text="When the monthly digest carried it.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["to_unit", "created_at"], name="kudos_unit_created")]

    def __str__(self) -> str:
        return f"Kudos to {self.to_person or self.to_unit}"


class Gift(models.Model):
    """The gifts and hospitality register: what a front-office person received from a customer
    and which back-office units it was shared with. Entries at or above the configured value
    are flagged for compliance review."""

    received_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="gifts")
    received_on = models.DateField()
    giver = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=10, decimal_places=2, help_text="Estimated value, in the local currency.")
    description = models.CharField(max_length=500)
    shared_with = models.ManyToManyField(Unit, blank=True, related_name="+")
    flagged = models.BooleanField(default=False, help_text="At or above TANDEM_GIFT_REVIEW_VALUE: for compliance.")
    reviewed_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0), name="gift_value_not_negative")]

    def __str__(self) -> str:
        return f"{self.description} from {self.giver}"


class PulseMonth(models.Model):
    """One back-office unit's month, summarised for the pulse results once it can no longer
    change (tandem.voice.months): the row says the month is summarised, and holds its facts;
    ``PulseAsker`` rows name who asked something of the unit in it."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month, in the server's time zone.")
    resolved = models.PositiveIntegerField(help_text="Requests resolved in the month (not cancelled).")
    late = models.PositiveIntegerField(help_text="Of those, resolved after the agreed time.")
    promised = models.PositiveIntegerField(help_text="Of those, with a promise.")
    kept = models.PositiveIntegerField(help_text="Of those, resolved by the time promised.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="one_pulse_month")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"


class PulseAsker(models.Model):
    """Somebody asked something of the unit in the (summarised) month. Who, not which unit:
    the results count people by the unit they are in when the results are read."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    requester = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "month", "requester"], name="one_pulse_asker")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"


class ServiceReport(models.Model):
    """A client's monthly service report, made once by the worker (``tandem.voice.service_reports``):
    the row is the claim, so two workers never make the same client's month twice."""

    organisation = models.ForeignKey("org.Organisation", on_delete=models.CASCADE, related_name="service_reports")
    month = models.DateField(help_text="The first day of the month reported on.")
    claimed_at = models.DateTimeField(default=timezone.now)
    made_at = models.DateTimeField(null=True, blank=True, help_text="Blank while being made.")
    markdown = models.TextField(blank=True)
    csv = models.TextField(blank=True)

    class Meta:
        ordering = ["-month", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "month"], name="one_service_report")]

    def __str__(self) -> str:
        return f"Service report of {self.organisation_id} for {self.month:%Y-%m}"
