"""SLA alert webhooks against a real HTTP server on 127.0.0.1 (the network edge is real)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tandem.notifications import webhooks
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
SECRET = "s3cret-for-tests"


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/tandem"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    r = Receiver()
    settings.TANDEM_WEBHOOK_URL = r.url
    settings.TANDEM_WEBHOOK_SECRET = SECRET
    yield r
    r.close()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def submit(cast: Cast) -> ServiceRequest:
    with time_machine.travel(at(23, 10), tick=False):  # Monday; two working days to resolve
        return actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=at(23, 10)).request


def test_it_posts_signed_warnings_and_breaches_once(cast: Cast, receiver: Receiver) -> None:
    sr = submit(cast)
    assert actions.fire_due_sla_alerts(at(24, 15, 31)) == (1, 0)
    assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert actions.fire_due_sla_alerts(at(26, 10, 0)) == (0, 0)
    assert [json.loads(body)["event"] for _, body in receiver.received] == ["sla_warning", "sla_breached"]
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-tandem-signature"], expected)
        assert headers["content-type"] == "application/json"
        payload = json.loads(body)
        assert headers["x-tandem-timestamp"] == str(payload["sent_at"])
        assert payload["reference"] == sr.reference and payload["id"] == sr.pk
        assert payload["service"] == "Timesheet correction" and payload["unit"] == "Payroll"
        assert datetime.fromisoformat(payload["resolve_by"]) == at(25, 10)
        assert payload["url"].endswith(f"/requests/{sr.pk}/")


def test_a_failing_receiver_is_logged_and_the_alert_still_counts(
    cast: Cast, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 500
    submit(cast)
    with caplog.at_level(logging.WARNING, logger="tandem.notifications.webhooks"):
        assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert len(receiver.received) == 1
    assert "failed" in caplog.text and "sla_breached" in caplog.text


def test_an_unreachable_receiver_never_stops_the_worker(cast: Cast, settings, caplog) -> None:
    dead = Receiver()
    dead.close()  # nobody listens on that port any more
    settings.TANDEM_WEBHOOK_URL = dead.url
    settings.TANDEM_WEBHOOK_SECRET = SECRET
    sr = submit(cast)
    with caplog.at_level(logging.WARNING, logger="tandem.notifications.webhooks"):
        assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert ServiceRequest.objects.get(pk=sr.pk).breached_at == at(25, 10, 1)
    assert "failed" in caplog.text


def test_nothing_is_sent_without_a_url(cast: Cast, settings, receiver: Receiver) -> None:
    settings.TANDEM_WEBHOOK_URL = ""
    submit(cast)
    assert actions.fire_due_sla_alerts(at(25, 10, 1)) == (0, 1)
    assert receiver.received == []


def test_the_signature_is_the_hmac_of_the_exact_body() -> None:
    body = b'{"event":"sla_breached"}'
    assert webhooks.sign(body, "key") == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()


def test_it_posts_a_missed_first_response_once(cast: Cast, receiver: Receiver) -> None:
    sr = submit(cast)  # first response due within one working hour: 11:00
    assert actions.fire_due_response_alerts(at(23, 11, 1)) == 1
    assert actions.fire_due_response_alerts(at(23, 12, 0)) == 0
    [(_, body)] = receiver.received
    payload = json.loads(body)
    assert payload["event"] == "sla_response_missed" and payload["reference"] == sr.reference
    assert datetime.fromisoformat(payload["respond_by"]) == at(23, 11)
