"""Reads: a unit's compiled calendar, the agreement that governs a request, visible agreements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from tandem.agreements.models import (
    DEFAULT_PAUSE_STATUSES,
    Agreement,
    Calendar,
    CustomerAgreement,
    default_calendar_data,
)
from tandem.catalogue.models import Service
from tandem.engines.agreements import legs, slaclock
from tandem.engines.worktime import CalendarError, CalendarSpec, WorkingCalendar
from tandem.engines.worktime.observed import upcoming_holidays
from tandem.org.models import Person, Role, Unit
from tandem.org.queries import AnyUser, is_admin, person_of, sees_everything
from tandem.refusal import Invalid

DEFAULT_FIRST_RESPONSE_SECONDS = 3600  # one working hour


@lru_cache(maxsize=256)
def _compiled(data: str) -> WorkingCalendar:
    # Keyed by the JSON text: parsing a spec is cheap, compiling a calendar is not, and
    # WorkingCalendar.of keeps one compiled calendar per distinct spec.
    return WorkingCalendar.of(CalendarSpec.from_data(json.loads(data)))


def _compile(data: dict) -> WorkingCalendar:
    return _compiled(json.dumps(data, sort_keys=True))


def compile_calendar(data: dict) -> WorkingCalendar:
    """A calendar from its JSON form, compiled once per distinct spec."""
    return _compile(data)


def calendar_data(unit: Unit) -> dict:
    try:
        return unit.calendar.spec
    except Calendar.DoesNotExist:
        return default_calendar_data(unit.time_zone)


def calendar_for_unit(unit: Unit) -> WorkingCalendar:
    """The unit's working calendar (its own, or the default one), compiled once per spec."""
    return _compile(calendar_data(unit))


def own_service_calendar(service: Service) -> Calendar | None:
    try:
        return service.calendar
    except Calendar.DoesNotExist:
        return None


def service_calendar_data(service: Service, unit: Unit | None = None) -> dict:
    """The service's own calendar, else its unit's (``unit``, when the caller has the
    providing unit loaded already), else the default (JSON form)."""
    own = own_service_calendar(service)
    return own.spec if own is not None else calendar_data(unit or service.unit)


def calendar_for_service(service: Service, unit: Unit | None = None) -> WorkingCalendar:
    """The calendar a service's clocks run on: its own (e.g. an out-of-hours line), else its
    providing unit's, else the default one; compiled once per spec."""
    return _compile(service_calendar_data(service, unit))


def client_holidays(requesting_unit_id: int | None) -> tuple[str, str] | None:
    """The public holidays of the client organisation a requesting unit belongs to, when it
    keeps its own (``("GB", "SCT")``); None for the provider's own units and clients without."""
    if requesting_unit_id is None:
        return None
    row = (
        Unit.objects.filter(pk=requesting_unit_id, organisation__isnull=False)
        .exclude(organisation__holiday_country="")
        .values_list("organisation__holiday_country", "organisation__holiday_subdivision")
        .first()
    )
    return (row[0], row[1]) if row else None


def unit_holidays(unit: Unit) -> tuple[str, str] | None:
    """``client_holidays`` of a loaded unit: no query for the provider's own units (most
    requests), one for a client's unless its organisation is loaded with it."""
    if unit.organisation_id is None:
        return None
    org = unit.organisation
    return (org.holiday_country, org.holiday_subdivision) if org is not None and org.holiday_country else None


def request_calendar_data(service: Service, holidays: tuple[str, str] | None, unit: Unit | None = None) -> dict:
    """The working time a request's clock runs on: the service's calendar (hours, time zone,
    closures of the team that provides it), with the client's public holidays in place of the
    team's when the requesting organisation keeps its own (docs/organisations.md, "Calendars")."""
    data = service_calendar_data(service, unit)
    if holidays is None:
        return data
    return {**data, "country": holidays[0], "subdivision": holidays[1] or None}


def calendar_for_request(
    service: Service, requesting: Unit | int | None, unit: Unit | None = None
) -> WorkingCalendar:
    """``calendar_for_service`` for a request from the ``requesting`` unit (loaded, or its id:
    one small query): a client's own holidays replace the team's."""
    holidays = unit_holidays(requesting) if isinstance(requesting, Unit) else client_holidays(requesting)
    return _compile(request_calendar_data(service, holidays, unit))


