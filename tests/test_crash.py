"""Crash without loss: gunicorn and ``tandem worker`` are killed with SIGKILL at seeded random
moments while clients submit with idempotency keys and retry until acknowledged.

Afterwards every acknowledged submission is stored exactly once under its key (none lost, none
doubled, and the id acknowledged is the request holding that submission), every request's
event log is whole (seq 1..n, allowed transitions, ``verify-audit`` passes), the breaches
the worker was handling when it died are logged once and told once, and every reaction a killed
process owed (a submission's promise, a breach's notifications) is handled by the next worker
round: none is lost (``tandem.outbox``).

The larger run is ``bench/crash.py``.
"""

from __future__ import annotations

import pytest

from tests import crashload
from tests.stack import Stack

pytestmark = pytest.mark.slow


def test_no_acknowledged_submission_is_lost_or_doubled_when_server_and_worker_are_killed(stack: Stack) -> None:
    overdue = 60
    seed = stack.inside("seed", overdue=overdue)
    result = crashload.run(stack, seed, submissions=200, server_kills=3, rng_seed=7)
    report = stack.inside("report")
    assert crashload.check(report, result, seed) == []
    assert result.server_kills == 3
    assert result.worker_kills == 1 and 0 < result.worker_killed_at < overdue, "the worker was not killed mid-round"
    assert result.dropped > 0, "no kill landed while clients were sending: the test proved nothing"
    assert crashload.missing_breach_notifications(report, seed) == []
    print(
        f"{stack.vendor}: {result.submissions} acknowledged in {result.seconds:.1f} s, {result.attempts} attempts, "
        f"{result.dropped} dropped, {result.server_errors} 5xx, {result.replays} replays; "
        f"restarts {', '.join(f'{s:.1f}' for s in result.restart_seconds)} s; "
        f"worker killed after {result.worker_killed_at} of {overdue} breaches; "
        f"{report['recovered']} reactions left owed by a killed process and handled later by a worker"
    )
