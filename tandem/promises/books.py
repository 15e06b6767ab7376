"""A unit's recent history as the quoting engine reads it: for every request, the queue it
arrived into (in days of the unit's capacity) and how long it took in working time.

Built from a few columns of the unit's requests, once, then sliced "as known at" any instant:
the live quote reads it as of now, the backtest (and the demo's past promises) as of each
week's start, so both use exactly the same definitions (docs/promises.md).
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from tandem.agreements.capacity import capacity_by_day
from tandem.agreements.queries import calendar_for_service, calendar_for_unit
from tandem.catalogue.models import Service
from tandem.engines import quoting
from tandem.engines.worktime import WorkingCalendar, to_epoch
from tandem.org.models import Unit
from tandem.work.effort import DEFAULT_EFFORT_SECONDS, median_efforts
from tandem.work.models import ServiceRequest, Status

#: How far back a quote looks. Long enough for every service to have samples, short enough
#: that a team which slowed down (or caught up) is quoted as it is now.
WINDOW = timedelta(weeks=12)
#: The recent pace of a unit (requests finished per working second) is measured over this.
PACE = timedelta(days=14)
#: A book is rebuilt after this long.
BOOK_TTL_SECONDS = 600.0

INF = float("inf")


@dataclass
class UnitBook:
    unit_id: int
    built_at: datetime
    service_ids: npt.NDArray[np.int64]
    submitted: npt.NDArray[np.int64]  # epoch seconds
    ended: npt.NDArray[np.float64]  # epoch seconds of resolution or cancellation; inf while open
    cancelled: npt.NDArray[np.bool_]
    load: npt.NDArray[np.float64]  # queued effort at arrival, in days of the unit's capacity
    effort: dict[int, float]  # service id → median hands-on working seconds (tandem.work.effort)
    calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    capacity: dict[date, tuple[float, int]] = field(default_factory=dict)  # day → (seconds, people)
    unit_calendar: WorkingCalendar | None = None

    def drain_at(
        self, times: npt.NDArray[np.int64], *, exclude_self: bool = False,
        open_count: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Working seconds the unit would need to clear the requests open at each instant, at
        the pace it finished (or cancelled) requests over the ``PACE`` before: the queue in the
        units that matter to whoever waits in it. ``exclude_self`` for arrival instants (the
        arriving request does not wait for itself). ``open_count`` replaces the book's own count
        (the live quote counts today's queue in the database: the book may be minutes old)."""
        if open_count is None:
            open_count = quoting.backlog_at(times, self.submitted, self.ended, np.ones(len(self.submitted)))
        if exclude_self:
            open_count = np.maximum(open_count - 1, 0)
        departures = np.sort(self.ended[np.isfinite(self.ended)])
        lookback = PACE.total_seconds()
        left = np.searchsorted(departures, times - lookback, side="left")
        done = np.searchsorted(departures, times, side="left") - left
        cal = self.unit_calendar
        assert cal is not None
        worked = cal.between_many(times - int(lookback), times).astype(np.float64)
        pace = done / np.maximum(worked, 1.0)  # requests per working second
        fallback = open_count * DEFAULT_EFFORT_SECONDS
        return np.where(done > 0, open_count / np.maximum(pace, 1e-12), fallback)

    def service_history(self, service_id: int, as_of: datetime) -> quoting.ServiceHistory:
        """The service's requests that arrived in the window before ``as_of``, with what was
        known then: those finished by ``as_of`` observed, the others censored at ``as_of``."""
        t = to_epoch(as_of)
        pick = (
            (self.service_ids == service_id)
            & (self.submitted < t)
            & (self.submitted >= t - WINDOW.total_seconds())
            & ~(self.cancelled & (self.ended <= t))
        )
        submitted = self.submitted[pick]
        done = self.ended[pick] <= t
        until = np.where(done, self.ended[pick], t).astype(np.int64)
        cal = self.calendars[service_id]
        duration = cal.between_many(submitted, until).astype(np.float64) if len(submitted) else np.empty(0)
        return quoting.ServiceHistory.of(self.load[pick], duration, done)

    def capacity_on(self, day: date) -> tuple[float, int]:
        """(working seconds, people working) of the unit on the first day from ``day`` on that
        has any working time (a request arriving on Saturday waits for Monday's team)."""
        for offset in range(14):
            seconds, people = self.capacity.get(day + timedelta(days=offset), (0.0, 0))
            if seconds > 0:
                return seconds, people
        return 0.0, 0


def build_book(unit: Unit, now: datetime, *, since: datetime | None = None) -> UnitBook:
    """The unit's requests from ``since`` (default: one window before ``now``) with their load at
    arrival; capacity from ``since`` to two weeks after ``now``."""
    since = since or now - WINDOW
    rows = list(
        ServiceRequest.objects.filter(unit=unit, submitted_at__gte=since - WINDOW)
        .order_by()
        .values_list("service_id", "submitted_at", "status", "resolved_at", "status_changed_at")
    )
    services = {s.pk: s for s in Service.objects.filter(unit=unit).select_related("unit")}
    calendars = {sid: calendar_for_service(s) for sid, s in services.items()}
    effort = median_efforts(unit, since - WINDOW, now)
    n = len(rows)
    service_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    submitted = np.fromiter((to_epoch(r[1]) for r in rows), dtype=np.int64, count=n)
    ended = np.full(n, INF)
    cancelled = np.zeros(n, dtype=bool)
    for i, (_sid, _sub, status, resolved_at, changed_at) in enumerate(rows):
        if status == Status.CANCELLED:
            ended[i], cancelled[i] = to_epoch(changed_at), True
        elif status in (Status.RESOLVED, Status.CLOSED) and resolved_at is not None:
            ended[i] = to_epoch(resolved_at)
    first_day = (since - WINDOW).date()
    capacity = capacity_by_day(unit, first_day, (now + timedelta(days=14)).date())
    book = UnitBook(unit.pk, now, service_ids, submitted, ended, cancelled, np.zeros(n), effort, calendars, capacity,
                    calendar_for_unit(unit))
    book.load = book.drain_at(submitted, exclude_self=True)
    return book


_BOOKS: dict[int, tuple[float, UnitBook]] = {}


def book_for(unit: Unit, now: datetime) -> UnitBook:
    """The unit's book, rebuilt at most every ``BOOK_TTL_SECONDS`` (of the clock and of ``now``):
    the history it holds moves slowly, and the live queue is counted apart at every quote.
    Process-local: a second app server builds its own, which is only a little CPU."""
    cached = _BOOKS.get(unit.pk)
    if cached is not None:
        built, book = cached
        fresh = abs((now - book.built_at).total_seconds()) < BOOK_TTL_SECONDS
        if fresh and clock.monotonic() - built < BOOK_TTL_SECONDS:
            return book
    book = build_book(unit, now)
    _BOOKS[unit.pk] = (clock.monotonic(), book)
    return book


def forget_books() -> None:
    """Drop every cached book (tests, and after a bulk import)."""
    _BOOKS.clear()
