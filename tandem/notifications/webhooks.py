"""Webhooks: what each subscriber is owed when a request moves (docs/webhooks.md).

The ``webhooks`` consumer of the outbox runs inside the action's transaction: for each request
event it writes one ``Delivery`` per active subscriber that wants the event's kind, with the
body frozen as it was then. So a delivery commits with the change or not at all: no receiver
hears of a change that rolled back, and a process that dies after the commit loses nothing,
because the delivery is already a row. The worker sends them (tandem.notifications.sending),
retrying with back-off; each carries ``X-Tandem-Delivery``, the same on every attempt.

The subscriber of ``TANDEM_WEBHOOK_URL`` is a row like the others (``from_settings``), kept in
step with the settings here, where the subscribers are read anyway: its address and secret are
the settings', and it is made inactive when the setting is removed.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.notifications.models import SETTINGS_KINDS, Delivery, Subscriber
from tandem.outbox.models import Message
from tandem.work.models import ServiceRequest

#: The request messages the consumer reads: all of them, since a status move may come from
#: any event.
TOPICS = ("request.*",)
SETTINGS_NAME = "TANDEM_WEBHOOK_URL"
_DIRECT = {"submitted", "commented", "sla_warning", "sla_breached", "sla_response_missed"}


def sign(body: bytes, secret: str) -> str:
    """The ``X-Tandem-Signature`` value of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def kind_of(topic: str, payload: dict[str, Any]) -> str | None:
    """The subscriber kind of a request message, or None when no subscriber may want it."""
    event = topic.removeprefix("request.")
    if event in _DIRECT:
        return event
    moved_to = payload.get("to_status") or ""
    if moved_to and moved_to != payload.get("from_status"):
        return "status_changed"
    return None


def react(message: Message) -> None:
    """The ``webhooks`` consumer: queue the deliveries a request event owes, in its transaction."""
    kind = kind_of(message.topic, message.payload)
    if kind is None:
        return
    p = message.payload
    extra: dict[str, Any] = {"change": message.topic.removeprefix("request."), "seq": p.get("seq")}
    if kind == "status_changed":
        extra.update(from_status=p.get("from_status"), to_status=p.get("to_status"))
    queue_webhooks(kind, p["request"], at=datetime.fromisoformat(p["at"]), extra=extra)


def queue_webhooks(kind: str, request_id: int, *, at: datetime, extra: dict[str, Any] | None = None) -> int:
    """Write the deliveries of one event of ``kind`` about a request, one per active subscriber
    that wants it, inside the caller's transaction. Returns how many."""
    wanting = [s for s in _active_subscribers() if kind in s.kinds]
    if not wanting:
        return 0
    body = request_body(kind, request_id, at, extra or {})
    due = min(at, timezone.now())  # due from the event's time (an action told its time), never later
    Delivery.objects.bulk_create(
        Delivery(uuid=uuid.uuid4(), subscriber=s, kind=kind, request_id=request_id, payload=body,
                 next_attempt_at=due)
        for s in wanting
    )
    return len(wanting)


def request_body(kind: str, request_id: int, at: datetime, extra: dict[str, Any]) -> dict[str, Any]:
    """The JSON body about a request: what happened and where the request stands, never its
    payload (title, intake values, comments): a receiver reads those through the API with its
    own token, where the visibility rules apply."""
    sr = (ServiceRequest.objects.select_related("service", "unit")
          .only("status", "resolve_by", "respond_by", "service__name", "unit__name", "organisation", "reference")
          .get(pk=request_id))
    return {
        "event": kind,
        "reference": sr.reference,
        "id": request_id,
        "service": sr.service.name,
        "unit": sr.unit.name,
        "status": sr.status,
        "resolve_by": sr.resolve_by.isoformat() if sr.resolve_by else None,
        "respond_by": sr.respond_by.isoformat() if sr.respond_by else None,
        "at": at.isoformat(),
        "url": f"{settings.SITE_URL}/requests/{sr.address_key}/",
        **extra,
    }


def _active_subscribers() -> list[Subscriber]:
    """The active subscribers, with the settings' one brought in step with the settings first."""
    rows = list(Subscriber.objects.filter(active=True).only("id", "kinds", "from_settings", "url", "secret"))
    url, secret = settings.TANDEM_WEBHOOK_URL, settings.TANDEM_WEBHOOK_SECRET
    ours = next((s for s in rows if s.from_settings), None)
    if ours is not None and (ours.url, ours.secret) == (url, secret):
        return rows
    if ours is None and not url:
        return rows
    _follow_settings(url, secret)
    return list(Subscriber.objects.filter(active=True).only("id", "kinds", "from_settings", "url", "secret"))


def _follow_settings(url: str, secret: str) -> None:
    """Make the settings' subscriber say what the settings say (inactive when there is no URL)."""
    if not url:
        Subscriber.objects.filter(from_settings=True).update(active=False)
        return
    if Subscriber.objects.filter(from_settings=True).update(url=url, secret=secret, active=True):
        return
    try:
        with transaction.atomic():  # another process may make it at the same moment
            Subscriber.objects.create(name=SETTINGS_NAME, url=url, secret=secret, kinds=list(SETTINGS_KINDS),
                                      from_settings=True)
    except IntegrityError:
        Subscriber.objects.filter(from_settings=True).update(url=url, secret=secret, active=True)
