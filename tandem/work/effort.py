"""Hands-on effort: how much of a person's working time a request really took.

The one definition every figure uses (capacity, plans, loans, the quote's queue hours,
productivity; docs/figures.md):

- A request is *in progress with* a person from each move into ``in_progress`` to the next
  status move, held by its assignee at that moment.
- A person's working time (their calendar) at each instant is split evenly between the requests
  they hold in progress then, and scaled by their ``request_share`` (the share of their working
  time they give to requests at all): ``tandem.engines.effort``.
- A request's effort is the sum of its shares; where people logged time on it
  (:class:`~tandem.work.models.TimeEntry`), the sum of the entries replaces the estimate.
- A service's effort is the median effort of its requests resolved in the last ``WINDOW``; a
  published fallback of one working hour while it has none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.db.models.fields.json import KT

from tandem.agreements.queries import calendar_for_person
from tandem.catalogue.models import Service
from tandem.engines.effort import busy_seconds, split_effort
from tandem.engines.worktime import WorkingCalendar, to_epoch
from tandem.org.models import Person, Unit
from tandem.refusal import Invalid
from tandem.rows import EpochSeconds
from tandem.work.models import Event, ServiceRequest, Status, TimeEntry

#: How far back effort is learned for the allocation plans, the capacity page and the quote.
WINDOW = timedelta(weeks=12)
#: Work on a request resolved in the window may have started this long before it.
LEAD_IN = timedelta(weeks=4)
#: A service with no finished work yet is estimated at one working hour.
DEFAULT_EFFORT_SECONDS = 3600.0

_IN_PROGRESS = Status.IN_PROGRESS.value


@dataclass(frozen=True)
class Effort:
    seconds: float
    learned: bool  # False: the one-hour fallback ("estimated" in the UI)

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0


@dataclass(frozen=True)
class Spans:
    """In-progress spans of a unit's requests over a period, with the people who held them."""

    request: npt.NDArray[np.int64]
    holder: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]  # epoch seconds
    end: npt.NDArray[np.int64]
    calendars: dict[int, WorkingCalendar]
    shares: dict[int, float]

    def efforts(self) -> dict[int, float]:
        """Request id → estimated hands-on seconds within the period."""
        split = split_effort(self.holder, self.start, self.end, self.calendars, self.shares)
        out: dict[int, float] = defaultdict(float)
        for rid, seconds in zip(self.request.tolist(), split.tolist(), strict=True):
            out[rid] += seconds
        return dict(out)

    def busy(self, edges: list[datetime]) -> dict[int, npt.NDArray[np.float64]]:
        """Person id → hands-on seconds in each period between consecutive ``edges``."""
        return busy_seconds(self.holder, self.start, self.end, self.calendars, self.shares,
                            [to_epoch(e) for e in edges])


def in_progress_spans(unit: Unit, lo: datetime, hi: datetime) -> Spans:
    """Every span in ``[lo, hi)`` during which a request of ``unit`` was in progress with
    someone, read from the requests' status moves and assignments."""
    events = (
        Event.objects.filter(request__unit=unit, request__submitted_at__lt=hi)
        .filter(Q(request__is_open=True) | Q(request__status_changed_at__gte=lo))
        .filter(Q(kind=Event.Kind.ASSIGNED) | ~Q(to_status=""))
        .order_by("request_id", "seq")
        .annotate(assignee=KT("data__assignee"), seconds=EpochSeconds("at"))
        .values_list("request_id", "kind", "actor_id", "seconds", "to_status", "assignee")
    )
    lo_s, hi_s = to_epoch(lo), to_epoch(hi)
    request: list[int] = []
    holder: list[int] = []
    start: list[int] = []
    end: list[int] = []
    current = None
    held_by: int | None = None
    open_since: int | None = None
    open_holder: int | None = None

    def close(at: int) -> None:
        if open_since is not None and open_holder is not None:
            a, b = max(open_since, lo_s), min(at, hi_s)
            if b > a:
                request.append(current)  # type: ignore[arg-type]
                holder.append(open_holder)
                start.append(a)
                end.append(b)

    for rid, kind, actor, when, to_status, assignee in events.iterator(chunk_size=5000):
        if rid != current:
            close(hi_s)
            current, held_by, open_since, open_holder = rid, None, None, None
        if kind == Event.Kind.ASSIGNED and assignee:
            held_by = int(assignee)
        elif kind == Event.Kind.UNASSIGNED:
            held_by = None
        elif kind == Event.Kind.STARTED and held_by is None:
            held_by = actor  # starting an unassigned request takes it
        if to_status:
            close(when)
            open_since, open_holder = (when, held_by) if to_status == _IN_PROGRESS else (None, None)
    close(hi_s)
    ids = set(holder)
    calendars, shares = people_calendars(ids)
    return Spans(np.array(request, dtype=np.int64), np.array(holder, dtype=np.int64),
                 np.array(start, dtype=np.int64), np.array(end, dtype=np.int64), calendars, shares)


