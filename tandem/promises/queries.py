"""Reading promises: the quote shown before submitting, the live forecast, who may see what,
and the promise integrity report."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Avg, Count, F, Func, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Least, TruncWeek
from django.utils import timezone

from tandem.agreements.queries import Terms, calendar_for_service, terms_for
from tandem.catalogue.models import Service
from tandem.engines.agreements.workdays import add_working_days
from tandem.engines.durations import hours_text
from tandem.engines.worktime import WorkingCalendar, to_epoch
from tandem.org.models import Person, Role
from tandem.org.queries import AnyUser, is_admin, is_client, person_of
from tandem.promises import books, engine
from tandem.promises.models import Basis, Promise
from tandem.work import clock
from tandem.work.effort import DEFAULT_EFFORT_SECONDS
from tandem.work.models import OPEN_STATUS_VALUES, OPEN_STATUSES, Channel, ServiceRequest, Status
from tandem.work.queries import requests_visible_to

NOT_STARTED = frozenset({Status.NEW, Status.ASSIGNED, Status.REOPENED})

#: A slip is worth telling only while the front office can still act on it: at least this much
#: working time before the promised time.
WARN_AHEAD_SECONDS = 4 * 3600
#: The worker looks once more this much working time before the promised time (the last call):
#: five minutes more than ``WARN_AHEAD_SECONDS``, so that a notice the worker sends a few
#: rounds (30 s apart) after the refresh fell due still comes ``WARN_AHEAD_SECONDS`` ahead.
LAST_CALL_SECONDS = WARN_AHEAD_SECONDS + 5 * 60
#: The slip rule, chosen on the demo's history (``bench/slip_backtest.py``, docs/benchmarks.md):
#: before the last call a slip is told once a miss is at least this likely ...
SLIP_CHANCE = 0.5
#: ... and from the last call on (``LAST_CALL_SECONDS`` or less before the promised time), once
#: it is at least this likely. Deciding early only on strong evidence and at the last call on
#: weaker keeps broken promises announced in time while telling far fewer that are then kept.
SLIP_CHANCE_LAST_CALL = 0.2


def earliest_commitment() -> Func:
    """When a request is due, for the team that works it: the earlier of the time promised to
    its requester and its agreement's deadline (the published turnaround while the clock is
    paused, or where the request has no clock). Never NULL, so that a queue can page by it."""
    agreed = Coalesce("resolve_by", "due_at")
    return Least(agreed, Coalesce("promise__promised_at", agreed))


@dataclass(frozen=True)
class Quote:
    quoted_at: datetime
    confidence: int
    p50_at: datetime
    promised_at: datetime
    basis: str
    drain_seconds: float
    queue_hours: float | None  # None for a client's person (``for_client``)
    people_on_shift: int | None
    resolve_by: datetime | None  # what the agreement promises, for comparison
    agreement: str
    explanation: str

    @property
    def meets_agreement(self) -> bool:
        return self.resolve_by is None or self.promised_at <= self.resolve_by

    def for_client(self) -> Quote:
        """The quote as a client organisation's person sees it: the dates and the confidence, but
        not the hours queued nor the people on shift, which add up every client's work (with two
        clients, one could subtract its own and read the other's volume)."""
        return replace(self, queue_hours=None, people_on_shift=None, explanation=client_words(self.explanation))

    def as_dict(self) -> dict[str, Any]:
        return {
            "quoted_at": self.quoted_at,
            "confidence": self.confidence,
            "p50_at": self.p50_at,
            "promised_at": self.promised_at,
            "basis": self.basis,
            "queue_hours": None if self.queue_hours is None else round(self.queue_hours, 1),
            "people_on_shift": self.people_on_shift,
            "resolve_by": self.resolve_by,
            "agreement": self.agreement,
            "meets_agreement": self.meets_agreement,
            "explanation": self.explanation,
        }


def default_confidence() -> int:
    return int(settings.TANDEM_PROMISE_CONFIDENCE)


