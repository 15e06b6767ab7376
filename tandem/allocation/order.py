"""The order of a back-office unit's queue: the one key plans, Take next, pull mode's "next for
you", the lending forecast and the queue-jump check all sort by (docs/allocation.md, "The order
of the queue").

A request comes first when it is **due first**: the earlier of the time promised to its
requester and its agreement's deadline (``promises.queries.earliest_commitment``, as the team
queue reads it), the older request first on a tie. The channel does not count, unless the unit
gives customer work a head start (``Unit.customer_head_start_hours``): then an external request
is placed as if it were due that many of the unit's working hours sooner.

``QueueOrder.of(unit)`` reads the policy (and the unit's calendar, once) so that a caller
computes it once and passes it down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tandem.agreements.queries import calendar_for_unit
from tandem.engines.worktime import WorkingCalendar
from tandem.org.models import Unit
from tandem.promises.queries import earliest_commitment
from tandem.work.models import Channel, ServiceRequest

#: The engine's priority for every request: the order is carried by the due time alone.
PRIORITY = 3
#: The field ``with_queue_due`` annotates: when the request is due, before any head start.
DUE = "queue_due"

OrderKey = tuple[datetime, datetime, int]


def with_queue_due(qs: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """``qs`` with each request's due time (the earlier of promise and agreement) as ``queue_due``."""
    return qs.annotate(**{DUE: earliest_commitment()})


def due_of(sr: Any) -> datetime:
    """When a request is due: its ``queue_due`` when loaded ``with_queue_due``, else its agreement's."""
    due: datetime | None = getattr(sr, DUE, None)
    return due or sr.agreed_due


@dataclass
class QueueOrder:
    """A unit's queue policy, resolved once."""

    unit: Unit
    head_start_hours: int
    _calendar: WorkingCalendar | None = field(default=None, repr=False)

    @classmethod
    def of(cls, unit: Unit) -> QueueOrder:
        return cls(unit, int(unit.customer_head_start_hours or 0))

    @property
    def label(self) -> str:
        return self.unit.queue_order_label

    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = calendar_for_unit(self.unit)
        return self._calendar

    def head_start(self, channel: str) -> int:
        """Working hours the channel's requests come earlier by."""
        return self.head_start_hours if channel == Channel.EXTERNAL else 0

    def order_due(self, due: datetime, channel: str) -> datetime:
        """The time the queue places a request at: its due time, less the channel's head start
        in the unit's working hours."""
        hours = self.head_start(channel)
        return self.calendar().subtract(due, hours * 3600) if hours else due

    def key(self, due: datetime, channel: str, submitted_at: datetime, pk: int) -> OrderKey:
        """The ordering key: placed due time, then the older request, then the lower id."""
        return (self.order_due(due, channel), submitted_at, pk)

    def key_of(self, sr: Any) -> OrderKey:
        """The key of a request loaded with ``with_queue_due`` (else due at its agreement)."""
        return self.key(due_of(sr), sr.channel, sr.submitted_at, sr.pk)
