"""The week's queue jumps of a unit, for its leads (the capacity page and
``GET /api/units/{slug}/queue-jumps``).

A queue jump is recorded by work's actions (``tandem.work.actions.assign_request`` and
``start_request``) when a request is taken or given while earlier requests the person could
take wait in the unit's queue (``modes.ahead_of``): a ``queue_jump`` event on the request, with
the reason, how many requests it went ahead of and the first of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tandem.org.models import Person, Unit
from tandem.work.models import Event, ServiceRequest


def week_start(unit: Unit, now: datetime) -> datetime:
    """Monday 00:00 of ``now``'s week, in the unit's time zone."""
    local = now.astimezone(ZoneInfo(unit.time_zone))
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time.min, tzinfo=local.tzinfo)


@dataclass(frozen=True)
class Jump:
    request: ServiceRequest
    at: datetime
    by: Person | None
    assignee: Person | None
    reason: str
    jumped: int  # how many earlier requests it went ahead of
    first: str  # the reference of the first of them

    @property
    def ahead_label(self) -> str:
        return f"ahead of {self.jumped} request{'s' if self.jumped != 1 else ''} (first {self.first})"


def queue_jumps(unit: Unit, since: datetime, until: datetime | None = None) -> list[Jump]:
    """The queue jumps of ``unit``'s requests recorded from ``since`` (to ``until``), newest first."""
    events = Event.objects.filter(kind=Event.Kind.QUEUE_JUMP, request__unit=unit, at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    rows = list(events.select_related("request", "actor__user").order_by("-at", "-id"))
    people = Person.objects.select_related("user").in_bulk({e.data.get("assignee") for e in rows} - {None})
    return [
        Jump(e.request, e.at, e.actor, people.get(e.data.get("assignee")), str(e.data.get("reason", "")),
             int(e.data.get("jumped", 0)), str(e.data.get("first", "")))
        for e in rows
    ]
