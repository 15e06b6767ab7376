"""API: unit calendars, agreements and customer agreements (with their coverage check).

Every change goes through the same actions as the pages (``tandem.agreements.actions``)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router
from ninja.params import P, PathEx
from ninja.responses import Status

from tandem.agreements import actions
from tandem.agreements.models import Agreement, Calendar, CustomerAgreement
from tandem.agreements.queries import (
    agreements_visible_to,
    calendar_data,
    coverage,
    customer_agreements_visible_to,
    holidays_ahead,
    own_service_calendar,
    service_calendar_data,
    service_holidays_ahead,
)
from tandem.catalogue.models import Service
from tandem.engines.agreements.legs import MAX_MINUTES, Coverage
from tandem.org.api_shared import (
    InSchema,
    OptionalText200,
    PageQuery,
    PathId,
    Schema,
    ServiceRef,
    Slug,
    Text200,
    UnitRef,
    actor,
    auth_user,
    errors,
    keyset_page,
)
from tandem.org.models import Side, Unit
from tandem.org.queries import units_visible_to
from tandem.refusal import Invalid, NotFound

router = Router(tags=["agreements"])

UnitSlug = PathEx[str, P(pattern=r"^[-a-zA-Z0-9_]{1,80}$", description="The unit's slug.")]
ServiceSlug = PathEx[str, P(pattern=r"^[-a-zA-Z0-9_]{1,80}$", description="The service's slug.")]
Hours = list[tuple[str, str]]
Minutes = int


class AgreementOut(Schema):
    id: int
    name: str
    service: ServiceRef
    requesting_unit: UnitRef | None = Field(..., description="Null: every requesting unit.")
    channel: str = Field(..., description="internal, external, or empty for both.")
    first_response_minutes: int = Field(..., description="Working minutes of the providing unit.")
    resolution_minutes: int = Field(..., description="Working minutes of the providing unit.")
    target_percent: float = Field(..., description="Share of requests to meet the targets.")
    pause_statuses: list[str] = Field(..., description="Statuses that stop the clock.")
    active: bool

    @classmethod
    def of(cls, a: Agreement) -> AgreementOut:
        return cls(
            id=a.pk,
            name=a.name,
            service=ServiceRef(id=a.service.pk, slug=a.service.slug, name=a.service.name),
            requesting_unit=UnitRef.of(a.requesting_unit) if a.requesting_unit else None,
            channel=a.channel,
            first_response_minutes=a.first_response_minutes,
            resolution_minutes=a.resolution_minutes,
            target_percent=float(a.target_percent),
            pause_statuses=list(a.pause_statuses),
            active=a.active,
        )


class AgreementPage(Schema):
    items: list[AgreementOut]
    next_after: int | None


class AgreementQuery(PageQuery):
    service: Slug | None = Field(None, description="Only the agreements of this service (its slug).")


class AgreementIn(InSchema):
    service: Slug = Field(..., description="The service's slug.")
    name: OptionalText200 = Field("", description="Blank: named after the service.")
    requesting_unit: Slug | None = Field(None, description="A unit's slug; null for every requesting unit.")
    channel: Literal["", "internal", "external"] = Field("", description="Empty: both channels.")
    first_response_minutes: int = Field(..., description="Working minutes of the providing unit (more than 0).")
    resolution_minutes: int = Field(..., description="Working minutes of the providing unit (more than 0).")
    target_percent: float = Field(90.0, description="Share of requests to meet the targets (0 to 100].")
    pause_statuses: list[str] = Field(
        ["waiting_requester"], max_length=2, description="waiting_requester and/or waiting_third_party."
    )
    active: bool = True


def _unit(request: HttpRequest, slug: str | None, field: str) -> Unit | None:
    if slug is None:
        return None
    unit = units_visible_to(auth_user(request)).filter(slug=slug).first()
    if unit is None:
        raise Invalid(f"There is no unit {slug!r}; GET /api/units lists them.", errors={field: ["Unknown unit."]})
    return unit


def _service(slug: str) -> Service:
    service = Service.objects.select_related("unit").filter(slug=slug).first()
    if service is None:
        raise Invalid(f"There is no service {slug!r}.", errors={"service": ["Unknown service."]})
    return service


def _terms(request: HttpRequest, payload: AgreementIn) -> dict:
    return {
        "name": payload.name,
        "requesting_unit": _unit(request, payload.requesting_unit, "requesting_unit"),
        "channel": payload.channel,
        "first_response_minutes": payload.first_response_minutes,
        "resolution_minutes": payload.resolution_minutes,
        "target_percent": payload.target_percent,
        "pause_statuses": list(payload.pause_statuses),
        "active": payload.active,
    }


@router.get("/agreements", response={200: AgreementPage, **errors(403, 422)}, summary="List agreements")
def list_agreements(request: HttpRequest, query: Query[AgreementQuery]) -> dict:
    """Agreements in the order they were made (ascending id). A service without an active
    agreement runs on its published turnaround (docs/agreements.md)."""
    actor(request)
    rows_qs = agreements_visible_to(auth_user(request))
    if query.service is not None:
        rows_qs = rows_qs.filter(service__slug=query.service)
    rows, next_after = keyset_page(rows_qs, query, newest_first=False)
    return {"items": [AgreementOut.of(a) for a in rows], "next_after": next_after}


@router.post("/agreements", response={201: AgreementOut, **errors(400, 403, 422)}, summary="Create an agreement")
def create_agreement(request: HttpRequest, payload: AgreementIn) -> Status:
    """Define targets for a service (the lead of its providing unit, or an administrator).
    Targets are working minutes of the providing unit's calendar."""
    agreement = actions.define_agreement(actor(request), _service(payload.service), **_terms(request, payload))
    return Status(201, AgreementOut.of(agreement))


