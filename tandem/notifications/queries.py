"""Reads of notifications: a person sees their own, nobody else's."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from tandem.notifications.models import Delivery, Notification, Subscriber
from tandem.org.models import Person
from tandem.org.queries import AnyUser, is_admin, person_of


def notifications_visible_to(user: AnyUser | None) -> QuerySet[Notification]:
    person = person_of(user)
    if person is None:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=person)


def unread_count(person: Person) -> int:
    """How many of a person's notifications are unread (the badge, and ``GET /api/me``)."""
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def may_manage_webhooks(user: AnyUser | None) -> bool:
    """Webhooks are the administrators' (and a superuser's, who may have no person)."""
    return bool(getattr(user, "is_superuser", False)) or is_admin(person_of(user))


def subscriber_health(subscriber: Subscriber) -> str:
    """How its receiver is doing, in words: failing (and since when), healthy, or not tried."""
    if not subscriber.active:
        return "inactive"
    if subscriber.consecutive_failures:
        since = f"{subscriber.last_failure_at:%Y-%m-%d %H:%M}" if subscriber.last_failure_at else "?"
        retry = f"; next try {subscriber.retry_at:%Y-%m-%d %H:%M:%S}" if subscriber.retry_at else ""
        return f"failing: {subscriber.consecutive_failures} failed attempt(s) in a row, last {since}{retry}"
    return "healthy" if subscriber.last_success_at else "no delivery yet"


def subscribers_visible_to(user: AnyUser | None) -> QuerySet[Subscriber]:
    """Webhook subscribers are administrators' only; each with how many of its deliveries are
    pending and failed, and when it was last attempted."""
    if not may_manage_webhooks(user):
        return Subscriber.objects.none()
    return Subscriber.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING), distinct=True),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED), distinct=True),
        last_attempt_at=Max("deliveries__attempt_log__at"),
    ).order_by("name")


def deliveries_visible_to(user: AnyUser | None) -> QuerySet[Delivery]:
    """Webhook deliveries, for administrators only, with their subscriber."""
    if not may_manage_webhooks(user):
        return Delivery.objects.none()
    return Delivery.objects.select_related("subscriber")
