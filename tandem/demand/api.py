"""API: a back-office unit's four-week plan; a front-office unit's declared demand."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router
from ninja.params import P, PathEx

from tandem.catalogue.models import Service
from tandem.demand.actions import declare_demand
from tandem.demand.queries import (
    WeekPlan,
    declaration_rows,
    demand_overview,
    four_week_plan,
    may_declare_for,
    reads_plan,
    weeks_ahead,
)
from tandem.org.api_shared import InSchema, Schema, Slug, UnitRef, actor, auth_user, errors
from tandem.org.models import Person, Side, Unit
from tandem.org.queries import units_visible_to
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.rows import one_or_none

router = Router(tags=["demand"])

UnitSlug = PathEx[str, P(pattern=r"^[-a-zA-Z0-9_]{1,80}$", description="The unit's slug.")]


class PlanServiceOut(Schema):
    service: Slug
    name: str
    expected: float = Field(..., description="The forecast's mean arrivals in the week.")
    p10: float
    p50: float
    p90: float = Field(..., description="With p10, the forecast's 80 % range.")
    declared: int | None = Field(..., description="What front-office units declared; null when none did.")
    declarers: int
    planned: float = Field(
        ..., description="The forecast with each declaring unit's share replaced by its declaration."
    )
    effort_hours: float = Field(..., description="Hands-on hours per request (docs/figures.md).")
    hours: float = Field(..., description="planned × effort_hours.")
    forecast_basis: str


class PlanWeekOut(Schema):
    week: dt.date = Field(..., description="The Monday it starts.")
    planned: float
    hours: float = Field(..., description="The planned work in hands-on hours.")
    capacity_hours: float = Field(..., description="The unit's people's hours for requests.")
    gap_hours: float = Field(..., description="hours − capacity_hours: positive means short.")
    working_hours: float
    required_people: int = Field(..., description="Erlang C: full-time people on requests for the agreement's target.")
    available_people: float = Field(..., description="capacity_hours / working_hours.")
    target_hours: float
    target_share: float
    services: list[PlanServiceOut]
    loan_proposals: str | None = Field(
        ..., description="For a short week (gap_hours > 0): the path of the loans proposed to cover it "
        "(GET, and POST to ask for one); null otherwise."
    )


class DemandPlanOut(Schema):
    unit: UnitRef
    weeks: list[PlanWeekOut]


def _unit_named(request: HttpRequest, slug: str) -> Unit:
    unit = one_or_none(units_visible_to(auth_user(request)).filter(slug=slug))
    if unit is None:
        raise NotFound(f"There is no unit {slug!r}.")
    return unit


@router.get("/units/{unit_slug}/demand-plan", response={200: DemandPlanOut, **errors(403, 404, 422)},
            summary="Get a back-office unit's four-week plan")
def get_demand_plan(request: HttpRequest, unit_slug: UnitSlug) -> DemandPlanOut:
    """The figures of the four-week plan page. For the unit's lead, executives and administrators."""
    person = actor(request)
    unit = _unit_named(request, unit_slug)
    if unit.side != Side.BACK:
        raise Invalid(f"{unit.name} is a front-office unit: its demand ahead is at /units/{unit.slug}/declared-demand.")
    if not reads_plan(person, unit):
        raise Forbidden(f"{unit.name}'s plan is for its lead, executives and administrators.")
    return DemandPlanOut(unit=UnitRef.of(unit), weeks=[_week_out(unit, w) for w in four_week_plan(unit)])


def _week_out(unit: Unit, w: WeekPlan) -> PlanWeekOut:
    return PlanWeekOut(
        week=w.monday, planned=w.planned, hours=w.hours, capacity_hours=w.capacity_hours, gap_hours=w.gap_hours,
        working_hours=w.working_hours, required_people=w.required_people, available_people=w.available_people,
        target_hours=w.target_hours, target_share=w.target_share,
        loan_proposals=f"/api/units/{unit.slug}/demand-plan/{w.monday.isoformat()}/loan-proposals"
        if w.gap_hours > 0 else None,
        services=[PlanServiceOut(
            service=s.service.slug, name=s.service.name, expected=s.expected, p10=s.p10, p50=s.p50, p90=s.p90,
            declared=s.declared, declarers=s.declarers, planned=s.planned, effort_hours=s.effort_hours,
            hours=s.hours, forecast_basis=s.forecast_basis,
        ) for s in w.services],
    )


