"""Agreement attainment, recomputed from the event trail: the page, the API, the CSV and
`tandem sla_report` read it from here.

Met or missed is worked out again from each request's raw status changes (``Event`` rows) with
``tandem.engines.agreements.attainment``, never read from the stored clock columns: history loaded in bulk
(the demo) has none, and a recomputation is the evidence that the stored clocks were right.
Targets are the ones copied onto the request at submission when it has them, otherwise the
terms that match it now (its service's agreement, or the default terms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone

from tandem.agreements.models import DEFAULT_PAUSE_STATUSES, Agreement
from tandem.agreements.queries import Terms, calendar_for_service, compile_calendar, request_calendar_data, terms_for
from tandem.catalogue.models import Service
from tandem.catalogue.queries import services_visible_to
from tandem.engines.agreements import attainment, slaclock
from tandem.org.models import Side, Unit
from tandem.org.queries import AnyUser
from tandem.refusal import Invalid
from tandem.work.models import Event, ServiceRequest, Status

DEFAULT_TARGET_PERCENT = 90.0  # the default terms have no agreed share; the Agreement default
FINISHED = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Outcome:
    request_id: int
    service_id: int
    requesting_unit_id: int
    group: str  # "agreement:<id>" or "default:<service id>"
    resolve_by: datetime
    resolved_at: datetime
    met: bool
    overrun_seconds: int
    overrun: str  # in words, in working days of the providing unit's calendar


def _epoch(values: list[datetime]) -> np.ndarray:
    return np.array([int(v.timestamp()) for v in values], dtype=np.int64)


def outcomes(
    since: datetime, until: datetime, service_ids: list[int] | None = None,
    requesting_unit_ids: set[int] | None = None,
) -> list[Outcome]:
    """Every request finally resolved in ``[since, until)`` (resolved or closed), met or missed
    (of the services ``service_ids`` only, and of the requesting units ``requesting_unit_ids``
    only — a client's — when given). A client's requests are judged on its own holidays."""
    finished = ServiceRequest.objects.filter(status__in=FINISHED, resolved_at__gte=since, resolved_at__lt=until)
    if service_ids is not None:
        finished = finished.filter(service_id__in=service_ids)
    if requesting_unit_ids is not None:
        finished = finished.filter(requesting_unit_id__in=requesting_unit_ids)
    rows = list(
        finished.order_by("pk").values_list(
            "pk", "service_id", "unit_id", "requesting_unit_id", "channel", "submitted_at", "agreement_id",
            "resolve_seconds",
        )
    )
    if not rows:
        return []
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    services = Service.objects.select_related("calendar", "unit__calendar").in_bulk({r[1] for r in rows})
    agreements = Agreement.objects.in_bulk({r[6] for r in rows if r[6]})
    matched: dict[tuple[int, int, str], Terms] = {}
    group, target, pauses = [], [], []
    for _, service_id, _, requesting_unit_id, channel, _, agreement_id, resolve_seconds in rows:
        agreement = agreements.get(agreement_id) if agreement_id else None
        if resolve_seconds is None:  # no stored terms (bulk-loaded history): the terms of today
            key = (service_id, requesting_unit_id, channel)
            if key not in matched:
                matched[key] = terms_for(services[service_id], requesting_unit_id, channel)
            terms = matched[key]
            agreement, resolve_seconds = terms.agreement, terms.resolve_seconds
        group.append(f"agreement:{agreement.pk}" if agreement else f"default:{service_id}")
        target.append(resolve_seconds)
        pauses.append(frozenset((agreement.pause_statuses if agreement else None) or DEFAULT_PAUSE_STATUSES))
    trail = list(
        Event.objects.filter(request__in=finished)
        .exclude(to_status="")
        .order_by("request_id", "seq")
        .values_list("request_id", "at", "to_status")
    )
    req = np.searchsorted(ids, np.array([e[0] for e in trail], dtype=np.int64))
    at = _epoch([e[1] for e in trail])
    status = np.array([e[2] for e in trail], dtype=str)
    resolved = np.zeros(len(ids), dtype=np.int64)
    final = np.flatnonzero(status == Status.RESOLVED.value)
    np.maximum.at(resolved, req[final], at[final])  # the last resolution (events are in order)
    stop_req, stop_start, stop_end = attainment.stopped_runs(req, at, status, pauses)
    submitted = _epoch([r[5] for r in rows])
    tgt = np.array(target, dtype=np.int64)
    service_of = np.array([r[1] for r in rows], dtype=np.int64)
    # A client keeping its own holidays has its requests judged on them (docs/organisations.md):
    # each (service, holidays) pair is one calendar.
    holidays_of = {
        uid: (country, subdivision)
        for uid, country, subdivision in Unit.objects.filter(
            pk__in={r[3] for r in rows}, organisation__isnull=False
        ).exclude(organisation__holiday_country="").values_list(
            "pk", "organisation__holiday_country", "organisation__holiday_subdivision"
        )
    }
    region = [holidays_of.get(r[3]) for r in rows]
    regions = sorted({h for h in region if h is not None})
    region_of = np.array([0 if h is None else 1 + regions.index(h) for h in region], dtype=np.int64)
    result: list[Outcome] = []
    for service_id, r in sorted({(int(a), int(b)) for a, b in zip(service_of, region_of, strict=True)}):
        data = request_calendar_data(services[service_id], regions[r - 1] if r else None)
        cal = compile_calendar(data)
        day = slaclock.day_length(cal.spec)
        sel = np.flatnonzero((service_of == service_id) & (region_of == r) & (resolved > 0))
        local = np.full(len(ids), -1, dtype=np.int64)
        local[sel] = np.arange(len(sel))
        mine = local[stop_req] >= 0
        out = attainment.evaluate(
            cal, submitted[sel], tgt[sel], resolved[sel], local[stop_req[mine]], stop_start[mine], stop_end[mine]
        )
        for j, i in enumerate(sel):
            result.append(
                Outcome(
                    request_id=int(ids[i]),
                    service_id=int(service_of[i]),
                    requesting_unit_id=rows[i][3],
                    group=group[i],
                    resolve_by=datetime.fromtimestamp(int(out.deadline[j]), UTC),
                    resolved_at=datetime.fromtimestamp(int(resolved[i]), UTC),
                    met=bool(out.met[j]),
                    overrun_seconds=int(out.overrun[j]),
                    overrun=slaclock.words(int(out.overrun[j]), day) if not out.met[j] else "",
                )
            )
    return sorted(result, key=lambda o: o.request_id)


def late_by_requesting_unit(since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per requesting unit: asks to services with cut-offs submitted in the period, and how many
    missed the run they asked for (``late_for_cutoff``, set at submission and by the history
    replay; docs/agreements.md "Cut-offs and runs")."""
    asked = ServiceRequest.objects.filter(
        submitted_at__gte=since, submitted_at__lt=until, service__cutoffs__isnull=False
    ).distinct()
    counts = (
        ServiceRequest.objects.filter(pk__in=asked.values("pk"))
        .values("requesting_unit_id", "requesting_unit__name")
        .annotate(n=Count("pk"), late=Count("pk", filter=~Q(late_for_cutoff="")))
        .order_by("requesting_unit__name")
    )
    return [
        {"unit_id": r["requesting_unit_id"], "unit": r["requesting_unit__name"], "requests": r["n"], "late": r["late"]}
        for r in counts
    ]


def build_report(since: datetime, until: datetime) -> dict[str, Any]:
    results = outcomes(since, until)
    finished = ServiceRequest.objects.filter(status__in=FINISHED, resolved_at__gte=since, resolved_at__lt=until)
    # Each request's reference and its service's name, for the breaches listed.
    named = {pk: (reference, service) for pk, reference, service in finished.values_list("pk", "reference",
                                                                                          "service__name")}
    by_group: dict[str, list[Outcome]] = {}
    for o in results:
        by_group.setdefault(o.group, []).append(o)
    groups: list[dict[str, Any]] = []
    for agreement in Agreement.objects.select_related("service", "requesting_unit").order_by("service__name", "name"):
        if agreement.active or f"agreement:{agreement.pk}" in by_group:
            groups.append(
                {
                    "agreement": agreement.pk,
                    "name": agreement.name,
                    "service": agreement.service.name,
                    "requesting_unit": agreement.requesting_unit.name if agreement.requesting_unit else None,
                    "channel": agreement.channel or None,
                    "target_percent": float(agreement.target_percent),
                    "_key": f"agreement:{agreement.pk}",
                }
            )
    defaults = sorted(k for k in by_group if k.startswith("default:"))
    services = Service.objects.select_related("unit").in_bulk([int(k.split(":")[1]) for k in defaults])
    for key in defaults:
        service = services[int(key.split(":")[1])]
        groups.append(
            {
                "agreement": None,
                "name": Terms.default(service, calendar_for_service(service)).name,
                "service": service.name,
                "requesting_unit": None,
                "channel": None,
                "target_percent": DEFAULT_TARGET_PERCENT,
                "_key": key,
            }
        )
    for entry in groups:
        rows = by_group.get(entry.pop("_key"), [])
        met = sum(o.met for o in rows)
        share = attainment.attainment_percent(met, len(rows))
        entry.update(
            count=len(rows),
            met=met,
            breached=len(rows) - met,
            attainment_percent=share,
            meets_target=None if share is None else share >= entry["target_percent"],
            breaches=[
                {
                    "reference": named[o.request_id][0],
                    "id": o.request_id,
                    "service": named[o.request_id][1],
                    "resolve_by": o.resolve_by.isoformat(),
                    "resolved_at": o.resolved_at.isoformat(),
                    "overrun_seconds": o.overrun_seconds,
                    "overrun": o.overrun,
                }
                for o in sorted(rows, key=lambda o: -o.overrun_seconds)
                if not o.met
            ],
        )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "agreements": groups,
        "late_for_cutoff": late_by_requesting_unit(since, until),
    }


