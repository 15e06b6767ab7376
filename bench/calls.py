"""What one API call costs in process: who am I, one request, the list of 20, a submission, a
comment and a transition (assign, then back to the queue), each through Django's test client on
a fresh database seeded with the test cast and 200 requests. No HTTP and no other process:
the CPU time of the application itself, the figure to compare before and after a change to
the code paths every call takes.

    .venv/bin/python bench/calls.py                       # SQLite in a temporary folder
    TANDEM_DATABASE_URL=postgres://... .venv/bin/python bench/calls.py
    .venv/bin/python bench/calls.py --calls 300 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per kind (default 200)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="tandem-calls-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ["TANDEM_DATA_DIR"] = folder
    os.environ.setdefault("TANDEM_LOG_LEVEL", "ERROR")
    postgres = bool(os.environ.get("TANDEM_DATABASE_URL"))
    if postgres:
        _fresh_postgres_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tests.stack import _seed

    seed = _seed(requests=200)
    client = Client()
    consultant = {"HTTP_AUTHORIZATION": f"Bearer {seed['tokens']['consultant']}"}
    agent = {"HTTP_AUTHORIZATION": f"Bearer {seed['tokens']['payroll_agent']}"}
    agent_id = seed["people"]["payroll_agent"]
    ids = list(seed["requests"])
    body = {"worker": "Ann Smith", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}
    counter = iter(range(10**9))

    def post(path: str, data: dict[str, Any], who: dict[str, str]) -> int:
        return client.post(path, json.dumps(data), content_type="application/json", **who).status_code

    kinds: dict[str, Callable[[], int]] = {
        "who am I": lambda: client.get("/api/me", **consultant).status_code,
        "one request": lambda: client.get(f"/api/requests/{ids[0]}", **consultant).status_code,
        "list of 20": lambda: client.get("/api/requests?limit=20", **consultant).status_code,
        "submission": lambda: post(
            "/api/requests", {"service": seed["service"], "title": f"bench {next(counter)}", "intake": body}, consultant
        ),
        "comment": lambda: post(f"/api/requests/{ids[1]}/comments", {"body": "A short note."}, consultant),
        "transition": lambda: _assign_and_return(post, ids[2 + next(counter) % 150], agent_id, agent),
    }
    results: dict[str, dict[str, float]] = {}
    for name, call in kinds.items():
        for _ in range(10):  # warm caches (books, calendars, prepared statements)
            _check(name, call())
        times = []
        for _ in range(args.calls):
            began = time.perf_counter()
            _check(name, call())
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        results[name] = {
            "mean_ms": statistics.fmean(times),
            "p50_ms": times[len(times) // 2],
            "p95_ms": times[int(len(times) * 0.95) - 1],
        }
    vendor = "PostgreSQL" if postgres else "SQLite"
    if args.json:
        print(json.dumps({"database": vendor, "calls": args.calls, "results": results}))
        return
    print(f"{vendor}, {args.calls} calls per kind, in process (ms):")
    print(f"{'call':<14} {'mean':>7} {'p50':>7} {'p95':>7}")
    for name, r in results.items():
        print(f"{name:<14} {r['mean_ms']:7.2f} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f}")


def _assign_and_return(post: Callable[[str, dict[str, Any], dict[str, str]], int], pk: int, agent_id: int,
                       agent: dict[str, str]) -> int:
    """Two moves, so that the request is back where it started: assign it, then unassign it."""
    status = post(f"/api/requests/{pk}/assign", {"assignee": agent_id}, agent)
    if status != 200:
        return status
    return post(f"/api/requests/{pk}/unassign", {}, agent)


def _check(name: str, status: int) -> None:
    if status not in (200, 201):
        raise SystemExit(f"{name} answered {status}: the benchmark measures successful calls only")


def _fresh_postgres_database() -> None:
    """A new empty database beside the one TANDEM_DATABASE_URL names, used instead of it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    url = os.environ["TANDEM_DATABASE_URL"]
    parts = urlsplit(url)
    name = f"tandem_calls_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["TANDEM_DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


if __name__ == "__main__":
    main()
