"""What the webhook guard and the webhooks page cost (docs/benchmarks.md#webhook-pages).

One command, on a fresh SQLite database in a temporary folder (or PostgreSQL with
TANDEM_DATABASE_URL):

    .venv/bin/python bench/webhook_pages.py              # --json for machine-readable figures

Measures, with private addresses refused (the default):
- the check made before every POST (``sending_address``: resolve, check every address, pin),
  for a public IP address and for this machine's name from /etc/hosts, per call;
- the check made when a subscriber is added (``address_refusal``), per call;
- the webhooks list with 50 subscribers, and one subscriber's log of its latest 100 deliveries
  with 3 attempts each (of 2,000 deliveries), server time through Django's test client: p50/p95
  and the number of SQL statements.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def per_call(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - began) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TANDEM_DATA_DIR", tempfile.mkdtemp(prefix="tandem-bench-hooks-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ.pop("TANDEM_WEBHOOK_ALLOW_PRIVATE", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tandem.notifications.destinations import address_refusal, sending_address
    from tandem.notifications.models import Delivery, DeliveryAttempt, Subscriber
    from tandem.org.models import Person, Role, Side, Unit

    call_command("migrate", verbosity=0)
    figures: dict[str, float | int] = {}
    figures["send_check_ip_us"] = per_call(lambda: sending_address("93.184.216.34", 443), 2000)
    # A name from /etc/hosts (this machine's own, resolving to 127.0.0.1: refused): the lookup's
    # cost without the network. A name from DNS adds the resolver's round trip.
    host = socket.gethostname()
    figures["send_check_hosts_name_us"] = per_call(lambda: sending_address(host, 443), 500)
    figures["add_check_us"] = per_call(lambda: address_refusal("https://hooks.example.com/tandem"), 20000)

    unit = Unit.objects.create(name="HR", slug="hr-bench", side=Side.BACK)
    user = get_user_model().objects.create_user(username="bench_admin", password="x")
    Person.objects.create(user=user, unit=unit, role=Role.ADMIN)
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(name=f"receiver {i}", url=f"https://hooks{i}.example.com/t", kinds=["submitted"]) for i in range(50)
    )
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        Delivery(uuid=uuid.uuid4(), subscriber=subscribers[i % 50] if i >= 1000 else subscribers[0], kind="submitted",
                 payload={"event": "submitted"}, status="failed", last_error="answered 500")
        for i in range(2000)
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(delivery=d, at=now, status_code=500, milliseconds=12, error="answered 500")
        for d in deliveries for _ in range(3)
    )
    client = Client()
    client.force_login(user)
    for name, url in (("list", "/manage/webhooks/"), ("log", f"/manage/webhooks/{subscribers[0].pk}/")):
        times = []
        for _ in range(args.samples):
            began = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - began) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        times.sort()
        figures[f"{name}_p50_ms"] = statistics.median(times)
        figures[f"{name}_p95_ms"] = times[max(0, int(len(times) * 0.95) - 1)]
        figures[f"{name}_queries"] = len(queries)
    figures["database"] = connection.vendor  # type: ignore[assignment]
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:28} {value:.1f}" if isinstance(value, float) else f"{key:28} {value}")


if __name__ == "__main__":
    main()
