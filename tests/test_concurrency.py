"""Concurrency: 50 clients at once, through the HTTP API of a real gunicorn, racing to assign,
start, comment on and resolve the same few requests; and several workers racing on the same
breached agreements.

The server runs in other processes on a database of its own (tests/stack.py): a SQLite file or a
PostgreSQL database, whichever the suite runs on. pytest-django's live_server is not used: on
SQLite its test database is in memory and Django hands every server thread the *same*
connection, so "concurrent" transactions would interleave on one connection instead of racing.

What must hold afterwards, on both databases:
- no answer is a 5xx; every refusal is a 403, 409 or 422 with a message (`detail`);
- each request's events are numbered 1..n with no gap or repeat, ``last_event_seq`` is n, every
  status change is one ``TRANSITIONS`` allows, from the status the previous event left;
- every acknowledged move left exactly one event (and every comment one row): none lost, none
  doubled; the holder replayed from the events is the holder stored, and one of the racers;
- ``tandem verify-audit`` finds every hash chain intact.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests.stack import Stack, call

pytestmark = pytest.mark.slow

CLIENTS = 50
REQUESTS = 4
REFUSALS = {403, 409, 422}
MOVE_EVENT = {"assign": "assigned", "start": "started", "comment": "commented", "resolve": "resolved"}


def _script(name: str, person_id: int, lead_target: int | None, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The moves one client tries, in order, on its request: pick it (a lead hands it to someone),
    start it, comment, resolve it."""
    assignee: int | str = lead_target if lead_target is not None else "me"
    return [
        ("assign", "assign", {"assignee": assignee}),
        ("start", "start", {}),
        ("comment", "comments", {"body": f"{name} was here ({n})"}),
        ("resolve", "resolve", {"resolution": f"Done by {name} ({n})."}),
    ]


def _race(stack: Stack, seed: dict[str, Any]) -> list[tuple[int, str, str, int, Any]]:
    racers = [name for name in seed["tokens"] if name.startswith("payroll_")]
    outcomes: list[tuple[int, str, str, int, Any]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        name = racers[n % len(racers)]
        request_id = seed["requests"][n % REQUESTS]
        agents = [seed["people"][r] for r in racers if r != "payroll_lead"]
        lead_target = agents[n % len(agents)] if name == "payroll_lead" else None
        barrier.wait()
        for op, path, body in _script(name, seed["people"][name], lead_target, n):
            try:
                status, answer = call(
                    stack.base_url, "POST", f"/api/requests/{request_id}/{path}", seed["tokens"][name], body,
                    timeout=60,
                )
            except OSError as error:  # recorded, and the test fails on it below
                status, answer = -1, repr(error)
            with lock:
                outcomes.append((request_id, op, name, status, answer))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return outcomes


@pytest.mark.parametrize(
    ("workers", "threads"),
    [pytest.param(1, 16, id="one-process-16-threads"), pytest.param(3, 4, id="three-processes")],
)
def test_it_keeps_one_true_story_per_request_when_50_clients_race(stack: Stack, workers: int, threads: int) -> None:
    seed = stack.inside("seed", requests=REQUESTS, extra_agents=5)
    stack.start_server(workers=workers, threads=threads)
    began = time.monotonic()
    outcomes = _race(stack, seed)
    seconds = time.monotonic() - began
    assert len(outcomes) == CLIENTS * 4

    codes = Counter(status for *_, status, _ in outcomes)
    broken = [o for o in outcomes if o[3] not in {200, 201} | REFUSALS]
    assert not broken, f"answers other than 2xx/403/409/422: {broken[:5]} (all: {codes})"
    wordless = [o for o in outcomes if o[3] in REFUSALS and not (isinstance(o[4], dict) and o[4].get("detail"))]
    assert not wordless, f"refusals without a message: {wordless[:5]}"
    assert codes[200] + codes[201] >= REQUESTS * 3, f"too few moves got through to prove anything: {codes}"

    report = stack.inside("report")
    assert report["problems"] == []
    assert report["audit"]["ok"], report["audit"]
    racer_ids = {seed["people"][name] for name in seed["tokens"] if name.startswith("payroll_")}
    for request_id in seed["requests"]:
        got = report["requests"][str(request_id)]
        # Every acknowledged move is in the log exactly once; refused ones left nothing.
        acknowledged = Counter(op for r, op, _, status, _ in outcomes if r == request_id and status in (200, 201))
        in_log = Counter(got["kinds"])
        for op, kind in MOVE_EVENT.items():
            assert in_log[kind] == acknowledged[op], (request_id, op, acknowledged, in_log)
        assert got["comments"] == acknowledged["comment"]
        assert in_log["submitted"] == 1
        assert in_log["resolved"] <= 1  # a resolved request cannot be resolved again
        assert got["assignee"] in racer_ids, got
        assert got["event_assignee"] == got["assignee"], got
        assert got["status"] in {"assigned", "in_progress", "resolved"}, got
    print(f"{stack.vendor}, {workers} x {threads}: {len(outcomes)} calls in {seconds:.1f} s, answers {dict(codes)}")


def test_workers_racing_on_the_same_breaches_notify_once(stack: Stack) -> None:
    """Three processes run the breach duty at the same instant over 20 overdue requests: each
    breach is claimed once, logged once, and every person concerned is told once."""
    overdue = 20
    seed = stack.inside("seed", overdue=overdue)
    processes = 3
    start_at = time.time() + 4.0  # after every process has imported Django
    results: list[dict[str, Any]] = []

    def fire() -> None:
        results.append(stack.inside("fire", start_at=start_at, rounds=2))

    threads = [threading.Thread(target=fire) for _ in range(processes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == processes
    assert sum(r["breached"] for r in results) == overdue, results

    report = stack.inside("report")
    assert report["problems"] == [] and report["audit"]["ok"], report
    assert report["duplicated_notifications"] == []
    told = Counter(kind for _, kind in report["sla_notifications"])
    assert told["sla_breached"] == overdue  # every breach told (to its lead, requester, ...) once
    for request_id in seed["overdue"]:
        got = report["requests"][str(request_id)]
        assert got["breached"] and got["kinds"].count("sla_breached") == 1, got
