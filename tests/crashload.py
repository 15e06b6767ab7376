"""Crash without loss: submissions with idempotency keys against gunicorn, while the server and
the worker are killed with SIGKILL at seeded random moments and restarted. Used by
tests/test_crash.py (small) and bench/crash.py (large).

Each client takes submissions from a shared queue and sends each until it is acknowledged
(200 or 201), retrying with the same ``Idempotency-Key`` after a dropped connection or a 5xx,
as a nervous consultant pressing "send" again would.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.stack import Stack, call

TIMESHEET = {"worker": "Ann Smith", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}


@dataclass
class CrashRun:
    submissions: int
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> request id
    replays: int = 0  # acknowledged with 200: an earlier attempt had already been stored
    attempts: int = 0
    dropped: int = 0  # connection refused or reset, timeouts
    server_errors: int = 0  # 5xx
    refused: list[tuple[str, int, Any]] = field(default_factory=list)  # 4xx: must stay empty
    server_kills: int = 0
    worker_kills: int = 0
    worker_killed_at: int = 0  # breaches logged when the worker was killed
    restart_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _body(i: int) -> dict[str, Any]:
    return {"service": "timesheet-correction", "title": f"crash {i}", "intake": TIMESHEET}


def run(
    stack: Stack,
    seed: dict[str, Any],
    *,
    submissions: int,
    server_kills: int,
    clients: int = 8,
    rng_seed: int = 7,
    workers: int = 2,
    give_up_after: float = 120.0,
    kill_gap: tuple[float, float] = (0.2, 1.2),
) -> CrashRun:
    rng = random.Random(rng_seed)
    result = CrashRun(submissions=submissions)
    lock = threading.Lock()
    todo: queue.Queue[int] = queue.Queue()
    for i in range(submissions):
        todo.put(i)
    token = seed["tokens"]["consultant"]
    tag = f"{rng_seed}-{rng.getrandbits(32):08x}"
    began = time.monotonic()
    deadline = began + give_up_after

    def client() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            key = f"crash-{tag}-{i}"
            while time.monotonic() < deadline:
                try:
                    status, answer = call(
                        stack.base_url, "POST", "/api/requests", token, _body(i),
                        headers={"Idempotency-Key": key}, timeout=30,
                    )
                except OSError:  # refused, reset, or the server died mid-answer
                    status, answer = -1, None
                with lock:
                    result.attempts += 1
                    if status in (200, 201):
                        result.acknowledged[key] = answer["id"]
                        result.replays += status == 200
                    elif status == -1:
                        result.dropped += 1
                    elif status >= 500:
                        result.server_errors += 1
                    else:
                        result.refused.append((key, status, answer))
                if status in (200, 201) or 400 <= status < 500:
                    break
                time.sleep(0.05)

    stack.start_server(workers=workers, threads=4)
    stack.start_worker(interval=0.2)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()

    worker_killer = threading.Thread(target=_kill_worker_mid_round, args=(stack, seed, result, deadline))
    worker_killer.start()

    # The server killer: at seeded random moments, SIGKILL the whole server (master and
    # workers at once) and start a new one.
    for _ in range(server_kills):
        time.sleep(rng.uniform(*kill_gap))
        stack.kill_server()
        result.server_kills += 1
        time.sleep(rng.uniform(0.0, 0.3))  # down for a moment: clients get refused
        restarted = time.monotonic()
        stack.start_server(workers=workers, threads=4)
        result.restart_seconds.append(time.monotonic() - restarted)
    worker_killer.join(timeout=max(1.0, deadline - time.monotonic()))
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    result.seconds = time.monotonic() - began
    # Let the restarted worker finish what the killed one left, then stop it for good.
    overdue = len(seed.get("overdue", []))
    while stack.scalar(BREACH_EVENTS) < overdue and time.monotonic() < deadline:
        time.sleep(0.1)
    stack.kill_worker()
    stack.kill_server()
    # One worker round for what the last kills left owed (committed changes whose reactions had
    # not run), as the next worker to start would.
    settled = stack.tandem("worker", "--once")
    if settled.returncode != 0:
        raise RuntimeError(f"tandem worker --once failed:\n{settled.stderr[-2000:]}")
    return result


BREACH_EVENTS = "SELECT COUNT(*) FROM work_event WHERE kind = 'sla_breached'"


def _kill_worker_mid_round(stack: Stack, seed: dict[str, Any], result: CrashRun, deadline: float) -> None:
    """SIGKILL the worker while it is half-way through the overdue requests (some breaches
    logged, not all), then start another: it must finish the rest without repeating any."""
    overdue = len(seed.get("overdue", []))
    while overdue and time.monotonic() < deadline:
        done = stack.scalar(BREACH_EVENTS)
        if 0 < done < overdue:
            stack.kill_worker()
            result.worker_kills += 1
            result.worker_killed_at = done
            stack.start_worker(interval=0.2)
            return
        if done >= overdue:
            return  # too quick to catch mid-round; the caller's check says so
        time.sleep(0.005)


def check(report: dict[str, Any], result: CrashRun, seed: dict[str, Any]) -> list[str]:
    """What must hold after the run; an empty list when all does."""
    problems = list(report["problems"])
    if not report["audit"].get("ok"):
        problems.append(f"verify-audit: {report['audit']}")
    if result.refused:
        problems.append(f"{len(result.refused)} submissions refused, e.g. {result.refused[:3]}")
    if len(result.acknowledged) != result.submissions:
        problems.append(
            f"only {len(result.acknowledged)} of {result.submissions} submissions acknowledged in "
            f"{result.seconds:.0f} s ({result.attempts} attempts, {result.dropped} dropped, "
            f"{result.server_errors} 5xx, restarts {[round(s, 1) for s in result.restart_seconds]} s)"
        )
    if report["duplicated_keys"]:
        problems.append(f"idempotency keys stored twice: {report['duplicated_keys'][:5]}")
    stored = {k for k in report["keys"] if k.startswith("crash-")}
    lost = set(result.acknowledged) - stored
    if lost:
        problems.append(f"acknowledged but not stored: {sorted(lost)[:5]}")
    titles = {rid: r["title"] for rid, r in report["requests"].items()}
    for key, request_id in result.acknowledged.items():
        if titles.get(str(request_id)) != f"crash {key.rsplit('-', 1)[1]}":
            problems.append(f"{key} was acknowledged as request {request_id}, which holds something else")
            break
    if report["duplicated_notifications"]:
        problems.append(f"notifications sent twice: {report['duplicated_notifications'][:5]}")
    unpromised = {str(r) for r in result.acknowledged.values()} - set(map(str, report["promised"]))
    if unpromised:
        problems.append(f"{len(unpromised)} acknowledged requests have no promise, e.g. {sorted(unpromised)[:5]}")
    if report["owed"] or report["failed"]:
        problems.append(f"reactions still owed after a worker round: {report['owed']} pending, {report['failed']} failed")
    for request_id in seed.get("overdue", []):
        got = report["requests"][str(request_id)]
        if got["kinds"].count("sla_breached") != 1:
            problems.append(f"overdue request {request_id} has {got['kinds'].count('sla_breached')} breach events")
    return problems


def missing_breach_notifications(report: dict[str, Any], seed: dict[str, Any]) -> list[int]:
    """Overdue requests whose breach was logged but nobody was told (a crash between the two)."""
    told = {r for r, kind in report["sla_notifications"] if kind == "sla_breached"}
    return [r for r in seed.get("overdue", []) if r not in told]
