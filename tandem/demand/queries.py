"""The four-week plan: per week and service, the forecast with its 80 % range, the demand
front-office units declared, the work it means in hands-on hours, the unit's capacity, the gap,
and the people the agreement's target needs (docs/demand.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from tandem.agreements.capacity import capacity_by_day
from tandem.agreements.models import Agreement
from tandem.agreements.queries import calendar_for_unit, turnaround_seconds
from tandem.catalogue.models import Service
from tandem.demand.models import ArrivalForecast, DeclaredDemand, PlanInputs, WeekForecast
from tandem.engines.forecast.arrivals import period_range
from tandem.engines.forecast.staffing import people_needed
from tandem.engines.worktime import WorkingCalendar
from tandem.org.models import Person, Role, Side, Unit
from tandem.org.queries import AnyUser, is_admin, leads_unit, person_of
from tandem.work.effort import Effort, effort_of, service_efforts
from tandem.work.models import ServiceRequest

WEEKS = 4
#: The requesting units' shares of a service are read over these last weeks.
SHARE_WEEKS = 12
#: Without an agreement, this share of requests is to meet the published turnaround.
DEFAULT_SHARE = 0.9


def open_days(calendar: WorkingCalendar, first: date, last: date) -> set[date]:
    """Days in ``[first, last]`` with working time on the calendar."""
    lo = datetime.combine(first, datetime.min.time(), tzinfo=calendar.zone)
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=calendar.zone)
    return {datetime.fromtimestamp(a, calendar.zone).date() for a, _ in calendar.working_intervals(lo, hi)}


def closed_days(calendar: WorkingCalendar, first: date, last: date) -> set[date]:
    """Days in ``[first, last]`` whose weekday normally has working hours but that have none on
    the calendar: its public holidays and closures."""
    working = open_days(calendar, first, last)
    weekly = calendar.spec.effective_weekly()
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {d for d in days if weekly[d.weekday()] and d not in working}


def daily_arrivals(unit: Unit, first: date, today: date) -> dict[int, np.ndarray]:
    """Service id → requests submitted per local day of ``unit`` in ``[first, today)``."""
    zone = ZoneInfo(unit.time_zone)
    lo = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    hi = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    rows = (
        ServiceRequest.objects.filter(unit=unit, submitted_at__gte=lo, submitted_at__lt=hi)
        .annotate(day=TruncDate("submitted_at", tzinfo=zone))
        .values("service_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out: dict[int, np.ndarray] = defaultdict(lambda: np.zeros((today - first).days, dtype=np.int64))
    for row in rows:
        out[row["service_id"]][(row["day"] - first).days] += row["n"]
    return out


def may_declare_for(person: Person | None, unit: Unit) -> bool:
    return unit.side == Side.FRONT and leads_unit(person, unit.pk)


def services_unit_may_ask(unit: Unit) -> QuerySet[Service]:
    """The published catalogue: every front-office unit may ask every active service."""
    return Service.objects.filter(active=True).select_related("unit")


def reads_plan(person: Person | None, unit: Unit) -> bool:
    """A back-office unit's plan: its lead, executives and admins."""
    if person is None or unit.side != Side.BACK:
        return False
    return is_admin(person) or person.role == Role.EXECUTIVE or leads_unit(person, unit.pk)


def plan_units_for(user: AnyUser | None) -> list[Unit]:
    person = person_of(user)
    return [u for u in Unit.objects.filter(side=Side.BACK).order_by("name") if reads_plan(person, u)]


def weeks_ahead(today: date, count: int = WEEKS) -> list[date]:
    """The Mondays of the next ``count`` whole weeks (from today when today is a Monday)."""
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    return [monday + timedelta(days=7 * k) for k in range(count)]


@dataclass
class ServiceWeek:
    service: Service
    expected: float  # the forecast's mean
    p10: float
    p50: float
    p90: float
    declared: int | None  # the sum of what front-office units declared (None: nobody did)
    declarers: int
    planned: float  # the forecast, with each declaring unit's share replaced by its declaration
    effort_hours: float  # hands-on hours per request (docs/figures.md)
    effort_learned: bool
    hours: float  # planned × effort
    forecast_basis: str


