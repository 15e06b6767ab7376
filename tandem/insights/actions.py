"""Keeping the materialised evidence up to date: weeks of ``WeeklyFlow`` rebuilt from the
requests and their events (the worker rebuilds the current and the previous week; the demo
and ``tandem insights-rebuild`` rebuild all of them)."""

from __future__ import annotations

import hashlib
import time as clock
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import F, IntegerField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from tandem.agreements.queries import calendar_for_service, service_day_seconds
from tandem.catalogue.models import ProcedureStep, Service
from tandem.engines.eventlog.analyse import per_case
from tandem.engines.eventlog.model import GROUP
from tandem.engines.evidence import conformance, phases
from tandem.engines.worktime import to_epoch
from tandem.insights.logs import _window, database_log
from tandem.insights.models import WeeklyConformance, WeeklyFlow, WeeklyProcess, WeeklyTeamWait, WeeklyVariant
from tandem.work.models import Event, ServiceRequest, Status

#: The weekly rows a rebuild replaces.
SUMMARIES = (WeeklyFlow, WeeklyTeamWait, WeeklyConformance, WeeklyProcess, WeeklyVariant)
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
        .values_list("request_id", "at", "to_status", "data__unit")
    )
    rows, waits = _rows(requests, events)
    checks = _conformance_rows(requests, lo, hi)
    processes, variants = _process_rows(requests, lo, hi)
    with transaction.atomic():
        for model in SUMMARIES:
            model.objects.filter(week__gte=start, week__lt=stop).delete()
        WeeklyFlow.objects.bulk_create(rows, batch_size=2000)
        WeeklyTeamWait.objects.bulk_create(waits, batch_size=2000)
        WeeklyConformance.objects.bulk_create(checks, batch_size=2000)
        WeeklyProcess.objects.bulk_create(processes, batch_size=500)
        WeeklyVariant.objects.bulk_create(variants, batch_size=2000)
    return len(rows)


