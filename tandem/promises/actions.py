"""State changes of promises: written once a submission commits, forecasts refreshed by the
worker, a slip told once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Avg
from django.utils import timezone

from tandem.engines.worktime import WorkingCalendar
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.notifications.webhooks import queue_webhooks
from tandem.org.models import Unit
from tandem.promises import books
from tandem.promises.models import Promise
from tandem.promises.queries import (
    LAST_CALL_SECONDS,
    Quote,
    client_words,
    current_load,
    forecast,
    quote_submitted,
    slip_foreseen,
    slip_reason,
)
from tandem.work import clock
from tandem.work.models import OPEN_STATUSES, ServiceRequest

#: An open request's forecast is refreshed at least this often, so that a request nobody
#: touches still drifts later as time passes.
REFRESH_EVERY = timedelta(hours=4)
#: A unit's queue that moved by more than this share since its forecasts were made refreshes
#: all of them (a burst of arrivals, a backlog cleared).
MATERIAL_CHANGE = 0.25


def promise_for(request_id: int, sr: ServiceRequest | None = None) -> Callable[[], None]:
    """Quote a new request's promise as at its submission, once the submission has committed
    (``tandem.promises.reactions``), and return the write that keeps it, for the outbox to run in
    the transaction that marks the reaction done. The quote is worked out outside any
    transaction: it may have to build the unit's book, and a writer must not hold the database
    while it does. ``sr``: the request as the submission held it (else it is read)."""
    if sr is None:
        sr = ServiceRequest.objects.select_related(
            "service__unit", "service__calendar", "unit__calendar", "requester__user", "agreement"
        ).get(pk=request_id)
    q = quote_submitted(sr)
    return lambda: record_promise(sr, q)


def record_promise(sr: ServiceRequest, q: Quote) -> None:
    """Keep the promise a request was given (inside the caller's transaction). A request keeps
    the first one: a second (the reaction run again after a crash) is ignored by the database."""
    # a stored request's quote (``quote_submitted``) has every figure; only a client's view lacks some
    assert q.queue_hours is not None and q.people_on_shift is not None
    promise = Promise(
        request=sr,
        service_id=sr.service_id,
        unit_id=sr.unit_id,
        quoted_at=q.quoted_at,
        confidence=q.confidence,
        p50_at=q.p50_at,
        promised_at=q.promised_at,
        basis=q.basis,
        explanation=q.explanation[:300],
        queue_hours=q.queue_hours,
        drain_seconds=q.drain_seconds,
        people_on_shift=q.people_on_shift,
        forecast_p50_at=q.p50_at,
        forecast_at=q.promised_at,
        forecast_queue_hours=q.queue_hours,
        forecast_refreshed_at=q.quoted_at,
        refresh_due_at=q.quoted_at + REFRESH_EVERY,
    )
    promise.refresh_due_at = next_refresh(promise, sr, q.quoted_at)
    Promise.objects.bulk_create([promise], ignore_conflicts=True)


def request_moved(request_id: int, now: datetime) -> None:
    """Every event of a request after its submission makes its forecast due (the worker
    recomputes it)."""
    Promise.objects.filter(request_id=request_id).update(refresh_due_at=now)


def unit_capacity_changed(unit_id: int, now: datetime | None = None) -> int:
    """A new absence, a loan or a burst of arrivals: every open forecast of the unit is due."""
    now = now or timezone.now()
    books.forget_books()
    return Promise.objects.filter(unit_id=unit_id, request__status__in=OPEN_STATUSES).update(refresh_due_at=now)


def mark_material_changes(*, now: datetime | None = None) -> int:
    """Units whose queue moved by more than ``MATERIAL_CHANGE`` since their open forecasts were
    made get all of them refreshed. Returns the number of forecasts marked."""
    now = now or timezone.now()
    marked = 0
    rows = (
        Promise.objects.filter(request__status__in=OPEN_STATUSES)
        .values("unit_id")
        .annotate(queue=Avg("forecast_queue_hours"))
    )
    for row in rows:
        unit = Unit.objects.get(pk=row["unit_id"])
        _load, queue_now, _people = current_load(books.book_for(unit, now), now)
        before = row["queue"] or 0.0
        if abs(queue_now - before) > MATERIAL_CHANGE * max(before, 1.0):
            marked += Promise.objects.filter(
                unit_id=unit.pk, request__status__in=OPEN_STATUSES, refresh_due_at__gt=now
            ).update(refresh_due_at=now)
    return marked


def refresh_forecasts(*, now: datetime | None = None, batch: int = 200) -> tuple[int, int]:
    """Recompute the forecasts that are due; tell the requester and the case owner once when a
    promise starts to slip. Returns (refreshed, slip notices). Safe with several workers: each
    row is claimed by a conditional UPDATE before it is worked on."""
    now = now or timezone.now()
    refreshed = slipped = 0
    due = list(
        Promise.objects.filter(refresh_due_at__lte=now).order_by("refresh_due_at").values_list("pk", "refresh_due_at")[
            :batch
        ]
    )
    for pk, marked_at in due:
        claimed = Promise.objects.filter(pk=pk, refresh_due_at=marked_at).update(refresh_due_at=None)
        if not claimed:
            continue  # another worker has it
        promise = Promise.objects.select_related(
            "request__service__unit", "request__unit", "request__case", "request__requester__user").get(
            pk=pk
        )
        sr = promise.request
        if sr.status not in OPEN_STATUSES:
            continue  # resolved, closed or cancelled: the promise is settled, nothing to forecast
        f = forecast(sr, promise, now)
        promise.forecast_p50_at, promise.forecast_at = f.p50_at, f.at
        promise.forecast_queue_hours, promise.forecast_refreshed_at = f.queue_hours, now
        promise.save(update_fields=["forecast_p50_at", "forecast_at", "forecast_queue_hours", "forecast_refreshed_at"])
        Promise.objects.filter(pk=pk, refresh_due_at__isnull=True).update(refresh_due_at=next_refresh(promise, sr, now))
        refreshed += 1
        # Before the promised time the slip rule decides; at or after it an open request has
        # missed its promise, whatever the forecast says, and is told so (not as a slip).
        if promise.slipped_at is None and (tells_missed(promise, now) or slip_foreseen(f)):
            slipped += _tell_slip(promise, sr, f.queue_hours, now)
    return refreshed, slipped


def next_refresh(promise: Promise, sr: ServiceRequest, now: datetime) -> datetime:
    """In ``REFRESH_EVERY``, or at the last call (``LAST_CALL_SECONDS`` of working time before
    the promised time, so that a notice still comes ``WARN_AHEAD_SECONDS`` ahead) when that
    comes first."""
    return refresh_after(promise.promised_at, clock.calendar(sr), now)


def refresh_after(promised_at: datetime, cal: WorkingCalendar, now: datetime) -> datetime:
    """``next_refresh`` for a promise of ``promised_at`` on the request's calendar ``cal``: the
    worker's schedule, which the slip backtest (``bench/slip_backtest.py``) replays."""
    last_call = cal.subtract(promised_at, LAST_CALL_SECONDS)
    regular = now + REFRESH_EVERY
    return last_call if now < last_call < regular else regular


def tells_missed(promise: Promise, now: datetime) -> bool:
    """Whether a notice sent at ``now`` says the request *missed* its promised time (at or after
    it) rather than that it will probably miss it: a slip notice is only ever sent before."""
    return now >= promise.promised_at


def _tell_slip(promise: Promise, sr: ServiceRequest, queue_hours: float, now: datetime) -> int:
    reason = slip_reason(sr, promise, queue_hours)
    with transaction.atomic():
        told = Promise.objects.filter(pk=promise.pk, slipped_at__isnull=True).update(
            slipped_at=now, slip_reason=reason[:300]
        )
        if not told:
            return 0
        recipients = {sr.requester_id}
        if sr.case is not None:
            recipients.add(sr.case.owner_id)
        zone = clock.calendar(sr).zone
        promised = f"{promise.promised_at.astimezone(zone):%a %d %b %H:%M}"
        if sr.requesting_unit.organisation_id is not None:  # told to a client's people: no queue hours
            reason = client_words(reason)
        if not tells_missed(promise, now):
            message = (f"{sr.reference} will probably miss its promised time ({promised}): {reason}. "
                       "Tell the customer early.")
        else:  # found only after the time passed (the worker was down): say it as it is
            expected = f"{(promise.forecast_at or now).astimezone(zone):%a %d %b %H:%M}"
            message = (f"{sr.reference} missed its promised time ({promised}): {reason}. Tandem now expects it "
                       f"by {expected}; tell the customer.")
        notify(recipients, Notification.Kind.PROMISE_SLIPPING, sr, message)  # commits with the claim
        queue_webhooks("promise_slipping", sr.pk, at=now, extra={
            "promised_at": promise.promised_at.isoformat(),
            "forecast_at": promise.forecast_at.isoformat() if promise.forecast_at else None,
            "missed": tells_missed(promise, now)})
    return 1
