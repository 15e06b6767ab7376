"""The demand ahead: the worker's daily forecast of every service's arrivals, and a front-office
lead's declared demand."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import IntegrityError
from django.utils import timezone

from tandem.agreements.queries import calendar_for_unit
from tandem.catalogue.models import Service
from tandem.demand.models import ArrivalForecast, DeclaredDemand, DemandAsk, PlanInputs, WeekForecast
from tandem.demand.queries import (
    SHARE_WEEKS,
    closed_days,
    daily_arrivals,
    declaration_rows,
    may_declare_for,
    requesting_shares,
    services_unit_may_ask,
    weeks_ahead,
)
from tandem.engines.forecast.arrivals import Day, Forecast, TooShort, forecast, period_range
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role, Side, Unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.work.effort import effort_of, service_efforts

#: Days forecast from today: four whole weeks from next Monday, whatever today is.
FORECAST_DAYS = 35
#: Arrivals read: a year, enough for the forecast's 26-week pattern and its level.
HISTORY_DAYS = 364
#: The most a unit can declare for one service in one week: a guard against typing errors.
MAX_DECLARED = 100_000


def _trim(counts: np.ndarray, first: date) -> tuple[date, np.ndarray]:
    """The series from its first arrival (days before a service existed are not quiet days)."""
    nonzero = np.flatnonzero(counts)
    if len(nonzero) == 0:
        return first, counts[:0]
    return first + timedelta(days=int(nonzero[0])), counts[nonzero[0]:]


@dataclass(frozen=True)
class ServiceForecast:
    service: Service
    days: list[Day]
    scale: float  # 1, or the service's share of its unit's forecast
    dispersion: float
    basis: str

    def expected(self) -> list[float]:
        return [d.expected * self.scale for d in self.days]


def _forecast_unit(unit: Unit, services: list[Service], today: date) -> list[ServiceForecast]:
    """The next ``FORECAST_DAYS`` of each service, from its arrivals before ``today``, on its
    unit's calendar. A service with less than eight weeks of its own is forecast from its unit's
    pattern, scaled to its share of the unit's arrivals since it began, and says so."""
    first = today - timedelta(days=HISTORY_DAYS)
    arrivals = daily_arrivals(unit, first, today)
    closed = closed_days(calendar_for_unit(unit), first, today + timedelta(days=FORECAST_DAYS))
    holiday = closed.__contains__
    total = sum((arrivals[s.pk] for s in services), np.zeros((today - first).days, dtype=np.int64))
    unit_start, unit_counts = _trim(total, first)
    unit_forecast: Forecast | None = None
    with suppress(TooShort):  # a unit with too little history: only its longer-lived services
        unit_forecast = forecast(unit_start, unit_counts, FORECAST_DAYS, holidays=holiday)
    out = []
    for service in services:
        start, counts = _trim(arrivals[service.pk], first)
        try:
            result = forecast(start, counts, FORECAST_DAYS, holidays=holiday)
            out.append(ServiceForecast(service, result.days, 1.0, result.dispersion,
                                       f"its own {len(counts) // 7} weeks of arrivals"))
        except TooShort:
            since = unit_counts[-len(counts):].sum() if len(counts) else 0
            if unit_forecast is None or since == 0:
                continue
            out.append(ServiceForecast(
                service, unit_forecast.days, float(counts.sum() / since), unit_forecast.dispersion,
                f"{unit.name}'s pattern, at this service's share: too little history of its own",
            ))
    return out


def refresh_arrival_forecasts(today: date | None = None, *, force: bool = False) -> int:
    """Once a day (``force`` to redo): forecast the next ``FORECAST_DAYS`` of every active
    service (``_forecast_unit``), keeping the first forecast of each week's whole weeks to be
    held against what came. Returns how many services were forecast."""
    today = today or timezone.localdate()
    if not force and ArrivalForecast.objects.filter(made_on=today).exists():
        return 0
    done = 0
    for unit in Unit.objects.filter(side=Side.BACK).order_by("pk"):
        services = list(Service.objects.filter(unit=unit, active=True).order_by("pk"))
        if not services:
            continue
        made = _forecast_unit(unit, services, today)
        rows = [
            ArrivalForecast(
                service=f.service, day=d.day, expected=d.expected * f.scale, p10=_scaled(d.p10, f.scale),
                p50=_scaled(d.p50, f.scale), p90=_scaled(d.p90, f.scale), dispersion=f.dispersion,
                made_on=today, basis=f.basis,
            )
            for f in made for d in f.days
        ]
        weeks = [w for f in made for w in _week_snapshot(f.service, today, f.expected(), f.dispersion)]
        inputs = plan_inputs(unit, services, today)
        done += len(made)
        with action_transaction():
            ArrivalForecast.objects.filter(service__unit=unit).delete()
            ArrivalForecast.objects.bulk_create(rows)
            WeekForecast.objects.bulk_create(weeks, ignore_conflicts=True)
            PlanInputs.objects.filter(service__unit=unit).delete()
            PlanInputs.objects.bulk_create(inputs)
    return done


