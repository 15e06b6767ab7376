"""Availability while operating: a rolling restart of the app servers under load fails no
request, and two app servers with two workers on one database behave as one.

Both run real gunicorn and `tandem worker` processes (tests/stack.py) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cast import TIMESHEET_OK
from tests.stack import Stack, Template, call

pytestmark = pytest.mark.slow

CLIENTS = 8


class Load:
    """Clients that read the request list and submit (each submission with its own idempotency
    key) against the given servers in turn, until stopped; every answer is recorded."""

    def __init__(self, base_urls: list[str], seed: dict[str, Any], tag: str) -> None:
        self.base_urls, self.seed, self.tag = base_urls, seed, tag
        self.results: list[tuple[str, int, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]
        for t in self._threads:
            t.start()

    def _client(self, n: int) -> None:
        token, i = self.seed["tokens"]["consultant"], 0
        while not self._stop.is_set():
            i += 1
            base = self.base_urls[(n + i) % len(self.base_urls)]
            if i % 3:
                op, method, path, body = "read", "GET", "/api/requests?limit=20", None
            else:
                op, method, path = "write", "POST", "/api/requests"
                body = {"service": self.seed["service"], "intake": dict(TIMESHEET_OK), "title": f"{self.tag} {n}-{i}"}
            try:
                status, answer = call(base, method, path, token, body,
                                      headers={"Idempotency-Key": f"{self.tag}-{n}-{i}"}, timeout=30)
            except OSError as error:
                status, answer = -1, repr(error)
            with self._lock:
                self.results.append((op, status, answer))

    def answered(self, *, writes: int, reads: int) -> bool:
        with self._lock:
            ops = Counter(op for op, _, _ in self.results)
        return ops["write"] >= writes and ops["read"] >= reads

    def stop(self) -> list[tuple[str, int, Any]]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        return self.results


def test_a_rolling_restart_under_load_fails_no_request(stack: Stack) -> None:
    seed = stack.inside("seed")
    stack.start_server(workers=2, threads=1)  # as `tandem serve` runs it
    assert stack.server is not None
    load = Load([stack.base_url], seed, "hup")
    time.sleep(1.0)
    for _ in range(3):  # gunicorn's rolling restart: new workers start, the old ones finish and go
        os.kill(stack.server.pid, signal.SIGHUP)
        time.sleep(2.5)
    # Enough answers to mean something, however slow the machine: the clients kept calling
    # through the restarts; on a busy machine they need longer to reach the counts below.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not load.answered(writes=10, reads=20):
        time.sleep(0.5)
    results = load.stop()
    codes = Counter(status for _, status, _ in results)
    failed = [r for r in results if r[1] not in (200, 201)]
    assert not failed, f"{len(failed)} of {len(results)} answers failed during the restarts: {failed[:3]} ({codes})"
    assert codes[201] >= 10 and codes[200] >= 20, codes
    report = stack.inside("report")
    assert report["problems"] == [] and report["audit"]["ok"] and report["duplicated_keys"] == []


def test_two_app_servers_and_two_workers_on_one_database(stack_template: Template, tmp_path: Path) -> None:
    first = Stack(stack_template, tmp_path / "first")
    second = Stack.sharing(first, tmp_path / "second")
    try:
        seed = first.inside("seed", overdue=10)
        first.start_server(workers=2, threads=4)
        second.start_server(workers=2, threads=4)
        assert first.port != second.port
        first.start_worker(interval=0.2)
        second.start_worker(interval=0.2)
        load = Load([first.base_url, second.base_url], seed, "two")
        time.sleep(6.0)
        results = load.stop()
        failed = [r for r in results if r[1] not in (200, 201)]
        assert not failed, failed[:3]
        breached = "SELECT COUNT(*) FROM work_servicerequest WHERE breached_at IS NOT NULL"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.scalar(breached) < len(seed["overdue"]):
            time.sleep(0.5)
        report = first.inside("report")
        assert report["problems"] == [] and report["audit"]["ok"], report["problems"][:3]
        assert report["duplicated_keys"] == [] and report["duplicated_notifications"] == []
        late = [report["requests"][str(pk)] for pk in seed["overdue"]]
        assert all(r["breached"] for r in late)
        told = Counter(tuple(x) for x in report["sla_notifications"])
        assert all(told[(pk, "sla_breached")] == 1 for pk in seed["overdue"]), told
    finally:
        second.kill_server()
        second.kill_worker()
        first.close()
