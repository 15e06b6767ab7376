from __future__ import annotations

from django.http import HttpRequest

from tandem.notifications.models import Notification
from tandem.org.queries import person_of


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    """The unread count shown in every page's header."""
    person = person_of(getattr(request, "user", None))
    if person is None:
        return {}
    return {"unread_count": Notification.objects.filter(recipient=person, read_at__isnull=True).count()}
