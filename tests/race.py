"""Two workers calling the same duty at once, for the tests that prove a claim holds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def twice_at_once(duty: Callable[[], T]) -> list[T]:
    """``duty`` run by two callers: two threads started together on PostgreSQL, one after the
    other on SQLite (whose IMMEDIATE transactions serialise writers anyway, and whose in-memory
    test database is not shared between threads). Their results, in finishing order."""
    if connection.vendor != "postgresql":
        return [duty(), duty()]
    results: list[T] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(duty())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