class AccuracyOut(Schema):
    week: dt.date
    forecast: float = Field(..., description="The services' forecasts for the week as they stood on its Monday.")
    actual: int = Field(..., description="What came, for the same services.")
    within: int = Field(..., description="Services whose arrivals fell within their 80 % range.")
    services: int = Field(..., description="Services forecast for the week (0: no forecast was kept).")


class OverviewUnitOut(Schema):
    unit: UnitRef
    weeks: list[PlanWeekOut]
    accuracy: list[AccuracyOut] = Field(..., description="The last four whole weeks.")
    error_share: float | None = Field(..., description="Σ |forecast − actual| ÷ Σ actual over those weeks.")


@router.get("/demand/overview", response={200: list[OverviewUnitOut], **errors(403)},
            summary="Get every back-office team's next four weeks and last four weeks' forecast accuracy")
def get_demand_overview(request: HttpRequest) -> list[OverviewUnitOut]:
    """The units you may plan for: executives and administrators every one, a back-office lead
    their own."""
    actor(request)
    units = demand_overview(request.user)
    if not units:
        raise Forbidden("The four weeks of every team are for back-office leads, executives and administrators.")
    return [
        OverviewUnitOut(
            unit=UnitRef.of(o.unit), weeks=[_week_out(o.unit, w) for w in o.weeks], error_share=o.error_share,
            accuracy=[AccuracyOut(week=a.monday, forecast=a.forecast, actual=a.actual, within=a.within,
                                  services=a.services) for a in o.accuracy],
        )
        for o in units
    ]


class DeclaredCellOut(Schema):
    week: dt.date
    forecast: float = Field(..., description="Tandem's forecast of this unit's requests: its share of the service's.")
    declared: int | None
    note: str


class DeclaredRowOut(Schema):
    service: Slug
    name: str
    weeks: list[DeclaredCellOut]


class DeclareIn(InSchema):
    service: Slug = Field(..., description="The service's slug.")
    week: dt.date = Field(..., description="The Monday of a week still to come.")
    count: int = Field(..., description="Requests the unit expects to make of the service that week (0 to 100,000).")
    note: str = ""


def _front_unit(request: HttpRequest, slug: str) -> tuple[Unit, Person]:
    person = actor(request)
    unit = _unit_named(request, slug)
    if not may_declare_for(person, unit):
        raise Forbidden(f"Only a lead of {unit.name}, a front-office unit, (or an admin) declares its demand.")
    return unit, person


@router.get("/units/{unit_slug}/declared-demand", response={200: list[DeclaredRowOut], **errors(403, 404, 422)},
            summary="Get a front-office unit's declared demand beside Tandem's forecast")
def get_declared_demand(request: HttpRequest, unit_slug: UnitSlug) -> list[DeclaredRowOut]:
    """Per service the unit asked in the last twelve weeks (or declared ahead), each of the next
    four weeks: Tandem's forecast of the unit's own requests (its share of the service's forecast)
    and what the unit declared. For the unit's lead and administrators."""
    unit, _ = _front_unit(request, unit_slug)
    today = timezone.localdate()
    mondays = weeks_ahead(today + dt.timedelta(days=1))  # four weeks still to come
    return [
        DeclaredRowOut(service=row.service.slug, name=row.service.name, weeks=[
            DeclaredCellOut(week=w, forecast=f, declared=d.count if d else None, note=d.note if d else "")
            for w, f, d in row.cells
        ])
        for row in declaration_rows(unit, mondays, today)
    ]


class DeclaredOut(Schema):
    service: Slug
    week: dt.date
    count: int
    note: str
    declared_at: dt.datetime


@router.put("/units/{unit_slug}/declared-demand", response={200: DeclaredOut, **errors(400, 403, 404, 422)},
            summary="Declare a front-office unit's demand for a service in a week")
def declare_demand_week(request: HttpRequest, unit_slug: UnitSlug, payload: DeclareIn) -> DeclaredOut:
    """Replaces what the unit declared before for that service and week."""
    unit, person = _front_unit(request, unit_slug)
    service = one_or_none(Service.objects.filter(slug=payload.service))
    if service is None:
        raise Invalid(f"There is no service {payload.service!r}: see GET /api/services.",
                      errors={"service": ["Unknown service."]})
    declared = declare_demand(person, unit.pk, service.pk, payload.week, payload.count, payload.note)
    return DeclaredOut(service=service.slug, week=declared.week, count=declared.count, note=declared.note,
                       declared_at=declared.declared_at)
