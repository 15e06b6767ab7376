"""Who is told what when a request moves (``tandem.outbox``): the rules of "it is your move",
in one place. Each rule reads the request's event and the request as they are once the move has
committed, and writes the notifications in the transaction that marks the message handled, so
each is written exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role
from tandem.outbox.models import Message
from tandem.rows import one_or_none
from tandem.work.models import Comment, Event, ServiceRequest


@dataclass(frozen=True)
class Moved:
    """A request's event, with the request and the person who acted (None: Tandem itself)."""

    event: Event
    sr: ServiceRequest
    actor: Person | None

    @property
    def actor_name(self) -> str:
        return self.actor.display_name if self.actor is not None else "Tandem"


Tell = tuple[list[int], str, str]  # recipients, kind, message
Rule = Callable[[Moved], Tell | None]


def _assigned(m: Moved) -> Tell | None:
    assignee = m.event.data.get("assignee")
    if assignee is None or (m.actor is not None and assignee == m.actor.pk):
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
    comment = one_or_none(Comment.objects.filter(pk=m.event.data.get("comment")))
    if comment is None or comment.addressed_to_id is None or comment.addressed_to_id == comment.author_id:
        return None
    kind = Notification.Kind.ADVICE if comment.is_advice else Notification.Kind.COMMENT
    return [comment.addressed_to_id], kind, f"{m.actor_name} wrote to you on {m.sr.reference}"


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


RULES: dict[str, Rule] = {
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
    rule = RULES[message.topic.removeprefix("request.")]
    event = Event.objects.select_related("actor__user", "request__unit").get(pk=message.payload["event"])
    sr = event.request
    told = rule(Moved(event, sr, event.actor))
    if told is not None:
        recipients, kind, text = told
        notify(recipients, kind, sr, text)
