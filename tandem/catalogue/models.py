"""The service catalogue: what each back-office unit does, what it needs, and how fast."""

from __future__ import annotations

import calendar
from datetime import date
from datetime import time as dt_time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from tandem.engines.intake_rules import MAX_DAYS, Rules, definition_problems, describe
from tandem.org.models import Organisation, Person, Side, Skill, Unit


class ServiceQuerySet(models.QuerySet["Service"]):
    def published(self) -> ServiceQuerySet:
        return self.filter(active=True)


class ApprovalBy(models.TextChoices):
    """Who approves a service's requests when it requires approval (docs/approvals.md)."""

    NAMED = "named", "The named approver"
    LEAD = "lead", "The requester's lead"
    FIELD = "field", "The person named in a field of the form"


class Service(models.Model):
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="services", limit_choices_to={"side": Side.BACK}
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.CharField(max_length=240, help_text="One line shown in the catalogue.")
    scope_includes = models.TextField("what we do")
    scope_excludes = models.TextField("what we don't", blank=True)
    owner = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="owned_services",
        help_text="The one person accountable for this service.",
    )
    turnaround_days = models.PositiveSmallIntegerField(
        help_text="Published turnaround in working days of the providing unit."
    )
    confidential = models.BooleanField(
        default=False,
        help_text="Payload and comments visible only to the requester, the providing unit and admins.",
    )
    run_field = models.CharField(
        max_length=50,
        blank=True,
        db_default="",
        help_text="The key of the date intake field that names the run a request asks for (e.g. the week "
        "ending of a timesheet): a request is late only when that run's cut-off has passed. Blank: "
        "requests ask for no particular run and go in the next one.",
    )
    external_allowed = models.BooleanField(
        "accepts external-channel requests", default=True,
        help_text="Whether requests on behalf of customers (external channel) may be made.",
    )
    last_reviewed_on = models.DateField(default=timezone.localdate)
    review_interval_months = models.PositiveSmallIntegerField(
        default=18, help_text="The owner reviews the process at least this often (1 to 60 months)."
    )
    active = models.BooleanField(default=True)
    # Requests by email (docs/email.md): mail to this address from a known person becomes a
    # request of this service. NULL, not "", when unset, so that the unique constraint holds.
    intake_address = models.EmailField(
        "intake email address", null=True, blank=True, unique=True,
        help_text="Mail from a known person to this address becomes a request of this service "
        "(the address must deliver to Tandem's mailbox).",
    )
    # Attachments (docs/api.md "Attachments"): a service may take less than the site allows.
    attachment_max_mb = models.PositiveSmallIntegerField(
        "largest attachment (MB)", null=True, blank=True,
        help_text="Blank: the site's limit (TANDEM_ATTACHMENT_MAX_MB). Never more than it.",
    )
    attachment_types = models.CharField(
        "kinds of attachment", max_length=200, blank=True, default="", db_default="",
        help_text="Extensions taken, comma-separated (pdf, png): blank for all the site takes.",
    )
    # Approval (docs/approvals.md): a named person says yes before work starts, on every
    # request or only on those whose number field (``approval_field``) is above an amount.
    approver = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="services_approved",
        help_text="Who approves this service's requests before work starts. Blank: no approval.",
    )
    approval_field = models.CharField(
        max_length=60, blank=True, default="", db_default="",
        help_text="The key of a number field: approval only when its value is above the amount. "
        "Blank: every request needs approval.",
    )
    approval_above = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True,
        help_text="With the field: approval when the value is above this amount.",
    )
    # Who approves: the named ``approver`` above, the lead of the requester's unit, or the person
    # whose address the requester gives in the email field ``approver_field``.
    approval_by = models.CharField(
        "approved by", max_length=5, choices=ApprovalBy.choices, default=ApprovalBy.NAMED,
        db_default=ApprovalBy.NAMED.value,
        help_text="The named approver (blank approver: no approval), the requester's lead, or the "
        "person named in an email field of the form.",
    )
    approver_field = models.CharField(
        max_length=60, blank=True, default="", db_default="",
        help_text="With “the person named in a field”: the key of the email field naming the approver.",
    )
    approval_remind_days = models.PositiveSmallIntegerField(
        "remind the approver after (working days)", default=2, db_default=2, validators=[MaxValueValidator(30)],
        help_text="An approver who has not decided after this many working days of the service's calendar "
        "is reminded, then once each working day; 0: never.",
    )
    required_skills: models.ManyToManyField[Skill, ServiceSkill] = models.ManyToManyField(
        Skill, through="ServiceSkill", related_name="services"
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["unit__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_approval(self) -> bool:
        """Whether some of its requests wait for an approver (the amount rule may spare some)."""
        return self.approval_by != ApprovalBy.NAMED or self.approver_id is not None

    def clean(self) -> None:
        if self.unit_id and self.unit.side != Side.BACK:
            raise ValidationError({"unit": "Services are provided by back-office units."})
        if not 1 <= (self.review_interval_months or 0) <= 60:
            raise ValidationError({"review_interval_months": "Review at least every 60 months (and at most monthly)."})
        if self.approval_by != ApprovalBy.NAMED and self.approver_id is not None:
            raise ValidationError({"approver": "Leave the approver empty: the lead or the person named approves."})
        if (self.approval_by == ApprovalBy.FIELD) != bool(self.approver_field):
            raise ValidationError(
                {"approver_field": "Name an email field exactly when the person named in it approves."}
            )
        if self.approver_field and self.pk and not self.fields.filter(key=self.approver_field, kind="email").exists():
            raise ValidationError({"approver_field": "Name one of the service's email fields (by its key)."})

    @property
    def review_due_on(self) -> date:
        return add_months(self.last_reviewed_on, self.review_interval_months)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class IntakeField(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"
        FILE = "file", "File"
        EMAIL = "email", "Email address"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=60, help_text="Name of the value in the request's intake data.")
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(default=True)
    help_text = models.CharField(max_length=240, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="For choice fields: the allowed values.")
    # The rules on the values (tandem.engines.intake_rules); each applies to one kind of field.
    min_value = models.DecimalField(
        "minimum", max_digits=18, decimal_places=4, null=True, blank=True,
        help_text="Number fields: the smallest value accepted.",
    )
    max_value = models.DecimalField(
        "maximum", max_digits=18, decimal_places=4, null=True, blank=True,
        help_text="Number fields: the largest value accepted.",
    )
    days_past = models.PositiveIntegerField(
        "days before today", null=True, blank=True, validators=[MaxValueValidator(MAX_DAYS)],
        help_text="Date fields: accept dates at most this many days before today (0: none in the past).",
    )
    days_ahead = models.PositiveIntegerField(
        "days after today", null=True, blank=True, validators=[MaxValueValidator(MAX_DAYS)],
        help_text="Date fields: accept dates at most this many days after today (0: none in the future).",
    )
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=Weekday.choices,
        error_messages={"invalid_choice": "%(value)r is not a weekday: choose Monday to Sunday, or any day."},
        help_text="Date fields: the only weekday accepted, e.g. Sunday for a week ending.",
    )
    # A database default, so that the release before, which knows no patterns, can still add fields.
    pattern = models.CharField(
        max_length=200, blank=True, default="", db_default="",
        help_text="Text fields: a regular expression (RE2) the whole value must match.",
    )
    pattern_message = models.CharField(
        max_length=200, blank=True, default="", db_default="",
        help_text="What the pattern asks for, in words: shown when a value does not match.",
    )

    class Meta:
        ordering = ["service", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "key"], name="field_key_unique_per_service")]

    def __str__(self) -> str:
        return f"{self.service}: {self.label}"

    @property
    def rules(self) -> Rules:
        return Rules(
            min_value=self.min_value, max_value=self.max_value, days_past=self.days_past,
            days_ahead=self.days_ahead, weekday=self.weekday, pattern=self.pattern,
            pattern_message=self.pattern_message,
        )

    @property
    def rules_text(self) -> str:
        """The rules in a few words, as the forms show them."""
        return describe(self.rules)

    def clean(self) -> None:
        errors = definition_problems(self.rules)
        if self.kind == self.Kind.CHOICE and not self.choices:
            errors["choices"] = ["A choice field needs at least one choice."]
        # A rule on the wrong kind would never be checked: refuse it rather than keep it silently,
        # beside the first such rule that was given.
        for kinds, names, message in RULES_BY_KIND:
            given = [name for name in names if getattr(self, name) not in (None, "")]
            if given and self.kind not in kinds:
                errors.setdefault(given[0], []).append(message)
        if errors:
            raise ValidationError(errors)


