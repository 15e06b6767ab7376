"""Latency of the team queue page and the request list API against a real server.

Measures an already-built database (the demo, or one built by ``bench/demo_build.py
--requests 1000000``): it starts ``tandem serve`` (gunicorn) on a free local port, signs in as
the lead of the busiest back-office unit, and times sequential requests to

- ``/queue/`` (first page and a later keyset page of the usual view, work to do first by what
  is due; a status filter; all statuses; oldest first), and
- ``/api/requests`` (first page, a later page, filters),

printing p50/p95/max in milliseconds per target and overall, plus the number of requests in
the database and the machine's load average (the machine may be shared).

``--clients N`` first makes the database a provider's serving N client organisations (once: a
front-office unit and an executive each, and every request made from a front-office unit
re-pointed to one of the clients' units in turn), then also times the queue filtered by one
client and, as one client's executive, their organisation's requests (page and API).

The database is chosen as Tandem chooses it: ``TANDEM_DATABASE_URL`` or SQLite in
``TANDEM_DATA_DIR``.

    TANDEM_DATA_DIR=/tmp/tandem-1m python bench/list_latency.py --samples 200
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_identity() -> tuple[str, str, str]:
    """The lead of the busiest back-office unit gets a bench password and a fresh API token."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.db.models import Count

    from tandem.org.models import ApiToken, Person, Role, Side, hash_token
    from tandem.work.models import ServiceRequest

    busiest = (
        ServiceRequest.objects.filter(is_open=True).values("unit_id").annotate(n=Count("id")).order_by("-n").first()
    )
    if busiest is None:
        sys.exit("The database holds no open requests: build the demo first (scripts/demo or bench/demo_build.py).")
    person = (
        Person.objects.filter(unit_id=busiest["unit_id"], unit__side=Side.BACK)
        .filter(role__in=[Role.LEAD, Role.MEMBER])
        .order_by("role")  # "lead" sorts before "member": the lead if there is one
        .select_related("user")
        .first()
    )
    assert person is not None
    person.user.set_password("bench-password")
    person.user.save(update_fields=["password"])
    raw = ApiToken.new_raw_key()
    ApiToken.objects.create(user=person.user, name="latency bench", prefix=raw[:8], key_hash=hash_token(raw))
    total = ServiceRequest.objects.count()
    print(f"database: {total:,} service requests; signed in as {person.user.username} ({person.unit.name})")
    return person.user.username, "bench-password", raw


def make_clients(count: int) -> tuple[int, str, str, str] | None:
    """N client organisations sharing the front office's requests; returns one client's id and
    its executive's username, password and API token."""
    if count <= 0:
        return None
    from django.db import transaction
    from django.db.models import F
    from django.db.models.functions import Mod

    from tandem.org.models import ApiToken, Organisation, Person, Role, Side, Unit, hash_token
    from tandem.work.models import ServiceRequest

    user_model = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
    with transaction.atomic():
        if Organisation.objects.count() < count:
            fronts = list(Unit.objects.filter(side=Side.FRONT, organisation__isnull=True).values_list("pk", flat=True))
            units = []
            for n in range(count):
                org = Organisation.objects.create(name=f"Bench client {n:02d}", slug=f"bench-client-{n:02d}")
                unit = Unit.objects.create(name=f"Bench client {n:02d} office", slug=f"bench-client-{n:02d}-office",
                                           side=Side.FRONT, organisation=org)
                user = user_model.objects.create_user(username=f"bench_client_{n:02d}", password="bench-password")
                Person.objects.create(user=user, unit=unit, role=Role.EXECUTIVE)
                units.append(unit.pk)
            made = ServiceRequest.objects.filter(requesting_unit_id__in=fronts).annotate(k=Mod(F("id"), count))
            for k, unit_id in enumerate(units):
                made.filter(k=k).update(requesting_unit_id=unit_id)
        person = Person.objects.select_related("user", "unit").get(user__username="bench_client_00")
        raw = ApiToken.new_raw_key()
        ApiToken.objects.create(user=person.user, name="latency bench", prefix=raw[:8], key_hash=hash_token(raw))
    clients = Organisation.objects.count()
    theirs = ServiceRequest.objects.filter(requesting_unit_id=person.unit_id).count()
    print(f"clients: {clients}; {person.user.username} is {person.unit.name}'s executive, {theirs:,} requests")
    return int(person.unit.organisation_id or 0), person.user.username, "bench-password", raw