def plan_inputs(unit: Unit, services: list[Service], today: date) -> list[PlanInputs]:
    """The plan's inputs besides the forecast (``PlanInputs``), as of now (or the end of
    ``today`` when it is past): each service's learned effort, and the requesting units' shares
    of its requests over the last ``SHARE_WEEKS`` weeks."""
    zone = timezone.get_default_timezone()
    at = min(timezone.now(), datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone))
    efforts = service_efforts(unit, at)
    shares = requesting_shares([s.pk for s in services], at - timedelta(weeks=SHARE_WEEKS))
    out = []
    for s in services:
        effort = effort_of(efforts, s.pk)
        out.append(PlanInputs(service=s, made_on=today, effort_seconds=effort.seconds, effort_learned=effort.learned,
                              shares={str(u): share for u, share in shares[s.pk].items()}))
    return out


def backfill_week_forecasts(today: date, weeks: int) -> int:
    """The week forecasts the worker would have kept on each of the last ``weeks`` Mondays,
    each from the arrivals before it: a history loaded in bulk (the demo) starts with forecasts
    to hold against what came. Returns how many week forecasts were kept."""
    kept = 0
    this_monday = today - timedelta(days=today.weekday())
    for k in range(weeks, 0, -1):
        monday = this_monday - timedelta(days=7 * k)
        for unit in Unit.objects.filter(side=Side.BACK).order_by("pk"):
            services = list(Service.objects.filter(unit=unit, active=True).order_by("pk"))
            rows = [w for f in _forecast_unit(unit, services, monday)
                    for w in _week_snapshot(f.service, monday, f.expected(), f.dispersion)]
            with action_transaction():
                WeekForecast.objects.bulk_create(rows, ignore_conflicts=True)
            kept += len(rows)
    return kept


def _scaled(value: float, scale: float) -> float:
    return value if scale == 1.0 else round(value * scale, 1)


def _week_snapshot(service: Service, today: date, expected: list[float], dispersion: float) -> list[WeekForecast]:
    """The whole weeks ahead as forecast today, kept once a week (the first refresh of the
    week) to be held against what came."""
    if WeekForecast.objects.filter(service=service, made_on__gt=today - timedelta(days=today.weekday() + 1),
                                   made_on__lte=today).exists():
        return []
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    out = []
    while (monday - today).days + 7 <= len(expected):
        offset = (monday - today).days
        total, p10, _p50, p90 = period_range(expected[offset:offset + 7], dispersion)
        out.append(WeekForecast(service=service, week=monday, made_on=today, expected=total, p10=p10, p90=p90))
        monday += timedelta(days=7)
    return out


@dataclass(frozen=True)
class Declaration:
    service_id: int
    week: Any  # a Monday still to come, as a date or "YYYY-MM-DD"
    count: Any  # a whole number from 0 to MAX_DECLARED
    note: str = ""


def declare_demand(
    actor: Person, unit_id: int, service_id: int, week: Any, count: Any, note: str = "",
    *, today: date | None = None,
) -> DeclaredDemand:
    """Record how many requests of a service the actor's front-office unit expects in a week
    (replacing what it declared before for that week); see ``declare_weeks``."""
    return declare_weeks(actor, unit_id, {"": Declaration(service_id, week, count, note)}, today=today)[0]