RULES_BY_KIND = (
    ((IntakeField.Kind.NUMBER,), ("min_value", "max_value"),
     "A minimum and a maximum apply to number fields only: clear them, or make this a number field."),
    ((IntakeField.Kind.DATE,), ("days_past", "days_ahead", "weekday"),
     "Days before and after today and a weekday apply to date fields only: clear them, or make this "
     "a date field."),
    ((IntakeField.Kind.TEXT, IntakeField.Kind.LONG_TEXT, IntakeField.Kind.FILE), ("pattern", "pattern_message"),
     "A pattern applies to text, long text and file fields (their names) only: clear it, or change the kind."),
)


class CutOff(models.Model):
    """An intake deadline and the run it feeds, e.g. "timesheets by Tuesday 12:00 for Friday's
    payroll" (tandem.engines.agreements.cutoffs)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cutoffs")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="cutoffs",
        help_text="A client's own cut-off (its requests follow its own, not the service's); blank: everyone's.",
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    time = models.TimeField()
    description = models.CharField(max_length=200, help_text="What the cut-off is for.")
    run_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, null=True, blank=True,
        help_text="The weekday of the run it feeds (Friday for a payroll); blank: the cut-off's own day.",
    )
    run_name = models.CharField(
        max_length=80, blank=True, db_default="", help_text="What the run is, in a word or two: “payroll”."
    )

    class Meta:
        ordering = ["service", "weekday", "time"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.time:%H:%M}: {self.description}"

    @property
    def run_label(self) -> str:
        return self.run_name or "run"

    def as_spec(self) -> tuple[int, dt_time, int | None]:
        return (self.weekday, self.time, self.run_weekday)


class ServiceSkill(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="skill_needs")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="service_needs")
    min_level = models.PositiveSmallIntegerField(default=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "skill"], name="one_need_per_skill")]

    def __str__(self) -> str:
        return f"{self.service} needs {self.skill} ≥ {self.min_level}"


class ProcedureStep(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=400)

    class Meta:
        ordering = ["service", "position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"


class ServiceEvent(models.Model):
    """What happened to a service's ownership and reviews, append-only: who changed the owner
    from whom to whom, when a review was recorded, and what a change altered on its effective
    date (``data["change"]`` names it)."""

    class Kind(models.TextChoices):
        OWNER_CHANGED = "owner_changed", "Owner changed"
        REVIEWED = "reviewed", "Process reviewed"
        CHANGED = "changed", "Changed by a change"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.service}: {self.get_kind_display()} {self.at:%Y-%m-%d}"


class ServiceReview(models.Model):
    """A process review by the service's owner (or a reviewer they name): what they found, the
    service's measured figures at the time, what was decided, and who follows up what by when."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    findings = models.TextField()
    decisions = models.TextField(blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="The service's measured figures at the review.")
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.service} reviewed {self.reviewed_on}"


class ReviewAction(models.Model):
    review = models.ForeignKey(ServiceReview, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="review_actions")
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.description} ({self.owner}, by {self.due_on})"


class ContractQuerySet(models.QuerySet["Contract"]):
    def current(self, today: date | None = None) -> ContractQuerySet:
        """In force on ``today``: started, and not ended before it."""
        today = today or timezone.localdate()
        return self.filter(starts_on__lte=today).filter(models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today))


class Contract(models.Model):
    """A client organisation's contract for one service of the provider's catalogue: its people
    see and request only the services it has contracted (docs/organisations.md)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contracts")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="contracts")
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True, help_text="The last day; blank: open-ended.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "service__name"]
        indexes = [models.Index(fields=["organisation", "service"], name="contract_org_service")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.service}"
