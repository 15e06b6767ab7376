"""Unit calendars and agreements: the working time and the targets that SLA clocks run on."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.engines.agreements import legs
from tandem.engines.worktime import CalendarError, CalendarSpec
from tandem.org.models import Organisation, Unit
from tandem.refusal import Invalid

DEFAULT_WEEKLY = {str(d): [["09:00", "12:30"], ["13:30", "17:30"]] for d in range(5)}
DEFAULT_COUNTRY, DEFAULT_SUBDIVISION = "GB", "ENG"
DEFAULT_PAUSE_STATUSES = ["waiting_requester"]
PAUSABLE_STATUSES = ("waiting_requester", "waiting_third_party")


def default_calendar_data(time_zone: str) -> dict[str, Any]:
    """A unit without a calendar: its time zone, Mon–Fri 09:00–12:30 and 13:30–17:30, English holidays."""
    return {
        "tz": time_zone,
        "weekly": DEFAULT_WEEKLY,
        "country": DEFAULT_COUNTRY,
        "subdivision": DEFAULT_SUBDIVISION,
    }


def calendar_field(error: CalendarError) -> str:
    """The field a ``CalendarError`` names: ``"weekly[0]: 12:00–09:00 ends ..."`` → ``weekly``."""
    head = str(error).split(":", 1)[0]
    return head.split("[", 1)[0].strip() or "spec"


CHANNELS = ("", "internal", "external")
MAX_MINUTES = legs.MAX_MINUTES


def check_terms(
    *,
    first_response_minutes: Any,
    resolution_minutes: Any,
    target_percent: Any,
    pause_statuses: Any,
    channel: str,
    django_errors: bool = False,
) -> None:
    """Refuse targets of zero or less, a percentage outside (0, 100], unknown pause statuses."""
    errors: dict[str, list[str]] = {}
    targets = {"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes}
    for field, value in targets.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors[field] = [f"{field}: a target must be more than zero working minutes, not {value!r}."]
        elif value > MAX_MINUTES:
            errors[field] = [f"{field}: at most {MAX_MINUTES:,} working minutes, not {value!r}."]
    if isinstance(target_percent, bool) or not isinstance(target_percent, int | float) or not 0 < target_percent <= 100:
        errors["target_percent"] = [f"target_percent: give a share above 0 and at most 100, not {target_percent!r}."]
    if not isinstance(pause_statuses, list) or any(s not in PAUSABLE_STATUSES for s in pause_statuses):
        errors["pause_statuses"] = [f"pause_statuses: choose among {', '.join(PAUSABLE_STATUSES)}."]
    if channel not in CHANNELS:
        errors["channel"] = ["channel: internal, external, or blank for both."]
    if errors:
        if django_errors:
            raise ValidationError({k: v[0] for k, v in errors.items()})
        first = next(iter(errors.values()))[0]
        raise Invalid(f"The agreement was not saved. {first}", errors=errors)


class Calendar(models.Model):
    """The working time of a unit, or of one service that overrides its unit's (e.g. an
    out-of-hours line), as a ``CalendarSpec`` in its JSON form (``CalendarSpec.to_data``).
    Exactly one of ``unit`` and ``service`` is set."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar")
    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar"
    )
    spec = models.JSONField(help_text="tz, weekly, country, subdivision, closures, openings.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit__name", "service__name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit__isnull=False, service__isnull=True)
                | models.Q(unit__isnull=True, service__isnull=False),
                name="calendar_of_unit_or_service",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.service or self.unit}"

    def clean(self) -> None:
        if (self.unit_id is None) == (self.service_id is None):
            raise ValidationError("A calendar belongs to a unit or to a service, not both nor neither.")
        try:
            CalendarSpec.from_data(self.spec or {})
        except CalendarError as error:
            raise ValidationError({"spec": f"{error}"}) from error


class Agreement(models.Model):
    """Targets for one service, optionally only for one requesting unit, or for one client
    organisation (its units' requests), and/or channel: the most specific active agreement wins
    (unit, then organisation, then the service-wide one). Targets are in working minutes of the
    calendar the request's clock runs on."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="agreements")
    requesting_unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="agreements_as_requester"
    )
    requesting_organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="agreements",
        help_text="A client organisation's own targets (every unit of it); blank: not one client's.",
    )
    channel = models.CharField(max_length=8, blank=True, help_text="internal, external, or blank for both.")
    name = models.CharField(max_length=120)
    first_response_minutes = models.PositiveIntegerField(help_text="Working minutes to the first response.")
    resolution_minutes = models.PositiveIntegerField(help_text="Working minutes to resolution.")
    target_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=90, help_text="Share of requests to meet the targets."
    )
    pause_statuses = models.JSONField(default=list, help_text="Statuses that stop the clock.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name"]
        indexes = [models.Index(fields=["service", "active"], name="agreement_service_active")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_terms(
            first_response_minutes=self.first_response_minutes,
            resolution_minutes=self.resolution_minutes,
            target_percent=float(self.target_percent or 0),
            pause_statuses=self.pause_statuses,
            channel=self.channel,
            django_errors=True,
        )


class CustomerAgreement(models.Model):
    """A front-office unit's promise to customers, and the back-office services it depends on.

    ``resolution_minutes`` is working time of the front unit's calendar; each service's leg is
    the resolution target of the agreement that governs that service for this unit on the
    external channel (``queries.coverage`` checks that the legs and the margin fit)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="customer_agreements")
    name = models.CharField(max_length=120)
    resolution_minutes = models.PositiveIntegerField(help_text="Working minutes promised to the customer.")
    margin_minutes = models.PositiveIntegerField(default=0, help_text="Working minutes kept in hand.")
    services = models.ManyToManyField(Service, related_name="customer_agreements", blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit__name", "name"]

    def __str__(self) -> str:
        return self.name
