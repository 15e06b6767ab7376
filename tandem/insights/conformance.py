"""Procedure conformance on the evidence page: for each service with a documented procedure, the
share of its resolved requests whose checklist followed it, the common deviations, and the weekly
trend (``tandem.engines.evidence.conformance`` has the definitions)."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from tandem.catalogue.models import ProcedureStep, Service
from tandem.engines.evidence.conformance import Conformance, WeekShare, assemble
from tandem.insights.actions import monday
from tandem.insights.models import WeeklyConformance
from tandem.insights.queries import Filters
from tandem.org.pages import csv_number
from tandem.org.queries import AnyUser, person_of, sees_everything, work_unit_ids

#: How many deviations the page lists per service (the CSV and the API give them all).
TOP = 3
#: A week's bar on the trend is drawn orange below this share.
LOW_SHARE = 0.8
BAR, GAP, HEIGHT = 6, 2, 28
#: How long a sum of the weekly rows is kept; it is keyed by the newest row, so a rebuild
#: makes a new key at once and this only bounds the memory of keys no longer asked.
CACHE_SECONDS = 600


def services_checked(user: AnyUser | None, f: Filters) -> QuerySet[Service]:
    """Services with a procedure whose evidence the user may see: any non-confidential one; a
    confidential one only for its providing unit, executives and administrators (the rule of
    the rest of the evidence page)."""
    person = person_of(user)
    if person is None:
        return Service.objects.none()
    qs = Service.objects.filter(pk__in=ProcedureStep.objects.values("service_id")).select_related("unit")
    if not sees_everything(person):
        qs = qs.filter(Q(confidential=False) | Q(unit_id__in=work_unit_ids(person)))
    if f.unit is not None:
        qs = qs.filter(unit=f.unit)
    if f.service is not None:
        qs = qs.filter(pk=f.service.pk)
    return qs.order_by("unit__name", "name")


def period(f: Filters, now: datetime) -> tuple[list[date], datetime]:
    """The weeks of the period (Mondays, oldest first) and the instant it starts."""
    zone = timezone.get_default_timezone()
    this_week = monday(now.astimezone(zone).date())
    weeks = [this_week - timedelta(weeks=n) for n in range(f.weeks - 1, -1, -1)]
    return weeks, datetime.combine(weeks[0], time.min, tzinfo=zone)


def measure(
    services: list[Service], start: datetime, now: datetime, *, requesting_unit: Any = None, channel: str = "",
    requesting_units: frozenset[int] | None = None,
) -> dict[int, Conformance]:
    """Each service's conformance over the weeks of resolution from the one holding ``start``
    to the one holding ``now``, summed from the weekly rows the worker keeps
    (``tandem.insights.actions.rebuild_flow``): a few hundred rows, whatever the history."""
    procedures: dict[int, list[int]] = {s.pk: [] for s in services}
    names: dict[int, str] = {}
    for step_id, service_id, position, text in ProcedureStep.objects.filter(service__in=services).values_list(
        "pk", "service_id", "position", "text"
    ).order_by("service_id", "position", "pk"):
        procedures[service_id].append(step_id)
        names[step_id] = f"{position}. {text}"
    zone = timezone.get_default_timezone()
    rows = WeeklyConformance.objects.filter(
        service_id__in=list(procedures), week__gte=monday(start.astimezone(zone).date()),
        week__lte=now.astimezone(zone).date(),
    )
    if requesting_unit is not None:
        rows = rows.filter(requesting_unit=requesting_unit)
    if requesting_units is not None:
        rows = rows.filter(requesting_unit_id__in=requesting_units)
    if channel:
        rows = rows.filter(channel=channel)
    # The rows change only when the worker rebuilds weeks, and a rebuild writes new rows (new
    # ids): the newest id tells whether a sum made earlier still holds. Summing thousands of
    # rows' deviations is most of a dashboard view otherwise.
    newest = WeeklyConformance.objects.aggregate(newest=Max("id"), rows=Count("id"))
    parts = (newest, monday(start.astimezone(zone).date()), now.astimezone(zone).date(),
             getattr(requesting_unit, "pk", None), channel, sorted(procedures.items()), sorted(names.items()),
             None if requesting_units is None else sorted(requesting_units))
    key = "tandem:conformance:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cast(dict[int, Conformance], cached)
    totals: dict[int, list[int]] = {sid: [0, 0] for sid in procedures}
    tallies: dict[int, Counter[tuple[str, tuple[int, ...]]]] = {sid: Counter() for sid in procedures}
    weeks: dict[int, dict[date, list[int]]] = {sid: {} for sid in procedures}
    for sid, week, checked, following, deviations in rows.values_list(
        "service_id", "week", "checked", "following", "deviations"
    ):
        totals[sid][0] += checked
        totals[sid][1] += following
        cell = weeks[sid].setdefault(week, [0, 0])
        cell[0] += checked
        cell[1] += following
        for kind, steps, n in deviations:
            tallies[sid][(kind, tuple(steps))] += n
    result = {
        sid: assemble(
            procedures[sid], totals[sid][0], totals[sid][1], tallies[sid],
            [WeekShare(w, c, f) for w, (c, f) in sorted(weeks[sid].items())], names=names,
        )
        for sid in procedures
    }
    cache.set(key, result, CACHE_SECONDS)
    return result


def share_following(service_id: int, *, since: datetime, now: datetime) -> float | None:
    """The share of the service's requests resolved since ``since`` that followed its procedure
    (None: no procedure, or nothing resolved), for the figures frozen into a process review."""
    services = list(Service.objects.filter(pk=service_id))
    return measure(services, since, now)[service_id].share if services else None


def service_conformance(user: AnyUser | None, f: Filters, *, now: datetime | None = None) -> dict[str, Any]:
    """Per service with a procedure and requests resolved in the period (by the week of their
    resolution): requests checked, share following, deviations ranked, and the share per week."""
    now = now or timezone.now()
    weeks, start = period(f, now)
    services = list(services_checked(user, f))
    results = measure(services, start, now, requesting_unit=f.requesting_unit, channel=f.channel,
                      requesting_units=f.requesting_units)
    rows = []
    for service in services:
        result = results[service.pk]
        if not result.checked:
            continue
        by_week = {w.week: w for w in result.weeks}
        series = [by_week[w].share if w in by_week else None for w in weeks]
        rows.append({
            "service": service,
            "steps": result.steps,
            "checked": result.checked,
            "following": result.following,
            "share": result.share,
            "deviations": result.deviations,
            "top": result.deviations[:TOP],
            "weeks": result.weeks,
            "series": series,
            "bars": _bars(weeks, series),
            "width": len(weeks) * (BAR + GAP),
            "height": HEIGHT,
        })
    return {"weeks": weeks, "services": rows}


def _bars(weeks: list[date], series: list[float | None]) -> list[dict[str, Any]]:
    """One bar per week with resolved requests, as tall as the share following (SVG units)."""
    bars = []
    for i, (week, share) in enumerate(zip(weeks, series, strict=True)):
        if share is None:
            continue
        height = max(1.0, round(share * HEIGHT, 1))
        bars.append({"x": i * (BAR + GAP), "y": round(HEIGHT - height, 1), "width": BAR, "height": height,
                     "low": share < LOW_SHARE, "label": f"week of {week:%d %b}: {share:.0%}"})
    return bars


def conformance_csv(data: dict[str, Any]) -> HttpResponse:
    """Every service's figures, deviations and weekly shares, one row per service and week."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tandem-conformance.csv"'
    out = csv.writer(response)
    # requests: checked (total, week) or showing the deviation; share: of the requests checked.
    out.writerow(["unit", "service", "row", "week", "deviation", "requests", "following", "share"])
    for r in data["services"]:
        unit, name = r["service"].unit.name, r["service"].name
        out.writerow([unit, name, "total", "", "", r["checked"], r["following"], csv_number(r["share"], 3)])
        for d in r["deviations"]:
            out.writerow([unit, name, "deviation", "", d.label, d.count, "", csv_number(d.count / r["checked"], 3)])
        for w in r["weeks"]:
            out.writerow([unit, name, "week", w.week.isoformat(), "", w.checked, w.following, csv_number(w.share, 3)])
    return response
