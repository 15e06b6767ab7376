"""The webhooks page (/manage/webhooks/) for administrators, through the HTTP client against a
real database and a real receiver: list with health, add (secret shown once), rotate, deactivate,
the log and replays; refusals change nothing; nobody else gets in."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from tandem.notifications.models import Delivery, Subscriber
from tandem.notifications.sending import send_due
from tandem.notifications.tests.webhook_receiver import Receiver
from tandem.notifications.webhooks import sign
from tandem.org.models import Person
from tandem.work import actions
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def secret_on(body: bytes) -> str:
    found = re.search(r'id="secret-value">([^<]+)<', body.decode())
    assert found, "no secret on the page"
    return html.unescape(found.group(1))


def test_an_administrator_adds_a_subscriber_sees_its_secret_once_and_its_health(
    cast: Cast, receiver: Receiver
) -> None:
    admin = client_for(cast.admin)
    added = admin.post("/manage/webhooks/", {"name": "CRM", "url": receiver.url, "kinds": ["submitted"]})
    assert added.status_code == 200 and added["Cache-Control"] == "no-store"
    made = Subscriber.objects.get()
    assert secret_on(added.content) == made.secret and (made.name, made.kinds) == ("CRM", ["submitted"])
    listing = admin.get("/manage/webhooks/").content.decode()
    detail = admin.get(f"/manage/webhooks/{made.pk}/").content.decode()
    assert made.secret not in listing and made.secret not in detail  # shown once
    assert "no delivery yet" in listing and receiver.url in listing

    receiver.status = 500
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (0, 1)
    listing = admin.get("/manage/webhooks/").content.decode()
    assert "Failing" in listing and "1 in a row" in listing and "0 failed · 2 pending" in listing
    detail = admin.get(f"/manage/webhooks/{made.pk}/").content.decode()
    assert "answered 500" in detail and "500 ·" in detail and detail.count("Replay<span") == 2


def test_the_log_replays_one_delivery_or_every_failed_one(cast: Cast, receiver: Receiver) -> None:
    made = Subscriber.objects.create(name="CRM", url=receiver.url, kinds=["submitted"])
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (1, 0)
    delivery = Delivery.objects.get()
    admin = client_for(cast.admin)
    answer = admin.post(f"/manage/webhooks/{made.pk}/deliveries/{delivery.pk}/replay/")
    assert answer.status_code == 302 and Delivery.objects.get().status == Delivery.Status.PENDING
    assert send_due() == (1, 0)
    ids = [h["x-tandem-delivery"] for h, _ in receiver.received]
    assert ids == [str(delivery.uuid)] * 2  # the same id on the replay
    Delivery.objects.update(status=Delivery.Status.FAILED)
    page = admin.get(f"/manage/webhooks/{made.pk}/").content.decode()
    assert "Replay the 1 failed" in page
    admin.post(f"/manage/webhooks/{made.pk}/replay-failed/")
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_rotating_shows_the_new_secret_once_and_queued_hooks_are_signed_with_it(
    cast: Cast, receiver: Receiver
) -> None:
    made = Subscriber.objects.create(name="CRM", url=receiver.url, kinds=["submitted"])
    old = made.secret
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))  # queued before
    rotated = client_for(cast.admin).post(f"/manage/webhooks/{made.pk}/rotate/")
    new = secret_on(rotated.content)
    assert new != old and new == Subscriber.objects.get().secret
    assert send_due() == (1, 0)
    [(headers, body)] = receiver.received
    assert headers["x-tandem-signature"] == sign(body, new)


def test_deactivating_stops_new_hooks_and_reactivating_sends_what_waited(cast: Cast, receiver: Receiver) -> None:
    made = Subscriber.objects.create(name="CRM", url=receiver.url, kinds=["submitted"])
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))  # queued while active
    admin = client_for(cast.admin)
    assert admin.post(f"/manage/webhooks/{made.pk}/active/", {"active": "0"}).status_code == 302
    assert not Subscriber.objects.get().active
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))  # owed nothing
    assert send_due() == (0, 0) and Delivery.objects.count() == 1
    assert "Inactive" in admin.get("/manage/webhooks/").content.decode()
    admin.post(f"/manage/webhooks/{made.pk}/active/", {"active": "1"})
    assert send_due() == (1, 0)


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"name": "CRM", "url": "http://10.0.0.7/hooks", "kinds": ["submitted"]}, "url",
     "10.0.0.7 is a private-network address: webhooks go to public addresses only."),
    ({"name": "CRM", "url": "ftp://hooks.example.com/x", "kinds": ["submitted"]}, "url",
     "is not an http:// or https:// address"),
    ({"name": "CRM", "url": "https://hooks.example.com/x"}, "kinds", "Choose at least one event kind"),
    ({"name": "", "url": "https://hooks.example.com/x", "kinds": ["submitted"]}, "name", "This field is required."),
])
def test_a_bad_subscriber_is_refused_beside_its_field_as_typed(
    cast: Cast, settings: Any, data: dict[str, Any], field: str, says: str
) -> None:
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = False
    answer = client_for(cast.admin).post("/manage/webhooks/", data)
    assert answer.status_code == 422
    body = html.unescape(answer.content.decode())
    assert says in body and f'value="{data["url"]}"' in body
    block = body.split(f'id="id_{field}')[0].rsplit('class="field', 1)[1]
    assert "field--invalid" in block
    assert not Subscriber.objects.exists()


def test_nobody_but_an_administrator_gets_in(cast: Cast, receiver: Receiver) -> None:
    made = Subscriber.objects.create(name="CRM", url=receiver.url, kinds=["submitted"])
    for person in (cast.payroll_lead, cast.executive, cast.consultant):
        client = client_for(person)
        assert client.get("/manage/webhooks/").status_code == 403
        assert client.get(f"/manage/webhooks/{made.pk}/").status_code == 403
        assert client.post(f"/manage/webhooks/{made.pk}/rotate/").status_code == 403
        assert client.post("/manage/webhooks/", {"name": "x", "url": receiver.url,
                                                 "kinds": ["submitted"]}).status_code == 403
        assert made.secret not in client.get(f"/manage/webhooks/{made.pk}/").content.decode()
    assert Subscriber.objects.get().secret == made.secret and Subscriber.objects.count() == 1
    assert client_for(cast.admin).get("/manage/webhooks/999999/").status_code == 404
