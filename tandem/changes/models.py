"""Back-office changes (policies, processes, systems, forms) and the rules of the change calendar:
each front-office audience's weekly limit, blackouts and declared change periods."""

from __future__ import annotations

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.org.models import Person, Role, Side, Unit

#: An audience narrowed to one role, in words.
ROLE_PLURALS: dict[str, str] = {
    Role.MEMBER: "members", Role.LEAD: "leads", Role.EXECUTIVE: "executives", Role.ADMIN: "administrators"}

#: The notice people actually read.
SUMMARY_LIMIT = 280
#: The most minutes per person a single change may claim (a working day).
MAX_MINUTES = 480


class Kind(models.TextChoices):
    POLICY = "policy", "Policy"
    PROCESS = "process", "Process"
    SYSTEM = "system", "System"
    FORM = "form", "Form"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONSULTATION = "consultation", "In consultation"
    PUBLISHED = "published", "Published"
    CANCELLED = "cancelled", "Cancelled"


class Change(models.Model):
    """A change a back-office unit brings to front-office audiences on its effective date."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="changes_owned",
                             limit_choices_to={"side": Side.BACK}, help_text="The back-office unit that owns it.")
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=SUMMARY_LIMIT, help_text="The notice: at most 280 characters.")
    why = models.TextField(help_text="Why it exists.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    everyone = models.BooleanField(default=False, help_text="Its audience is every front-office unit.")
    effective_on = models.DateField()
    requested_on = models.DateField(help_text="The date first asked for: a move is counted from it.")
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES)],
        help_text="Minutes each person in the audience needs to absorb it.",
    )
    consultation_ends_on = models.DateField(null=True, blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="changes")
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="changes_drafted")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    consultation_outcome = models.TextField(
        blank=True, db_default="", default="",
        help_text="What changed because of the consultation: written by the owner when publishing.")
    reminded_on = models.DateField(null=True, blank=True, help_text="The last day its audience was reminded.")

    class Meta:
        ordering = ["effective_on", "id"]
        indexes = [models.Index(fields=["status", "effective_on"], name="change_status_effective")]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gte=1), name="change_minutes_positive"),
            models.CheckConstraint(
                condition=models.Q(consultation_ends_on__isnull=True)
                | models.Q(consultation_ends_on__lte=models.F("effective_on")),
                name="change_consultation_before_effective",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ChangeAudience(models.Model):
    """A front-office unit a change lands on (everyone of it, or only its people of one role:
    its leads, say), and what they must do by when. A staging accepted gives each audience its
    own day; the change's effective date is then the first."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="audiences")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="changes_landing",
                             limit_choices_to={"side": Side.FRONT})
    role = models.CharField(
        max_length=10, choices=Role.choices, blank=True, default="", db_default="",
        help_text="Only the people of the unit with this role (blank: everyone of the unit).")
    must_do = models.CharField(max_length=500, blank=True)
    by_when = models.DateField(null=True, blank=True)
    effective_on = models.DateField(
        null=True, blank=True,
        help_text="A staged change: the day it reaches this audience (blank: the change's effective date).")

    class Meta:
        ordering = ["unit__name"]
        constraints = [models.UniqueConstraint(fields=["change", "unit"], name="one_audience_row_per_unit")]

    def __str__(self) -> str:
        return f"{self.change} → {self.who}"

    @property
    def who(self) -> str:
        """The audience in words: "Leeds branch", or "Leeds branch: leads"."""
        return f"{self.unit.name}: {ROLE_PLURALS[self.role]}" if self.role else self.unit.name

    @property
    def lands_on(self) -> date:
        return self.effective_on or self.change.effective_on


class AudienceLimit(models.Model):
    """An executive's limit on the change one front-office unit absorbs per week (the default
    is ``TANDEM_CHANGE_WEEKLY_MINUTES``), and whether it takes changes only in change periods."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="change_limit",
                                limit_choices_to={"side": Side.FRONT})
    minutes_per_week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(2400)])
    batching_required = models.BooleanField(
        default=False, help_text="Changes reach this unit only inside a declared change period.")
    set_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.unit}: {self.minutes_per_week} min/week"


class Blackout(models.Model):
    """Days no change should land: a month end, a payroll week, a declared busy period."""

    class Kind(models.TextChoices):
        MONTH_END = "month_end", "Month end"
        PAYROLL = "payroll", "Payroll week"
        BUSY = "busy", "Busy period"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="change_blackouts",
                             limit_choices_to={"side": Side.FRONT}, help_text="Blank: every audience.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BUSY)
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=120)
    declared_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="blackout_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.reason} {self.starts_on}–{self.ends_on}"


class ChangePeriod(models.Model):
    """A declared window into which changes are batched, so that people absorb them together
    and are then left alone."""

    name = models.CharField(max_length=120)
    starts_on = models.DateField()
    ends_on = models.DateField()
    declared_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="change_period_ends_after_start")]

    def __str__(self) -> str:
        return self.name


#: The longest comment, answer or account of what the consultation changed.
TEXT_LIMIT = 2000


class ChangeComment(models.Model):
    """A comment or suggestion an audience's lead makes while the change is in consultation, and
    the owner's answer."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="change_comments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+",
                             help_text="The audience the author leads.")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True, default="")
    answered_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.change}"


class ChangeReceipt(models.Model):
    """A person of an audience and a published change: when they were told (the day's notice) and
    when they acknowledged it. The row is also the worker's claim: one per change and person."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="receipts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="change_receipts")
    noticed_on = models.DateField(null=True, blank=True, help_text="The day's notice that named it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "person"], name="one_receipt_per_person")]
        indexes = [models.Index(fields=["person", "acknowledged_at"], name="receipt_person_ack")]

    def __str__(self) -> str:
        return f"{self.person} · {self.change}"


class NoticeDay(models.Model):
    """The claim of one person's notice of the changes taking effect on one day: at most one a
    day, whichever worker gets there first."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "day"], name="one_change_notice_a_day")]

    def __str__(self) -> str:
        return f"{self.person} · {self.day}"


class ServiceEdit(models.Model):
    """What a change does to one of the services it links, on its effective date: a new
    turnaround, procedure or intake fields (``tandem.catalogue.scheduled``). Moving the change
    moves it; cancelling the change drops it; the worker applies it once."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Not applied"
        DROPPED = "dropped", "Dropped"

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="service_edits")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="scheduled_edits")
    edit = models.JSONField(default=dict, help_text="The turnaround, procedure and intake fields it brings.")
    describe = models.CharField(max_length=400, blank=True, help_text="In words, as written when scheduled.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    applied_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=600, blank=True, help_text="Why it could not be applied.")

    class Meta:
        ordering = ["change", "service__name"]
        constraints = [models.UniqueConstraint(fields=["change", "service"], name="one_edit_per_service")]

    def __str__(self) -> str:
        return f"{self.change} → {self.service}"
