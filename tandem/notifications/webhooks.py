"""Webhooks: SLA alerts POSTed as signed JSON to one URL (``TANDEM_WEBHOOK_URL``).

Each ``sla_warning``, ``sla_breached`` and ``sla_response_missed`` alert is sent after its transaction commits (so no
receiver hears of an alert that rolled back), once, with a 5-second timeout. A failure is
logged, never raised: the alert is already recorded as an event and a notification, and the
worker must go on to the next one.

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
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

if TYPE_CHECKING:
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


def post(payload: dict[str, Any]) -> bool:
    """POST one payload to ``TANDEM_WEBHOOK_URL``; True when it answered 2xx. Never raises."""
    url = settings.TANDEM_WEBHOOK_URL
    if not url:
        return False
    sent_at = int(time.time())
    body = json.dumps({**payload, "sent_at": sent_at}, separators=(",", ":"), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Tandem", "X-Tandem-Timestamp": str(sent_at)}
    if settings.TANDEM_WEBHOOK_SECRET:
        headers["X-Tandem-Signature"] = sign(body, settings.TANDEM_WEBHOOK_SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (URL from settings)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("Webhook %s for %s to %s failed: %s", payload.get("event"), payload.get("reference"), url, error)
        return False


def send_sla_alert_on_commit(sr: ServiceRequest, event: str) -> None:
    """Queue the webhook of an SLA alert for after the current transaction commits."""
    if not settings.TANDEM_WEBHOOK_URL:
        return
    payload = sla_payload(sr, event)  # read now, inside the transaction that claimed the alert
    transaction.on_commit(lambda: post(payload))
