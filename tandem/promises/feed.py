"""The product's feed to the promise engine, read from the database: a unit's requests with their
corrected hands-on effort and its staffing by day (tandem/engines/promise/feed.py defines the columns).

Two readers share these definitions: ``unit_queue`` rebuilds a unit's whole history (the features of any
past instant, for fitting and the backtest, ``bench/promise_feed.py``), ``feed_now`` reads only what is
open now (for a quote; its cost does not grow with the stored history).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from tandem.agreements.capacity import capacity_by_day
from tandem.agreements.queries import calendar_for_unit
from tandem.engines.promise.feed import HORIZON_DAYS, UnitQueue, queue_feed
from tandem.engines.worktime import to_epoch
from tandem.org.models import Unit
from tandem.work.effort import DEFAULT_EFFORT_SECONDS, effort_of, median_efforts, service_efforts
from tandem.work.models import OPEN_STATUSES, ServiceRequest, Status

#: The service's effort is the median of its requests resolved in this window (docs/figures.md).
EFFORT_WINDOW = timedelta(weeks=12)


def _staffing(unit: Unit, first: date, last: date, known: Mapping[date, tuple[float, int]] | None = None
              ) -> tuple[list[int], list[float], list[int]]:
    """(midnights in the unit's zone, seconds given to requests, people working) for each day of
    ``[first, last]``: working patterns, absences out, people lent in (``capacity_by_day``, or ``known``
    when it holds every day: the unit's book has them)."""
    zone = calendar_for_unit(unit).zone
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if known is not None and all(d in known for d in days):
        capacity = {d: known[d] for d in days}
    else:
        capacity = capacity_by_day(unit, first, last)
    days = sorted(capacity)
    return ([to_epoch(datetime.combine(d, datetime.min.time(), tzinfo=zone)) for d in days],
            [capacity[d][0] for d in days], [capacity[d][1] for d in days])


def unit_queue(unit: Unit, since: datetime, until: datetime, *, effort_as_of: datetime
               ) -> tuple[UnitQueue, npt.NDArray[np.int64]]:
    """The unit's requests submitted by ``until`` and not over before ``since``, with
    every request's effort at its service's median effort as known at ``effort_as_of``, and the staffing
    from ``since``'s day to ``HORIZON_DAYS`` after ``until``; with the request ids, in queue order."""
    rows = list(ServiceRequest.objects.filter(unit=unit, submitted_at__lte=until).order_by("pk")
                .values_list("pk", "service_id", "submitted_at", "status", "resolved_at", "status_changed_at"))
    effort = median_efforts(unit, effort_as_of - EFFORT_WINDOW, effort_as_of)
    ended = np.full(len(rows), np.inf)
    for i, (_pk, _sid, _sub, status, resolved_at, changed_at) in enumerate(rows):
        if status == Status.CANCELLED:
            ended[i] = to_epoch(changed_at)
        elif status in (Status.RESOLVED, Status.CLOSED) and resolved_at is not None:
            ended[i] = to_epoch(resolved_at)
    keep = ended >= to_epoch(since)  # a request over before ``since`` is ahead of nothing after it
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    ended = ended[keep]
    zone = calendar_for_unit(unit).zone
    starts, seconds, people = _staffing(unit, since.astimezone(zone).date(),
                                        until.astimezone(zone).date() + timedelta(days=HORIZON_DAYS))
    queue = UnitQueue.of([float(to_epoch(r[2])) for r in rows], ended,
                         [effort.get(r[1], DEFAULT_EFFORT_SECONDS) for r in rows], starts, seconds, people)
    return queue, np.array([r[0] for r in rows], dtype=np.int64)


def feed_now(unit: Unit, now: datetime, *, without: int | None = None,
             capacity: Mapping[date, tuple[float, int]] | None = None) -> dict[str, float]:
    """The feed columns for a request of ``unit`` quoted at ``now``: the requests open in the unit now
    (``without`` the request being quoted), at their services' effort, and the staffing of the next
    ``HORIZON_DAYS`` days (from ``capacity`` by day when it has them: the unit's book, rebuilt whenever an
    absence or a loan changes it). Reads the open requests only."""
    open_now = ServiceRequest.objects.filter(unit=unit, status__in=OPEN_STATUSES, submitted_at__lte=now)
    if without is not None:
        open_now = open_now.exclude(pk=without)
    open_rows = list(open_now.values_list("service_id", flat=True))
    efforts = service_efforts(unit, now)  # cached: learning them reads the unit's spans
    zone = calendar_for_unit(unit).zone
    today = now.astimezone(zone).date()
    starts, seconds, people = _staffing(unit, today, today + timedelta(days=HORIZON_DAYS), capacity)
    t = float(to_epoch(now))
    queue = UnitQueue.of([t] * len(open_rows), [float("inf")] * len(open_rows),
                         [effort_of(efforts, sid).seconds for sid in open_rows], starts, seconds, people)
    return {name: float(values[0]) for name, values in queue_feed(queue, [t]).items()}
