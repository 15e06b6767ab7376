"""Keeping the materialised evidence up to date: weeks of ``WeeklyFlow`` rebuilt from the
requests and their events (the worker rebuilds the current and the previous week; the demo
and ``tandem insights-rebuild`` rebuild all of them)."""

from __future__ import annotations

import time as clock
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.agreements.queries import calendar_for_service, service_day_seconds
from tandem.catalogue.models import Service
from tandem.engines import phases
from tandem.engines.worktime import to_epoch
from tandem.insights.models import WeeklyFlow
from tandem.work.models import Event, ServiceRequest, Status

#: The worker rebuilds the recent weeks at most this often (seconds).
REFRESH_EVERY = 600.0
_last_refresh = 0.0


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _instant(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=timezone.get_default_timezone())


def rebuild_flow(first: date, last: date) -> int:
    """Rebuild the weeks from the one holding ``first`` to the one holding ``last``; returns the
    number of rows written. One transaction: readers see the old weeks or the new, never half."""
    start, stop = monday(first), monday(last) + timedelta(days=7)
    lo, hi = _instant(start), _instant(stop)
    done = [Status.RESOLVED, Status.CLOSED]
    requests = list(
        ServiceRequest.objects.filter(resolved_at__gte=lo, resolved_at__lt=hi, status__in=done)
        .order_by("pk")
        .values_list("pk", "service_id", "unit_id", "requesting_unit_id", "channel", "submitted_at", "resolved_at")
    )
    events = list(
        Event.objects.filter(
            request__resolved_at__gte=lo, request__resolved_at__lt=hi, request__status__in=done
        )
        .exclude(to_status="")
        .order_by("request_id", "seq")
        .values_list("request_id", "at", "to_status")
    )
    rows = _rows(requests, events)
    with transaction.atomic():
        WeeklyFlow.objects.filter(week__gte=start, week__lt=stop).delete()
        WeeklyFlow.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _rows(requests: list[tuple], events: list[tuple]) -> list[WeeklyFlow]:
    if not requests:
        return []
    services = {s.pk: s for s in Service.objects.filter(pk__in={r[1] for r in requests}).select_related("unit")}
    service_ids = sorted(services)
    calendars = [calendar_for_service(services[sid]) for sid in service_ids]
    day = {sid: service_day_seconds(services[sid]) for sid in service_ids}
    cal_index = {sid: i for i, sid in enumerate(service_ids)}
    row_of = {r[0]: i for i, r in enumerate(requests)}
    submitted = np.array([to_epoch(r[5]) for r in requests], dtype=np.int64)
    resolved = np.array([to_epoch(r[6]) for r in requests], dtype=np.int64)
    cal_of = np.array([cal_index[r[1]] for r in requests], dtype=np.int64)
    ev_req = np.array([row_of[e[0]] for e in events], dtype=np.int64)
    ev_at = np.array([to_epoch(e[1]) for e in events], dtype=np.int64)
    ev_phase = phases.phase_of([e[2] for e in events])
    reopened = np.zeros(len(requests), dtype=bool)
    reopened[ev_req[np.array([e[2] == Status.REOPENED for e in events], dtype=bool)]] = True
    split = phases.phase_seconds(ev_req, ev_at, ev_phase, resolved, calendars, cal_of)
    total = np.zeros(len(requests), dtype=np.int64)
    for c, cal in enumerate(calendars):
        pick = cal_of == c
        total[pick] = cal.between_many(submitted[pick], resolved[pick])
    day_of = np.array([day[r[1]] for r in requests], dtype=np.float64)
    band = phases.band_index(total / day_of)
    zone = timezone.get_default_timezone()
    sums: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(13, dtype=np.int64))
    for i, (_pk, sid, unit_id, requesting_id, channel, _sub, resolved_at) in enumerate(requests):
        key = (monday(resolved_at.astimezone(zone).date()), sid, unit_id, requesting_id, channel)
        acc = sums[key]
        acc[0] += 1
        acc[1] += reopened[i]
        acc[2] += total[i]
        acc[3:7] += split[i]
        acc[7 + band[i]] += 1
    return [
        WeeklyFlow(
            week=week, service_id=sid, unit_id=unit_id, requesting_unit_id=requesting_id, channel=channel,
            resolved=int(a[0]), reopened=int(a[1]), total_seconds=int(a[2]), queued_seconds=int(a[3]),
            in_progress_seconds=int(a[4]), waiting_requester_seconds=int(a[5]), waiting_third_party_seconds=int(a[6]),
            band_3=int(a[7]), band_6=int(a[8]), band_15=int(a[9]), band_30=int(a[10]), band_over=int(a[11]),
        )
        for (week, sid, unit_id, requesting_id, channel), a in sums.items()
    ]


def rebuild_all() -> int:
    """Every week with a resolution."""
    first = ServiceRequest.objects.filter(resolved_at__isnull=False).order_by("resolved_at").first()
    if first is None or first.resolved_at is None:
        WeeklyFlow.objects.all().delete()
        return 0
    return rebuild_flow(first.resolved_at.date(), timezone.now().date())


def refresh_recent_flow(*, now: datetime | None = None, force: bool = False) -> int:
    """The worker's duty: rebuild this week and last (resolutions, reopens) every few minutes."""
    global _last_refresh
    if not force and clock.monotonic() - _last_refresh < REFRESH_EVERY:
        return 0
    now = now or timezone.now()
    today = now.astimezone(timezone.get_default_timezone()).date()
    try:
        written = rebuild_flow(today - timedelta(days=7), today)
    except IntegrityError:
        return 0  # another worker rebuilt the same weeks at the same moment: theirs stands
    _last_refresh = clock.monotonic()
    return written
