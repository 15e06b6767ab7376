"""A unit's queue policy, the lead's to set (docs/allocation.md, "The order of the queue"): how
far ahead customer work comes (``Unit.customer_head_start_hours``; 0, the default: by what is
due, whatever the channel) and whether going ahead of the queue needs a reason
(``Unit.queue_jump_reason_required``). Plans, Take next, pull mode and the lending forecast all
read it through ``order.QueueOrder``."""

from __future__ import annotations

from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import MAX_HEAD_START_HOURS, Person, Role, Side, Unit
from tandem.org.queries import leads_unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid


def set_queue_policy(actor: Person, unit: Unit, *, head_start_hours: int, reason_required: bool) -> Unit:
    """A lead (or an administrator) sets the order of the unit's queue and whether jumping it
    needs a reason; the unit's other leads are told of a change."""
    if unit.side != Side.BACK:
        raise Invalid(f"{unit.name} is a front-office unit; it has no queue.",
                      errors={"unit": ["Not a back-office unit."]})
    if not leads_unit(actor, unit.pk):
        raise Forbidden(f"Only a lead of {unit.name} (or an administrator) sets the order of its queue.")
    if isinstance(head_start_hours, bool) or not isinstance(head_start_hours, int) or not (
        0 <= head_start_hours <= MAX_HEAD_START_HOURS
    ):
        raise Invalid(
            f"The head start for customer work is a whole number of working hours from 0 to "
            f"{MAX_HEAD_START_HOURS}; got {head_start_hours!r}.",
            errors={"customer_head_start_hours": [f"From 0 to {MAX_HEAD_START_HOURS} working hours."]},
        )
    with action_transaction():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        before = (locked.customer_head_start_hours, locked.queue_jump_reason_required)
        locked.customer_head_start_hours, locked.queue_jump_reason_required = head_start_hours, bool(reason_required)
        if before != (head_start_hours, bool(reason_required)):
            locked.save(update_fields=["customer_head_start_hours", "queue_jump_reason_required"])
            others = list(
                Person.objects.filter(unit=unit, role=Role.LEAD, user__is_active=True)
                .exclude(pk=actor.pk).values_list("pk", flat=True)
            )
            needs = "needs a reason" if reason_required else "needs no reason"
            message = (f"{actor.display_name} set {unit.name}'s queue order to “{locked.queue_order_label}”; "
                       f"going ahead of the queue {needs}.")
            notify(others, Notification.Kind.PLAN_TO_REVIEW, None, message)  # commits with the change
    unit.customer_head_start_hours = locked.customer_head_start_hours
    unit.queue_jump_reason_required = locked.queue_jump_reason_required
    return unit
