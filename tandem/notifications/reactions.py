"""Who is told what when a request moves (``tandem.outbox``): the rules of "it is your move",
in one place. They run at the end of the action that moved the request, inside its transaction,
so the notifications commit with the move, exactly once. A rule reads only what it needs: most
moves tell nobody but the one person named in the event's data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role
from tandem.outbox.models import Message
from tandem.work.models import Comment, Event, ServiceRequest


class Moved:
    """A request's event as its message tells it, with the request and the person who acted
    (None: Tandem itself) read from the database only when a rule asks for them."""

    def __init__(self, payload: dict[str, Any], held: ServiceRequest | None = None) -> None:
        if held is not None:
            self.sr = held  # the request as the action held it
        self.request_id: int = payload["request"]
        self.actor_id: int | None = payload["actor"]
        self.data: dict[str, Any] = payload.get("data", {})

    @cached_property
    def sr(self) -> ServiceRequest:
        return ServiceRequest.objects.select_related("unit").get(pk=self.request_id)

    @property
    def actor_name(self) -> str:
        if self.actor_id is None:
            return "Tandem"
        return Person.objects.select_related("user").get(pk=self.actor_id).display_name


Tell = tuple[list[int], str, str]  # recipients, kind, message
Rule = Callable[[Moved], Tell | None]


def _assigned(m: Moved) -> Tell | None:
    assignee = m.data.get("assignee")
    if assignee is None or assignee == m.actor_id:
        return None  # someone picking work for themself needs no notice
    return [assignee], Notification.Kind.ASSIGNED, f"{m.actor_name} gave you {m.sr.reference}: {m.sr.title}"


def _asked(m: Moved) -> Tell | None:
    return (
        [m.sr.requester_id],
        Notification.Kind.INFORMATION_NEEDED,
        f"{m.sr.unit.name} needs information from you on {m.sr.reference}",
    )


def _answered(m: Moved) -> Tell | None:
    if m.sr.assignee_id is None:
        return None
    return [m.sr.assignee_id], Notification.Kind.INFORMATION_PROVIDED, f"{m.actor_name} answered on {m.sr.reference}"


def _resolved(m: Moved) -> Tell | None:
    return [m.sr.requester_id], Notification.Kind.RESOLVED, f"{m.sr.reference} is resolved: accept it or reopen it"


def _reopened(m: Moved) -> Tell | None:
    if m.sr.assignee_id is None:
        return None
    return [m.sr.assignee_id], Notification.Kind.REOPENED, f"{m.actor_name} reopened {m.sr.reference}"


def _written_to(m: Moved) -> Tell | None:
    found = Comment.objects.filter(pk=m.data.get("comment", 0)).values_list("addressed_to", "author", "is_advice")
    addressee, author, advice = next(iter(found), (None, None, False))
    if addressee is None or addressee == author:
        return None
    kind = Notification.Kind.ADVICE if advice else Notification.Kind.COMMENT
    return [addressee], kind, f"{m.actor_name} wrote to you on {m.sr.reference}"


def _leads(sr: ServiceRequest) -> list[int]:
    return list(Person.objects.filter(unit_id=sr.unit_id, role=Role.LEAD).values_list("pk", flat=True))


def _sla_warning(m: Moved) -> Tell | None:
    assignee = [m.sr.assignee_id] if m.sr.assignee_id else []
    message = f"{m.sr.reference} has used 80% of its agreed time: {m.sr.title}"
    return [*_leads(m.sr), *assignee], Notification.Kind.SLA_WARNING, message


def _sla_breached(m: Moved) -> Tell | None:
    assignee = [m.sr.assignee_id] if m.sr.assignee_id else []
    message = f"{m.sr.reference} missed its agreed resolution time: {m.sr.title}"
    return [*_leads(m.sr), *assignee, m.sr.requester_id], Notification.Kind.SLA_BREACHED, message


def _response_missed(m: Moved) -> Tell | None:
    message = f"{m.sr.reference} had no first response by its agreed time: {m.sr.title}"
    return _leads(m.sr), Notification.Kind.SLA_RESPONSE_MISSED, message


def _approval_asked(m: Moved) -> Tell | None:
    why = m.data.get("why", "")
    return (
        [m.data["approver"]],
        Notification.Kind.APPROVAL_NEEDED,
        f"Approve or decline {m.sr.reference}: {m.sr.title}" + (f" ({why})" if why else ""),
    )


def _approval_reminded(m: Moved) -> Tell | None:
    since = m.sr.status_changed_at.strftime("%-d %b") if m.sr.status_changed_at else ""
    return (
        [m.data["approver"]] if m.data.get("approver") else [],
        Notification.Kind.APPROVAL_NEEDED,
        f"Reminder: approve or decline {m.sr.reference}: {m.sr.title}" + (f" (waiting since {since})" if since else ""),
    )


def _approved(m: Moved) -> Tell | None:
    return [m.sr.requester_id], Notification.Kind.APPROVED, f"{m.actor_name} approved {m.sr.reference}: {m.sr.title}"


def _declined(m: Moved) -> Tell | None:
    reason = m.data.get("reason", "")
    return [m.sr.requester_id], Notification.Kind.DECLINED, f"{m.actor_name} declined {m.sr.reference}: {reason}"


RULES: dict[str, Rule] = {
    Event.Kind.APPROVAL_ASKED: _approval_asked,
    Event.Kind.APPROVAL_REMINDED: _approval_reminded,
    Event.Kind.APPROVED: _approved,
    Event.Kind.DECLINED: _declined,
    Event.Kind.ASSIGNED: _assigned,
    Event.Kind.ASKED_REQUESTER: _asked,
    Event.Kind.INFORMATION_PROVIDED: _answered,
    Event.Kind.RESOLVED: _resolved,
    Event.Kind.REOPENED: _reopened,
    Event.Kind.COMMENTED: _written_to,
    Event.Kind.NOTE_ADDED: _written_to,
    Event.Kind.ADVICE_GIVEN: _written_to,
    Event.Kind.SLA_WARNING: _sla_warning,
    Event.Kind.SLA_BREACHED: _sla_breached,
    Event.Kind.SLA_RESPONSE_MISSED: _response_missed,
}
TOPICS = tuple(f"request.{kind}" for kind in RULES)


def react(message: Message) -> None:
    moved = Moved(message.payload, message.subject if isinstance(message.subject, ServiceRequest) else None)
    told = RULES[message.topic.removeprefix("request.")](moved)
    if told is not None:
        recipients, kind, text = told
        notify(recipients, kind, moved.sr, text)
