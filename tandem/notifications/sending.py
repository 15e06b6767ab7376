"""Sending webhooks: the worker's duty over the ``Delivery`` rows (docs/webhooks.md).

Each round claims the due deliveries with a conditional UPDATE (a lease of ``LEASE``, as the
outbox claims its messages), POSTs each, and notes the attempt: when, the status code, how long
it took, what failed. A 2xx answer delivers it. Anything else (another status, a refused
connection, no answer within ``TANDEM_WEBHOOK_TIMEOUT``) is a failed attempt, and the
*subscriber* waits: 30 s (``TANDEM_WEBHOOK_RETRY_SECONDS``) after its first failure, then twice
as long each time up to an hour, so that a receiver that is down costs one attempt per wait and
not one per delivery. The delivery that failed is the first tried when the wait is over; after
``MAX_ATTEMPTS`` of its own it is marked failed and waits for a replay.

A worker killed between a receiver's answer and the note sends that delivery again: at least
once, with the same ``X-Tandem-Delivery``, so that the receiver can tell. A worker killed while
holding a claim frees it at once on the same machine, else when the lease ends.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tandem.notifications.destinations import sending_address
from tandem.notifications.models import Delivery, DeliveryAttempt, Subscriber
from tandem.notifications.webhooks import sign
from tandem.outbox.actions import HOST, holder, holder_gone

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # with the subscriber's waits: about eight hours of a receiver being down
LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(minutes=5)
#: Delivered deliveries and their attempts are kept this long for the log, then purged.
KEEP_DELIVERED = timedelta(days=30)
PENDING = Delivery.Status.PENDING


def wait_after(failures: int) -> timedelta:
    """How long a subscriber waits after its ``failures``-th failure in a row."""
    first = timedelta(seconds=settings.TANDEM_WEBHOOK_RETRY_SECONDS)
    return min(first * 2 ** (max(failures, 1) - 1), LONGEST_WAIT)


def send_due(*, now: datetime | None = None, batch: int = 100, seconds: float = 60.0) -> tuple[int, int]:
    """Send what is due, batch after batch, for at most about ``seconds``. Returns (delivered,
    failed attempts)."""
    deadline = time.monotonic() + seconds
    delivered = failed = 0
    while time.monotonic() < deadline:
        claimed = _claim(now or timezone.now(), batch)
        if not claimed:
            break
        d, f = _send(claimed, now)
        delivered, failed = delivered + d, failed + f
    return delivered, failed


def _claim(at: datetime, batch: int) -> list[Delivery]:
    me = holder()
    candidates = list(
        Delivery.objects.filter(status=PENDING, next_attempt_at__lte=at, subscriber__active=True)
        .filter(Q(subscriber__retry_at__isnull=True) | Q(subscriber__retry_at__lte=at))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=at) | Q(claimed_by__startswith=f"{HOST}:"))
        .order_by("id")  # oldest first: a receiver hears of events roughly in their order
        .values_list("id", "claimed_until", "claimed_by")[:batch]
    )
    # Free: never claimed, or the lease ran out, or claimed by this process or by one of this
    # machine's that is gone (killed mid-round).
    free_holders = {me} | {by for _, until, by in candidates if until and until > at and holder_gone(by)}
    ids = [pk for pk, until, by in candidates if until is None or until <= at or by in free_holders]
    if not ids:
        return []
    lease = at + LEASE
    # The conditional UPDATE: of two workers reading the same rows, each row goes to one.
    Delivery.objects.filter(pk__in=ids, status=PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=at) | Q(claimed_by__in=free_holders)
    ).update(claimed_by=me, claimed_until=lease)
    return list(
        Delivery.objects.filter(pk__in=ids, claimed_by=me, claimed_until=lease)
        .select_related("subscriber").order_by("id")
    )


def _send(claimed: list[Delivery], now: datetime | None) -> tuple[int, int]:
    me = holder()
    delivered = failed = 0
    waiting: set[int] = set()  # subscribers that failed in this batch: their others wait
    succeeded: set[int] = set()
    skipped: list[int] = []
    subscribers: dict[int, Subscriber] = {}  # one object per subscriber, so its health carries on
    for delivery in claimed:
        subscriber = subscribers.setdefault(delivery.subscriber_id, delivery.subscriber)
        if subscriber.pk in waiting:
            skipped.append(delivery.pk)
            continue
        status, milliseconds, error = post(subscriber, delivery)
        at = now or timezone.now()
        if status is not None and 200 <= status < 300:
            _delivered(delivery, me, at, status, milliseconds, recovered=subscriber.consecutive_failures > 0)
            subscriber.consecutive_failures = 0
            succeeded.add(subscriber.pk)
            delivered += 1
        else:
            error = error or f"answered {status}"
            log.warning("Webhook %s to %s failed (%s).", delivery.uuid, subscriber.name, error)
            _failed(delivery, subscriber, me, at, status, milliseconds, error)
            waiting.add(subscriber.pk)
            failed += 1
    if skipped:
        Delivery.objects.filter(pk__in=skipped, claimed_by=me).update(claimed_by="", claimed_until=None)
    if succeeded:
        Subscriber.objects.filter(pk__in=succeeded - waiting).update(last_success_at=now or timezone.now())
    return delivered, failed


def post(subscriber: Subscriber, delivery: Delivery) -> tuple[int | None, int, str]:
    """POST one delivery: (status code or None, milliseconds, error). Never raises; never
    follows a redirect (a 3xx is a failed attempt: the address should be corrected)."""
    sent_at = int(time.time())
    body = json.dumps({**delivery.payload, "delivery": str(delivery.uuid), "sent_at": sent_at},
                      separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tandem-Webhooks",
        "X-Tandem-Delivery": str(delivery.uuid),
        "X-Tandem-Event": delivery.kind,
        "X-Tandem-Timestamp": str(sent_at),
        "X-Tandem-Attempt": str(delivery.attempts + 1),
    }
    if subscriber.secret:
        headers["X-Tandem-Signature"] = sign(body, subscriber.secret)
    parts = urlsplit(subscriber.url)
    timeout = settings.TANDEM_WEBHOOK_TIMEOUT
    began = time.monotonic()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        return None, 0, f"ValueError: {error}"[:300]
    pinned, refusal = sending_address(parts.hostname or "", port)
    if refusal:
        return None, _ms(began), refusal[:300]
    try:
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        if pinned is not None:
            # Connect to the address that was checked; the name still goes in Host and TLS's SNI.
            conn._create_connection = _pinned_to(pinned)  # type: ignore[attr-defined]
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(64 * 1024)  # what it says is not kept; read some so the connection closes cleanly
            return response.status, _ms(began), ""
        finally:
            conn.close()
    except TimeoutError:
        return None, _ms(began), f"no answer within {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as error:
        return None, _ms(began), f"{type(error).__name__}: {error}"[:300]


def _pinned_to(ip: str) -> Callable[..., socket.socket]:
    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        return socket.create_connection((ip, address[1]), *args, **kwargs)

    return connect


def _ms(began: float) -> int:
    return round((time.monotonic() - began) * 1000)


def _delivered(delivery: Delivery, me: str, at: datetime, status: int, milliseconds: int, *,
               recovered: bool) -> None:
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, at=at, status_code=status, milliseconds=milliseconds)
        Delivery.objects.filter(pk=delivery.pk, claimed_by=me).update(
            status=Delivery.Status.DELIVERED, delivered_at=at, attempts=F("attempts") + 1, last_error="",
            claimed_by="", claimed_until=None,
        )
        if recovered:
            Subscriber.objects.filter(pk=delivery.subscriber_id).update(consecutive_failures=0, retry_at=None)


def _failed(delivery: Delivery, subscriber: Subscriber, me: str, at: datetime, status: int | None,
            milliseconds: int, error: str) -> None:
    failures = subscriber.consecutive_failures + 1
    retry_at = at + wait_after(failures)
    attempts = delivery.attempts + 1
    changes: dict[str, object] = {"attempts": attempts, "last_error": error[:300], "claimed_by": "",
                                  "claimed_until": None, "next_attempt_at": retry_at}
    if attempts >= MAX_ATTEMPTS:
        changes["status"] = Delivery.Status.FAILED
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, at=at, status_code=status, milliseconds=milliseconds,
                                       error=error[:300])
        Delivery.objects.filter(pk=delivery.pk, claimed_by=me).update(**changes)
        Subscriber.objects.filter(pk=subscriber.pk).update(
            consecutive_failures=F("consecutive_failures") + 1, retry_at=retry_at, last_failure_at=at
        )
    subscriber.consecutive_failures = failures


def purge_delivered(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete deliveries delivered more than ``KEEP_DELIVERED`` ago (with their attempts)."""
    cutoff = (now or timezone.now()) - KEEP_DELIVERED
    ids = list(Delivery.objects.filter(status=Delivery.Status.DELIVERED, delivered_at__lt=cutoff)
               .order_by().values_list("pk", flat=True)[:batch])
    return _delete(ids)


def _delete(ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    DeliveryAttempt.objects.filter(delivery_id__in=ids).delete()
    deleted, _ = Delivery.objects.filter(pk__in=ids).delete()
    return deleted
