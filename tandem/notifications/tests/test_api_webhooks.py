"""The webhook API for administrators: subscribers, the delivery log, replays; bad input 422."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tandem.notifications.models import Delivery, Subscriber
from tandem.notifications.sending import send_due
from tandem.notifications.tests.webhook_receiver import Receiver
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_administrator_adds_a_subscriber_and_reads_its_log(cast: Cast, receiver: Receiver) -> None:
    api = ApiClient(cast.admin)
    made = api.post("/api/webhooks/subscribers", {"name": "crm", "url": receiver.url, "kinds": ["submitted"]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"] == Subscriber.objects.get().secret and len(body["secret"]) >= 40
    assert (body["health"], body["failing"]) == ("no delivery yet", False)
    receiver.status = 500
    sr = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request
    send_due()
    [listed] = api.get("/api/webhooks/subscribers").json()
    assert listed["failing"] and listed["consecutive_failures"] == 1 and "secret" not in listed
    assert listed["health"].startswith("failing: 1 failed attempt(s) in a row")
    log = api.get(f"/api/webhooks/subscribers/{body['id']}/deliveries").json()
    [delivery] = log["items"]
    assert (delivery["kind"], delivery["request_id"], delivery["status"]) == ("submitted", sr.pk, "pending")
    [attempt] = delivery["attempts"]
    assert (attempt["status_code"], attempt["error"]) == (500, "answered 500") and attempt["milliseconds"] >= 0
    assert delivery["delivery"] == receiver.received[0][0]["x-tandem-delivery"]

    receiver.status = 200
    replayed = api.post(f"/api/webhooks/deliveries/{delivery['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    assert send_due() == (1, 0)
    assert api.get(f"/api/webhooks/subscribers/{body['id']}/deliveries", {"status": "delivered"}).json()[
        "items"][0]["delivery"] == delivery["delivery"]
    Delivery.objects.update(status=Delivery.Status.FAILED, delivered_at=None)
    assert api.post(f"/api/webhooks/subscribers/{body['id']}/replay-failed").json() == {"replayed": 1}
    assert send_due(now=timezone.now()) == (1, 0)


@pytest.mark.parametrize(("body", "says"), [
    ({"name": "crm", "url": "javascript:alert(1)", "kinds": ["submitted"]}, "not an http:// or https:// address"),
    ({"name": "crm", "url": "https://hooks.example.com/x", "kinds": ["breach"]}, "Unknown event kind(s) 'breach'"),
    ({"name": "crm", "url": "https://hooks.example.com/x", "kinds": ["submitted"], "colour": "red"}, "colour"),
])
def test_bad_subscribers_are_refused_with_422_and_nothing_is_made(cast: Cast, body: dict, says: str) -> None:
    answer = ApiClient(cast.admin).post("/api/webhooks/subscribers", body)
    assert answer.status_code == 422 and says in answer.content.decode()
    assert not Subscriber.objects.exists()


def test_nobody_but_an_administrator_sees_or_replays_webhooks(cast: Cast, receiver: Receiver) -> None:
    admin = ApiClient(cast.admin)
    made = admin.post("/api/webhooks/subscribers", {"name": "crm", "url": receiver.url, "kinds": ["submitted"]})
    sid = made.json()["id"]
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    delivery = Delivery.objects.get()
    for person in (cast.payroll_lead, cast.executive, cast.consultant):
        api = ApiClient(person)
        assert api.get("/api/webhooks/subscribers").status_code == 403
        assert api.get(f"/api/webhooks/subscribers/{sid}/deliveries").status_code == 403
        assert api.post(f"/api/webhooks/deliveries/{delivery.pk}/replay").status_code == 403
        assert api.post("/api/webhooks/subscribers", {"name": "x", "url": receiver.url,
                                                      "kinds": ["submitted"]}).status_code == 403
    assert admin.get("/api/webhooks/subscribers/999999/deliveries").status_code == 404
    assert admin.post("/api/webhooks/deliveries/999999/replay").status_code == 404
    assert Subscriber.objects.count() == 1