@dataclass(frozen=True)
class Tally:
    """Met and breached among some resolved requests, against a target share."""

    label: str
    resolved: int
    met: int
    target_percent: float | None = None

    @property
    def breached(self) -> int:
        return self.resolved - self.met

    @property
    def attainment(self) -> float | None:
        """The share met, 0–1 (None with nothing resolved)."""
        return self.met / self.resolved if self.resolved else None

    @property
    def meets_target(self) -> bool | None:
        if self.attainment is None or self.target_percent is None:
            return None
        return 100 * self.attainment >= self.target_percent


def _tally(label: str, rows: list[Outcome], target: float | None = None) -> Tally:
    return Tally(label, len(rows), sum(o.met for o in rows), target)


def weekly_attainment(service_ids: list[int], weeks: int, now: datetime,
                      requesting_units: frozenset[int] | None = None) -> dict[str, Any]:
    """The last ``weeks`` weeks (Monday to Sunday, the current one so far) of requests finally
    resolved (from ``requesting_units`` only when given: one client's): per agreement (each
    service's terms), per requesting unit, per week, and one row per week, agreement and
    requesting unit for the CSV."""
    zone = timezone.get_default_timezone()
    today = now.astimezone(zone).date()
    this = today - timedelta(days=today.weekday())
    starts = [this - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    since = datetime.combine(starts[0], time(), zone)
    results = outcomes(since, now, service_ids, None if requesting_units is None else set(requesting_units))
    agreements = Agreement.objects.select_related("service").in_bulk(
        {int(o.group.split(":")[1]) for o in results if o.group.startswith("agreement:")})
    services = Service.objects.select_related("unit").in_bulk({o.service_id for o in results})
    units = dict(Unit.objects.filter(pk__in={o.requesting_unit_id for o in results}).values_list("pk", "name"))

    def group_label(key: str) -> tuple[str, float]:
        kind, pk = key.split(":")
        if kind == "agreement":
            agreement = agreements[int(pk)]
            return f"{agreement.service.name} · {agreement.name}", float(agreement.target_percent)
        service = services[int(pk)]
        return f"{service.name} · published turnaround", DEFAULT_TARGET_PERCENT

    def week_of(o: Outcome) -> date:
        day = o.resolved_at.astimezone(zone).date()
        return day - timedelta(days=day.weekday())

    by_group: dict[str, list[Outcome]] = {}
    by_unit: dict[int, list[Outcome]] = {}
    by_week: dict[date, list[Outcome]] = {}
    cells: dict[tuple[date, str, int], list[Outcome]] = {}
    for o in results:
        by_group.setdefault(o.group, []).append(o)
        by_unit.setdefault(o.requesting_unit_id, []).append(o)
        by_week.setdefault(week_of(o), []).append(o)
        cells.setdefault((week_of(o), o.group, o.requesting_unit_id), []).append(o)
    labels = {key: group_label(key) for key in by_group}
    return {
        "since": since,
        "until": now,
        "overall": _tally("All", results),
        "agreements": sorted((_tally(labels[k][0], rows, labels[k][1]) for k, rows in by_group.items()),
                             key=lambda t: t.label),
        "requesting_units": sorted((_tally(units[k], rows) for k, rows in by_unit.items()), key=lambda t: t.label),
        "weeks": [{"week": w, "complete": w != this, "tally": _tally(w.isoformat(), by_week.get(w, []))}
                  for w in starts],
        "cells": [
            {"week": w, "agreement": labels[g][0], "target_percent": labels[g][1], "requesting_unit": units[u],
             "tally": _tally("", rows)}
            for (w, g, u), rows in sorted(cells.items(), key=lambda kv: (kv[0][0], labels[kv[0][1]][0],
                                                                         units[kv[0][2]]))
        ],
    }


def attainment_scope(user: AnyUser | None, unit_slug: str, weeks_text: str) -> tuple[Unit | None, list[int], int]:
    """The back-office unit chosen (None: all), the visible services in scope and the weeks; a
    refusal naming what to fix otherwise. Shared by the page and the API."""
    unit = None
    if unit_slug:
        unit = Unit.objects.filter(slug=unit_slug, side=Side.BACK).first() if "\x00" not in unit_slug else None
        if unit is None:
            raise Invalid(f"There is no back-office unit {unit_slug[:40]!r}; choose one from the list.",
                          errors={"unit": ["Not a back-office unit."]})
    if weeks_text not in ("4", "12", "26"):
        raise Invalid("Weeks: choose 4, 12 or 26.", errors={"weeks": ["4, 12 or 26."]})
    services = services_visible_to(user)
    if unit is not None:
        services = services.filter(unit=unit)
    return unit, list(services.values_list("pk", flat=True)), int(weeks_text)