def declare_weeks(
    actor: Person, unit_id: int, entries: dict[str, Declaration], *, today: date | None = None
) -> list[DeclaredDemand]:
    """Record several declarations at once, or none: refused, and nothing saved, for a unit the
    actor does not lead, a service it cannot ask, a week that has begun or is not a Monday, or a
    count that is not a whole number from 0 to 100,000. The errors are keyed by each entry's key
    (prefixed to the field: ``"<key>.count"``; the bare field for a single unnamed entry)."""
    today = today or timezone.localdate()
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(f"There is no unit {unit_id}.")
    if not may_declare_for(actor, unit):
        raise Forbidden(f"Only a lead of {unit.name} (or an admin) declares its demand.")
    errors: dict[str, list[str]] = {}
    checked: list[tuple[Service, date, int, str]] = []
    askable = {s.pk: s for s in services_unit_may_ask(unit).filter(pk__in=[e.service_id for e in entries.values()])}
    for key, entry in entries.items():
        mine: dict[str, list[str]] = {}
        service = askable.get(entry.service_id)
        if service is None:
            mine["service"] = [f"{unit.name} cannot ask for service {entry.service_id}: choose one of its catalogue."]
        monday = _monday(entry.week, mine, today)
        number = _count(entry.count, mine)
        note = (entry.note or "").strip()
        if len(note) > 300:
            mine["note"] = [f"A note has at most 300 characters, not {len(note)}."]
        for field_name, messages in mine.items():
            errors[f"{key}.{field_name}" if key else field_name] = messages
        if not mine:
            assert service is not None and monday is not None and number is not None
            checked.append((service, monday, number, note))
    if errors:
        raise Invalid("The demand was not saved: " + " ".join(m for ms in errors.values() for m in ms), errors=errors)
    now = timezone.now()
    with action_transaction():
        return [
            DeclaredDemand.objects.update_or_create(
                unit=unit, service=service, week=monday,
                defaults={"count": number, "note": note, "declared_by": actor, "declared_at": now},
            )[0]
            for service, monday, number, note in checked
        ]


def _monday(week: Any, errors: dict[str, list[str]], today: date) -> date | None:
    try:
        day = week if isinstance(week, date) else date.fromisoformat(str(week))
    except ValueError:
        errors["week"] = [f"{week!r} is not a date: give the week's Monday as YYYY-MM-DD."]
        return None
    if day.weekday() != 0:
        errors["week"] = [f"{day:%a %d %b %Y} is not a Monday: give the Monday the week starts."]
        return None
    if day <= today:
        errors["week"] = [f"The week of {day:%d %b %Y} has begun or passed: declare weeks still to come."]
        return None
    return day


def _count(value: Any, errors: dict[str, list[str]]) -> int | None:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors["count"] = [f"{value!r} is not a whole number of requests."]
        return None
    if not 0 <= number <= MAX_DECLARED:
        errors["count"] = [f"A week's demand is 0 to {MAX_DECLARED:,} requests, not {number:,}."]
        return None
    return number


def ask_for_demand(today: date | None = None) -> int:
    """Once a month, ask each front-office unit's leads for the demand the unit expects over the
    next four weeks (a notification, so also in their email digest), with Tandem's own figure to
    correct. The unit's ``DemandAsk`` row for the month is written with the notifications: a
    second worker finds it and asks nobody again. Returns how many leads were asked."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    done = set(DemandAsk.objects.filter(month=month).values_list("unit_id", flat=True))
    mondays = weeks_ahead(today + timedelta(days=1))
    told = 0
    for unit in Unit.objects.filter(side=Side.FRONT).exclude(pk__in=done).order_by("pk"):
        leads = list(
            Person.objects.filter(unit=unit, role=Role.LEAD, user__is_active=True).values_list("pk", flat=True)
        )
        if not leads:
            continue
        expected = sum(sum(f for _, f, _ in row.cells) for row in declaration_rows(unit, mondays, today))
        message = (
            f"How much will {unit.name} ask of the back office in the four weeks from {mondays[0]:%a %d %b}? "
            f"Tandem expects about {expected:,.0f} requests: correct it where you know better under "
            "Manage → Demand ahead."
        )
        try:
            with action_transaction():
                DemandAsk.objects.create(unit=unit, month=month, asked_at=timezone.now())
                notify(leads, Notification.Kind.DEMAND_ASK, None, message)
        except IntegrityError:
            continue  # another worker asked this unit a moment ago
        told += len(leads)
    return told
