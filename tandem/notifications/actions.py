"""Telling people it is their move: in the product at once, by email at most hourly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from tandem.notifications import mailing
from tandem.notifications.models import Delivery, Notification, Subscriber, new_secret, subscriber_problems
from tandem.notifications.queries import may_manage_webhooks
from tandem.org.models import Person
from tandem.org.queries import AnyUser
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.work.approval_links import approval_url
from tandem.work.models import Status

if TYPE_CHECKING:
    from tandem.work.models import ServiceRequest


def notify(recipient_ids: Iterable[int], kind: str, request: ServiceRequest | None, message: str) -> None:
    """Record a notification for each recipient, in the caller's transaction."""
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=pk, kind=kind, request=request, message=message[:300], created_at=now)
            for pk in set(recipient_ids)
        ]
    )


def mark_read(person: Person, notification_ids: Iterable[int] | None = None) -> int:
    """Mark some (or all) of a person's unread notifications as read."""
    with action_transaction():
        unread = Notification.objects.filter(recipient=person, read_at__isnull=True)
        if notification_ids is not None:
            unread = unread.filter(pk__in=list(notification_ids))
        return unread.update(read_at=timezone.now())


def set_email_preference(person: Person, enabled: bool) -> Person:
    with action_transaction():
        person.email_notifications = enabled
        person.save(update_fields=["email_notifications"])
        return person


def send_digests(*, now: datetime | None = None) -> int:
    """Email each person who has unread, un-emailed notifications one digest, at most once per
    ``TANDEM_DIGEST_MINUTES``. Returns the number of emails sent.

    A person is claimed by a conditional UPDATE of ``last_digest_at`` before sending, so two
    workers never send the same digest twice.
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(minutes=settings.TANDEM_DIGEST_MINUTES)
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, read_at__isnull=True)
        .filter(recipient__email_notifications=True)
        .filter(Q(recipient__last_digest_at__isnull=True) | Q(recipient__last_digest_at__lte=quiet_since))
        .select_related("recipient__user", "request")
        .order_by("recipient_id", "id")
    )
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for note in pending[:5000]:
        by_person[note.recipient_id].append(note)
    sent = 0
    for person_id, notes in by_person.items():
        person = notes[0].recipient
        with action_transaction():
            claimed = (
                Person.objects.filter(pk=person_id)
                .filter(Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=quiet_since))
                .update(last_digest_at=now)
            )
            if claimed != 1:
                continue
            Notification.objects.filter(pk__in=[n.pk for n in notes]).update(emailed_at=now)
        if not person.user.email:
            continue
        # About one request: a reply to the digest lands on it (its Reply-To and Message-ID
        # name it, signed). About several: each line says where to reply for its request.
        requests = {n.request_id for n in notes}
        single = next(iter(requests)) if len(requests) == 1 else None
        lines = [_line(n, with_reply=single is None) for n in notes]
        hint = "\n\nReply to this email to comment on it." if single and mailing.mailbox() else ""
        mailing.send(
            f"Tandem: {len(notes)} thing{'s' if len(notes) != 1 else ''} waiting for you",
            "It is your move on:\n\n" + "\n".join(lines) + hint
            + f"\n\nSwitch these emails off at {settings.SITE_URL}/notifications/.",
            [person.user.email],
            request_id=single,
        )
        sent += 1
    return sent


def _line(note: Notification, *, with_reply: bool) -> str:
    if not note.request_id:
        return f"- {note.message}"
    sr = note.request
    line = f"- {note.message}\n  {settings.SITE_URL}/requests/{sr.address_key if sr else note.request_id}/"
    if note.kind == Notification.Kind.APPROVAL_NEEDED and sr is not None and sr.approver_id == note.recipient_id \
            and sr.status == Status.WAITING_APPROVAL:
        # Opening it only shows a page with the two decisions; a click there decides.
        line += f"\n  approve or decline (a page asks you to confirm): {approval_url(sr.pk, note.recipient_id)}"
    if with_reply and mailing.mailbox():
        line += f"\n  to comment by email, write to {mailing.reply_address(note.request_id)}"
    return line


# --- webhook subscribers (docs/webhooks.md) ------------------------------------------------------


def _require_admin(actor: AnyUser | None, doing: str) -> None:
    """``actor`` None: the operator at the command line (``tandem webhooks``), who holds the
    database already."""
    if actor is not None and not may_manage_webhooks(actor):
        raise Forbidden(f"Only an administrator can {doing}; ask one of your administrators.")


def add_subscriber(actor: AnyUser | None, *, name: str, url: str, kinds: list[str], active: bool = True) -> Subscriber:
    """A new webhook subscriber with a secret of its own; refused, changing nothing, when its
    address or kinds are wrong or its name is taken."""
    _require_admin(actor, "add webhook subscribers")
    name = name.strip()
    problems = subscriber_problems(url, kinds)
    if not name or len(name) > 100:
        problems["name"] = ["Give it a name of 1 to 100 characters (for example the receiving system's)."]
    elif Subscriber.objects.filter(name=name).exists():
        problems["name"] = [f"There is already a subscriber named {name!r}; choose another name."]
    if problems:
        raise Invalid(" ".join(m for ms in problems.values() for m in ms), errors=problems)
    with action_transaction():
        return Subscriber.objects.create(name=name, url=url, kinds=list(dict.fromkeys(kinds)), active=active)


def _subscriber_for_update(subscriber_id: int) -> Subscriber:
    found = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if found is None:
        raise NotFound(f"There is no webhook subscriber {subscriber_id}.")
    return found


def rotate_secret(actor: AnyUser | None, subscriber_id: int) -> Subscriber:
    """Give a subscriber a new secret (returned once, to hand to the receiver). Every POST from
    then on, including those of deliveries queued before, is signed with the new one: a delivery
    is signed when it is sent, never when it is queued. The settings' subscriber is refused: its
    secret is ``TANDEM_WEBHOOK_SECRET``."""
    _require_admin(actor, "rotate webhook secrets")
    with action_transaction():
        subscriber = _subscriber_for_update(subscriber_id)
        if subscriber.from_settings:
            raise Conflict(f"{subscriber.name}'s secret is the setting TANDEM_WEBHOOK_SECRET: change the setting "
                           "instead (docs/webhooks.md).")
        subscriber.secret = new_secret()
        subscriber.save(update_fields=["secret"])
        return subscriber


def set_subscriber_active(actor: AnyUser | None, subscriber_id: int, active: bool) -> Subscriber:
    """Deactivate a subscriber (it is owed nothing new; what was queued waits) or make it active
    again. The settings' subscriber follows ``TANDEM_WEBHOOK_URL`` and is refused."""
    _require_admin(actor, "change webhook subscribers")
    with action_transaction():
        subscriber = _subscriber_for_update(subscriber_id)
        if subscriber.from_settings:
            raise Conflict(f"{subscriber.name} is active exactly while the setting TANDEM_WEBHOOK_URL is set: "
                           "remove the setting to stop it.")
        subscriber.active = active
        subscriber.save(update_fields=["active"])
        return subscriber