def _when(t: datetime, zone: str) -> str:
    local = t.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def current_load(book: books.UnitBook, now: datetime, *, without: int | None = None) -> tuple[float, float, int]:
    """(working seconds to clear the unit's queue at its recent pace, queued working hours of
    estimated effort, people on shift) of the unit now. The queue is counted in the database,
    not taken from the book, so a burst of arrivals shows at once. ``without``: a request left
    out of the queue (the one being quoted, already stored)."""
    t = to_epoch(now)
    # Grouped by ``service_id + 0``, not by the column: grouping by the column itself leads
    # SQLite's planner to scan every request in service order (17 ms on the demo) instead of
    # walking the queue index (unit, channel, status): 0.15 ms at 2,000 open requests, where
    # listing them to count in Python took 17 ms.
    queue = ServiceRequest.objects.filter(
        unit_id=book.unit_id, channel__in=Channel.values, is_open=True, status__in=OPEN_STATUS_VALUES,
        submitted_at__lte=now,
    )
    if without is not None:
        queue = queue.exclude(pk=without)
    per_service = {
        row["sid"]: row["n"]
        for row in queue.values(sid=F("service_id") + 0).annotate(n=Count("id")).order_by()
    }
    open_now = float(sum(per_service.values()))
    queued = sum(n * book.effort.get(sid, DEFAULT_EFFORT_SECONDS) for sid, n in per_service.items())
    zone = next(iter(book.calendars.values())).zone if book.calendars else ZoneInfo("UTC")
    _capacity, people = book.capacity_on(now.astimezone(zone).date())
    drain = float(book.drain_at(np.array([t], dtype=np.int64), open_count=np.array([open_now]))[0])
    return drain, queued / 3600.0, people


_QUEUE_AHEAD = re.compile(r" ?The queue ahead holds .*? of work for \d+ (?:person|people) on shift\.")
_QUEUE_GREW = re.compile(r"the queue grew from \d+ to \d+ working hours")


def client_words(text: str) -> str:
    """A promise's explanation or slip reason as a client organisation's person reads it: without
    the hours queued, which add up every client's work."""
    return _QUEUE_GREW.sub("the team's queue grew", _QUEUE_AHEAD.sub("", text)).strip()


def quote(
    service: Service, requester: Person, *, channel: str = "internal", now: datetime | None = None,
    confidence: int | None = None,
) -> Quote:
    """The promise Tandem would make now for a new request to ``service`` (shown beside the
    submit form, and by ``POST /api/quotes``)."""
    now = now or timezone.now()
    cal = calendar_for_service(service)
    terms = terms_for(service, requester.unit_id, channel, calendar=cal)
    made = _quote(service, requester.time_zone, now, terms, cal, confidence=confidence,
                  resource=requester.user.username)
    return made.for_client() if is_client(requester) else made


def quote_submitted(sr: ServiceRequest, *, confidence: int | None = None) -> Quote:
    """The promise of a stored request as at its submission (or its approval, for a request
    that waited for its approver): on the terms and the calendar its clock was given then
    (``tandem.work.clock``), with the unit's queue ahead of it."""
    return _quote(
        sr.service, sr.requester.time_zone, sr.approved_at or sr.submitted_at, clock.terms(sr), clock.calendar(sr),
        confidence=confidence, without=sr.pk, resource=sr.requester.user.username,
    )


def _quote(
    service: Service, zone: str, now: datetime, terms: Terms, cal: WorkingCalendar, *,
    confidence: int | None = None, without: int | None = None, resource: str = "",
) -> Quote:
    confidence = confidence or default_confidence()
    book = books.book_for(service.unit, now)
    load, queue_hours, people = current_load(book, now, without=without)
    resolve_by = cal.add(now, terms.resolve_seconds) if terms.resolve_seconds else None
    history = book.service_history(service.pk, now) if service.pk in book.calendars else None
    q = history.quantiles(load, [0.5, confidence / 100]) if history is not None else None
    if q is None:
        due = add_working_days(now, service.turnaround_days, tz=service.unit.time_zone)
        explanation = (
            f"Not enough finished requests of this service yet to quote from history: quoting its published "
            f"turnaround of {service.turnaround_days} working day{'s' if service.turnaround_days != 1 else ''} "
            f"(by {_when(due, zone)})."
        )
        return Quote(now, confidence, due, due, Basis.TURNAROUND, load, queue_hours, people, resolve_by,
                     terms.name, explanation)
    p50_at, promised_at = cal.add(now, round(float(q[0]))), cal.add(now, round(float(q[1])))
    basis, method = Basis.HISTORY, "Quoted from similar past requests"
    made = engine.engine_quote(service, now, confidence, resource=resource, without=without)
    if made is not None:
        p50_at, promised_at = blend(now, p50_at, promised_at, made)
        basis = Basis.ENGINE
        local = made.fitted_at.astimezone(ZoneInfo(zone))
        method = f"Quoted from the queue model fitted {local.day} {local:%b} and similar past requests"
    shift = f"{people} {'person' if people == 1 else 'people'} on shift"
    explanation = (
        f"{confidence} % likely by {_when(promised_at, zone)}; 50 % by {_when(p50_at, zone)}. "
        f"The queue ahead holds {hours_text(queue_hours)} of work for {shift}. {method}."
    )
    if resolve_by is not None and promised_at > resolve_by:
        explanation += (
            f" The agreement ({terms.name}: resolve by {_when(resolve_by, zone)}) cannot be met today because "
            f"of the backlog."
        )
    return Quote(now, confidence, p50_at, promised_at, basis, load, queue_hours, people, resolve_by,
                 terms.name, explanation)


