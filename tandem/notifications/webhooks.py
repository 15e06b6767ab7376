"""Webhooks: SLA alerts POSTed as signed JSON to one URL (``TANDEM_WEBHOOK_URL``).

Each ``sla_warning``, ``sla_breached`` and ``sla_response_missed`` alert is sent once the alert
has committed (so no receiver hears of an alert that rolled back), with a 5-second timeout, by
the ``webhooks`` consumer of the outbox (``tandem.outbox``). A receiver that is down or answers
anything but 2xx is tried again later (30 s, then doubling up to an hour, for about eight hours),
and a process that dies before sending leaves the alert for the worker: none is dropped. A
receiver may hear an alert twice (a retry after it answered but before Tandem noted it):
``X-Tandem-Delivery`` is the same on both, so it can ignore the second.

The body is JSON; ``X-Tandem-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact body
bytes with ``TANDEM_WEBHOOK_SECRET``, and ``X-Tandem-Timestamp`` the Unix time of sending
(also in the body as ``sent_at``, so it is covered by the signature). Receivers recompute the
HMAC over the raw body and compare in constant time (docs/agreements.md, "Webhooks").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

from tandem.outbox.models import Message
from tandem.work.models import ServiceRequest

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5


def sign(body: bytes, secret: str) -> str:
    """The ``X-Tandem-Signature`` value of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sla_payload(sr: ServiceRequest, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "reference": sr.reference,
        "id": sr.pk,
        "service": sr.service.name,
        "unit": sr.unit.name,
        "resolve_by": sr.resolve_by.isoformat() if sr.resolve_by else None,
        "respond_by": sr.respond_by.isoformat() if sr.respond_by else None,
        "url": f"{settings.SITE_URL}/requests/{sr.pk}/",
    }


def post(payload: dict[str, Any], *, delivery: str = "") -> bool:
    """POST one payload to ``TANDEM_WEBHOOK_URL``; True when it answered 2xx. Never raises."""
    url = settings.TANDEM_WEBHOOK_URL
    if not url:
        return False
    sent_at = int(time.time())
    body = json.dumps({**payload, "sent_at": sent_at}, separators=(",", ":"), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Tandem", "X-Tandem-Timestamp": str(sent_at)}
    if delivery:
        headers["X-Tandem-Delivery"] = delivery
    if settings.TANDEM_WEBHOOK_SECRET:
        headers["X-Tandem-Signature"] = sign(body, settings.TANDEM_WEBHOOK_SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (URL from settings)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("Webhook %s for %s to %s failed: %s", payload.get("event"), payload.get("reference"), url, error)
        return False


class NotDelivered(Exception):
    """The receiver did not take the webhook; the outbox tries again later."""


SLA_TOPICS = ("request.sla_warning", "request.sla_breached", "request.sla_response_missed")


def react(message: Message) -> None:
    """Send the webhook of an SLA alert (the ``webhooks`` consumer). Raises when the receiver
    did not take it, so that the outbox retries."""
    if not settings.TANDEM_WEBHOOK_URL:
        return
    sr = ServiceRequest.objects.select_related("service", "unit").get(pk=message.payload["request"])
    if not post(sla_payload(sr, message.topic.removeprefix("request.")), delivery=str(message.pk)):
        raise NotDelivered(f"{settings.TANDEM_WEBHOOK_URL} did not take the {message.topic} of {sr.reference}")
