"""Productivity, fairly: per unit and week, what came in, what went out, hands-on time per
request, rework and utilisation, always beside the demand and the absences that explain them.
Per person only for that person and their lead. No ranking of people anywhere."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Count, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from tandem.agreements.capacity import capacity_by_day, members
from tandem.catalogue.models import Service
from tandem.insights.actions import monday
from tandem.insights.models import WeeklyFlow
from tandem.org.models import Absence, Person, Unit
from tandem.org.queries import leads_unit, sees_everything
from tandem.work.effort import LEAD_IN, in_progress_spans, request_efforts
from tandem.work.models import ServiceRequest, Status

WEEKS = 12


def reads_unit_productivity(person: Person | None, unit: Unit) -> bool:
    """The unit's own people, its lead, executives and administrators."""
    return person is not None and (sees_everything(person) or person.unit_id == unit.pk or leads_unit(person, unit.pk))


def reads_person_productivity(viewer: Person | None, person: Person) -> bool:
    """A person's own figures: only them and their lead (and administrators)."""
    return viewer is not None and (viewer.pk == person.pk or leads_unit(viewer, person.unit_id))


def _weeks(now: datetime, weeks: int) -> list[date]:
    this = monday(now.astimezone(timezone.get_default_timezone()).date())
    return [this - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def unit_productivity(unit: Unit, *, now: datetime | None = None, weeks: int = WEEKS) -> dict[str, Any]:
    """The unit's last ``weeks`` weeks (the current one so far). Hands-on time is the one
    definition of ``tandem.work.effort``: utilisation is the hands-on hours of the unit's people
    over the hours they give to requests (their capacity), so it stays within 0–100 %."""
    now = now or timezone.now()
    starts = _weeks(now, weeks)
    first, last = starts[0], starts[-1] + timedelta(days=6)
    zone = timezone.get_default_timezone()
    lo = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    edges = [datetime.combine(w, datetime.min.time(), tzinfo=zone) for w in starts]
    edges.append(min(now, edges[-1] + timedelta(weeks=1)))
    arrivals = {
        r["week"].date(): r["n"]
        for r in ServiceRequest.objects.filter(unit=unit, submitted_at__gte=lo)
        .annotate(week=TruncWeek("submitted_at")).values("week").annotate(n=Count("pk"))
    }
    flow = {
        r["week"]: r
        for r in WeeklyFlow.objects.filter(unit=unit, week__gte=first).values("week").annotate(
            resolved=Sum("resolved"), reopened=Sum("reopened"))
    }
    spans = in_progress_spans(unit, lo - LEAD_IN, now)
    efforts = request_efforts(unit, lo, now, spans)
    done: dict[date, list[float]] = defaultdict(list)
    by_service: dict[int, list[float]] = defaultdict(list)
    for sid, at, seconds in efforts.values():
        done[monday(at.astimezone(zone).date())].append(seconds)
        by_service[sid].append(seconds)
    people = {p.pk for p in members(unit, first, last)}
    busy = spans.busy(edges)
    hands_on = [sum(float(busy[p][i]) for p in people if p in busy) / 3600 for i in range(len(starts))]
    capacity = capacity_by_day(unit, first, last, until=now)
    absent = _absence_days(Person.objects.filter(unit=unit), first, last)
    rows = []
    for i, week in enumerate(starts):
        days = [week + timedelta(days=n) for n in range(7)]
        hours = sum(capacity.get(d, (0.0, 0))[0] for d in days) / 3600  # the current week so far
        f = flow.get(week, {})
        finished = done.get(week, [])
        rows.append({
            "week": week, "complete": edges[i + 1] - edges[i] == timedelta(weeks=1),
            "arrivals": arrivals.get(week, 0), "resolved": len(finished),
            "hands_on_hours": hands_on[i],
            "hands_on_hours_per_request": sum(finished) / 3600 / len(finished) if finished else None,
            "rework_rate": (f.get("reopened") or 0) / f["resolved"] if f.get("resolved") else None,
            "utilisation": hands_on[i] / hours if hours else None, "capacity_hours": hours,
            "absence_days": sum(absent.get(d, 0) for d in days),
        })
    names = dict(Service.objects.filter(pk__in=list(by_service)).values_list("pk", "name"))
    services = [
        {"service": names[sid], "resolved": len(values), "hands_on_hours_per_request": sum(values) / 3600 / len(values),
         "median_hands_on_hours": float(np.median(values)) / 3600}
        for sid, values in sorted(by_service.items(), key=lambda item: names[item[0]])
    ]
    return {"unit": unit, "weeks": rows, "services": services}


def person_productivity(person: Person, *, now: datetime | None = None, weeks: int = WEEKS) -> list[dict[str, Any]]:
    """Resolved per week with the person's absence days beside them; the unit's figures give the
    demand. Deliberately no comparison with colleagues."""
    now = now or timezone.now()
    starts = _weeks(now, weeks)
    zone = timezone.get_default_timezone()
    lo = datetime.combine(starts[0], datetime.min.time(), tzinfo=zone)
    resolved = {
        r["week"].date(): r["n"]
        for r in ServiceRequest.objects.filter(
            assignee=person, resolved_at__gte=lo, status__in=[Status.RESOLVED, Status.CLOSED]
        ).annotate(week=TruncWeek("resolved_at")).values("week").annotate(n=Count("pk"))
    }
    absent = _absence_days(Person.objects.filter(pk=person.pk), starts[0], starts[-1] + timedelta(days=6))
    return [{"week": w, "resolved": resolved.get(w, 0),
             "absence_days": sum(absent.get(w + timedelta(days=n), 0) for n in range(7))} for w in starts]


def _absence_days(people: Any, first: date, last: date) -> dict[date, int]:
    """Working weekdays (Monday–Friday) of absence, per day, summed over ``people``."""
    days: dict[date, int] = defaultdict(int)
    for starts, ends in Absence.objects.filter(person__in=people, starts_on__lte=last, ends_on__gte=first).values_list(
        "starts_on", "ends_on"
    ):
        d = max(starts, first)
        while d <= min(ends, last):
            if d.weekday() < 5:
                days[d] += 1
            d += timedelta(days=1)
    return days
