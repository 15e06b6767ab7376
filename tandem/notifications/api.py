"""API: my notifications ("it is your move") and my email preference."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router

from tandem.notifications.actions import mark_read, set_email_preference
from tandem.notifications.models import Notification
from tandem.notifications.queries import notifications_visible_to, unread_count
from tandem.org.api import MeOut
from tandem.org.api_shared import Id, InSchema, PageQuery, Schema, UtcTime, actor, auth_user, errors, keyset_page

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., json_schema_extra={"enum": list(Notification.Kind.values)})
    kind_label: str
    message: str
    request_id: int | None = Field(..., description="The service request it is about, if any.")
    created_at: UtcTime
    read_at: UtcTime | None

    @classmethod
    def of(cls, note: Notification) -> NotificationOut:
        kind = Notification.Kind(note.kind)
        return cls(
            id=note.pk,
            kind=note.kind,
            kind_label=kind.label,
            message=note.message,
            request_id=note.request_id,
            created_at=note.created_at,
            read_at=note.read_at,
        )


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_after: int | None


class NotificationQuery(PageQuery):
    unread: bool | None = Field(None, description="true: unread only; false: read only.")


class MarkReadIn(InSchema):
    ids: list[Id] | None = Field(
        None,
        max_length=1000,
        description="Notification ids to mark read; leave out to mark all read.",
    )


class MarkedOut(Schema):
    marked: int = Field(..., description="How many unread notifications became read.")


class EmailPreferenceIn(InSchema):
    enabled: bool = Field(
        ..., description="false: no digest emails; notifications stay in the product."
    )


@router.get(
    "/notifications",
    response={200: NotificationPage, **errors(403, 422)},
    summary="List my notifications",
)
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]) -> dict:
    """Yours, newest first (descending id). `?unread=true` for what still needs you."""
    actor(request)
    notes = notifications_visible_to(auth_user(request))
    if query.unread is not None:
        notes = notes.filter(read_at__isnull=query.unread)
    rows, next_after = keyset_page(notes, query)
    return {"items": [NotificationOut.of(n) for n in rows], "next_after": next_after}


@router.post(
    "/notifications/read",
    response={200: MarkedOut, **errors(400, 403, 422)},
    summary="Mark notifications read",
)
def mark_notifications_read(request: HttpRequest, payload: MarkReadIn | None = None) -> MarkedOut:
    """The given ids (only yours count), or all of yours when `ids` (or the whole body) is
    left out."""
    return MarkedOut(marked=mark_read(actor(request), payload.ids if payload else None))


@router.put(
    "/me/email-notifications",
    response={200: MeOut, **errors(400, 403, 422)},
    tags=["me"],
    summary="Switch notification emails on or off",
)
def set_email_notifications(request: HttpRequest, payload: EmailPreferenceIn) -> MeOut:
    """At most one digest email an hour when on; the in-product list is always kept."""
    person = set_email_preference(actor(request), payload.enabled)
    return MeOut.of(person, unread=unread_count(person))