def _agreement(request: HttpRequest, agreement_id: int) -> Agreement:
    found = agreements_visible_to(auth_user(request)).filter(pk=agreement_id).first()
    if found is None:
        raise NotFound(f"There is no agreement {agreement_id}; GET /api/agreements lists them.")
    return found


@router.get(
    "/agreements/{agreement_id}", response={200: AgreementOut, **errors(403, 404, 422)}, summary="Get an agreement"
)
def get_agreement(request: HttpRequest, agreement_id: PathId) -> AgreementOut:
    """One agreement's terms."""
    actor(request)
    return AgreementOut.of(_agreement(request, agreement_id))  # type: ignore[arg-type]


@router.put(
    "/agreements/{agreement_id}",
    response={200: AgreementOut, **errors(400, 403, 404, 422)},
    summary="Update an agreement",
)
def update_agreement(request: HttpRequest, agreement_id: PathId, payload: AgreementIn) -> AgreementOut:
    """Replace an agreement's terms. Requests already submitted keep the targets they were given."""
    me = actor(request)
    agreement = _agreement(request, agreement_id)  # type: ignore[arg-type]
    updated = actions.update_agreement(me, agreement.pk, _service(payload.service), **_terms(request, payload))
    return AgreementOut.of(updated)


# --- calendars ---------------------------------------------------------------------------------


class HolidayOut(Schema):
    date: str = Field(..., description="YYYY-MM-DD")
    name: str


class CalendarIn(InSchema):
    tz: str | None = Field(None, max_length=64, description="IANA zone; null: the unit's time zone.")
    weekly: dict[str, Hours] = Field(..., description='Weekday "0" (Monday) … "6" → [["09:00", "12:30"], ...].')
    country: str | None = Field(None, max_length=8, description="Public holidays of this country (e.g. GB).")
    subdivision: str | None = Field(None, max_length=16, description="e.g. ENG, SCT.")
    closures: dict[str, Hours] = Field({}, description="YYYY-MM-DD → hours left open; [] closes the day.")
    openings: dict[str, Hours] = Field({}, description="YYYY-MM-DD → hours worked on that date.")


class CalendarFieldsOut(Schema):
    """The working calendar itself, shared by unit and service calendars."""

    tz: str
    weekly: dict[str, list[list[str]]] = Field(..., description='Weekday "0" (Monday) … "6" → [[start, end], ...].')
    country: str | None
    subdivision: str | None
    closures: dict[str, list[list[str]]] = Field(..., description="Date → hours left open; [] closes the day.")
    openings: dict[str, list[list[str]]] = Field(..., description="Date → its working hours.")
    upcoming_holidays: list[HolidayOut] = Field(..., description="The next 10 public holidays it observes.")


def _calendar_fields(data: dict, holidays: list[tuple[date, str]]) -> dict[str, Any]:
    return {
        "tz": data["tz"],
        "weekly": data.get("weekly") or {},
        "country": data.get("country"),
        "subdivision": data.get("subdivision"),
        "closures": data.get("closures") or {},
        "openings": data.get("openings") or {},
        "upcoming_holidays": [HolidayOut(date=d.isoformat(), name=n) for d, n in holidays],
    }


class CalendarOut(CalendarFieldsOut):
    unit: UnitRef
    own: bool = Field(..., description="False: the unit runs on the default calendar.")

    @classmethod
    def of(cls, unit: Unit) -> CalendarOut:
        return cls(
            unit=UnitRef.of(unit),
            own=Calendar.objects.filter(unit=unit).exists(),
            **_calendar_fields(calendar_data(unit), holidays_ahead(unit, timezone.localdate())),
        )