def _absence_dates(person: Person) -> list[date]:
    days: set[date] = set()
    for starts, ends in person.absences.values_list("starts_on", "ends_on"):
        days.update(starts + timedelta(days=n) for n in range((ends - starts).days + 1))
    return sorted(days)


def calendar_for_person(person: Person) -> WorkingCalendar:
    """A person's working time: their unit's calendar intersected with their working pattern,
    minus the dates of their absences; compiled once per spec. A person whose pattern never
    meets the unit's hours is refused (``Invalid`` on ``working_pattern``)."""
    base = calendar_for_unit(person.unit).spec
    try:
        spec = base.for_person(weekly=person.working_pattern or {}, absences=_absence_dates(person))
    except CalendarError as error:
        message = (
            f"{person} has no working time: their working pattern never meets the working hours "
            f"of {person.unit.name} ({error})."
        )
        raise Invalid(message, errors={"working_pattern": [message]}) from error
    return _compile(spec.to_data())


def working_seconds_this_week(person: Person, now: datetime) -> int:
    """The person's working time from Monday 00:00 to the next Monday of ``now``'s week, in the
    zone of their calendar (``Invalid`` when they have no working time)."""
    cal = calendar_for_person(person)
    today = now.astimezone(cal.zone).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=cal.zone)
    return cal.between(monday, datetime.combine(monday.date() + timedelta(days=7), time(), tzinfo=cal.zone))


@dataclass(frozen=True)
class Terms:
    """What a request's clock runs on: an agreement's targets, or the service's default ones."""

    agreement: Agreement | None
    name: str
    respond_seconds: int
    resolve_seconds: int
    pause_statuses: frozenset[str]

    @classmethod
    def of(cls, agreement: Agreement) -> Terms:
        return cls(
            agreement=agreement,
            name=agreement.name,
            respond_seconds=agreement.first_response_minutes * 60,
            resolve_seconds=agreement.resolution_minutes * 60,
            pause_statuses=frozenset(agreement.pause_statuses or DEFAULT_PAUSE_STATUSES),
        )

    @classmethod
    def default(cls, service: Service, calendar: WorkingCalendar) -> Terms:
        """No agreement: the published turnaround in working days of the calendar (at least
        one), a first response within one working hour, the clock paused while waiting on
        the requester."""
        days = max(1, service.turnaround_days)
        return cls(
            agreement=None,
            name=f"Published turnaround ({days} working day{'s' if days != 1 else ''})",
            respond_seconds=DEFAULT_FIRST_RESPONSE_SECONDS,
            resolve_seconds=turnaround_seconds(service, calendar),
            pause_statuses=frozenset(DEFAULT_PAUSE_STATUSES),
        )


def turnaround_seconds(service: Service, calendar: WorkingCalendar) -> int:
    """The published turnaround in working seconds: its working days (at least one) of the
    calendar's working day."""
    return max(1, service.turnaround_days) * slaclock.day_length(calendar.spec)


def turnaround_due(service: Service, at: datetime, calendar: WorkingCalendar) -> datetime:
    """When the published turnaround from ``at`` ends, counted in the service calendar's working
    time: its public holidays and closures are not working days. The default terms' clock runs
    to the same instant."""
    return calendar.add(at, turnaround_seconds(service, calendar))


def organisation_of_unit(unit_id: int | None) -> int | None:
    """The client organisation a requesting unit belongs to (None: the provider's own)."""
    if unit_id is None:
        return None
    return Unit.objects.filter(pk=unit_id).values_list("organisation_id", flat=True).first()


