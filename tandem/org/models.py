"""Units, people, skills, working patterns, absences and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class Side(models.TextChoices):
    FRONT = "front", "Front office"
    BACK = "back", "Back office"


class Role(models.TextChoices):
    """What a person may do beyond asking. Agents are simply members of a back-office unit."""

    MEMBER = "member", "Member"
    LEAD = "lead", "Lead"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"


class AllocationMode(models.TextChoices):
    """How a back-office unit's open work finds its holder (docs/allocation.md, "Modes")."""

    SUGGEST = "suggest", "Suggest: the lead reviews Tandem's plan and accepts it"
    AUTO = "auto", "Automatic: Tandem places new and orphaned work itself"
    PULL = "pull", "Pull: people take the next request from the queue"


#: The largest head start a unit may give customer work: a working week.
MAX_HEAD_START_HOURS = 40


def default_working_pattern() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00–17:30 with a lunch break: weekday number → list of [start, end]."""
    day = [["09:00", "12:30"], ["13:30", "17:30"]]
    return {str(d): day for d in range(5)}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (try e.g. Europe/London).")


class Organisation(models.Model):
    """An organisation whose people sign in to Tandem: the one that runs it and, where its back
    office serves other organisations, each client. A unit without one belongs to the
    organisation that runs Tandem."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    local_passwords = models.BooleanField(
        default=True,
        help_text="Off: its people (administrators apart) sign in only through its identity provider.",
    )
    # A client's public holidays (docs/organisations.md, "Calendars"): its requests' clocks run on
    # the providing team's hours and time zone, with these holidays in place of the team's.
    holiday_country = models.CharField(
        max_length=2, blank=True, default="", db_default="",
        help_text="ISO country code of the client's public holidays (GB); blank: the providing team's.",
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, default="", db_default="",
        help_text="Its subdivision, e.g. SCT for Scotland; blank: the whole country's.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from tandem.engines.worktime import CalendarError
        from tandem.engines.worktime.spec import canonical_region, check_holiday_region

        if not self.holiday_country:
            if self.holiday_subdivision:
                raise ValidationError({"holiday_country": "A subdivision needs a country."})
            return
        country, subdivision = canonical_region(self.holiday_country, self.holiday_subdivision or None)
        try:
            check_holiday_region(country, subdivision)
        except CalendarError as error:
            field = "holiday_subdivision" if str(error).startswith("subdivision") else "holiday_country"
            raise ValidationError({field: str(error)}) from error
        self.holiday_country, self.holiday_subdivision = country or "", subdivision or ""


class Unit(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="units",
        help_text="Blank: the organisation that runs Tandem.",
    )
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    side = models.CharField(max_length=5, choices=Side.choices)
    description = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    allocation_mode = models.CharField(
        max_length=8, choices=AllocationMode.choices, default=AllocationMode.SUGGEST,
        db_default=AllocationMode.SUGGEST.value,  # rows written by the release before keep a mode
        help_text="Back-office units: suggest (the lead accepts plans), auto (Tandem places work) or pull.",
    )
    # The order of the unit's queue (docs/allocation.md, "The order of the queue"): by what is
    # due, the earlier of the promise and the agreement, oldest first on a tie. A lead may give
    # customer-channel work a head start of some working hours; 0 is no weighting at all.
    customer_head_start_hours = models.PositiveSmallIntegerField(
        default=0, db_default=0, validators=[MaxValueValidator(MAX_HEAD_START_HOURS)],
        help_text="Working hours by which customer (external) requests come earlier in the queue than "
                  "their due time says; 0: the queue is by what is due, whatever the channel.",
    )
    queue_jump_reason_required = models.BooleanField(
        default=True, db_default=True,
        help_text="Taking or giving a request while earlier ones wait in the queue needs a reason.",
    )

    class Meta:
        ordering = ["side", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_back_office(self) -> bool:
        return self.side == Side.BACK

    @property
    def queue_order_label(self) -> str:
        """The queue's order in words, as the plan page and the team queue show it."""
        if self.customer_head_start_hours:
            return f"customers first by {self.customer_head_start_hours} h"
        return "by what is due"


class Skill(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A member of staff: the profile beside Django's user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    job_title = models.CharField(max_length=120, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    working_pattern = models.JSONField(default=default_working_pattern)
    # A back-office person's working time is not all queue work: the pay run, month-end billing
    # and meetings take their share. Capacity and hands-on effort both count only this share,
    # so that utilisation compares like with like (docs/figures.md).
    request_share = models.FloatField(
        default=1.0,
        db_default=1.0,
        validators=[MinValueValidator(0.05), MaxValueValidator(1.0)],
        help_text="Share of working time given to service requests (0.05 to 1); the rest goes on routine duties.",
    )
    email_notifications = models.BooleanField(default=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    skills: models.ManyToManyField[Skill, PersonSkill] = models.ManyToManyField(
        Skill, through="PersonSkill", related_name="people"
    )

    class Meta:
        ordering = ["user__first_name", "user__last_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def clean(self) -> None:
        for day, intervals in (self.working_pattern or {}).items():
            if day not in {str(d) for d in range(7)}:
                raise ValidationError({"working_pattern": f"Day {day!r} must be 0 (Monday) to 6 (Sunday)."})
            for start, end in intervals:
                if not (len(start) == len(end) == 5 and start < end):
                    raise ValidationError(
                        {"working_pattern": f"Interval {start}–{end} must be HH:MM–HH:MM with start before end."}
                    )

    def weekly_hours(self) -> float:
        total = 0
        for intervals in (self.working_pattern or {}).values():
            for start, end in intervals:
                sh, sm = map(int, start.split(":"))
                eh, em = map(int, end.split(":"))
                total += (eh * 60 + em) - (sh * 60 + sm)
        return total / 60


class PersonSkill(models.Model):
    class Level(models.IntegerChoices):
        LEARNING = 1, "Learning"
        PRACTISED = 2, "Practised"
        PROFICIENT = 3, "Proficient"
        EXPERT = 4, "Expert"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="person_levels")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.PRACTISED)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "skill"], name="one_level_per_skill")]

    def __str__(self) -> str:
        return f"{self.person} · {self.skill} ({self.get_level_display()})"