def people_calendars(person_ids: set[int]) -> tuple[dict[int, WorkingCalendar], dict[int, float]]:
    """Each person's working calendar and request share (people without working time left out)."""
    calendars: dict[int, WorkingCalendar] = {}
    shares: dict[int, float] = {}
    for person in Person.objects.filter(pk__in=person_ids).select_related("unit"):
        try:
            calendars[person.pk] = calendar_for_person(person)
        except Invalid:
            continue
        shares[person.pk] = person.request_share
    return calendars, shares


def logged_seconds(unit: Unit) -> dict[int, int]:
    """Request id → seconds logged in time entries, for the unit's requests that have any."""
    entries = TimeEntry.objects.filter(request__unit=unit)
    return dict(entries.values("request_id").annotate(s=Sum("seconds")).values_list("request_id", "s"))


class Resolved(NamedTuple):
    service_id: int
    resolved_at: datetime
    seconds: float  # hands-on


def request_efforts(
    unit: Unit, since: datetime, until: datetime, spans: Spans | None = None
) -> dict[int, Resolved]:
    """Request id → its service, resolution and hands-on seconds, for the requests of ``unit``
    resolved in ``[since, until]``: logged time where there is any, else the estimate from their
    spans."""
    resolved = list(
        ServiceRequest.objects.filter(unit=unit, resolved_at__gte=since, resolved_at__lte=until)
        .values_list("pk", "service_id", "resolved_at")
    )
    if not resolved:
        return {}
    spans = spans or in_progress_spans(unit, since - LEAD_IN, until)
    estimated = spans.efforts()
    logged = logged_seconds(unit)
    return {
        rid: Resolved(sid, cast(datetime, at), float(logged[rid]) if rid in logged else estimated.get(rid, 0.0))
        for rid, sid, at in resolved
    }


def median_efforts(unit: Unit, since: datetime, until: datetime) -> dict[int, float]:
    """Service id → median hands-on seconds of its requests resolved in ``[since, until]``.
    Services without a resolved request with any effort are left out."""
    by_service: dict[int, list[float]] = defaultdict(list)
    for sid, _at, seconds in request_efforts(unit, since, until).values():
        if seconds > 0:
            by_service[sid].append(seconds)
    return {sid: float(np.median(values)) for sid, values in by_service.items()}


def service_efforts(unit: Unit, now: datetime) -> dict[int, Effort]:
    """Effort per service of ``unit`` (service id → Effort), learned over ``WINDOW``.

    Reading a unit's spans takes 0.2–0.6 s on the demo, and the capacity page, plans, lending and
    the four-week plan each ask: the answer is kept in the cache until anything it rests on
    changes (a new event or time entry anywhere, a service added) or the hour turns (the window
    slides)."""
    key = _efforts_key(unit, now)
    kept = cache.get(key)
    if kept is not None:
        return cast(dict[int, Effort], kept)
    learned = median_efforts(unit, now - WINDOW, now)
    efforts = {
        sid: Effort(learned[sid], True) if sid in learned else Effort(DEFAULT_EFFORT_SECONDS, False)
        for sid in Service.objects.filter(unit=unit).values_list("pk", flat=True)
    }
    cache.set(key, efforts, EFFORT_CACHE_SECONDS)
    return efforts


#: How long learned efforts are kept at most (the key changes sooner with the data).
EFFORT_CACHE_SECONDS = 3600


def _efforts_key(unit: Unit, now: datetime) -> str:
    """Changes with anything the efforts are learned from: the newest event and time entry
    (their ids only grow), the unit's services, the hour."""
    last_event = Event.objects.aggregate(n=Max("pk"))["n"] or 0
    last_entry = TimeEntry.objects.aggregate(n=Max("pk"))["n"] or 0
    services = Service.objects.filter(unit=unit).aggregate(n=Count("pk"), top=Max("pk"))
    hour = int(now.timestamp()) // 3600
    return f"tandem:efforts:{unit.pk}:{last_event}:{last_entry}:{services['n']}:{services['top']}:{hour}"


def effort_of(efforts: dict[int, Effort], service_id: int) -> Effort:
    return efforts.get(service_id, Effort(DEFAULT_EFFORT_SECONDS, False))
