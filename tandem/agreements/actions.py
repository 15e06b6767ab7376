"""State changes of calendars, agreements and request clocks, one named function each.

Refusals name the field at fault. Here live the moves that are about calendars and terms:
setting a unit's or a service's calendar, defining agreements and customer agreements. A
request's clock (its columns, its alerts, a change of its agreement) is the work app's
(``tandem.work.clock``, ``tandem.work.actions.deadlines``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tandem.agreements.models import (
    DEFAULT_PAUSE_STATUSES,
    MAX_MINUTES,
    Agreement,
    Calendar,
    CustomerAgreement,
    calendar_field,
    check_terms,
)
from tandem.catalogue.models import Service
from tandem.engines.worktime import CalendarError, CalendarSpec
from tandem.org.models import Person, Side, Unit
from tandem.org.queries import leads_unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid, NotFound


def _require_lead(actor: Person, unit_id: int, what: str) -> None:
    if not leads_unit(actor, unit_id):
        raise Forbidden(f"Only a lead of the unit or an administrator can {what}.")


def set_calendar(actor: Person, unit: Unit, data: dict[str, Any]) -> Calendar:
    """Give a unit its own working calendar. A calendar edit moves the deadlines of requests
    computed from then on, never the recorded history of finished ones."""
    _require_lead(actor, unit.pk, f"change the calendar of {unit.name}")
    spec = _calendar_spec(data)
    with action_transaction():
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
    with action_transaction():
        calendar, _ = Calendar.objects.update_or_create(
            service=service, defaults={"spec": spec.to_data(), "updated_at": timezone.now()}
        )
    service._state.fields_cache["calendar"] = calendar
    return calendar


def remove_service_calendar(actor: Person, service: Service) -> bool:
    """Drop a service's own calendar: its clocks run on its unit's calendar again (for
    deadlines computed from then on). True when there was one."""
    _require_lead(actor, service.unit_id, f"change the calendar of {service.name}")
    with action_transaction():
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
    with action_transaction():
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
    with action_transaction():
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
    with action_transaction():
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
    with action_transaction():
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
