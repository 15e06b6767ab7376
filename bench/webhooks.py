"""Webhooks that never drop, at size: 10,000 hooks (2,000 submissions × 5 subscribers) sent by
``tandem worker`` to a receiver on 127.0.0.1 that this bench runs, across a receiver outage
(the receiver stops listening for a while, then comes back on the same port) and a worker
killed with SIGKILL mid-run and started again.

    .venv/bin/python bench/webhooks.py                                 # SQLite
    TANDEM_DATABASE_URL=postgres://... .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --submissions 400 --json        # a quick run

What is counted, at the receiver, by ``X-Tandem-Delivery``:

- ``lost``: deliveries Tandem owed (one per subscriber per submission, read from the database)
  whose id the receiver never answered 2xx.
- ``doubled``: events (subscriber, request, event kind) the receiver took under more than one
  delivery id: a double that no receiver could recognise.
- ``repeated``: POSTs of an id the receiver had already answered 2xx (the at-least-once window:
  the worker killed between the receiver's answer and its note). The receiver recognises each by
  its id, as docs/webhooks.md tells receivers to; they are reported, not hidden.
- ``bad_signatures``: POSTs whose X-Tandem-Signature is not the HMAC of the body with the
  subscriber's secret.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stack import Stack, Template, _free_port

SUBSCRIBERS = 5


class Receiver:
    """Answers 200 to every POST and notes it; ``stop`` and ``start`` make an outage."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.taken: Counter[str] = Counter()  # delivery id -> POSTs answered 2xx
        self.events: dict[tuple[str, int, str], set[str]] = {}
        self.secrets: dict[str, str] = {}
        self.bad_signatures = 0
        self.posts = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["X-Tandem-Delivery"]
                payload = json.loads(body)
                secret = receiver.secrets.get(self.path, "")
                good = hmac.compare_digest(
                    self.headers.get("X-Tandem-Signature", ""),
                    "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
                with receiver.lock:
                    receiver.posts += 1
                    receiver.bad_signatures += not good
                    receiver.taken[delivery] += 1
                    receiver.events.setdefault((self.path, payload["id"], payload["event"]), set()).add(delivery)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def distinct(self) -> int:
        with self.lock:
            return len(self.taken)


def wait_for(condition: Any, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=2000, help="each owes one hook to each of 5 subscribers")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the receiver is down (default 5)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    owed_total = args.submissions * SUBSCRIBERS
    receiver = Receiver(_free_port())
    urls = [f"http://127.0.0.1:{receiver.port}/r{i}" for i in range(SUBSCRIBERS)]

    with tempfile.TemporaryDirectory(prefix="tandem-webhooks-") as folder:
        began = time.monotonic()
        template = Template.create(Path(folder) / "template")
        stack = Stack(template, Path(folder) / "stack")
        try:
            seeded_at = time.monotonic()
            seed = stack.inside("seed", requests=args.submissions, subscribers=urls)
            seed_seconds = time.monotonic() - seeded_at
            receiver.secrets = {f"/r{i}": seed["secrets"][url] for i, url in enumerate(urls)}
            owed = stack.scalar("SELECT COUNT(*) FROM notifications_delivery")
            # A short first wait, so that the outage costs seconds, not minutes.
            stack.env.update(TANDEM_WEBHOOK_RETRY_SECONDS="0.5", TANDEM_WEBHOOK_TIMEOUT="5")
            receiver.start()
            sending_began = time.monotonic()
            stack.start_worker(interval=0.2)
            # The outage: the receiver stops listening after a quarter, for --outage seconds.
            wait_for(lambda: receiver.distinct() >= owed_total // 4, 600)
            receiver.stop()
            down_at = receiver.distinct()
            time.sleep(args.outage)
            receiver.start()
            # The kill: SIGKILL the worker at 60 %, start another.
            wait_for(lambda: receiver.distinct() >= owed_total * 6 // 10, 600)
            killed_at = receiver.distinct()
            stack.kill_worker()
            stack.start_worker(interval=0.2)
            done = wait_for(lambda: receiver.distinct() >= owed, 900)
            sending_seconds = time.monotonic() - sending_began
            time.sleep(0.5)  # a last note may still be on its way to the database
            stack.kill_worker()
            report = stack.inside("report")
            failed_attempts = stack.scalar(
                "SELECT COUNT(*) FROM notifications_deliveryattempt WHERE status_code IS NULL OR status_code >= 300")
            ids = set(stack.inside("hook_ids"))
        finally:
            stack.close()
            template.close()
            receiver.stop()
    doubled = sum(1 for seen in receiver.events.values() if len(seen) > 1)
    figures = {
        "database": template.vendor,
        "submissions": args.submissions,
        "subscribers": SUBSCRIBERS,
        "hooks_owed": owed,
        "received_distinct": receiver.distinct(),
        "lost": len(ids - set(receiver.taken)),
        "doubled": doubled,
        "repeated": sum(n - 1 for n in receiver.taken.values() if n > 1),
        "posts": receiver.posts,
        "bad_signatures": receiver.bad_signatures,
        "failed_attempts_logged": failed_attempts,
        "receiver_down_after": down_at,
        "outage_seconds": args.outage,
        "worker_killed_after": killed_at,
        "all_delivered_in_database": report["hooks"] == {"pending": 0, "delivered": owed, "failed": 0,
                                                         "deliveries": owed},
        "seed_seconds": round(seed_seconds, 1),
        "sending_seconds": round(sending_seconds, 1),
        "hooks_per_second": round(owed / sending_seconds, 1) if sending_seconds else None,
        "total_seconds": round(time.monotonic() - began, 1),
    }
    ok = (done and owed == owed_total and figures["lost"] == 0 and doubled == 0 and not receiver.bad_signatures
          and figures["all_delivered_in_database"])
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>28}: {value}")
        print("OK: none lost, none doubled" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