def sign_in(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base + "/"})
    opener.open(request).read()
    return opener


def timed(
    opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str] | None = None
) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    start = time.perf_counter()
    with opener.open(request) as response:
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - start) * 1000, body


def summarise(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    row = {"p50": statistics.median(ordered), "p95": p95, "max": ordered[-1], "n": len(ordered)}
    print(
        f"{name:<42} n={len(ordered):>4}  p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  max {row['max']:7.1f} ms"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100, help="timed requests per target (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    parser.add_argument("--clients", type=int, default=0, help="serve this many client organisations (default 0)")
    args = parser.parse_args()

    username, password, token = prepare_identity()
    client = make_clients(args.clients)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tandem.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        opener = sign_in(base, username, password)
        auth = {"Authorization": f"Bearer {token}"}

        # Find a later keyset page to time, as someone paging through would reach it.
        _, first_api = timed(opener, base + "/api/requests?limit=50", auth)
        after = json.loads(first_api).get("next_after")
        _, first_queue = timed(opener, base + "/queue/")
        later_queue = re.search(r'href="\?([^"]*after=\d+[^"]*)"', first_queue.decode())
        targets = {
            "queue page: first page": (base + "/queue/", None),
            "queue page: next page": (base + "/queue/?" + later_queue.group(1).replace("&amp;", "&"), None)
            if later_queue
            else (base + "/queue/", None),
            "queue page: status=in_progress": (base + "/queue/?status=in_progress", None),
            "queue page: all statuses": (base + "/queue/?status=all", None),
            "queue page: oldest first": (base + "/queue/?sort=oldest", None),
            "api /api/requests: first page": (base + "/api/requests?limit=50", auth),
            "api /api/requests: next page": (base + f"/api/requests?limit=50&after={after}", auth),
            "api /api/requests: open=true": (base + "/api/requests?limit=50&open=true", auth),
            "api /api/requests: status=resolved": (base + "/api/requests?limit=50&status=resolved", auth),
        }
        client_opener = None
        if client is not None:
            org_id, client_user, client_password, client_token = client
            client_opener = sign_in(base, client_user, client_password)
            targets["queue page: one client"] = (base + f"/queue/?client={org_id}", None)
            targets["client: /requests/?whose=unit"] = (base + "/requests/?whose=unit", {"as": "client"})
            targets["client: /api/requests"] = (base + "/api/requests?limit=50",
                                                {"Authorization": f"Bearer {client_token}"})

        def timed_as(url: str, headers: dict[str, str] | None) -> tuple[float, bytes]:
            if headers == {"as": "client"}:
                assert client_opener is not None
                return timed(client_opener, url)
            return timed(opener, url, headers)

        for url, headers in targets.values():  # warm caches and workers
            for _ in range(5):
                timed_as(url, headers)
        results: dict[str, dict[str, float]] = {}
        all_queue: list[float] = []
        all_api: list[float] = []
        for name, (url, headers) in targets.items():
            samples = [timed_as(url, headers)[0] for _ in range(args.samples)]
            results[name] = summarise(name, samples)
            (all_queue if name.startswith(("queue", "client: /requests")) else all_api).extend(samples)
        results["queue page: all"] = summarise("queue page: all targets", all_queue)
        results["api list: all"] = summarise("request list API: all targets", all_api)
        load = os.getloadavg()
        print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
        if args.json:
            print(json.dumps(results, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
