"""A process killed between a change's commit and its reactions after the commit loses none of
them: the change is there, its messages are owed, and the next worker round delivers them
(``tandem.outbox``). The reactions in the transaction (notifications) committed with the change.

The killing is exact, not a matter of timing: the action runs in a process where a consumer
that SIGKILLs it is first in line after the commit, so it dies right after the commit, before
any reaction after it.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from tests.stack import Stack


class Receiver:
    """A webhook receiver on a local port, noting every POST."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


def test_a_submission_keeps_its_promise_through_a_kill(stack: Stack) -> None:
    stack.inside("seed", requests=1)
    assert stack.dies_inside("die_after_commit", action="submit") == -signal.SIGKILL
    before = stack.inside("report")
    died = next(int(pk) for pk, r in before["requests"].items() if r["title"] == "dies after commit")
    assert died not in before["promised"] and before["owed"] == 1  # committed; its quote not made

    worker = stack.tandem("worker", "--once")
    assert worker.returncode == 0, worker.stderr
    after = stack.inside("report")
    assert died in after["promised"]
    assert (after["owed"], after["failed"]) == (0, 0)


def test_a_breach_keeps_its_webhook_through_a_kill(stack: Stack, receiver: Receiver) -> None:
    seed = stack.inside("seed", overdue=1)
    overdue = seed["overdue"][0]
    stack.env["TANDEM_WEBHOOK_URL"] = receiver.url
    assert stack.dies_inside("die_after_commit", action="breach") == -signal.SIGKILL
    before = stack.inside("report")
    assert before["requests"][str(overdue)]["kinds"].count("sla_breached") == 1
    assert [overdue, "sla_breached"] in before["notified"]  # told in the alert's own transaction
    # The webhook is a delivery row written with the breach: owed, not yet sent.
    assert receiver.received == [] and before["hooks"]["pending"] == 1

    worker = stack.tandem("worker", "--once")
    assert worker.returncode == 0, worker.stderr
    # The breach's webhook, once (the round also raises the missed first response, after it).
    sent = [(h, b) for h, b in receiver.received if b["id"] == overdue and b["event"] == "sla_breached"]
    assert len(sent) == 1 and sent[0][0]["x-tandem-delivery"]
    after = stack.inside("report")
    assert (after["owed"], after["failed"]) == (0, 0) and after["duplicated_notifications"] == []
    assert after["hooks"]["pending"] == 0


def test_a_worker_killed_after_the_receiver_took_a_hook_sends_it_again_with_the_same_id(
    stack: Stack, receiver: Receiver
) -> None:
    """At least once, never a new id: the kill falls between the receiver's 2xx and the note."""
    stack.inside("seed", requests=3, subscribers=[receiver.url])
    assert stack.dies_inside("die_after_post") == -signal.SIGKILL
    assert len(receiver.received) == 1  # the receiver took one, and the sender died before noting it
    assert stack.inside("report")["hooks"] == {"pending": 3, "delivered": 0, "failed": 0, "deliveries": 3}

    worker = stack.tandem("worker", "--once")
    assert worker.returncode == 0, worker.stderr
    ids = [h["x-tandem-delivery"] for h, _ in receiver.received]
    assert len(ids) == 4 and len(set(ids)) == 3 and ids[0] == ids[1]  # the one sent again kept its id
    assert receiver.received[0][1] == {**receiver.received[1][1], "sent_at": receiver.received[0][1]["sent_at"]}
    assert stack.inside("report")["hooks"] == {"pending": 0, "delivered": 3, "failed": 0, "deliveries": 3}
