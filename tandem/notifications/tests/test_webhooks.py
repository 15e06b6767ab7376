"""Webhooks against a real HTTP server on 127.0.0.1 (the network edge is real): subscribers and
their kinds, signatures, retries with back-off on a 500 and on a receiver that hangs, the
delivery log, replays, the subscriber of TANDEM_WEBHOOK_URL, and bad input refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from tandem.notifications import webhooks
from tandem.notifications.actions import add_subscriber, replay_delivery, replay_failed
from tandem.notifications.models import Delivery, DeliveryAttempt, Subscriber
from tandem.notifications.sending import MAX_ATTEMPTS, send_due
from tandem.notifications.tests.webhook_receiver import Receiver
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
SECRET = "s3cret-for-tests"


@pytest.fixture
def settings_receiver(settings, receiver: Receiver) -> Receiver:
    settings.TANDEM_WEBHOOK_URL = receiver.url
    settings.TANDEM_WEBHOOK_SECRET = SECRET
    return receiver


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def submit(cast: Cast) -> ServiceRequest:
    with time_machine.travel(at(23, 10), tick=False):  # Monday; two working days to resolve
        return actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=at(23, 10)).request


def subscribe(cast: Cast, receiver: Receiver, kinds: list[str], name: str = "crm") -> Subscriber:
    return add_subscriber(cast.admin.user, name=name, url=receiver.url, kinds=kinds)


def verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What a receiver does: the HMAC-SHA256 of the raw body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-tandem-signature"], expected)


# --- the subscriber of TANDEM_WEBHOOK_URL: SLA alerts, as before ---------------------------------


def test_it_posts_signed_warnings_and_breaches_once(cast: Cast, settings_receiver: Receiver) -> None:
    sr = submit(cast)
    assert actions.fire_due_sla_alerts(at(24, 15, 31)) == (1, 0)
    assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert actions.fire_due_sla_alerts(at(26, 10, 0)) == (0, 0)
    assert send_due() == (2, 0)
    assert send_due() == (0, 0)
    assert [b["event"] for b in settings_receiver.bodies()] == ["sla_warning", "sla_breached"]
    for headers, body in settings_receiver.received:
        assert verify(headers, body, SECRET)
        assert headers["content-type"] == "application/json"
        payload = json.loads(body)
        assert headers["x-tandem-timestamp"] == str(payload["sent_at"])
        assert headers["x-tandem-delivery"] == payload["delivery"]
        assert headers["x-tandem-event"] == payload["event"]
        assert payload["reference"] == sr.reference and payload["id"] == sr.pk
        assert payload["service"] == "Timesheet correction" and payload["unit"] == "Payroll"
        assert datetime.fromisoformat(payload["resolve_by"]) == at(25, 10)
        assert payload["url"].endswith(f"/requests/{sr.pk}/")
    ours = Subscriber.objects.get(from_settings=True)
    assert (ours.url, ours.secret, ours.kinds) == (settings_receiver.url, SECRET,
                                                   ["sla_warning", "sla_breached", "sla_response_missed"])


def test_it_posts_a_missed_first_response_once(cast: Cast, settings_receiver: Receiver) -> None:
    sr = submit(cast)  # first response due within one working hour: 11:00
    assert actions.fire_due_response_alerts(at(23, 11, 1)) == 1
    assert actions.fire_due_response_alerts(at(23, 12, 0)) == 0
    send_due()
    [payload] = settings_receiver.bodies()
    assert payload["event"] == "sla_response_missed" and payload["reference"] == sr.reference
    assert datetime.fromisoformat(payload["respond_by"]) == at(23, 11)


def test_nothing_is_queued_without_a_url_and_removing_it_stops_the_subscriber(
    cast: Cast, settings, settings_receiver: Receiver
) -> None:
    submit(cast)
    assert Subscriber.objects.get(from_settings=True).active
    settings.TANDEM_WEBHOOK_URL = ""
    assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert send_due() == (0, 0) and settings_receiver.received == []
    assert not Subscriber.objects.get(from_settings=True).active
    assert not Delivery.objects.exists()


def test_the_signature_is_the_hmac_of_the_exact_body() -> None:
    body = b'{"event":"sla_breached"}'
    assert webhooks.sign(body, "key") == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()


# --- subscribers and the kinds they want --------------------------------------------------------


def test_each_subscriber_gets_the_kinds_it_chose_signed_with_its_own_secret(cast: Cast) -> None:
    crm, board = Receiver(), Receiver()
    try:
        first = subscribe(cast, crm, ["submitted", "commented"], "crm")
        second = subscribe(cast, board, ["status_changed"], "board")
        assert first.secret and second.secret and first.secret != second.secret
        sr = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request
        actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
        actions.start_request(cast.payroll_agent, sr.pk)
        actions.add_comment(cast.payroll_agent, sr.pk, "Checking with the client.")
        actions.add_comment(cast.payroll_agent, sr.pk, "Internal: the client is slow.", internal=True)
        actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.")
        assert send_due() == (5, 0)
        assert [b["event"] for b in crm.bodies()] == ["submitted", "commented"]
        moves = [(b["change"], b["from_status"], b["to_status"]) for b in board.bodies()]
        assert moves == [("assigned", "new", "assigned"), ("started", "assigned", "in_progress"),
                         ("resolved", "in_progress", "resolved")]
        assert all(verify(h, body, first.secret) for h, body in crm.received)
        assert all(verify(h, body, second.secret) for h, body in board.received)
        assert not any(verify(h, body, first.secret) for h, body in board.received)
        # Thin events: where the request stands, never what it says.
        assert not any("Checking" in body.decode() or "Corrected" in body.decode() for _, body in crm.received)
        assert len({b["delivery"] for b in crm.bodies() + board.bodies()}) == 5
    finally:
        crm.close()
        board.close()


def test_an_inactive_subscriber_is_owed_nothing(cast: Cast, receiver: Receiver) -> None:
    subscriber = subscribe(cast, receiver, ["submitted"])
    Subscriber.objects.filter(pk=subscriber.pk).update(active=False)
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (0, 0) and not Delivery.objects.exists()


# --- retries, back-off and the log --------------------------------------------------------------


def test_a_receiver_answering_500_is_retried_with_back_off_and_logged(cast: Cast, receiver: Receiver) -> None:
    subscriber = subscribe(cast, receiver, ["submitted"])
    receiver.status = 500
    t0 = timezone.now()
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=t0)
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=t0)
    # The first fails; the second waits with its subscriber instead of failing too.
    assert send_due(now=t0) == (0, 1)
    assert len(receiver.received) == 1
    subscriber.refresh_from_db()
    assert subscriber.failing and subscriber.retry_at == t0 + timedelta(seconds=30)
    assert send_due(now=t0 + timedelta(seconds=29)) == (0, 0)  # waiting
    assert send_due(now=t0 + timedelta(seconds=30)) == (0, 1)  # tried again, fails again
    subscriber.refresh_from_db()
    assert subscriber.retry_at == t0 + timedelta(seconds=90)  # then twice as long: 60 s
    receiver.status = 204
    assert send_due(now=t0 + timedelta(seconds=90)) == (2, 0)
    subscriber.refresh_from_db()
    assert not subscriber.failing and subscriber.retry_at is None and subscriber.consecutive_failures == 0
    # One delivery id per delivery, the same on every attempt.
    ids = [h["x-tandem-delivery"] for h, _ in receiver.received]
    assert len(ids) == 4 and len(set(ids)) == 2 and ids[0] == ids[1] == ids[2]
    assert [h["x-tandem-attempt"] for h, _ in receiver.received] == ["1", "2", "3", "1"]
    first = Delivery.objects.get(uuid=ids[0])
    log = list(DeliveryAttempt.objects.filter(delivery=first).values_list("status_code", "error", "at"))
    assert [(code, error) for code, error, _ in log] == [(500, "answered 500"), (500, "answered 500"), (204, "")]
    assert [when for _, _, when in log] == [t0, t0 + timedelta(seconds=30), t0 + timedelta(seconds=90)]
    assert first.status == Delivery.Status.DELIVERED and first.attempts == 3


def test_a_receiver_that_hangs_is_cut_off_and_retried(cast: Cast, settings, receiver: Receiver) -> None:
    settings.TANDEM_WEBHOOK_TIMEOUT = 0.3
    subscribe(cast, receiver, ["submitted"])
    receiver.delay = 2.0
    t0 = timezone.now()
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=t0)
    assert send_due(now=t0) == (0, 1)
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status_code is None and attempt.error == "no answer within 0.3 s"
    assert 300 <= attempt.milliseconds < 2000
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at == t0 + timedelta(seconds=30)
    receiver.delay = 0
    assert send_due(now=t0 + timedelta(seconds=30)) == (1, 0)
    assert len({h["x-tandem-delivery"] for h, _ in receiver.received}) == 1


def test_an_unreachable_receiver_never_stops_the_worker(cast: Cast, settings) -> None:
    dead = Receiver()
    dead.close()  # nobody listens on that port any more
    settings.TANDEM_WEBHOOK_URL = dead.url
    sr = submit(cast)
    assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert send_due() == (0, 1)
    assert ServiceRequest.objects.get(pk=sr.pk).breached_at == at(25, 10, 1)
    assert "ConnectionRefusedError" in DeliveryAttempt.objects.get().error


def test_a_delivery_is_given_up_after_its_attempts_and_replayed(cast: Cast, receiver: Receiver) -> None:
    subscriber = subscribe(cast, receiver, ["submitted"])
    receiver.status = 503
    t = timezone.now()
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=t)
    for _ in range(MAX_ATTEMPTS):
        assert send_due(now=t) == (0, 1)
        retry_at = Subscriber.objects.get(pk=subscriber.pk).retry_at
        assert retry_at is not None
        t = retry_at
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == MAX_ATTEMPTS
    assert send_due(now=t + timedelta(days=1)) == (0, 0)  # given up: waits for a replay
    receiver.status = 200
    assert replay_failed(cast.admin.user, subscriber.pk) == 1
    assert send_due() == (1, 0)  # at once: the replay ends the subscriber's wait
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == MAX_ATTEMPTS + 1  # the log keeps all
    # A delivered one replayed goes again with the same id, so a receiver that has it can tell.
    replay_delivery(cast.admin.user, delivery.pk)
    assert send_due() == (1, 0)
    ids = {h["x-tandem-delivery"] for h, _ in receiver.received}
    assert ids == {str(delivery.uuid)} and len(receiver.received) == MAX_ATTEMPTS + 2


# --- the command and bad input -----------------------------------------------------------------


def test_the_command_lists_shows_the_log_and_replays(cast: Cast, receiver: Receiver) -> None:
    subscriber = subscribe(cast, receiver, ["submitted"])
    receiver.status = 500
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    send_due()
    out = StringIO()
    call_command("webhooks", "--json", stdout=out)
    [row] = json.loads(out.getvalue())["subscribers"]
    assert (row["name"], row["failing"], row["pending"], row["failed"]) == ("crm", True, 1, 0)
    out = StringIO()
    call_command("webhooks", "--log", "crm", "--json", stdout=out)
    [logged] = json.loads(out.getvalue())["deliveries"]
    assert [a["status_code"] for a in logged["attempts"]] == [500]
    Delivery.objects.update(status=Delivery.Status.FAILED)
    out = StringIO()
    call_command("webhooks", "--replay-failed", "crm", stdout=out)
    assert "1 failed delivery" in out.getvalue()
    receiver.status = 200
    assert send_due() == (1, 0)
    assert Subscriber.objects.get(pk=subscriber.pk).consecutive_failures == 0
    with pytest.raises(CommandError, match="no webhook subscriber 'nope'"):
        call_command("webhooks", "--log", "nope")


@pytest.mark.parametrize(("url", "kinds", "field", "says"), [
    ("ftp://hooks.example.com/x", ["submitted"], "url", "not an http:// or https:// address"),
    ("hooks.example.com", ["submitted"], "url", "not an http:// or https:// address"),
    ("https://user:pw@hooks.example.com/x", ["submitted"], "url", "no user name or password"),
    ("https://hooks.example.com/x", ["submited"], "kinds", "Unknown event kind(s) 'submited'"),
    ("https://hooks.example.com/x", [], "kinds", "Choose at least one event kind"),
])
def test_bad_subscribers_are_refused_saying_what_to_fix(
    cast: Cast, url: str, kinds: list[str], field: str, says: str
) -> None:
    with pytest.raises(Invalid) as refused:
        add_subscriber(cast.admin.user, name="crm", url=url, kinds=kinds)
    assert says in refused.value.message and list(refused.value.errors) == [field]
    assert not Subscriber.objects.exists()


def test_only_administrators_manage_subscribers(cast: Cast, receiver: Receiver) -> None:
    with pytest.raises(Forbidden):
        add_subscriber(cast.payroll_lead.user, name="crm", url=receiver.url, kinds=["submitted"])
    subscribe(cast, receiver, ["submitted"])
    with pytest.raises(Invalid, match="already a subscriber named 'crm'"):
        subscribe(cast, receiver, ["submitted"])
    assert Subscriber.objects.count() == 1