@dataclass
class WeekPlan:
    monday: date
    services: list[ServiceWeek]
    capacity_hours: float  # the unit's people's hours for requests (calendars, absences, loans)
    working_hours: float  # the unit calendar's working hours that week
    required_people: int  # Erlang C, for the agreement's target
    target_hours: float
    target_share: float
    window_start: datetime  # Monday 00:00 in the unit calendar's zone
    working_days_ahead: int  # working days from today to the end of the week (the loan simulation's window)
    forecast_missing: list[str] = field(default_factory=list)

    @property
    def planned(self) -> float:
        return sum(s.planned for s in self.services)

    @property
    def hours(self) -> float:
        return sum(s.hours for s in self.services)

    @property
    def gap_hours(self) -> float:
        """Work beyond the capacity (negative: hours to spare)."""
        return self.hours - self.capacity_hours

    @property
    def loan_window(self) -> tuple[datetime, datetime]:
        """Monday 00:00 to Saturday 00:00 of the week, in the unit calendar's zone: what a loan
        to cover the week asks for."""
        return self.window_start, self.window_start + timedelta(days=5)

    @property
    def spare_hours(self) -> float:
        return max(-self.gap_hours, 0.0)

    @property
    def available_people(self) -> float:
        """The capacity in people working the week's full hours on requests."""
        return self.capacity_hours / self.working_hours if self.working_hours else 0.0


def requesting_shares(service_ids: list[int], since: datetime) -> dict[int, dict[int, float]]:
    """Service id → requesting unit id → its share of the service's requests since ``since``."""
    rows = (
        ServiceRequest.objects.filter(service_id__in=service_ids, submitted_at__gte=since)
        .values("service_id", "requesting_unit_id").annotate(n=Count("pk")).order_by()
    )
    totals: dict[int, int] = defaultdict(int)
    for r in rows:
        totals[r["service_id"]] += r["n"]
    shares: dict[int, dict[int, float]] = defaultdict(dict)
    for r in rows:
        shares[r["service_id"]][r["requesting_unit_id"]] = r["n"] / totals[r["service_id"]]
    return shares


def agreement_target(unit: Unit, services: list[Service], calendar: WorkingCalendar) -> tuple[float, float]:
    """(hours, share): the strictest resolution target among the unit's active agreements, with
    its share to meet; without one, the shortest published turnaround and ``DEFAULT_SHARE``."""
    strictest = Agreement.objects.filter(service__unit=unit, active=True).order_by("resolution_minutes").first()
    if strictest is not None:
        return strictest.resolution_minutes / 60, float(strictest.target_percent) / 100
    if not services:
        return 0.0, DEFAULT_SHARE
    return min(turnaround_seconds(s, calendar) for s in services) / 3600, DEFAULT_SHARE


def stored_inputs(unit: Unit, services: list[Service],
                  now: datetime) -> tuple[dict[int, dict[int, float]], dict[int, Effort]]:
    """The requesting units' shares and the learned efforts of ``services``, as the worker
    stored them with the day's forecast (``PlanInputs``): a page view reads them rather than the
    unit's events. A service the worker has not reached yet (a new one, or before its first
    round) has them worked out here."""
    shares: dict[int, dict[int, float]] = defaultdict(dict)
    efforts: dict[int, Effort] = {}
    for row in PlanInputs.objects.filter(service__in=services):
        shares[row.service_id] = {int(u): float(v) for u, v in row.shares.items()}
        efforts[row.service_id] = Effort(row.effort_seconds, row.effort_learned)
    missing = [s.pk for s in services if s.pk not in efforts]
    if missing:
        shares.update(requesting_shares(missing, now - timedelta(weeks=SHARE_WEEKS)))
        live = service_efforts(unit, now)
        efforts.update({sid: effort_of(live, sid) for sid in missing})
    return shares, efforts