class ServiceCalendarOut(CalendarFieldsOut):
    service: ServiceRef
    unit: UnitRef = Field(..., description="The providing unit.")
    own: bool = Field(..., description="False: the service runs on its unit's calendar (or the default).")

    @classmethod
    def of(cls, service: Service) -> ServiceCalendarOut:
        return cls(
            service=ServiceRef(id=service.pk, slug=service.slug, name=service.name),
            unit=UnitRef.of(service.unit),
            own=own_service_calendar(service) is not None,
            **_calendar_fields(
                service_calendar_data(service), service_holidays_ahead(service, timezone.localdate())
            ),
        )


def _calendar_input(payload: CalendarIn, time_zone: str) -> dict:
    return {
        "tz": payload.tz or time_zone,
        "weekly": {k: [list(h) for h in v] for k, v in payload.weekly.items()},
        "country": payload.country,
        "subdivision": payload.subdivision,
        "closures": {k: [list(h) for h in v] for k, v in payload.closures.items()},
        "openings": {k: [list(h) for h in v] for k, v in payload.openings.items()},
    }


def _unit_at(request: HttpRequest, slug: str) -> Unit:
    unit = units_visible_to(auth_user(request)).filter(slug=slug).first()
    if unit is None:
        raise NotFound(f"There is no unit {slug!r}; GET /api/units lists them.")
    return unit


@router.get(
    "/calendars/{unit_slug}", response={200: CalendarOut, **errors(403, 404, 422)}, summary="Get a unit's calendar"
)
def get_calendar(request: HttpRequest, unit_slug: UnitSlug) -> CalendarOut:
    """The working calendar a unit's agreement clocks run on, and its next public holidays."""
    actor(request)
    return CalendarOut.of(_unit_at(request, unit_slug))


@router.post(
    "/calendars/{unit_slug}",
    response={200: CalendarOut, **errors(400, 403, 404, 422)},
    summary="Set a unit's calendar",
)
def set_calendar(request: HttpRequest, unit_slug: UnitSlug, payload: CalendarIn) -> CalendarOut:
    """Replace the unit's calendar (its lead or an administrator). Inverted or overlapping
    intervals, unknown countries or regions and a week without working time are refused (422)."""
    me = actor(request)
    unit = _unit_at(request, unit_slug)
    actions.set_calendar(me, unit, _calendar_input(payload, unit.time_zone))
    return CalendarOut.of(unit)


def _service_at(slug: str) -> Service:
    service = Service.objects.select_related("unit").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service {slug!r}; GET /api/services lists them.")
    return service


@router.get(
    "/calendars/services/{slug}",
    response={200: ServiceCalendarOut, **errors(403, 404, 422)},
    summary="Get a service's calendar",
)
def get_service_calendar(request: HttpRequest, slug: ServiceSlug) -> ServiceCalendarOut:
    """The working calendar a service's agreement clocks run on: its own, else its unit's."""
    actor(request)
    return ServiceCalendarOut.of(_service_at(slug))


@router.post(
    "/calendars/services/{slug}",
    response={200: ServiceCalendarOut, **errors(400, 403, 404, 422)},
    summary="Set a service's own calendar",
)
def set_service_calendar(request: HttpRequest, slug: ServiceSlug, payload: CalendarIn) -> ServiceCalendarOut:
    """Give the service its own calendar, overriding its unit's (a lead of the providing unit or
    an administrator). Refused (422) like a unit's calendar, naming the field."""
    me = actor(request)
    service = _service_at(slug)
    actions.set_service_calendar(me, service, _calendar_input(payload, service.unit.time_zone))
    return ServiceCalendarOut.of(service)


@router.delete(
    "/calendars/services/{slug}",
    response={200: ServiceCalendarOut, **errors(403, 404, 422)},
    summary="Remove a service's own calendar",
)
def remove_service_calendar(request: HttpRequest, slug: ServiceSlug) -> ServiceCalendarOut:
    """Drop the service's own calendar: it runs on its unit's again. Answers the calendar now in force."""
    me = actor(request)
    service = _service_at(slug)
    actions.remove_service_calendar(me, service)
    return ServiceCalendarOut.of(service)


# --- customer agreements -----------------------------------------------------------------------


class LegOut(Schema):
    service: str
    target_minutes: int = Field(..., description="The leg's resolution target, in working minutes.")


