"""Pull mode under a real race: agents press "Take next" at the same instant through the HTTP API
of a real gunicorn (tests/stack.py), on SQLite or PostgreSQL, whichever the suite runs on.

What must hold: every answer is a 200 (a request taken) or a 409 with a message (nothing left);
no request is taken twice (one "assigned" event each, and its holder is the one it was given to);
as many requests are taken as there were, and the audit chains are intact.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from tests.stack import Stack, call

pytestmark = pytest.mark.slow

REQUESTS = 5
EXTRA_AGENTS = 6


def test_agents_taking_next_at_once_get_different_requests(stack: Stack) -> None:
    seed = stack.inside("seed", requests=REQUESTS, extra_agents=EXTRA_AGENTS)
    stack.start_server(workers=2, threads=4)
    status, body = call(stack.base_url, "POST", "/api/units/payroll/allocation-mode", seed["tokens"]["payroll_lead"],
                        {"mode": "pull"})
    assert status == 200 and body["mode"] == "pull", body
    racers = [name for name in seed["tokens"] if name.startswith("payroll_") and name != "payroll_lead"]
    assert len(racers) == EXTRA_AGENTS + 2 > REQUESTS
    outcomes: list[tuple[str, int, Any]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(racers))

    def agent(name: str) -> None:
        barrier.wait()
        status, body = call(stack.base_url, "POST", "/api/units/payroll/take-next", seed["tokens"][name])
        with lock:
            outcomes.append((name, status, body))

    threads = [threading.Thread(target=agent, args=(name,)) for name in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    codes = Counter(status for _, status, _ in outcomes)
    assert set(codes) <= {200, 409}, outcomes
    assert codes[200] == REQUESTS and codes[409] == len(racers) - REQUESTS, codes
    taken = {body["id"]: seed["people"][name] for name, status, body in outcomes if status == 200}
    assert sorted(taken) == sorted(seed["requests"])  # each request once, none twice
    for _, status, body in outcomes:
        if status == 409:
            assert "Nothing is left to take in Payroll's queue" in body["detail"], body

    report = stack.inside("report")
    assert report["problems"] == [] and report["audit"]["ok"], report
    for request_id, person_id in taken.items():
        got = report["requests"][str(request_id)]
        assert got["kinds"].count("assigned") == 1, got
        assert got["assignee"] == got["event_assignee"] == person_id, got
    print(f"{stack.vendor}: {len(racers)} agents took {codes[200]} requests, {codes[409]} told nothing was left")