class Absence(models.Model):
    class Kind(models.TextChoices):
        LEAVE = "leave", "Annual leave"
        SICK = "sick", "Sickness"
        TRAINING = "training", "Training"
        OTHER = "other", "Other"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LEAVE)
    starts_on = models.DateField()
    ends_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_kind_display()} {self.starts_on}–{self.ends_on}"

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class LoanQuerySet(models.QuerySet["Loan"]):
    def agreed(self) -> LoanQuerySet:
        """Both sides agreed, and nobody ended it early."""
        return self.filter(
            agreed_by_lender__isnull=False, agreed_by_borrower__isnull=False, ended_at__isnull=True
        )

    def active_at(self, at: datetime) -> LoanQuerySet:
        return self.agreed().filter(starts_at__lte=at, ends_at__gt=at)


class Loan(models.Model):
    """A front-office person working for a back-office unit for a window of time.

    Proposed by a lead of the borrowing unit (who thereby agrees for the borrower), agreed by
    the lead of the person's own unit. While agreed and within ``[starts_at, ends_at)``, the
    person works the borrowing unit's queue (``tandem.org.queries.work_unit_ids``). Loans are
    proposed and agreed through ``tandem.allocation.actions``; the model lives here because who
    works which queue, and when, is the organisation's to know (capacity, permissions)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="loans")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="loans_in", help_text="The borrowing unit.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    agreed_by_lender = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agreed_by_borrower = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Set when a lead ended it early.")
    ended_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = LoanQuerySet.as_manager()

    class Meta:
        # The table kept its name when the model moved here from allocation: renaming it would
        # break the release still running during an upgrade (docs/operations.md).
        db_table = "allocation_loan"
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["person", "ends_at"], name="loan_person_ends")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="loan_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.person} to {self.unit} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"

    def state(self, now: datetime) -> str:
        """proposed, agreed (not started yet), active, ended."""
        if self.ended_at is not None or self.ends_at <= now:
            return "ended"
        if self.agreed_by_lender_id is None or self.agreed_by_borrower_id is None:
            return "proposed"
        return "active" if self.starts_at <= now else "agreed"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the raw value is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_raw_key() -> str:
        return "tdm_" + secrets.token_urlsafe(32)


class LoginFailure(models.Model):
    """One failed sign-in: who it tried (as typed) and from where. Rows, not a counter, so that
    concurrent failures on several app servers never lose an update; the window's count is a query.

    Never the password. Rows older than the window are pruned as new ones arrive; a successful
    sign-in or `tandem unlock` deletes an account's rows.
    """

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip or 'unknown address'} at {self.at:%Y-%m-%d %H:%M}"


class IdentityProvider(models.Model):
    """An organisation's OpenID Connect provider: its people sign in there (docs/sign-in.md).
    The endpoints come from the issuer's discovery document when the provider is saved."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="identity_provider")
    issuer = models.URLField(max_length=300, unique=True, help_text="The issuer, exactly as its tokens name it.")
    client_id = models.CharField(max_length=200)
    client_secret = models.CharField(max_length=300)
    authorization_endpoint = models.URLField(max_length=300, blank=True)
    token_endpoint = models.URLField(max_length=300, blank=True)
    userinfo_endpoint = models.URLField(max_length=300, blank=True)
    jwks_uri = models.URLField(max_length=300, blank=True)
    email_domains = models.CharField(
        max_length=300, blank=True,
        help_text="Comma-separated: a person who types an address at one of these is sent to this provider.",
    )
    new_accounts_unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Where a person without a Tandem account is added on first sign-in; blank: nobody is added.",
    )
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.organisation}: {self.issuer}"

    def domains(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.email_domains.split(",") if d.strip()]


class SignInIdentity(models.Model):
    """Who a provider's subject is: matched on the first sign-in, by email, then kept."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(max_length=255)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sign_in_identities")
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="one_person_per_subject")]
        verbose_name_plural = "sign-in identities"

    def __str__(self) -> str:
        return f"{self.person} via {self.provider.organisation}"
