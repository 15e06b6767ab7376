"""State changes of calendars, agreements and request clocks, one named function each.

Refusals name the field at fault. The clock columns of a request change inside the work
actions (``tandem.agreements.clock``); here live the moves that are about agreements:
setting a unit's calendar, defining an agreement, changing a request's agreement, and the
worker's duty of firing breach warnings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.agreements import clock
from tandem.agreements.models import (
    DEFAULT_PAUSE_STATUSES,
    PAUSABLE_STATUSES,
    Agreement,
    Calendar,
    CustomerAgreement,
    calendar_field,
)
from tandem.agreements.queries import Terms
from tandem.catalogue.models import Service
from tandem.engines import legs
from tandem.engines.worktime import CalendarError, CalendarSpec
from tandem.notifications import webhooks
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role, Side, Unit
from tandem.org.queries import leads_unit
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound

CHANNELS = ("", "internal", "external")
MAX_MINUTES = legs.MAX_MINUTES


def check_terms(
    *,
    first_response_minutes: Any,
    resolution_minutes: Any,
    target_percent: Any,
    pause_statuses: Any,
    channel: str,
    django_errors: bool = False,
) -> None:
    """Refuse targets of zero or less, a percentage outside (0, 100], unknown pause statuses."""
    errors: dict[str, list[str]] = {}
    targets = {"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes}
    for field, value in targets.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            errors[field] = [f"{field}: a target must be more than zero working minutes, not {value!r}."]
        elif value > MAX_MINUTES:
            errors[field] = [f"{field}: at most {MAX_MINUTES:,} working minutes, not {value!r}."]
    if isinstance(target_percent, bool) or not isinstance(target_percent, int | float) or not 0 < target_percent <= 100:
        errors["target_percent"] = [f"target_percent: give a share above 0 and at most 100, not {target_percent!r}."]
    if not isinstance(pause_statuses, list) or any(s not in PAUSABLE_STATUSES for s in pause_statuses):
        errors["pause_statuses"] = [f"pause_statuses: choose among {', '.join(PAUSABLE_STATUSES)}."]
    if channel not in CHANNELS:
        errors["channel"] = ["channel: internal, external, or blank for both."]
    if errors:
        if django_errors:
            raise ValidationError({k: v[0] for k, v in errors.items()})
        first = next(iter(errors.values()))[0]
        raise Invalid(f"The agreement was not saved. {first}", errors=errors)


def _require_lead(actor: Person, unit_id: int, what: str) -> None:
    if not leads_unit(actor, unit_id):
        raise Forbidden(f"Only a lead of the unit or an administrator can {what}.")


def set_calendar(actor: Person, unit: Unit, data: dict[str, Any]) -> Calendar:
    """Give a unit its own working calendar. A calendar edit moves the deadlines of requests
    computed from then on, never the recorded history of finished ones."""
    _require_lead(actor, unit.pk, f"change the calendar of {unit.name}")
    spec = _calendar_spec(data)
    with transaction.atomic(durable=True):
        calendar, _ = Calendar.objects.update_or_create(
            unit=unit, defaults={"spec": spec.to_data(), "updated_at": timezone.now()}
        )
        return calendar


def _calendar_spec(data: dict[str, Any]) -> CalendarSpec:
    try:
        return CalendarSpec.from_data(data)
    except (CalendarError, TypeError) as error:
        field = calendar_field(error) if isinstance(error, CalendarError) else "spec"
        raise Invalid(f"The calendar was not saved. {error}", errors={field: [str(error)]}) from error


def set_service_calendar(actor: Person, service: Service, data: dict[str, Any]) -> Calendar:
    """Give one service its own working calendar, overriding its unit's (e.g. an out-of-hours
    line). A lead of the providing unit or an administrator; the same rules as a unit's."""
    _require_lead(actor, service.unit_id, f"change the calendar of {service.name}")
    spec = _calendar_spec(data)
    with transaction.atomic(durable=True):
        calendar, _ = Calendar.objects.update_or_create(
            service=service, defaults={"spec": spec.to_data(), "updated_at": timezone.now()}
        )
    service._state.fields_cache["calendar"] = calendar
    return calendar