def _process_rows(requests: list[tuple], lo: datetime, hi: datetime) -> tuple[list[WeeklyProcess],
                                                                              list[WeeklyVariant]]:
    """Each service's flow per week, from the event log of the requests resolved in it (the
    log and the engine of the flow page and ``tandem analyse``), summed case by case."""
    if not requests:
        return [], []
    zone = timezone.get_default_timezone()
    key_of = {pk: (monday(resolved_at.astimezone(zone).date()), sid) for pk, sid, *_, resolved_at in requests}
    log = database_log(resolved=(lo, hi))
    parts = per_case(log, group_attribute=GROUP)
    groups: dict[tuple[date, int], int] = {}
    # Case names are the references (SR-000123, a client's NORTHERN-000042), read back to their
    # requests over the same window; a request resolved after ``requests`` was read is left out.
    pk_of = dict(ServiceRequest.objects.filter(_window(None, None, None, resolved=(lo, hi)))
                 .values_list("reference", "pk"))
    gid = np.array([groups.setdefault(key_of[pk], len(groups)) if pk in key_of else -1
                    for pk in (pk_of.get(name, 0) for name in log.case.names)], dtype=np.int64)
    n, ok = len(groups), gid >= 0
    if not n:
        return [], []

    def total(values: np.ndarray) -> list[float]:
        return np.bincount(gid[ok], weights=values[ok].astype(np.float64), minlength=n).tolist()

    cases, events = total(np.ones(len(gid))), total(parts["events"])
    handovers, ping_pong, seconds = total(parts["handovers"]), total(parts["ping_pong"]), total(
        parts["duration_seconds"])
    names = log.activity.names
    a = len(names)
    pair_group = gid[parts["pair_case"]] if len(gid) else np.zeros(0, dtype=np.int64)
    kept = pair_group >= 0
    code = (pair_group[kept] * a + parts["pair_from"][kept]) * a + parts["pair_to"][kept]
    pairs, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    pair_seconds = np.bincount(inverse.ravel(), weights=parts["pair_seconds"][kept], minlength=len(pairs))
    steps: list[list[list[Any]]] = [[] for _ in range(n)]
    for k, c, s in zip(pairs.tolist(), counts.tolist(), pair_seconds.tolist(), strict=True):
        steps[k // (a * a)].append([names[k // a % a], names[k % a], c, s])
    processes = [
        WeeklyProcess(
            week=week, service_id=sid, cases=int(cases[g]), events=int(events[g]), handovers=int(handovers[g]),
            ping_pong=int(ping_pong[g]), duration_seconds=round(seconds[g]),
            steps=sorted(steps[g], key=lambda r: (-r[2], r[0], r[1])),
        )
        for (week, sid), g in groups.items()
    ]
    paths = Counter((g, seq) for g, seq in zip(gid.tolist(), parts["sequence"], strict=True) if g >= 0)
    texts: dict[tuple[int, ...], tuple[str, str]] = {}
    for _g, seq in paths:
        if seq not in texts:
            text = "\n".join(names[c] for c in seq)
            texts[seq] = (hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(), text)
    weeks = {g: key for key, g in groups.items()}
    variants = [
        WeeklyVariant(week=weeks[g][0], service_id=weeks[g][1], key=texts[seq][0], activities=texts[seq][1],
                      cases=c)
        for (g, seq), c in paths.items()
    ]
    return processes, variants


def _conformance_rows(requests: list[tuple], lo: datetime, hi: datetime) -> list[WeeklyConformance]:
    """Each week's conformance to the procedures, from the checklist marks of the requests
    resolved in it (the same requests as the flow rows)."""
    procedures: dict[int, list[int]] = defaultdict(list)
    for step_id, service_id in ProcedureStep.objects.filter(service_id__in={r[1] for r in requests}).order_by(
        "service_id", "position", "pk"
    ).values_list("pk", "service_id"):
        procedures[service_id].append(step_id)
    if not procedures:
        return []
    steps = Event.objects.filter(
        request__resolved_at__gte=lo, request__resolved_at__lt=hi, request__service_id__in=list(procedures),
        kind__in=(Event.Kind.STEP_DONE, Event.Kind.STEP_UNDONE),
    )
    # Only the step id and whether the mark came after the resolution, both from the database:
    # decoding every mark's JSON and instant in Python would be most of the cost.
    late = set(steps.filter(at__gt=F("request__resolved_at")).values_list("request_id", "seq"))
    marks: dict[int, list[tuple[int, bool, bool]]] = defaultdict(list)
    for request_id, seq, kind, step in (
        steps.annotate(step=Cast(KT("data__step"), IntegerField()))
        .order_by("request_id", "seq")
        .values_list("request_id", "seq", "kind", "step")
    ):
        marks[request_id].append((step, kind == Event.Kind.STEP_DONE, (request_id, seq) in late))
    positions = {sid: {step: i for i, step in enumerate(proc)} for sid, proc in procedures.items()}
    zone = timezone.get_default_timezone()
    sums: dict[tuple, list[Any]] = {}
    for pk, sid, unit_id, requesting_id, channel, _sub, resolved_at in requests:
        if sid not in procedures:
            continue
        found = conformance.deviations_of(
            procedures[sid], conformance.RequestMarks(resolved=resolved_at, marks=marks.get(pk, ())), positions[sid]
        )
        key = (monday(resolved_at.astimezone(zone).date()), sid, unit_id, requesting_id, channel)
        acc = sums.setdefault(key, [0, 0, Counter()])
        acc[0] += 1
        acc[1] += not found
        acc[2].update(found)
    return [
        WeeklyConformance(
            week=week, service_id=sid, unit_id=unit_id, requesting_unit_id=requesting_id, channel=channel,
            checked=checked, following=following,
            deviations=[[kind, list(steps), n] for (kind, steps), n in sorted(tally.items())],
        )
        for (week, sid, unit_id, requesting_id, channel), (checked, following, tally) in sums.items()
    ]


def _rows(requests: list[tuple], events: list[tuple]) -> tuple[list[WeeklyFlow], list[WeeklyTeamWait]]:
    """``requests``: (pk, service, unit, requesting unit, channel, submitted, resolved);
    ``events``: their status changes (request, at, to status, team waited on or None)."""
    if not requests:
        return [], []
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
    segment = phases.segment_seconds(ev_req, ev_at, ev_phase, resolved, calendars, cal_of)
    split = phases.by_phase(ev_req, ev_phase, segment, len(requests))
    total = np.zeros(len(requests), dtype=np.int64)
    for c, cal in enumerate(calendars):
        pick = cal_of == c
        total[pick] = cal.between_many(submitted[pick], resolved[pick])
    day_of = np.array([day[r[1]] for r in requests], dtype=np.float64)
    band = phases.band_index(total / day_of)
    zone = timezone.get_default_timezone()
    n_phases = len(phases.PHASES)
    sums: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(3 + n_phases + 5, dtype=np.int64))
    keys = []
    for i, (_pk, sid, unit_id, requesting_id, channel, _sub, resolved_at) in enumerate(requests):
        key = (monday(resolved_at.astimezone(zone).date()), sid, unit_id, requesting_id, channel)
        keys.append(key)
        acc = sums[key]
        acc[0] += 1
        acc[1] += reopened[i]
        acc[2] += total[i]
        acc[3:3 + n_phases] += split[i]
        acc[3 + n_phases + band[i]] += 1
    flows = [
        WeeklyFlow(
            week=week, service_id=sid, unit_id=unit_id, requesting_unit_id=requesting_id, channel=channel,
            resolved=int(a[0]), reopened=int(a[1]), total_seconds=int(a[2]), queued_seconds=int(a[3]),
            in_progress_seconds=int(a[4]), waiting_requester_seconds=int(a[5]), waiting_third_party_seconds=int(a[6]),
            waiting_team_seconds=int(a[7]), waiting_approval_seconds=int(a[8]),
            band_3=int(a[9]), band_6=int(a[10]), band_15=int(a[11]), band_30=int(a[12]), band_over=int(a[13]),
        )
        for (week, sid, unit_id, requesting_id, channel), a in sums.items()
    ]
    # Waits on another team, per team waited on (the unit is in the event that began the wait).
    waited: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    seen: set[tuple] = set()
    for e, (_rid, _at, status, team) in enumerate(events):
        if status != Status.WAITING_TEAM or not team:
            continue
        i = int(ev_req[e])
        wait_key = (*keys[i], int(team))
        waited[wait_key][1] += int(segment[e])
        if (i, wait_key) not in seen:
            seen.add((i, wait_key))
            waited[wait_key][0] += 1
    waits = [
        WeeklyTeamWait(
            week=week, service_id=sid, unit_id=unit_id, requesting_unit_id=requesting_id, channel=channel,
            waited_on_id=team, requests=n, seconds=seconds,
        )
        for (week, sid, unit_id, requesting_id, channel, team), (n, seconds) in waited.items()
    ]
    return flows, waits


def rebuild_all() -> int:
    """Every week with a resolution."""
    first = ServiceRequest.objects.filter(resolved_at__isnull=False).order_by("resolved_at").first()
    if first is None or first.resolved_at is None:
        for model in SUMMARIES:
            model.objects.all().delete()
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
