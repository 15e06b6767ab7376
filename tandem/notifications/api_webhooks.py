"""API: webhook subscribers, their delivery log and replays, for administrators (docs/webhooks.md)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.responses import Status

from tandem.notifications.actions import add_subscriber, replay_delivery, replay_failed, rotate_secret
from tandem.notifications.models import WEBHOOK_KINDS, Delivery, Subscriber
from tandem.notifications.queries import (
    deliveries_visible_to,
    may_manage_webhooks,
    subscriber_health,
    subscribers_visible_to,
)
from tandem.org.api_shared import (
    InSchema,
    PageQuery,
    PathId,
    Schema,
    Text80,
    UtcTime,
    auth_user,
    errors,
    keyset_page,
)
from tandem.org.queries import AnyUser
from tandem.refusal import Forbidden, NotFound

router = Router(tags=["webhooks"])


class SubscriberIn(InSchema):
    name: Text80
    url: str = Field(..., max_length=500, description="An http:// or https:// address.")
    kinds: list[str] = Field(..., max_length=len(WEBHOOK_KINDS),
                             description="Event kinds it wants: " + ", ".join(WEBHOOK_KINDS) + ".")
    active: bool = True


class SubscriberOut(Schema):
    id: int
    name: str
    url: str
    kinds: list[str]
    active: bool
    from_settings: bool = Field(..., description="The subscriber of TANDEM_WEBHOOK_URL.")
    failing: bool = Field(..., description="Its last attempt failed (and every one since its last success).")
    health: str
    consecutive_failures: int
    retry_at: UtcTime | None = Field(..., description="After a failure: nothing is sent to it before then.")
    last_success_at: UtcTime | None
    last_failure_at: UtcTime | None

    @classmethod
    def of(cls, s: Subscriber) -> SubscriberOut:
        return cls(id=s.pk, name=s.name, url=s.url, kinds=s.kinds, active=s.active, from_settings=s.from_settings,
                   failing=s.failing, health=subscriber_health(s), consecutive_failures=s.consecutive_failures,
                   retry_at=s.retry_at, last_success_at=s.last_success_at, last_failure_at=s.last_failure_at)


class SubscriberCreatedOut(SubscriberOut):
    secret: str = Field(..., description="The HMAC key of X-Tandem-Signature: give it to the receiver. "
                                         "Shown here and in the admin site only.")


class AttemptOut(Schema):
    at: UtcTime
    status_code: int | None = Field(..., description="The receiver's answer; none when it gave none.")
    milliseconds: int
    error: str


class DeliveryOut(Schema):
    id: int
    delivery: UUID = Field(..., description="The X-Tandem-Delivery header, the same on every attempt.")
    subscriber_id: int
    kind: str
    request_id: int | None
    status: str = Field(..., json_schema_extra={"enum": list(Delivery.Status.values)})
    created_at: UtcTime
    next_attempt_at: UtcTime | None = Field(..., description="Pending: not tried before then.")
    delivered_at: UtcTime | None
    last_error: str
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(id=d.pk, delivery=d.uuid, subscriber_id=d.subscriber_id, kind=d.kind, request_id=d.request_id,
                   status=d.status, created_at=d.created_at,
                   next_attempt_at=d.next_attempt_at if d.status == Delivery.Status.PENDING else None,
                   delivered_at=d.delivered_at, last_error=d.last_error,
                   attempts=[AttemptOut(at=a.at, status_code=a.status_code, milliseconds=a.milliseconds,
                                        error=a.error) for a in d.attempt_log.all()])


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_after: int | None


class DeliveryQuery(PageQuery):
    status: Delivery.Status | None = Field(None, description="Only deliveries in this state.")


class ReplayedOut(Schema):
    replayed: int = Field(..., description="How many deliveries the worker sends in its next round.")


def _admin(request: HttpRequest) -> AnyUser:
    """Who asks, when an administrator; refused with 403 otherwise."""
    user: AnyUser | None = getattr(request, "auth", None)
    if user is None or not may_manage_webhooks(user):
        raise Forbidden("Webhook subscribers are for administrators; ask one of your administrators.")
    return user


def _subscriber(request: HttpRequest, subscriber_id: int) -> Subscriber:
    found = subscribers_visible_to(_admin(request)).filter(pk=subscriber_id).first()
    if found is None:
        raise NotFound(f"There is no webhook subscriber {subscriber_id}.")
    return found


@router.get("/webhooks/subscribers", response={200: list[SubscriberOut], **errors(403)},
            summary="List webhook subscribers")
def list_webhook_subscribers(request: HttpRequest) -> list[SubscriberOut]:
    """Every subscriber with its health (administrators only)."""
    return [SubscriberOut.of(s) for s in subscribers_visible_to(_admin(request))]


@router.post("/webhooks/subscribers", response={201: SubscriberCreatedOut, **errors(400, 403, 422)},
             summary="Add a webhook subscriber")
def add_webhook_subscriber(request: HttpRequest, payload: SubscriberIn) -> Status:
    """A new subscriber with a secret of its own (in the answer). A wrong address, an unknown
    event kind or a name in use is refused with 422 saying what to fix."""
    made = add_subscriber(_admin(request), name=payload.name, url=payload.url, kinds=payload.kinds,
                          active=payload.active)
    return Status(201, SubscriberCreatedOut(**SubscriberOut.of(made).model_dump(), secret=made.secret))


@router.post("/webhooks/subscribers/{subscriber_id}/rotate-secret",
             response={200: SubscriberCreatedOut, **errors(403, 404, 409)}, summary="Rotate a subscriber's secret")
def rotate_webhook_secret(request: HttpRequest, subscriber_id: PathId) -> SubscriberCreatedOut:
    """A new signing secret for the subscriber, in the answer and nowhere else afterwards (the
    admin site aside). Every POST from now on is signed with it, including those of deliveries
    already queued: a delivery is signed when it is sent. Give it to the receiver at once; one
    secret is valid at a time. 409 for the subscriber of TANDEM_WEBHOOK_URL (its secret is the
    setting)."""
    subscriber = _subscriber(request, subscriber_id)
    made = rotate_secret(_admin(request), subscriber.pk)
    shown = subscribers_visible_to(_admin(request)).get(pk=made.pk)
    return SubscriberCreatedOut(**SubscriberOut.of(shown).model_dump(), secret=made.secret)


@router.get("/webhooks/subscribers/{subscriber_id}/deliveries",
            response={200: DeliveryPage, **errors(403, 404, 422)}, summary="List a subscriber's deliveries")
def list_webhook_deliveries(request: HttpRequest, subscriber_id: PathId, query: Query[DeliveryQuery]) -> dict:
    """The delivery log, newest first: each delivery with every attempt (when, status code, how
    long, what failed)."""
    subscriber = _subscriber(request, subscriber_id)
    deliveries = deliveries_visible_to(_admin(request)).filter(subscriber=subscriber)
    if query.status:
        deliveries = deliveries.filter(status=query.status)
    rows, next_after = keyset_page(deliveries.prefetch_related("attempt_log"), query)
    return {"items": [DeliveryOut.of(d) for d in rows], "next_after": next_after}


@router.post("/webhooks/deliveries/{delivery_id}/replay", response={200: DeliveryOut, **errors(403, 404)},
             summary="Replay a webhook delivery")
def replay_webhook_delivery(request: HttpRequest, delivery_id: PathId) -> DeliveryOut:
    """Sent again in the worker's next round, with the same X-Tandem-Delivery."""
    replay_delivery(_admin(request), delivery_id)
    visible = deliveries_visible_to(auth_user(request))
    return DeliveryOut.of(visible.prefetch_related("attempt_log").get(pk=delivery_id))


@router.post("/webhooks/subscribers/{subscriber_id}/replay-failed",
             response={200: ReplayedOut, **errors(403, 404)}, summary="Replay a subscriber's failed deliveries")
def replay_failed_webhooks(request: HttpRequest, subscriber_id: PathId) -> ReplayedOut:
    """Every failed delivery of the subscriber, sent again in the worker's next round."""
    subscriber = _subscriber(request, subscriber_id)
    return ReplayedOut(replayed=replay_failed(_admin(request), subscriber.pk))
