"""How much working time a request of each service takes, learned from the event log.

The definition the promise quotes and the allocation plans share: the median working time (of
the service's calendar) from a request's first ``started`` event to its first ``resolved``
event, over the requests of a window; a published fallback of one working hour for a service
with no finished work yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Min

from tandem.agreements.queries import calendar_for_service
from tandem.catalogue.models import Service
from tandem.engines.worktime import WorkingCalendar, to_epoch
from tandem.org.models import Unit
from tandem.work.models import Event

#: How far back effort is learned for the allocation plans and the capacity page.
WINDOW = timedelta(weeks=12)
#: A service with no finished work yet is estimated at one working hour.
DEFAULT_EFFORT_SECONDS = 3600.0


@dataclass(frozen=True)
class Effort:
    seconds: float
    learned: bool  # False: the one-hour fallback ("estimated" in the UI)

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0


def learned_effort(unit: Unit, since: datetime, calendars: dict[int, WorkingCalendar]) -> dict[int, float]:
    """Median working seconds from a request's first start to its first resolution, per service
    of ``calendars`` (service id → its calendar), over the unit's requests submitted since
    ``since``. Services without a finished request are left out."""
    rows = (
        Event.objects.filter(request__unit=unit, request__submitted_at__gte=since)
        .filter(kind__in=[Event.Kind.STARTED, Event.Kind.RESOLVED])
        .values("request_id", "request__service_id", "kind")
        .annotate(first=Min("at"))
    )
    started: dict[int, tuple[int, datetime]] = {}
    resolved: dict[int, datetime] = {}
    for row in rows:
        if row["kind"] == Event.Kind.STARTED:
            started[row["request_id"]] = (row["request__service_id"], row["first"])
        else:
            resolved[row["request_id"]] = row["first"]
    spans: dict[int, list[tuple[int, int]]] = {}
    for rid, (sid, at) in started.items():
        end = resolved.get(rid)
        if end is not None and end > at and sid in calendars:
            spans.setdefault(sid, []).append((to_epoch(at), to_epoch(end)))
    effort = {}
    for sid, pairs in spans.items():
        a, b = np.array(pairs).T
        effort[sid] = float(np.median(calendars[sid].between_many(a, b))) or DEFAULT_EFFORT_SECONDS
    return effort


def service_efforts(unit: Unit, now: datetime) -> dict[int, Effort]:
    """Effort per service of ``unit`` (service id → Effort), learned over ``WINDOW``."""
    services = list(Service.objects.filter(unit=unit).select_related("unit"))
    calendars = {s.pk: calendar_for_service(s) for s in services}
    learned = learned_effort(unit, now - WINDOW, calendars)
    return {
        s.pk: Effort(learned[s.pk], True) if s.pk in learned else Effort(DEFAULT_EFFORT_SECONDS, False)
        for s in services
    }


def effort_of(efforts: dict[int, Effort], service_id: int) -> Effort:
    return efforts.get(service_id, Effort(DEFAULT_EFFORT_SECONDS, False))