def four_week_plan(unit: Unit, today: date | None = None, *, now: datetime | None = None) -> list[WeekPlan]:
    now = now or timezone.now()
    today = today or timezone.localdate()
    mondays = weeks_ahead(today)
    services = list(Service.objects.filter(unit=unit, active=True).order_by("name"))
    ids = [s.pk for s in services]
    calendar = calendar_for_unit(unit)
    last = mondays[-1] + timedelta(days=6)
    forecasts: dict[int, list[ArrivalForecast]] = defaultdict(list)
    for f in ArrivalForecast.objects.filter(service_id__in=ids, day__gte=mondays[0], day__lte=last).order_by("day"):
        forecasts[f.service_id].append(f)
    declared: dict[tuple[int, date], list[DeclaredDemand]] = defaultdict(list)
    for d in DeclaredDemand.objects.filter(service_id__in=ids, week__in=mondays):
        declared[(d.service_id, d.week)].append(d)
    shares, efforts = stored_inputs(unit, services, now)
    capacity = capacity_by_day(unit, mondays[0], last)
    target_hours, target_share = agreement_target(unit, services, calendar)
    working_ahead = open_days(calendar, today, last)  # for each week, the loan simulation's window
    plans = []
    for monday in mondays:
        week_days = [monday + timedelta(days=k) for k in range(7)]
        rows: list[ServiceWeek] = []
        missing: list[str] = []
        for s in services:
            days = [f for f in forecasts[s.pk] if monday <= f.day <= week_days[-1]]
            if len(days) < 7:
                missing.append(s.name)
            expected, p10, p50, p90 = period_range([f.expected for f in days], days[0].dispersion if days else 0.0)
            claims = declared[(s.pk, monday)]
            planned = expected + sum(d.count - shares[s.pk].get(d.unit_id, 0.0) * expected for d in claims)
            effort = effort_of(efforts, s.pk)
            hours_each = effort.seconds / 3600
            rows.append(ServiceWeek(
                service=s, expected=expected, p10=p10, p50=p50, p90=p90,
                declared=sum(d.count for d in claims) if claims else None, declarers=len(claims),
                planned=max(planned, 0.0), effort_hours=hours_each, effort_learned=effort.learned,
                hours=max(planned, 0.0) * hours_each, forecast_basis=days[0].basis if days else "",
            ))
        lo = datetime.combine(monday, datetime.min.time(), tzinfo=calendar.zone)
        working = calendar.between(lo, lo + timedelta(days=7)) / 3600
        capacity_hours = sum(capacity[d][0] for d in week_days) / 3600
        total = sum(r.planned for r in rows)
        hours = sum(r.hours for r in rows)
        required = 0
        if total > 0 and working > 0 and hours > 0:
            effort_mean = hours / total
            staffing = people_needed(total / working, effort_mean, max(target_hours - effort_mean, 0.0), target_share)
            required = staffing.people
        plans.append(WeekPlan(
            monday=monday, services=rows, capacity_hours=capacity_hours, working_hours=working,
            required_people=required, target_hours=target_hours, target_share=target_share,
            window_start=lo, working_days_ahead=sum(d <= week_days[-1] for d in working_ahead),
            forecast_missing=missing,
        ))
    return plans


@dataclass
class DeclarationRow:
    service: Service
    cells: list[tuple[date, float, DeclaredDemand | None]]  # (week, Tandem's forecast for the unit, declared)