def remove_service_calendar(actor: Person, service: Service) -> bool:
    """Drop a service's own calendar: its clocks run on its unit's calendar again (for
    deadlines computed from then on). True when there was one."""
    _require_lead(actor, service.unit_id, f"change the calendar of {service.name}")
    with transaction.atomic(durable=True):
        deleted, _ = Calendar.objects.filter(service=service).delete()
    service._state.fields_cache.pop("calendar", None)  # the instance reads its unit's calendar now
    return deleted > 0


def define_agreement(
    actor: Person,
    service: Service,
    *,
    name: str,
    first_response_minutes: int,
    resolution_minutes: int,
    target_percent: float = 90.0,
    pause_statuses: list[str] | None = None,
    requesting_unit: Unit | None = None,
    channel: str = "",
    active: bool = True,
) -> Agreement:
    _require_lead(actor, service.unit_id, f"define agreements for {service.name}")
    pauses = list(DEFAULT_PAUSE_STATUSES if pause_statuses is None else pause_statuses)
    check_terms(
        first_response_minutes=first_response_minutes,
        resolution_minutes=resolution_minutes,
        target_percent=target_percent,
        pause_statuses=pauses,
        channel=channel,
    )
    name = (name or "").strip()[:120] or f"{service.name} agreement"
    with transaction.atomic(durable=True):
        return Agreement.objects.create(
            service=service,
            requesting_unit=requesting_unit,
            channel=channel,
            name=name,
            first_response_minutes=first_response_minutes,
            resolution_minutes=resolution_minutes,
            target_percent=target_percent,
            pause_statuses=pauses,
            active=active,
        )


def update_agreement(
    actor: Person,
    agreement_id: int,
    service: Service,
    *,
    name: str,
    first_response_minutes: int,
    resolution_minutes: int,
    target_percent: float,
    pause_statuses: list[str],
    requesting_unit: Unit | None,
    channel: str,
    active: bool,
) -> Agreement:
    """Change an agreement's terms. Requests already submitted keep the targets copied onto
    them; moving it to another service needs the lead of both providing units."""
    check_terms(
        first_response_minutes=first_response_minutes,
        resolution_minutes=resolution_minutes,
        target_percent=target_percent,
        pause_statuses=pause_statuses,
        channel=channel,
    )
    with transaction.atomic(durable=True):
        agreement = (
            Agreement.objects.select_for_update(of=("self",)).select_related("service").filter(pk=agreement_id).first()
        )
        if agreement is None:
            raise NotFound(f"There is no agreement {agreement_id}.")
        _require_lead(actor, agreement.service.unit_id, f"change agreements of {agreement.service.name}")
        _require_lead(actor, service.unit_id, f"define agreements for {service.name}")
        agreement.service = service
        agreement.name = (name or "").strip()[:120] or f"{service.name} agreement"
        agreement.first_response_minutes = first_response_minutes
        agreement.resolution_minutes = resolution_minutes
        agreement.target_percent = target_percent
        agreement.pause_statuses = list(pause_statuses)
        agreement.requesting_unit = requesting_unit
        agreement.channel = channel
        agreement.active = active
        agreement.save()
        return agreement


