"""Sustained mixed load against gunicorn: 70 % reads, 30 % writes (submit, comment, transition).

Clients in this process (threads, each keeping its HTTP connection as a browser does) drive a
real gunicorn, shaped as `tandem serve` runs it (sync workers, two per core), on a fresh
database (SQLite in a temporary folder, or PostgreSQL when TANDEM_DATABASE_URL points at a
server), for --seconds, and print throughput, p50/p95/p99 and errors. Beside it, the
database's raw single-row insert rate on the same machine in the same run (pgbench on
PostgreSQL; a loop of one-row committed INSERTs on SQLite), and the submission rate as a share
of it.

    .venv/bin/python bench/load.py                               # SQLite, 60 s
    TANDEM_DATABASE_URL=postgres://... .venv/bin/python bench/load.py --seconds 600
    .venv/bin/python bench/load.py --clients 32 --workers 3 --threads 8 --json   # gthread workers

The clients share the machine's cores with the server: on a 2-core machine they take a good part
of them, so the figures are a floor for the server alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.stack import Stack, Template, call

# The cast's timesheet intake (tests/cast.py; not imported: that needs Django set up here).
TIMESHEET_OK = {"worker": "Ann Smith", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}


def raw_insert_rate(stack: Stack, seconds: float = 10.0) -> float:
    """Single-row committed inserts per second into the same database, outside the application."""
    if stack.template.server_url:
        pgbench = shutil.which("pgbench") or next(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), None)
        if pgbench is None:
            return float("nan")
        parts = urlsplit(stack.url)
        env = {**os.environ, "PGPASSWORD": parts.password or ""}
        target = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "",
                  parts.path.lstrip("/")]
        script = Path(stack.folder) / "insert.sql"
        script.write_text("INSERT INTO bench_rows (v) VALUES (1);\n")
        subprocess.run(["psql", *target[:-1], "-d", target[-1], "-c",
                        "CREATE TABLE IF NOT EXISTS bench_rows (id bigserial primary key, v int)"],
                       env=env, check=True, capture_output=True)
        done = subprocess.run([str(pgbench), "-n", "-c", "4", "-j", "2", "-T", str(int(seconds)), "-f",
                               str(script), *target], env=env, capture_output=True, text=True, check=True)
        for line in done.stdout.splitlines():
            if line.startswith("tps"):
                return float(line.split("=")[1].split()[0])
        return float("nan")
    path = Path(stack.folder) / "tandem.sqlite3"
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, v INTEGER)")
        n, began = 0, time.monotonic()
        while time.monotonic() - began < seconds:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO bench_rows (v) VALUES (1)")
            db.execute("COMMIT")
            n += 1
        return n / (time.monotonic() - began)


class KeptConnection:
    """One client's connection, kept open between requests as a browser or a load balancer
    keeps it (HTTP/1.1 keep-alive), and opened again when the server closed it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, token: str, body: Any, headers: dict[str, str]) -> int:
        sent = {"Accept": "application/json", "Authorization": f"Bearer {token}", **headers}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=sent)
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle kept connection just as it was reused: open a new
                # one once (every request carries an idempotency key, so a resend is safe).
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run(
    stack: Stack, seed: dict[str, Any], *, seconds: float, clients: int, keep_alive: bool = True
) -> dict[str, Any]:
    stop = threading.Event()
    samples: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    token = seed["tokens"]["consultant"]
    agent = seed["tokens"]["payroll_agent"]
    open_ids = list(seed["requests"])

    def client(n: int) -> None:
        rng = random.Random(n)
        kept = KeptConnection(stack.base_url) if keep_alive else None
        i = 0
        while not stop.is_set():
            i += 1
            roll = rng.random()
            if roll < 0.7:
                path = rng.choice(["/api/requests?limit=20", f"/api/requests/{rng.choice(open_ids)}"])
                kind, args = "read", ("GET", path, token, None)
            elif roll < 0.85:
                kind = "submit"
                body = {"service": seed["service"], "intake": dict(TIMESHEET_OK), "title": f"load {n}-{i}"}
                args = ("POST", "/api/requests", token, body)
            elif roll < 0.95:
                kind, args = "comment", ("POST", f"/api/requests/{rng.choice(open_ids)}/comments", token,
                                         {"body": f"note {n}-{i}"})
            else:
                kind, args = "transition", ("POST", f"/api/requests/{rng.choice(open_ids)}/assign", agent,
                                            {"assignee": "me"})
            began = time.perf_counter()
            headers = {"Idempotency-Key": f"load-{n}-{i}"}
            try:
                if kept is not None:
                    status = kept.call(*args, headers)
                else:
                    status, _ = call(stack.base_url, *args, headers=headers, timeout=30)
            except (OSError, http.client.HTTPException):
                status = -1
            with lock:
                samples.append((kind, status, time.perf_counter() - began))
        if kept is not None:
            kept.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.monotonic() - began
    latencies = sorted(s[2] * 1000 for s in samples)
    codes = Counter(s[1] for s in samples)
    errors = sum(n for code, n in codes.items() if code == -1 or code >= 500)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else float("nan")

    submits = sum(1 for s in samples if s[0] == "submit" and s[1] in (200, 201))
    by_kind = {}
    for kind in ("read", "submit", "comment", "transition"):
        times = sorted(s[2] * 1000 for s in samples if s[0] == kind)
        if times:
            by_kind[kind] = {"n": len(times), "p50_ms": round(times[len(times) // 2], 1),
                             "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
    return {
        "requests": len(samples), "seconds": round(elapsed, 1), "per_second": round(len(samples) / elapsed, 1),
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else float("nan"),
        "errors": errors, "answers": {str(k): v for k, v in sorted(codes.items())},
        "submissions_per_second": round(submits / elapsed, 1), "by_kind": by_kind,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                        help="gunicorn worker processes (default two per core, as docs/scaling.md advises)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (default 1: sync workers, as `tandem serve` runs; "
                        "more runs gunicorn's gthread worker)")
    parser.add_argument("--conn-max-age", type=int, default=60,
                        help="TANDEM_CONN_MAX_AGE of the server: seconds a database connection is kept "
                        "(default 60, the product's default; 0 opens one per request)")
    parser.add_argument("--no-keep-alive", action="store_true",
                        help="open a new HTTP connection for every request instead of keeping one per client")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server, e.g. TANDEM_PG_PREPARED_STATEMENTS=off (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-load-") as folder:
        template = Template.create(Path(folder) / "template")
        stack = Stack(template, Path(folder) / "stack")
        try:
            seed = stack.inside("seed", requests=40)
            stack.env["TANDEM_CONN_MAX_AGE"] = str(args.conn_max_age)
            stack.env.update(item.split("=", 1) for item in args.server_env)
            stack.start_server(workers=args.workers, threads=args.threads)
            figures = run(stack, seed, seconds=args.seconds, clients=args.clients,
                          keep_alive=not args.no_keep_alive)
            stack.kill_server()
            raw = raw_insert_rate(stack)
        finally:
            stack.close()
            template.close()
    figures.update(database=stack.vendor, clients=args.clients, workers=args.workers, threads=args.threads,
                   conn_max_age=args.conn_max_age, keep_alive=not args.no_keep_alive, server_env=args.server_env,
                   raw_inserts_per_second=round(raw, 1),
                   submissions_share_of_raw=round(figures["submissions_per_second"] / raw, 4) if raw == raw else None)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:28} {value}")
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
