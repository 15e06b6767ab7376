"""The webhooks page (``/manage/webhooks/``, docs/webhooks.md): administrators list the
subscribers with their health, add one, rotate a secret, deactivate one, read its delivery log
and replay. Each change is one action, shared with the API and the command line."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.notifications import actions
from tandem.notifications.forms import SubscriberForm
from tandem.notifications.models import Subscriber
from tandem.notifications.queries import (
    deliveries_visible_to,
    may_manage_webhooks,
    subscriber_health,
    subscribers_visible_to,
)
from tandem.org.models import Person
from tandem.org.views import manage_page, page, require, valid
from tandem.refusal import Refused

ADMINS_ONLY = "Webhook subscribers are for administrators; ask one of your administrators."
LOG_SIZE = 100


def _list(request: HttpRequest, form: SubscriberForm, refusal: Refused | None = None) -> HttpResponse:
    subscribers = list(subscribers_visible_to(request.user))
    for s in subscribers:
        s.health = subscriber_health(s)  # type: ignore[attr-defined]
    return page(request, "notifications/webhooks.html", {"subscribers": subscribers, "form": form}, refusal)


def _subscriber(request: HttpRequest, pk: int) -> Subscriber:
    require(may_manage_webhooks(request.user), ADMINS_ONLY)
    return get_object_or_404(subscribers_visible_to(request.user), pk=pk)


@manage_page
def webhooks(request: HttpRequest, me: Person) -> HttpResponse:
    require(may_manage_webhooks(request.user), ADMINS_ONLY)
    if request.method != "POST":
        return _list(request, SubscriberForm())
    form = SubscriberForm(request.POST)
    try:
        valid(form)
        made = actions.add_subscriber(request.user, **form.data_for_action())
    except Refused as exc:
        return _list(request, form, exc)
    return _secret(request, made, f"{made.name} was added.")


def _secret(request: HttpRequest, subscriber: Subscriber, said: str) -> HttpResponse:
    """The one page that shows a secret: not kept in the page's address, not shown again."""
    response = page(request, "notifications/webhook_secret.html", {"subscriber": subscriber, "said": said})
    response["Cache-Control"] = "no-store"
    return response


@manage_page
def webhook(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    subscriber = _subscriber(request, pk)
    subscriber.health = subscriber_health(subscriber)  # type: ignore[attr-defined]
    log = (deliveries_visible_to(request.user).filter(subscriber=subscriber)
           .select_related("request").prefetch_related("attempt_log").order_by("-id")[:LOG_SIZE])
    return page(request, "notifications/webhook.html", {"subscriber": subscriber, "log": log, "size": LOG_SIZE})


@manage_page
@require_POST
def rotate(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    rotated = actions.rotate_secret(request.user, _subscriber(request, pk).pk)
    return _secret(request, rotated, f"{rotated.name} has a new secret; the old one no longer signs anything.")


@manage_page
@require_POST
def set_active(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    done = actions.set_subscriber_active(request.user, _subscriber(request, pk).pk, active)
    messages.success(request, f"{done.name} is active again." if active else
                     f"{done.name} is inactive: it is owed nothing new; what was queued waits.")
    return redirect(reverse("notifications:webhook", args=[done.pk]))


@manage_page
@require_POST
def replay(request: HttpRequest, me: Person, pk: int, delivery_id: int) -> HttpResponse:
    subscriber = _subscriber(request, pk)
    get_object_or_404(deliveries_visible_to(request.user).filter(subscriber=subscriber), pk=delivery_id)
    actions.replay_delivery(request.user, delivery_id)
    messages.success(request, "Replayed: it is sent again, with the same delivery id, in the worker's next round.")
    return redirect(reverse("notifications:webhook", args=[subscriber.pk]))


@manage_page
@require_POST
def replay_failed(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    count = actions.replay_failed(request.user, _subscriber(request, pk).pk)
    messages.success(request, f"{count} failed deliver{'y' if count == 1 else 'ies'} will be sent again in the "
                     "worker's next round.")
    return redirect(reverse("notifications:webhook", args=[pk]))
