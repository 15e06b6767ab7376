"""Reads of notifications: a person sees their own, nobody else's."""

from __future__ import annotations

from django.db.models import QuerySet

from tandem.notifications.models import Notification
from tandem.org.models import Person
from tandem.org.queries import AnyUser, person_of


def notifications_visible_to(user: AnyUser | None) -> QuerySet[Notification]:
    person = person_of(user)
    if person is None:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=person)


def unread_count(person: Person) -> int:
    """How many of a person's notifications are unread (the badge, and ``GET /api/me``)."""
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()
