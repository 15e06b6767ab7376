"""What promises do when something happens below them (``tandem.outbox``): a submitted request is
given its promise; a request whose status changed has its forecast due (the worker recomputes
it: whether the request has started is what the forecast reads); a unit whose capacity changed
(an absence, a loan) or that imported history has every open forecast due, and its book is
built again. A comment or a ticked step changes nothing
the forecast reads, so it is not listened to."""

from __future__ import annotations

from datetime import datetime

from tandem.outbox.models import Message
from tandem.promises.actions import promise_submission, request_moved, unit_capacity_changed
from tandem.work.models import Event

STATUS_MOVES = (
    Event.Kind.ASSIGNED, Event.Kind.UNASSIGNED, Event.Kind.STARTED, Event.Kind.ASKED_REQUESTER,
    Event.Kind.INFORMATION_PROVIDED, Event.Kind.WAITING_THIRD_PARTY, Event.Kind.WAITING_TEAM, Event.Kind.RESUMED,
    Event.Kind.RESOLVED, Event.Kind.ACCEPTED, Event.Kind.REOPENED, Event.Kind.CLOSED, Event.Kind.CANCELLED,
)
TOPICS = ("request.submitted", *(f"request.{kind}" for kind in STATUS_MOVES), "absence.*", "loan.*", "history.imported")


def react(message: Message) -> None:
    payload = message.payload
    if message.topic == "request.submitted":
        promise_submission(payload["request"])
    elif message.topic.startswith("request."):
        request_moved(payload["request"], datetime.fromisoformat(payload["at"]))
    else:
        unit_capacity_changed(payload["unit"])
