"""The worker's duties on requests' clocks: closing resolved requests once the reopen window has
passed, and (below) warnings, breaches and missed first responses; a lead's change of a
request's agreement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from tandem.agreements.models import Agreement
from tandem.agreements.queries import Terms
from tandem.org.models import Person
from tandem.org.queries import leads_unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid
from tandem.work import clock
from tandem.work.actions.moves import _append_event, _locked
from tandem.work.models import OPEN_STATUS_VALUES, Event, ServiceRequest, Status


def close_expired_resolutions(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close resolved requests whose reopen window has passed (the worker calls this).

    Each request is claimed with a conditional UPDATE and a row-count check, so two workers
    running at once never close one twice nor write two events.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TANDEM_REOPEN_WINDOW_DAYS)
    closed = 0
    candidates = list(
        ServiceRequest.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in candidates:
        with action_transaction():
            claimed = ServiceRequest.objects.filter(pk=pk, status=Status.RESOLVED).update(
                status=Status.CLOSED, is_open=False, closed_at=now, status_changed_at=now
            )
            if claimed != 1:
                continue  # another worker got there first
            sr = ServiceRequest.objects.select_for_update().get(pk=pk)
            _append_event(
                sr,
                Event.Kind.CLOSED,
                None,
                at=now,
                from_status=Status.RESOLVED,
                to_status=Status.CLOSED,
                data={"reason": "reopen window passed"},
            )
            sr.save(update_fields=["last_event_seq"])
            closed += 1
    return closed


def change_agreement(actor: Person, request_id: int, agreement_id: int | None, *, now: datetime | None = None) -> Any:
    """Put an open request under another agreement of its service (``None``: the default
    terms). A lead of the providing unit decides; the time already paused is kept."""
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        if not leads_unit(actor, sr.unit_id):
            raise Forbidden(f"Only a lead of the unit or an administrator can change the agreement of {sr.reference}.")
        if sr.status in (Status.CLOSED, Status.CANCELLED, Status.RESOLVED):
            raise Conflict(f"{sr.reference} is {Status(sr.status).label.lower()}; its clock is stopped.")
        if not clock.has_clock(sr):
            raise Conflict(f"{sr.reference} was submitted before agreements; it has no clock to change.")
        if agreement_id is None:
            terms = Terms.default(sr.service, clock.calendar(sr))
        else:
            agreement = Agreement.objects.filter(pk=agreement_id, service_id=sr.service_id, active=True).first()
            if agreement is None:
                raise Invalid(
                    f"There is no active agreement {agreement_id} for {sr.service.name}.",
                    errors={"agreement": ["Not an active agreement of this service."]},
                )
            terms = Terms.of(agreement)
        previous = sr.agreement_id
        clock.retarget(sr, terms, now)
        _append_event(
            sr,
            Event.Kind.AGREEMENT_CHANGED,
            actor,
            at=now,
            internal=False,
            data={"agreement": agreement_id, "previous": previous, "paused_seconds": sr.paused_seconds},
        )
        sr.save(update_fields=["last_event_seq", *clock.CLOCK_FIELDS])
        return sr


def fire_due_sla_alerts(now: datetime | None = None, *, batch: int = 500) -> tuple[int, int]:
    """Warn about requests at 80 % of their resolution target and tell everyone about breaches.

    Finds due rows by the partial indexes on ``warn_at`` and ``resolve_by`` (only unalerted,
    open requests are in them: no scan of all open requests), then claims each with a
    conditional UPDATE and a row-count check, so two workers never alert twice. Returns
    (warnings, breaches).
    """
    now = now or timezone.now()
    running = OPEN_STATUS_VALUES
    warn = list(
        ServiceRequest.objects.filter(
            warn_at__lt=now, breach_warned_at__isnull=True, breached_at__isnull=True, status__in=running
        )
        .order_by("warn_at")
        .values_list("pk", flat=True)[:batch]
    )
    due = list(
        ServiceRequest.objects.filter(resolve_by__lt=now, breached_at__isnull=True, status__in=running)
        .order_by("resolve_by")
        .values_list("pk", flat=True)[:batch]
    )
    warned = sum(_alert(pk, now, breach=False) for pk in warn if pk not in due)
    breached = sum(_alert(pk, now, breach=True) for pk in due)
    return warned, breached


def fire_due_response_alerts(now: datetime | None = None, *, batch: int = 500) -> int:
    """Tell the unit's leads about requests whose ``respond_by`` passed without a first response.

    Found through the partial index on ``respond_by`` (open requests with no first response and
    no alert yet), each claimed with a conditional UPDATE of ``response_alerted_at`` and a
    row-count check, like the resolution alerts: two workers never alert twice. Returns the
    number of alerts raised."""
    now = now or timezone.now()
    due = list(
        ServiceRequest.objects.filter(
            respond_by__lt=now,
            first_response_at__isnull=True,
            response_alerted_at__isnull=True,
            status__in=OPEN_STATUS_VALUES,
        )
        .order_by("respond_by")
        .values_list("pk", flat=True)[:batch]
    )
    return sum(_alert(pk, now, breach=False, response=True) for pk in due)


def _alert(pk: int, now: datetime, *, breach: bool, response: bool = False) -> bool:
    with action_transaction():
        claim = ServiceRequest.objects.filter(pk=pk, status__in=OPEN_STATUS_VALUES)
        if response:
            claimed = claim.filter(
                respond_by__lt=now, first_response_at__isnull=True, response_alerted_at__isnull=True
            ).update(response_alerted_at=now)
        elif breach:
            claimed = claim.filter(breached_at__isnull=True, resolve_by__lt=now).update(breached_at=now)
        else:
            claimed = claim.filter(
                breached_at__isnull=True, warn_at__lt=now, breach_warned_at__isnull=True
            ).update(breach_warned_at=now)
        if claimed != 1:
            return False  # another worker got there first, or the clock moved
        # The request's row only: locking joined person and unit rows too deadlocked on
        # PostgreSQL with a submission by the same requester, whose insert holds a key-share
        # lock on that person's row.
        sr = ServiceRequest.objects.select_for_update().get(pk=pk)
        assert sr.resolve_by is not None or not breach
        if response:
            kind = Event.Kind.SLA_RESPONSE_MISSED
            due = sr.respond_by.isoformat() if sr.respond_by else None
            data = {"respond_by": due, "agreement": sr.agreement_id}
        else:
            kind = Event.Kind.SLA_BREACHED if breach else Event.Kind.SLA_WARNING
            due = sr.resolve_by.isoformat() if sr.resolve_by else None
            data = {"resolve_by": due, "agreement": sr.agreement_id}
        # The event is published with the claim: the leads are told and the webhook is sent once
        # this commits, and by the worker if this process dies first (tandem.outbox).
        _append_event(sr, kind, None, at=now, data=data)
        sr.save(update_fields=["last_event_seq"])
        return True