def declaration_rows(unit: Unit, mondays: list[date], today: date) -> list[DeclarationRow]:
    """For a front-office unit: each service it asked in the last twelve weeks or declared
    ahead, with Tandem's forecast of its own requests per week (its share of the service's
    forecast) beside what it declared."""
    zone = timezone.get_default_timezone()
    since = datetime.combine(today - timedelta(weeks=SHARE_WEEKS), datetime.min.time(), tzinfo=zone)
    used = set(ServiceRequest.objects.filter(requesting_unit=unit, submitted_at__gte=since)
               .values_list("service_id", flat=True).distinct())
    declared = {(d.service_id, d.week): d for d in DeclaredDemand.objects.filter(unit=unit, week__in=mondays)}
    ids = sorted(used | {sid for sid, _ in declared})
    services = list(services_unit_may_ask(unit).filter(pk__in=ids).order_by("unit__name", "name"))
    shares = requesting_shares([s.pk for s in services], since)
    last = mondays[-1] + timedelta(days=6) if mondays else today
    expected: dict[tuple[int, date], float] = defaultdict(float)
    for service_id, day, value in ArrivalForecast.objects.filter(
        service_id__in=ids, day__gte=mondays[0] if mondays else today, day__lte=last
    ).values_list("service_id", "day", "expected"):
        expected[(service_id, day - timedelta(days=day.weekday()))] += value
    return [
        DeclarationRow(service=s, cells=[
            (m, expected[(s.pk, m)] * shares[s.pk].get(unit.pk, 0.0), declared.get((s.pk, m))) for m in mondays
        ])
        for s in services
    ]


@dataclass
class WeekAccuracy:
    """A past week: what was forecast for it (the last forecast kept on or before its Monday)
    against what came."""

    monday: date
    forecast: float
    actual: int
    within: int  # services whose arrivals fell within their forecast's 80 % range
    services: int  # services forecast for the week

    @property
    def error(self) -> float:
        return self.forecast - self.actual

    @property
    def error_share(self) -> float | None:
        return abs(self.error) / self.actual if self.actual else None


def forecast_accuracy(unit: Unit, today: date, weeks: int = WEEKS) -> list[WeekAccuracy]:
    """The last ``weeks`` whole weeks before this one: each service's forecast for the week as
    it stood on the week's Monday (the latest kept on or before it), against its arrivals."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(days=7 * k) for k in range(weeks, 0, -1)]
    latest: dict[tuple[int, date], WeekForecast] = {}
    for f in WeekForecast.objects.filter(service__unit=unit, week__in=mondays).order_by("made_on"):
        if f.made_on <= f.week:
            latest[(f.service_id, f.week)] = f
    arrivals = daily_arrivals(unit, mondays[0], this_monday)
    out = []
    for k, monday in enumerate(mondays):
        kept = [f for (_, week), f in latest.items() if week == monday]
        actual = {sid: int(counts[7 * k:7 * k + 7].sum()) for sid, counts in arrivals.items()}
        out.append(WeekAccuracy(
            monday=monday, forecast=sum(f.expected for f in kept),
            actual=sum(actual.get(f.service_id, 0) for f in kept),
            within=sum(f.p10 <= actual.get(f.service_id, 0) <= f.p90 for f in kept), services=len(kept),
        ))
    return out


@dataclass
class UnitOverview:
    unit: Unit
    weeks: list[WeekPlan]
    accuracy: list[WeekAccuracy]

    @property
    def error_share(self) -> float | None:
        """Σ |forecast − actual| ÷ Σ actual over the weeks forecast (weighted absolute error)."""
        forecast = [a for a in self.accuracy if a.services]
        actual = sum(a.actual for a in forecast)
        return sum(abs(a.error) for a in forecast) / actual if actual else None

    @property
    def short_weeks(self) -> int:
        return sum(w.gap_hours > 0 for w in self.weeks)


def demand_overview(user: AnyUser | None, today: date | None = None) -> list[UnitOverview]:
    """Every back-office unit the user may plan for: its next four weeks and how well its last
    four were forecast."""
    today = today or timezone.localdate()
    return [
        UnitOverview(unit=u, weeks=four_week_plan(u, today), accuracy=forecast_accuracy(u, today))
        for u in plan_units_for(user)
    ]


def expected_by_day(service_ids: list[int], first: date, last: date) -> dict[int, dict[date, float]]:
    """Service id → day → the stored forecast's expected arrivals, for days in ``[first, last]``
    (services without a forecast are left out)."""
    out: dict[int, dict[date, float]] = defaultdict(dict)
    for service_id, day, expected in ArrivalForecast.objects.filter(
        service_id__in=service_ids, day__gte=first, day__lte=last
    ).values_list("service_id", "day", "expected"):
        out[service_id][day] = expected
    return out