def matching_agreement(service: Service, requesting_unit_id: int | None, channel: str) -> Agreement | None:
    """The most specific active agreement: the requesting unit's, then its client
    organisation's, then the service's general one (each with the request's channel before one
    for both channels); the newest wins a tie."""
    organisation_id = organisation_of_unit(requesting_unit_id)
    specificity = Case(
        When(Q(requesting_unit__isnull=False) & ~Q(channel=""), then=Value(5)),
        When(requesting_unit__isnull=False, then=Value(4)),
        When(Q(requesting_organisation__isnull=False) & ~Q(channel=""), then=Value(3)),
        When(requesting_organisation__isnull=False, then=Value(2)),
        When(~Q(channel=""), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    whose = Q(requesting_unit__isnull=True) | Q(requesting_unit_id=requesting_unit_id)
    whose &= Q(requesting_organisation__isnull=True) | Q(requesting_organisation_id=organisation_id)
    return (
        Agreement.objects.filter(service=service, active=True)
        .filter(whose)
        .filter(Q(channel="") | Q(channel=channel))
        .annotate(specificity=specificity)
        .order_by("-specificity", "-id")
        .first()
    )


def terms_for(
    service: Service, requesting_unit_id: int | None, channel: str, *, calendar: WorkingCalendar | None = None
) -> Terms:
    """The terms a new request gets: its matching agreement's, else the service's default ones
    (``calendar``: the service's, when the caller has it already)."""
    agreement = matching_agreement(service, requesting_unit_id, channel)
    if agreement is not None:
        return Terms.of(agreement)
    return Terms.default(service, calendar or calendar_for_service(service))


def agreements_visible_to(user: AnyUser | None) -> QuerySet[Agreement]:
    """Agreements are published terms: every member of staff may read them."""
    if person_of(user) is None:
        return Agreement.objects.none()
    return Agreement.objects.select_related("service", "requesting_unit")


def day_seconds(unit: Unit) -> int:
    """The unit's working day (the mean of its working weekdays), for "3d" in forms and words."""
    return slaclock.day_length(calendar_for_unit(unit).spec)


def service_day_seconds(service: Service) -> int:
    """The working day of the calendar the service's clocks run on."""
    return slaclock.day_length(calendar_for_service(service).spec)


def holidays_ahead(unit: Unit, start: date, count: int = 10) -> list[tuple[date, str]]:
    """The next public holidays the unit's calendar observes (openings excepted)."""
    return upcoming_holidays(calendar_for_unit(unit).spec, start, count)


def service_holidays_ahead(service: Service, start: date, count: int = 10) -> list[tuple[date, str]]:
    return upcoming_holidays(calendar_for_service(service).spec, start, count)


# --- the management pages -----------------------------------------------------------------------


def reads_agreement_pages(person: Person | None) -> bool:
    """Agreement pages are for leads and administrators, and executives read them."""
    return person is not None and (sees_everything(person) or person.role == Role.LEAD)


def agreements_listed_for(person: Person) -> QuerySet[Agreement]:
    """Every agreement for administrators and executives; a lead's unit's services' otherwise."""
    qs = Agreement.objects.select_related("service__unit", "requesting_unit").order_by(
        "service__unit__name", "service__name", "name"
    )
    return qs if sees_everything(person) else qs.filter(service__unit_id=person.unit_id)


def customer_agreements_visible_to(user: AnyUser | None) -> QuerySet[CustomerAgreement]:
    """Customer agreements are published promises: every member of staff may read them."""
    if person_of(user) is None:
        return CustomerAgreement.objects.none()
    return CustomerAgreement.objects.select_related("unit").prefetch_related("services__unit")


def customer_agreements_listed_for(person: Person) -> QuerySet[CustomerAgreement]:
    qs = customer_agreements_visible_to(person.user).order_by("unit__name", "name")
    return qs if sees_everything(person) else qs.filter(unit_id=person.unit_id)


def may_edit_customer_agreement(person: Person | None, unit_id: int) -> bool:
    return is_admin(person) or (person is not None and person.role == Role.LEAD and person.unit_id == unit_id)


def coverage(ca: CustomerAgreement) -> legs.Coverage:
    """Whether the back-office legs fit inside the customer target (``engines.legs``). Each leg
    is the resolution target that governs the service for this unit on the external channel."""
    services = sorted(ca.services.all(), key=lambda s: s.name)
    steps = [(s.name, terms_for(s, ca.unit_id, "external").resolve_seconds) for s in services]
    return legs.check_coverage(ca.resolution_minutes * 60, steps, ca.margin_minutes * 60, day_seconds(ca.unit))
