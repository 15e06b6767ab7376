"""Promises as they would have been quoted in the past, each from what was known at its
submission: the backtest behind the figures in docs/promises.md, and the demo's past promises.

Every request of a unit submitted in ``[start, end)`` is quoted at its submission instant from
the unit's book sliced as of that instant (finished requests observed, open ones censored),
with the load it really arrived into: exactly what the live quote does at submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from tandem.agreements.queries import calendar_for_service
from tandem.catalogue.models import Service
from tandem.engines import quoting
from tandem.engines.agreements.workdays import add_working_days
from tandem.engines.worktime import to_epoch
from tandem.org.models import Unit
from tandem.promises import books
from tandem.promises.models import Basis, Promise
from tandem.work.effort import DEFAULT_EFFORT_SECONDS
from tandem.work.models import OPEN_STATUSES, ServiceRequest, Status


@dataclass
class Outcome:
    """Quotes for requests whose outcome is known, beside "submission + published turnaround"."""

    quotes: int = 0
    from_history: int = 0
    kept: int = 0
    kept_turnaround: int = 0
    quote_hours: list[float] = field(default_factory=list)
    turnaround_hours: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.quotes += other.quotes
        self.from_history += other.from_history
        self.kept += other.kept
        self.kept_turnaround += other.kept_turnaround
        self.quote_hours += other.quote_hours
        self.turnaround_hours += other.turnaround_hours
        self.load += other.load


def past_promises(
    unit: Unit, start: datetime, end: datetime, *, confidence: int, book: books.UnitBook | None = None
) -> tuple[list[Promise], Outcome]:
    """Promise rows (unsaved) for the unit's requests submitted in ``[start, end)``, and how the
    resolved ones fared against them and against the published turnaround. ``book``: the unit's
    book as ``books.build_book(unit, end, since=start)`` builds it, when the caller has it."""
    book = book or books.build_book(unit, end, since=start)
    services = {s.pk: s for s in Service.objects.filter(unit=unit).select_related("unit")}
    rows = list(
        ServiceRequest.objects.filter(unit=unit, submitted_at__gte=start, submitted_at__lt=end)
        .order_by("submitted_at")
        .values_list("pk", "service_id", "submitted_at", "status", "resolved_at", "due_at")
    )
    by_time = {(int(s), int(t)): i for i, (s, t) in enumerate(zip(book.service_ids, book.submitted, strict=True))}
    weights = np.array([book.effort.get(int(s), DEFAULT_EFFORT_SECONDS) for s in book.service_ids])
    queued_effort = quoting.backlog_at(book.submitted, book.submitted, book.ended, weights) - weights
    promises: list[Promise] = []
    outcome = Outcome()
    zone = next(iter(book.calendars.values())).zone if book.calendars else None
    for pk, sid, submitted, status, resolved_at, due_at in rows:
        service = services[sid]
        cal = book.calendars.get(sid) or calendar_for_service(service)
        i = by_time.get((sid, to_epoch(submitted)))
        load = float(book.load[i]) if i is not None else 0.0
        _seconds, people = book.capacity_on(submitted.astimezone(zone).date() if zone else submitted.date())
        queue_hours = float(queued_effort[i]) / 3600 if i is not None else 0.0
        q = book.service_history(sid, submitted).quantiles(load, [0.5, confidence / 100])
        if q is None:
            due = add_working_days(submitted, service.turnaround_days, tz=service.unit.time_zone)
            p50_at = promised_at = due
            basis, text = Basis.TURNAROUND, f"Published turnaround of {service.turnaround_days} working days."
        else:
            p50_at, promised_at = cal.add(submitted, round(float(q[0]))), cal.add(submitted, round(float(q[1])))
            basis, text = Basis.HISTORY, f"{confidence} % likely by then, from the queue and similar requests."
        promises.append(Promise(
            request_id=pk, service_id=sid, unit_id=unit.pk, quoted_at=submitted, confidence=confidence,
            p50_at=p50_at, promised_at=promised_at, basis=basis, explanation=text,
            queue_hours=queue_hours, drain_seconds=load, people_on_shift=people,
            forecast_p50_at=p50_at, forecast_at=promised_at, forecast_queue_hours=queue_hours,
            forecast_refreshed_at=submitted,
            refresh_due_at=end if status in OPEN_STATUSES else None,
        ))
        if status == Status.CANCELLED or resolved_at is None:
            continue
        outcome.quotes += 1
        outcome.from_history += basis == Basis.HISTORY
        outcome.kept += resolved_at <= promised_at
        outcome.kept_turnaround += resolved_at <= due_at
        outcome.quote_hours.append((promised_at - submitted).total_seconds() / 3600)
        outcome.turnaround_hours.append((due_at - submitted).total_seconds() / 3600)
        outcome.load.append(load)
    return promises, outcome


def backtest(*, weeks: int = 8, end: datetime | None = None, confidence: int = 85) -> dict[str, Outcome]:
    """Quote every request of the last ``weeks`` weeks as at its submission; per unit outcomes."""
    end = end or timezone.now()
    start = end - timedelta(weeks=weeks)
    out = {}
    for unit in Unit.objects.filter(services__isnull=False).distinct().order_by("name"):
        _promises, outcome = past_promises(unit, start, end, confidence=confidence)
        out[unit.name] = outcome
    return out


def summary(outcomes: dict[str, Outcome]) -> dict[str, float]:
    """Kept rates and quote lengths overall, and split by the load the requests arrived into."""
    total = Outcome()
    for o in outcomes.values():
        total.add(o)
    quote = np.array(total.quote_hours)
    turnaround = np.array(total.turnaround_hours)
    load = np.array(total.load)
    short = load <= np.median(load) if len(load) else np.zeros(0, dtype=bool)
    return {
        "quotes": total.quotes,
        "from_history": total.from_history,
        "kept_share": total.kept / total.quotes if total.quotes else float("nan"),
        "kept_share_turnaround": total.kept_turnaround / total.quotes if total.quotes else float("nan"),
        "mean_quote_hours": float(quote.mean()) if len(quote) else float("nan"),
        "mean_turnaround_hours": float(turnaround.mean()) if len(turnaround) else float("nan"),
        "short_queue_mean_quote_hours": float(quote[short].mean()) if short.any() else float("nan"),
        "short_queue_mean_turnaround_hours": float(turnaround[short].mean()) if short.any() else float("nan"),
        "long_queue_mean_quote_hours": float(quote[~short].mean()) if (~short).any() else float("nan"),
        "long_queue_mean_turnaround_hours": float(turnaround[~short].mean()) if (~short).any() else float("nan"),
    }
