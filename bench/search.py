"""Latency of search across requests on an already-built database (the demo, or one built by
``bench/demo_build.py --requests 1000000``), as an ordinary agent and as a lead of the busiest
back-office unit.

Typical queries are drawn from the data itself, each from a different request the person may
see: a word of its title, its requester's surname, a value typed on its form, a word of one of
its comments, two words of a title, and its reference; and a word of the title of a request the
person may not see (another team's word: many matches, few or none of them visible). Each is
timed in-process through the search page (``/search/?q=``: the query, the snippets and the
template) with Django's test client, after a warm-up; the figures are p50/p95/max in milliseconds per kind and overall.

    TANDEM_DATA_DIR=/tmp/tandem-1m python bench/search.py --samples 40
    TANDEM_DATABASE_URL=postgres://... python bench/search.py --samples 40

``--grow-to N`` first copies the database's requests and their search documents (not their
events or comments, which search does not read) until it holds about N requests: each copy a
new request with its own reference, the same unit, requester, title, form and words. Building
a million-request history with ``bench/demo_build.py`` takes most of an hour on this machine;
copying the demo's 23,000 requests 43 times takes minutes and keeps the words' frequencies.

    python bench/demo_build.py --data-dir /tmp/search-1m
    TANDEM_DATA_DIR=/tmp/search-1m python bench/search.py --grow-to 1000000
"""

# ruff: noqa: S608  (the SQL names come from the models; no outside text reaches it)
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP = {"the", "and", "for", "with", "from", "this", "that", "have", "week", "please"}


def summarise(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    row = {"p50": statistics.median(ordered), "p95": p95, "max": ordered[-1], "n": len(ordered)}
    print(f"{name:<34} n={len(ordered):>4}  p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  "
          f"max {row['max']:7.1f} ms")
    return row


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{4,}", text or "") if w.lower() not in STOP]


def grow(target: int) -> None:
    """Copy the requests (ids 1..max) and their documents in rounds until about ``target``."""
    from django.db import connection, transaction

    from tandem.work.models import ServiceRequest

    table = ServiceRequest._meta.db_table
    columns = [f.column for f in ServiceRequest._meta.concrete_fields if f.column != "id"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id), count(*) FROM {table}")
        top, count = cursor.fetchone()
    base = top
    rounds = 0
    began = time.perf_counter()
    while count < target:
        rounds += 1
        offset = rounds * base
        picked = [("NULL" if c == "idempotency_key" else c) for c in columns]
        reference = ("'SR-' || printf('%06d', request_id + {o})" if connection.vendor == "sqlite"
                     else "'SR-' || lpad((request_id + {o})::text, 6, '0')").format(o=offset)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (id, {', '.join(columns)}) "
                           f"SELECT id + {offset}, {', '.join(picked)} FROM {table} WHERE id <= {base}")
            # The copy keeps the original's unit, requester and case, so its access keys too.
            cursor.execute("INSERT INTO search_searchdocument (request_id, heading, requester, payload, internal, "
                           f"access, indexed_at) SELECT request_id + {offset}, {reference} || substr(heading, 10), "
                           f"requester, payload, internal, access, indexed_at FROM search_searchdocument "
                           f"WHERE request_id <= {base}")
        count = ServiceRequest.objects.count()
        print(f"  copied round {rounds}: {count:,} requests ({time.perf_counter() - began:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            cursor.execute("ANALYZE")
        else:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            cursor.execute("ANALYZE")
    print(f"grown to {count:,} requests in {time.perf_counter() - began:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="queries of each kind per person (default 40)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    parser.add_argument("--grow-to", type=int, default=0, help="first copy the requests until about this many")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from tandem.org.models import Person, Role, Side
    from tandem.search.models import SearchDocument
    from tandem.work.models import ServiceRequest
    from tandem.work.queries import requests_visible_to

    settings.ALLOWED_HOSTS = ["*"]
    if args.grow_to:
        grow(args.grow_to)
    rng = random.Random(args.seed)
    busiest = ServiceRequest.objects.values("unit_id").annotate(n=Count("id")).order_by("-n").first()
    if busiest is None:
        sys.exit("The database holds no requests: build the demo first (scripts/demo or bench/demo_build.py).")
    total = ServiceRequest.objects.count()
    documents = SearchDocument.objects.count()
    print(f"database: {connection.vendor}, {total:,} service requests, {documents:,} search documents")
    people = {
        role: Person.objects.filter(unit_id=busiest["unit_id"], unit__side=Side.BACK, role=role)
        .select_related("user", "unit").first()
        for role in (Role.MEMBER, Role.LEAD)
    }
    results: dict[str, dict[str, float]] = {}
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    for role, person in people.items():
        if person is None:
            continue
        visible = requests_visible_to(person.user)
        top = visible.order_by("-pk").values_list("pk", flat=True)[:1].first() or 0
        ids = [rng.randint(1, top) for _ in range(args.samples * 20)]  # enough to find `samples` visible ones
        rows = list(visible.filter(pk__in=ids).select_related("requester__user")[: args.samples])
        queries: dict[str, list[str]] = {k: [] for k in ("title word", "two title words", "requester surname",
                                                          "form value", "form or comment word", "reference",
                                                          "another team's word")}
        # Words of requests the person may not see: common in other teams' requests, rare or
        # absent in theirs (the index must not walk every match to find the few visible).
        seen = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        hidden = ServiceRequest.objects.filter(pk__in=set(ids) - seen).values_list("title", flat=True)
        for title in list(hidden)[: args.samples]:
            if words(title):
                queries["another team's word"].append(rng.choice(words(title)))
        for sr in rows:
            title = words(sr.title)
            if title:
                queries["title word"].append(rng.choice(title))
            if len(title) >= 2:
                queries["two title words"].append(" ".join(title[:2]))
            name = sr.requester.user.last_name or sr.requester.user.username
            queries["requester surname"].append(name)
            values = [str(v) for v in (sr.intake or {}).values() if isinstance(v, str | int) and len(str(v)) >= 4]
            if values:
                queries["form value"].append(rng.choice(values)[:40])
            payload = SearchDocument.objects.filter(request=sr).values_list("payload", flat=True).first()
            if payload and words(payload):
                queries["form or comment word"].append(rng.choice(words(payload)))
            queries["reference"].append(sr.reference)
        client = Client()
        client.force_login(person.user)
        for kind in queries:  # warm-up
            for text in queries[kind][:3]:
                client.get("/search/", {"q": text})
        everything: list[float] = []
        label = f"{role} ({person.user.username})"
        print(f"-- as {label}: {visible.count() if total < 100_000 else 'many'} requests visible")
        for kind, texts in queries.items():
            samples = []
            for text in texts:
                began = time.perf_counter()
                response = client.get("/search/", {"q": text})
                samples.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    print(f"   {kind} {text!r}: HTTP {response.status_code}")
            if samples:
                results[f"{role}: {kind}"] = summarise(f"{role}: {kind}", samples)
                everything += samples
        results[f"{role}: all"] = summarise(f"{role}: all queries", everything)
        print(f"load average after the {role}: {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