def replay_delivery(actor: AnyUser | None, delivery_id: int, *, now: datetime | None = None) -> Delivery:
    """Send one delivery again, as soon as the worker's next round: a failed or delivered one
    (with the same X-Tandem-Delivery, so a receiver that has it can tell), or a pending one now
    instead of after its wait. Its earlier attempts stay in the log."""
    _require_admin(actor, "replay webhooks")
    at = now or timezone.now()
    with action_transaction():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(f"There is no webhook delivery {delivery_id}.")
        _replay(Delivery.objects.filter(pk=delivery.pk), at)
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(retry_at=None)
    delivery.refresh_from_db()
    return delivery


def replay_failed(actor: AnyUser | None, subscriber_id: int | None = None, *, now: datetime | None = None) -> int:
    """Send again every failed delivery (of one subscriber, or of all): once the receiver is
    mended. Returns how many."""
    _require_admin(actor, "replay webhooks")
    at = now or timezone.now()
    with action_transaction():
        failed = Delivery.objects.filter(status=Delivery.Status.FAILED)
        subscribers = Subscriber.objects.all()
        if subscriber_id is not None:
            if not Subscriber.objects.filter(pk=subscriber_id).exists():
                raise NotFound(f"There is no webhook subscriber {subscriber_id}.")
            failed, subscribers = failed.filter(subscriber_id=subscriber_id), subscribers.filter(pk=subscriber_id)
        count = _replay(failed, at)
        subscribers.update(retry_at=None)
    return count


def _replay(deliveries: QuerySet[Delivery], at: datetime) -> int:
    return deliveries.update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=at, delivered_at=None,
                             claimed_by="", claimed_until=None)