def _check_customer_terms(unit: Unit, resolution_minutes: Any, margin_minutes: Any, services: list[Service]) -> None:
    errors: dict[str, list[str]] = {}
    if unit.side != Side.FRONT:
        errors["unit"] = [f"unit: {unit.name} is a back-office unit; customer agreements belong to the front office."]
    if (
        isinstance(resolution_minutes, bool)
        or not isinstance(resolution_minutes, int)
        or not 0 < resolution_minutes <= MAX_MINUTES
    ):
        errors["resolution_minutes"] = [
            "resolution_minutes: the customer target must be more than zero "
            f"and at most {MAX_MINUTES:,} working minutes."
        ]
    if (
        isinstance(margin_minutes, bool)
        or not isinstance(margin_minutes, int)
        or not 0 <= margin_minutes <= MAX_MINUTES
    ):
        errors["margin_minutes"] = [f"margin_minutes: give zero or more working minutes, at most {MAX_MINUTES:,}."]
    if not services:
        errors["services"] = ["services: choose at least one back-office service the promise depends on."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise Invalid(f"The customer agreement was not saved. {first}", errors=errors)


def define_customer_agreement(
    actor: Person,
    unit: Unit,
    *,
    name: str,
    resolution_minutes: int,
    margin_minutes: int,
    services: list[Service],
    active: bool = True,
) -> CustomerAgreement:
    """A front-office unit's customer-facing agreement (its lead or an administrator)."""
    _require_lead(actor, unit.pk, f"define customer agreements for {unit.name}")
    _check_customer_terms(unit, resolution_minutes, margin_minutes, services)
    with transaction.atomic(durable=True):
        ca = CustomerAgreement.objects.create(
            unit=unit,
            name=(name or "").strip()[:120] or f"{unit.name} customer agreement",
            resolution_minutes=resolution_minutes,
            margin_minutes=margin_minutes,
            active=active,
        )
        ca.services.set(services)
        return ca


def update_customer_agreement(
    actor: Person,
    customer_agreement_id: int,
    *,
    name: str,
    resolution_minutes: int,
    margin_minutes: int,
    services: list[Service],
    active: bool,
) -> CustomerAgreement:
    with transaction.atomic(durable=True):
        ca = (
            CustomerAgreement.objects.select_for_update()
            .select_related("unit")
            .filter(pk=customer_agreement_id)
            .first()
        )
        if ca is None:
            raise NotFound(f"There is no customer agreement {customer_agreement_id}.")
        _require_lead(actor, ca.unit_id, f"change customer agreements of {ca.unit.name}")
        _check_customer_terms(ca.unit, resolution_minutes, margin_minutes, services)
        ca.name = (name or "").strip()[:120] or ca.name
        ca.resolution_minutes = resolution_minutes
        ca.margin_minutes = margin_minutes
        ca.active = active
        ca.save()
        ca.services.set(services)
        return ca


def change_agreement(actor: Person, request_id: int, agreement_id: int | None, *, now: datetime | None = None) -> Any:
    """Put an open request under another agreement of its service (``None``: the default
    terms). A lead of the providing unit decides; the time already paused is kept."""
    from tandem.work.actions import _append_event, _locked
    from tandem.work.models import Event, Status

    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_lead(actor, sr.unit_id, f"change the agreement of {sr.reference}")
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
    from tandem.work.models import OPEN_STATUS_VALUES, ServiceRequest

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
    from tandem.work.models import OPEN_STATUS_VALUES, ServiceRequest

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
    from tandem.work.actions import _append_event
    from tandem.work.models import OPEN_STATUS_VALUES, Event, ServiceRequest

    with transaction.atomic(durable=True):
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
        # of=("self",): lock the request's row only. Locking the joined person and unit rows
        # too deadlocked on PostgreSQL with a submission by the same requester, whose insert
        # holds a key-share lock on that person's row.
        sr = ServiceRequest.objects.select_for_update(of=("self",)).select_related("unit", "requester").get(pk=pk)
        assert sr.resolve_by is not None or not breach
        if response:
            kind = Event.Kind.SLA_RESPONSE_MISSED
            due = sr.respond_by.isoformat() if sr.respond_by else None
            data = {"respond_by": due, "agreement": sr.agreement_id}
        else:
            kind = Event.Kind.SLA_BREACHED if breach else Event.Kind.SLA_WARNING
            due = sr.resolve_by.isoformat() if sr.resolve_by else None
            data = {"resolve_by": due, "agreement": sr.agreement_id}
        _append_event(sr, kind, None, at=now, data=data)
        sr.save(update_fields=["last_event_seq"])
        leads = list(Person.objects.filter(unit_id=sr.unit_id, role=Role.LEAD).values_list("pk", flat=True))
        recipients = {*leads, *([sr.assignee_id] if sr.assignee_id and not response else [])}
        if response:
            message = f"{sr.reference} had no first response by its agreed time: {sr.title}"
            note = Notification.Kind.SLA_RESPONSE_MISSED
        elif breach:
            recipients.add(sr.requester_id)
            message = f"{sr.reference} missed its agreed resolution time: {sr.title}"
            note = Notification.Kind.SLA_BREACHED
        else:
            message = f"{sr.reference} has used 80% of its agreed time: {sr.title}"
            note = Notification.Kind.SLA_WARNING
        # In the claim's transaction, not on commit: the notifications are rows of this same
        # database, so they commit with the claim. A worker killed between the commit and an
        # on_commit callback would leave the breach logged and nobody told, for good.
        notify(recipients, note, sr, message)
        webhooks.send_sla_alert_on_commit(sr, kind)  # POSTs after commit when TANDEM_WEBHOOK_URL is set
        return True
