"""Webhooks go to public addresses only (docs/webhooks.md): a private-network address is refused
when the subscriber is added (422 naming why), a name that resolves to one at sending time is a
failed attempt with the reason and never reaches the receiver (DNS rebinding), unless the
operator's TANDEM_WEBHOOK_ALLOW_PRIVATE allows them. And rotating a secret: the next POST, even
of a delivery queued before, is signed with the new one."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tandem.notifications.destinations import address_refusal
from tandem.notifications.models import Delivery, DeliveryAttempt, Subscriber
from tandem.notifications.sending import send_due
from tandem.notifications.tests.webhook_receiver import Receiver
from tandem.notifications.webhooks import sign
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refusing(settings: Any) -> None:
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = False


@pytest.mark.parametrize(("url", "says"), [
    ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address (this machine)"),
    ("http://localhost/hooks", "localhost is this machine (localhost)"),
    ("http://api.localhost/hooks", "api.localhost is this machine (localhost)"),
    ("https://10.1.2.3/hooks", "10.1.2.3 is a private-network address"),
    ("https://172.16.0.9/hooks", "172.16.0.9 is a private-network address"),
    ("https://192.168.1.20/hooks", "192.168.1.20 is a private-network address"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
    ("http://[::1]:9000/hooks", "::1 is a loopback address (this machine)"),
    ("http://[fd00::1]/hooks", "fd00::1 is a private-network address"),
    ("http://[::ffff:127.0.0.1]/hooks", "::ffff:127.0.0.1 is a loopback address (this machine)"),
    ("http://0.0.0.0/hooks", "0.0.0.0 is a private-network address"),
])
def test_a_private_address_is_refused_at_creation_naming_why(cast: Cast, refusing: None, url: str,
                                                             says: str) -> None:
    answer = ApiClient(cast.admin).post("/api/webhooks/subscribers", {"name": "crm", "url": url,
                                                                      "kinds": ["submitted"]})
    assert answer.status_code == 422
    message = answer.json()["errors"]["url"][0]
    assert message.startswith(says) and "TANDEM_WEBHOOK_ALLOW_PRIVATE" in message
    assert not Subscriber.objects.exists()


def test_public_addresses_and_names_are_accepted_and_the_setting_allows_private_ones(
    refusing: None, settings: Any
) -> None:
    for url in ("https://hooks.example.com/tandem", "http://93.184.216.34/x", "https://[2606:4700::1]/x"):
        assert address_refusal(url) is None
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = True
    assert address_refusal("http://127.0.0.1:8080/hooks") is None


def resolving(monkeypatch: pytest.MonkeyPatch, name: str, ip: str) -> list[str]:
    """The network's edge: ``name`` resolves to ``ip`` (as a hostile DNS server would answer);
    every other name as usual. Returns the names looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        if host == name:
            return real(ip, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_name_resolving_to_a_private_address_at_sending_fails_with_the_reason(
    cast: Cast, refusing: None, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_port
    # Added while the name looked public (no lookup is made when adding), it rebinds to 127.0.0.1.
    ApiClient(cast.admin).post("/api/webhooks/subscribers", {
        "name": "crm", "url": f"http://hooks.rebind.example:{port}/hooks", "kinds": ["submitted"]})
    assert Subscriber.objects.count() == 1
    resolving(monkeypatch, "hooks.rebind.example", "127.0.0.1")
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (0, 1)
    assert receiver.received == []  # nothing reached the private address
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith(
        "hooks.rebind.example resolves to 127.0.0.1, a loopback address (this machine): webhooks go to public "
        "addresses only.")
    assert Delivery.objects.get().status == Delivery.Status.PENDING  # retried later, as any failure


def test_with_private_addresses_allowed_the_name_is_sent_to(
    cast: Cast, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_port
    Subscriber.objects.create(name="crm", url=f"http://hooks.lan.example:{port}/hooks", kinds=["submitted"])
    resolving(monkeypatch, "hooks.lan.example", "127.0.0.1")
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (1, 0)
    [(headers, _)] = receiver.received
    assert headers["host"] == f"hooks.lan.example:{port}"


def test_the_post_goes_to_the_address_that_was_checked(
    cast: Cast, refusing: None, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinned: the connection does not look the name up a second time (where a rebinding DNS
    server would answer a private address)."""
    from tandem.notifications import sending

    Subscriber.objects.create(name="crm", url="http://hooks.public.example/hooks", kinds=["submitted"])
    asked = resolving(monkeypatch, "hooks.public.example", "93.184.216.34")
    connected: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(sending.socket, "create_connection", create_connection)
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (0, 1)
    assert asked.count("hooks.public.example") == 1 and connected == [("93.184.216.34", 80)]


def test_rotating_a_secret_signs_the_queued_deliveries_with_the_new_one(cast: Cast, receiver: Receiver) -> None:
    admin = ApiClient(cast.admin)
    made = admin.post("/api/webhooks/subscribers", {"name": "crm", "url": receiver.url, "kinds": ["submitted"]})
    old, sid = made.json()["secret"], made.json()["id"]
    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))  # queued under the old secret
    rotated = admin.post(f"/api/webhooks/subscribers/{sid}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and len(new) >= 40 and Subscriber.objects.get().secret == new
    assert "secret" not in admin.get("/api/webhooks/subscribers").json()[0]  # shown once
    assert send_due() == (1, 0)
    [(headers, body)] = receiver.received
    assert headers["x-tandem-signature"] == sign(body, new) != sign(body, old)


def test_only_an_administrator_rotates_and_the_settings_subscriber_is_refused(
    cast: Cast, settings: Any, receiver: Receiver
) -> None:
    made = Subscriber.objects.create(name="crm", url=receiver.url, kinds=["submitted"])
    for person in (cast.payroll_lead, cast.consultant):
        assert ApiClient(person).post(f"/api/webhooks/subscribers/{made.pk}/rotate-secret").status_code == 403
    assert Subscriber.objects.get().secret == made.secret
    assert ApiClient(cast.admin).post("/api/webhooks/subscribers/99999/rotate-secret").status_code == 404
    ours = Subscriber.objects.create(name="TANDEM_WEBHOOK_URL", url=receiver.url, secret="s", from_settings=True,
                                     kinds=["sla_breached"])
    answer = ApiClient(cast.admin).post(f"/api/webhooks/subscribers/{ours.pk}/rotate-secret")
    assert answer.status_code == 409 and "TANDEM_WEBHOOK_SECRET" in answer.json()["detail"]
    assert Subscriber.objects.get(pk=ours.pk).secret == "s"
