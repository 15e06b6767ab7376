"""What allocation does when something happens below it (``tandem.outbox``): an absence that
covers today re-plans the person's open work by their unit's mode; a loan that began or ended
re-places the work of a unit in auto mode."""

from __future__ import annotations

from datetime import date

from tandem.allocation.actions import absence_started, capacity_changed
from tandem.outbox.models import Message


def react(message: Message) -> None:
    payload = message.payload
    if message.topic == "absence.recorded":
        starts_on, ends_on = date.fromisoformat(payload["starts_on"]), date.fromisoformat(payload["ends_on"])
        absence_started(payload["person"], starts_on, ends_on)
    elif payload["begun"]:
        capacity_changed(payload["unit"], payload["reason"])