class CoverageOut(Schema):
    ok: bool = Field(..., description="The legs plus the margin fit inside the customer target.")
    customer_target_minutes: int
    legs: list[LegOut] = Field(..., description="Done one after the other.")
    margin_minutes: int
    total_minutes: int = Field(..., description="Sum of the legs plus the margin.")
    shortfall_minutes: int = Field(..., description="How much the total exceeds the customer target (0 when ok).")
    message: str

    @classmethod
    def of(cls, c: Coverage) -> CoverageOut:
        return cls(
            ok=c.ok,
            customer_target_minutes=c.customer_target // 60,
            legs=[LegOut(service=leg.service, target_minutes=leg.target // 60) for leg in c.legs],
            margin_minutes=c.margin // 60,
            total_minutes=c.total // 60,
            shortfall_minutes=c.shortfall // 60,
            message=c.message,
        )


class CustomerAgreementOut(Schema):
    id: int
    unit: UnitRef = Field(..., description="The front-office unit that makes the promise.")
    name: str
    resolution_minutes: int = Field(..., description="Working minutes of the front unit promised to customers.")
    margin_minutes: int
    services: list[ServiceRef] = Field(..., description="The back-office services it depends on.")
    active: bool
    coverage: CoverageOut

    @classmethod
    def of(cls, ca: CustomerAgreement) -> CustomerAgreementOut:
        return cls(
            id=ca.pk,
            unit=UnitRef.of(ca.unit),
            name=ca.name,
            resolution_minutes=ca.resolution_minutes,
            margin_minutes=ca.margin_minutes,
            services=[ServiceRef(id=s.pk, slug=s.slug, name=s.name) for s in ca.services.all()],
            active=ca.active,
            coverage=CoverageOut.of(coverage(ca)),
        )


class CustomerAgreementPage(Schema):
    items: list[CustomerAgreementOut]
    next_after: int | None


class CustomerAgreementIn(InSchema):
    unit: Slug = Field(..., description="The front-office unit's slug (ignored on update).")
    name: Text200
    resolution_minutes: int = Field(..., description=f"Working minutes of the front unit, 1 to {MAX_MINUTES}.")
    margin_minutes: int = Field(0, description="Working minutes kept in hand.")
    services: list[Slug] = Field(..., max_length=50, description="Slugs of the back-office services it depends on.")
    active: bool = True


def _customer_terms(payload: CustomerAgreementIn) -> dict:
    services = list(Service.objects.filter(slug__in=payload.services, unit__side=Side.BACK).select_related("unit"))
    unknown = sorted(set(payload.services) - {s.slug for s in services})
    if unknown:
        raise Invalid(
            f"There is no back-office service {unknown[0]!r}.",
            errors={"services": [f"Unknown service {unknown[0]!r}."]},
        )
    return {
        "name": payload.name,
        "resolution_minutes": payload.resolution_minutes,
        "margin_minutes": payload.margin_minutes,
        "services": services,
        "active": payload.active,
    }


def _customer_agreement(request: HttpRequest, pk: int) -> CustomerAgreement:
    found = customer_agreements_visible_to(auth_user(request)).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"There is no customer agreement {pk}; GET /api/customer-agreements lists them.")
    return found


@router.get(
    "/customer-agreements",
    response={200: CustomerAgreementPage, **errors(403, 422)},
    summary="List customer agreements",
)
def list_customer_agreements(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """Front-office promises to customers with their coverage check, in the order they were made."""
    actor(request)
    rows, next_after = keyset_page(customer_agreements_visible_to(auth_user(request)), query, newest_first=False)
    return {"items": [CustomerAgreementOut.of(ca) for ca in rows], "next_after": next_after}


@router.post(
    "/customer-agreements",
    response={201: CustomerAgreementOut, **errors(400, 403, 422)},
    summary="Create a customer agreement",
)
def create_customer_agreement(request: HttpRequest, payload: CustomerAgreementIn) -> Status:
    """A front-office unit's customer-facing target and the back-office services it needs (its
    lead or an administrator). The answer carries the coverage check."""
    me = actor(request)
    unit = _unit(request, payload.unit, "unit")
    assert unit is not None
    ca = actions.define_customer_agreement(me, unit, **_customer_terms(payload))
    return Status(201, CustomerAgreementOut.of(ca))


@router.get(
    "/customer-agreements/{customer_agreement_id}",
    response={200: CustomerAgreementOut, **errors(403, 404, 422)},
    summary="Get a customer agreement",
)
def get_customer_agreement(request: HttpRequest, customer_agreement_id: PathId) -> CustomerAgreementOut:
    """One customer agreement with its coverage check (legs, margin, total, shortfall)."""
    actor(request)
    return CustomerAgreementOut.of(_customer_agreement(request, customer_agreement_id))  # type: ignore[arg-type]


@router.put(
    "/customer-agreements/{customer_agreement_id}",
    response={200: CustomerAgreementOut, **errors(400, 403, 404, 422)},
    summary="Update a customer agreement",
)
def update_customer_agreement(
    request: HttpRequest, customer_agreement_id: PathId, payload: CustomerAgreementIn
) -> CustomerAgreementOut:
    """Replace a customer agreement's terms; it stays with its unit."""
    me = actor(request)
    ca = _customer_agreement(request, customer_agreement_id)  # type: ignore[arg-type]
    updated = actions.update_customer_agreement(me, ca.pk, **_customer_terms(payload))
    return CustomerAgreementOut.of(updated)
