"""What promises do when something happens below them (``tandem.outbox``).

- ``react`` (in the publishing action's transaction): a request whose status changed has its
  forecast due (the worker recomputes it: whether the request has started is what the forecast
  reads; a comment or a ticked step changes nothing it reads, so it is not listened to); a unit
  whose capacity changed (an absence, a loan) or whose history was imported has every open
  forecast due, and its book is built again.
- ``quote`` (once a submission has committed): the new request is given its promise. Quoting
  may build the unit's book, which must not hold the database, so it runs after the commit. A
  request that waits for its approver is promised nothing until it is approved: the promise is
  quoted from the approval (the wait is the approver's, not the back office's to keep).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tandem.outbox.models import Message
from tandem.promises.actions import promise_for, request_moved, unit_capacity_changed
from tandem.work.models import Event, ServiceRequest

STATUS_MOVES = (
    Event.Kind.ASSIGNED, Event.Kind.UNASSIGNED, Event.Kind.STARTED, Event.Kind.ASKED_REQUESTER,
    Event.Kind.INFORMATION_PROVIDED, Event.Kind.WAITING_THIRD_PARTY, Event.Kind.WAITING_TEAM, Event.Kind.RESUMED,
    Event.Kind.RESOLVED, Event.Kind.ACCEPTED, Event.Kind.REOPENED, Event.Kind.CLOSED, Event.Kind.CANCELLED,
    Event.Kind.DECLINED,
)
TOPICS = (*(f"request.{kind}" for kind in STATUS_MOVES), "absence.*", "loan.*", "history.imported")
QUOTE_TOPICS = ("request.submitted", "request.approved")


def react(message: Message) -> None:
    payload = message.payload
    if message.topic.startswith("request."):
        request_moved(payload["request"], datetime.fromisoformat(payload["at"]))
    else:
        unit_capacity_changed(payload["unit"])


def quote(message: Message) -> Callable[[], None]:
    if message.topic == "request.submitted" and message.payload.get("data", {}).get("approver"):
        return lambda: None  # waits for its approver: quoted once approved
    held = message.subject if isinstance(message.subject, ServiceRequest) else None
    return promise_for(message.payload["request"], held)