def blend(now: datetime, p50_at: datetime, promised_at: datetime, made: engine.EngineQuote
          ) -> tuple[datetime, datetime]:
    """The product's quote with a fitted engine: the P50 is the mean, in calendar time after ``now``, of the
    neighbour rule's and the engine's (the best MAE measured at submission); the promise is the engine's
    upper quote with its unit's tracked shift (the only calibration measured within 85 ± 3.5 % in every
    unit), never before the P50. docs/promises.md gives the numbers. ``promised_at``: the neighbour rule's,
    not used (kept so the two methods read alike)."""
    p50 = now + ((p50_at - now) + timedelta(days=made.p50_days)) / 2
    return p50, max(now + timedelta(days=made.upper_days), p50)


@dataclass(frozen=True)
class Forecast:
    p50_at: datetime
    at: datetime  # at the promise's confidence
    queue_hours: float
    basis: str
    #: How likely the promise is missed, read from the same similar requests as the times
    #: (``None`` where the history says too little: the promise stands).
    miss_chance: float | None = None
    #: Working time from the forecast to the promised time (0 once it has passed).
    seconds_left: float = 0.0


def forecast(sr: ServiceRequest, promise: Promise, now: datetime) -> Forecast:
    """Where the request stands now. While nobody has started it, it is quoted as if it arrived
    now (today's queue ahead); once started, from requests that arrived into a queue like its
    own and had run as long."""
    book = books.book_for(sr.unit, now)
    load_now, queue_hours, _people = current_load(book, now)
    started = sr.status not in NOT_STARTED
    f = forecast_from(
        book, clock.calendar(sr), promise, service_id=sr.service_id, submitted_at=sr.approved_at or sr.submitted_at,
        started=started, now=now, load_now=load_now, queue_hours=queue_hours,
    )
    if started or f.basis != Basis.HISTORY:
        return f
    # Still queued: quoted as if it arrived now, by the same blend as the promise (the chance of a miss
    # stays the neighbour rule's: the engine gives quantiles, not that chance).
    made = engine.engine_quote(sr.service, now, promise.confidence, without=sr.pk, resource=sr.requester.user.username)
    if made is None:
        return f
    p50_at, at = blend(now, f.p50_at, f.at, made)
    return replace(f, p50_at=p50_at, at=at, basis=Basis.ENGINE)


def forecast_from(
    book: books.UnitBook, cal: WorkingCalendar, promise: Promise, *, service_id: int, submitted_at: datetime,
    started: bool, now: datetime, load_now: float, queue_hours: float,
) -> Forecast:
    """``forecast`` from what it reads about the request and its unit at ``now``: the live
    forecast passes today's queue counted in the database, the slip backtest
    (``bench/slip_backtest.py``) the queue the unit's book says it held then."""
    elapsed = float(cal.between(submitted_at, now))
    history = book.service_history(service_id, now) if service_id in book.calendars else None
    probs = [0.5, promise.confidence / 100]
    # Still queued: as if it arrived now. Started: like requests that had run as long.
    load, ran = (promise.drain_seconds, elapsed) if started else (load_now, 0.0)
    left = float(cal.between(now, promise.promised_at)) if now < promise.promised_at else 0.0
    q = history.quantiles(load, probs, elapsed=ran) if history is not None else None
    if q is None or history is None:
        # Beyond anything seen (or no history): the promise stands until the history says more.
        later = max(promise.promised_at, now)
        return Forecast(max(promise.p50_at, now), later, queue_hours, Basis.TURNAROUND, None, left)
    miss = history.chance_longer(load, left, elapsed=ran)
    return Forecast(cal.add(now, round(float(q[0]))), cal.add(now, round(float(q[1]))), queue_hours, Basis.HISTORY,
                    miss, left)


