"""The services a change alters: what changes in each (turnaround, procedure, intake form) is
scheduled with the change and applied on its effective date by the worker, once.

The edit is checked when scheduled with the service editor's own rules
(``tandem.catalogue.scheduled``); it follows the change (moving the change moves it, cancelling
drops it) and is applied, on the first day the published change takes effect, in one
transaction with its claim: a conditional update from *scheduled*, so two workers never apply it
twice."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tandem.catalogue import scheduled
from tandem.changes.models import Change, ServiceEdit, Status
from tandem.changes.queries import change_owners, may_own_changes
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound, Refused


def _editable_change(actor: Person, change_id: int) -> Change:
    change = Change.objects.select_related("unit").filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change.")
    if not may_own_changes(actor, change.unit_id):
        raise Forbidden(f"Only the owners of {change.unit.name}'s services (and administrators) manage its changes.")
    if change.status == Status.CANCELLED:
        raise Conflict("This change is cancelled: it alters nothing.")
    return change


def schedule_service_edit(actor: Person, change_id: int, service_slug: str,
                          edit: scheduled.ServiceEditIn) -> ServiceEdit:
    """What a service the change links will be on its effective date (a second edit of the same
    service replaces the first, until it is applied). Refused, with the service editor's
    messages, when the editor would refuse it."""
    change = _editable_change(actor, change_id)
    service = change.services.filter(slug=service_slug).first()
    if service is None:
        raise Invalid(f"The change does not link a service called {service_slug[:60]!r}: link it first "
                      "(Services it alters).", errors={"service": ["One of the services the change alters."]})
    if ServiceEdit.objects.filter(change=change, service=service, state=ServiceEdit.State.APPLIED).exists():
        raise Conflict(f"The edit of {service.name} was applied already; edit the service itself now.")
    scheduled.check_edit(service, edit)
    with action_transaction():
        row, _ = ServiceEdit.objects.update_or_create(
            change=change, service=service,
            defaults={"edit": scheduled.as_data(edit), "describe": edit.describe(service)[:400],
                      "state": ServiceEdit.State.SCHEDULED, "problem": ""})
    return row


def drop_service_edit(actor: Person, change_id: int, service_slug: str) -> None:
    change = _editable_change(actor, change_id)
    with action_transaction():
        gone, _ = ServiceEdit.objects.filter(change=change, service__slug=service_slug,
                                             state=ServiceEdit.State.SCHEDULED).delete()
    if not gone:
        raise NotFound("No edit of that service is scheduled with this change.")


def apply_due_service_edits(today: date | None = None) -> int:
    """The worker's duty: apply the scheduled edits of the published changes that have taken
    effect (from their first day), each once. An edit the service no longer takes (its editor
    changed it meanwhile) is marked *not applied*, with the reason, and the owners are told.
    Returns how many were applied."""
    today = today or timezone.localdate()
    applied = 0
    due = ServiceEdit.objects.filter(state=ServiceEdit.State.SCHEDULED, change__status=Status.PUBLISHED,
                                     change__effective_on__lte=today).select_related("change", "service")
    for row in due:
        change, service = row.change, row.service
        try:
            with action_transaction():
                claimed = ServiceEdit.objects.filter(pk=row.pk, state=ServiceEdit.State.SCHEDULED).update(
                    state=ServiceEdit.State.APPLIED, applied_at=timezone.now())
                if claimed != 1:
                    continue  # another worker got there first
                scheduled.apply_edit(service.pk, scheduled.edit_of(row.edit), change_id=change.pk,
                                     title=change.title)
                notify(change_owners(change), Notification.Kind.SERVICE_CHANGED, None,
                       f"{service.name} changed today with “{change.title[:120]}”: {row.describe}"[:300])
        except Refused as exc:
            with action_transaction():
                if ServiceEdit.objects.filter(pk=row.pk, state=ServiceEdit.State.SCHEDULED).update(
                        state=ServiceEdit.State.FAILED, problem=exc.message[:600]) == 1:
                    notify(change_owners(change), Notification.Kind.SERVICE_CHANGED, None,
                           f"{service.name} was NOT changed with “{change.title[:120]}”: {exc.message}"[:300])
            continue
        applied += 1
    return applied