def slip_foreseen(f: Forecast) -> bool:
    """The slip rule: whether this forecast says the promise will probably be missed, which the
    worker tells the requester once (``tandem.promises.actions.refresh_forecasts``): a miss at
    least ``SLIP_CHANCE`` likely, or ``SLIP_CHANCE_LAST_CALL`` from the last call on. Without
    history to read (``miss_chance`` is ``None``) the promise stands and nothing is told."""
    if f.miss_chance is None:
        return False
    bar = SLIP_CHANCE_LAST_CALL if f.seconds_left <= LAST_CALL_SECONDS else SLIP_CHANCE
    return f.miss_chance >= bar


def slip_reason(sr: ServiceRequest, promise: Promise, queue_hours: float) -> str:
    """Why the forecast passed the promise, in the words the front office needs."""
    if sr.status == Status.WAITING_REQUESTER:
        return "it is waiting for information from the requester"
    if sr.status == Status.WAITING_THIRD_PARTY:
        return "it is waiting on a third party"
    if sr.status == Status.WAITING_TEAM:
        return f"it is waiting on another back-office team ({sr.waiting_on})"
    if sr.events.filter(kind="reopened").exists():
        return "it was reopened"
    if queue_hours > promise.queue_hours * 1.2 + 1:
        return f"the queue grew from {promise.queue_hours:.0f} to {queue_hours:.0f} working hours"
    return "it is taking longer than similar requests did"


# --- who sees what ------------------------------------------------------------------------------


def promises_visible_to(user: AnyUser | None) -> QuerySet[Promise]:
    """A promise is part of its request: whoever may see the request may see its promise."""
    return Promise.objects.filter(request__in=requests_visible_to(user))


def reads_integrity_report(person: Person | None) -> bool:
    """Leads, executives and administrators read the report; everybody else sees their own
    requests' promises on the requests."""
    return person is not None and (is_admin(person) or person.role in (Role.LEAD, Role.EXECUTIVE))


def _kept_counts(qs: QuerySet[Promise], now: datetime) -> QuerySet[Any]:
    """Promises whose outcome is known: resolved (kept when by the promised time) or open and
    already past it (broken, still counting)."""
    done = Q(request__resolved_at__isnull=False)
    late_open = Q(request__resolved_at__isnull=True, promised_at__lt=now) & Q(request__status__in=OPEN_STATUSES)
    return qs.filter(done | late_open).exclude(request__status=Status.CANCELLED)


def integrity_report(user: AnyUser | None, *, now: datetime | None = None, weeks: int = 12,
                     group: str = "service") -> dict[str, Any]:
    """Per service (or unit): promises kept, mean lateness of those broken, quote length, and
    the weekly trend of the share kept; only over promises the user may see."""
    now = now or timezone.now()
    person = person_of(user)
    if not reads_integrity_report(person):
        return {"rows": [], "weeks": []}
    since = now - timedelta(weeks=weeks)
    qs = _kept_counts(promises_visible_to(user).filter(quoted_at__gte=since, quoted_at__lt=now), now)
    key = "service__name" if group == "service" else "unit__name"
    kept = Q(request__resolved_at__lte=F("promised_at"))
    late = Q(request__resolved_at__gt=F("promised_at"))
    rows = list(
        qs.values(key, "unit__name")
        .annotate(
            promises=Count("pk"),
            kept=Count("pk", filter=kept),
            quote_seconds=Avg(F("promised_at") - F("quoted_at")),
            late_resolved=Count("pk", filter=late),
            late_seconds=Sum(F("request__resolved_at") - F("promised_at"), filter=late),
        )
        .order_by(key)
    )
    out = []
    for row in rows:
        late_total, late_count = row["late_seconds"], row["late_resolved"]
        out.append({
            "name": row[key],
            "unit": row["unit__name"],
            "promises": row["promises"],
            "kept_share": row["kept"] / row["promises"] if row["promises"] else None,
            "mean_lateness_hours": (_hours(late_total) or 0.0) / late_count if late_count else None,
            "mean_quote_hours": _hours(row["quote_seconds"]),
        })
    trend = list(
        qs.annotate(week=TruncWeek("quoted_at"))
        .values("week")
        .annotate(promises=Count("pk"), kept=Count("pk", filter=kept))
        .order_by("week")
    )
    return {
        "rows": out,
        "weeks": [{"week": w["week"].date(), "promises": w["promises"], "kept_share": w["kept"] / w["promises"]}
                  for w in trend],
    }


def _hours(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    return float(value) / 3_600_000_000  # SQLite gives durations in microseconds
