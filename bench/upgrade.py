"""An upgrade under load: the previous release serves the demo organisation while the new
release's migrations run against its database, then a rolling restart moves the traffic to the
new release. Counts every failed answer and the slowest ones in each phase.

    .venv/bin/python bench/upgrade.py                      # SQLite, from the release before the newest migration
    .venv/bin/python bench/upgrade.py --postgres           # a throwaway PostgreSQL cluster (scripts/postgres-cluster)
    .venv/bin/python bench/upgrade.py --from v0.3 --json   # from any git revision

What it does, in order:

1. ``git worktree`` checks out the old release (``--from``; by default the parent of the
   newest commit that added a migration) into a temporary folder.
2. The old release builds the demo organisation into a fresh database (``bench/demo_build.py``).
3. The old release's gunicorn serves it; ``--clients`` threads drive it (70 % reads: the
   request list and one request; 30 % writes: comments, each an event and a request update).
4. Phases, each timed and counted apart: ``before`` (old code, old schema), ``migrating`` (the
   new release's ``tandem migrate`` running), ``old on new`` (old code on the new schema: the
   expand/contract rule says this must work), ``rolling`` (a new-release gunicorn starts, the
   load balancer (the clients' list of backends) takes it in and drops the old one, which gets
   SIGTERM and finishes what it holds) and ``after`` (new code only).

A failed answer is a 5xx or a refused or dropped connection. The rule the figures check
(issue 7): no failed answer, and no phase where the service stops answering for more than a
few seconds (the longest answer in each phase).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import GUNICORN, PYTHON, _free_port, base_env, call  # noqa: E402

PHASES = ("before", "migrating", "old on new", "rolling", "after")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def default_from() -> str:
    """The parent of the newest commit that added a migration file."""
    newest = git("log", "-n1", "--format=%H", "--diff-filter=A", "--", "tandem/*/migrations/0*.py")
    return git("rev-parse", f"{newest}^")


@contextmanager
def worktree(ref: str, folder: Path) -> Iterator[Path]:
    path = folder / "old"
    git("worktree", "add", "--detach", str(path), ref)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))


@contextmanager
def database(use_postgres: bool, folder: Path) -> Iterator[str]:
    if not use_postgres:
        yield f"sqlite:///{folder / 'data' / 'tandem.sqlite3'}"
        return
    cluster = subprocess.run([str(ROOT / "scripts/postgres-cluster"), "start"], check=True, capture_output=True,
                             text=True).stdout.strip()
    try:
        yield subprocess.run([str(ROOT / "scripts/postgres-cluster"), "url", cluster], check=True,
                             capture_output=True, text=True).stdout.strip()
    finally:
        subprocess.run([str(ROOT / "scripts/postgres-cluster"), "stop", cluster], check=False)


def env_for(code: Path, url: str, data: Path) -> dict[str, str]:
    env = base_env(url, data)
    env["PYTHONPATH"] = str(code)  # before the editable install: this release's code wins
    env["TANDEM_CONN_MAX_AGE"] = "60"  # as in production: connections kept between requests
    return env


def run(code: Path, env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run([PYTHON, *args], cwd=code, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {code}:\n{done.stderr[-3000:]}")
    return done.stdout


FIND = """
import django, json; django.setup()
from tandem.org.models import Person
from tandem.work.models import ServiceRequest
sr = ServiceRequest.objects.filter(is_open=True, confidential=False).order_by("-pk").first()
mine = list(ServiceRequest.objects.filter(requester=sr.requester, is_open=True).values_list("pk", flat=True)[:50])
print(json.dumps({"username": sr.requester.user.username, "requests": mine}))
"""


class Server:
    def __init__(self, code: Path, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "ab") as out:
            # Sync workers, two per core, as docs/scaling.md advises for `tandem serve`:
            # gunicorn's gthread worker is unsafe to stop with SIGTERM while requests run.
            self.process = subprocess.Popen(
                [GUNICORN, "tandem.wsgi", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(2 * (os.cpu_count() or 1)), "--worker-class", "sync", "--timeout", "60",
                 "--graceful-timeout", "10", "--preload", "--log-level", "warning"],
                cwd=code, env=env, stdout=out, stderr=out, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}")
            try:
                if call(self.url, "GET", "/accounts/login/", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer; see {log}")

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting and finishes the requests it holds."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


class Load:
    """Client threads behind a minimal load balancer: each request goes to a random backend of
    the current list; a backend leaves the list before it is stopped."""

    def __init__(self, token: str, requests: list[int], clients: int) -> None:
        self.token, self.requests, self.clients = token, requests, clients
        self.backends: list[str] = []
        self.phase = PHASES[0]
        self.samples: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        i = 0
        while not self.stopping.is_set():
            i += 1
            rid = rng.choice(self.requests)
            if rng.random() < 0.7:
                args: tuple[Any, ...] = ("GET", rng.choice(["/api/requests?limit=20", f"/api/requests/{rid}"]),
                                         self.token, None)
            else:
                args = ("POST", f"/api/requests/{rid}/comments", self.token, {"body": f"upgrade check {n}-{i}"})
            backend = rng.choice(self.backends)
            phase = self.phase
            began = time.perf_counter()
            try:
                status, _ = call(backend, *args, timeout=60)
            except OSError:
                status = -1
            with self.lock:
                self.samples.append((phase, status, time.perf_counter() - began))

    def figures(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for phase in PHASES:
            rows = [s for s in self.samples if s[0] == phase]
            times = sorted(s[2] * 1000 for s in rows)
            failed = sum(1 for s in rows if s[1] == -1 or s[1] >= 500)
            out[phase] = {
                "requests": len(rows), "failed": failed,
                "p50_ms": round(times[len(times) // 2], 1) if times else None,
                "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 1) if times else None,
                "max_ms": round(times[-1], 1) if times else None,
                "answers": dict(sorted({str(s[1]): sum(1 for r in rows if r[1] == s[1]) for s in rows}.items())),
            }
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="ref", default="", help="the old release (git revision)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster instead of SQLite")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the phases without a step")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ref = args.ref or default_from()
    dirty = " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    figures: dict[str, Any] = {
        "from": git("rev-parse", "--short", ref), "to": git("rev-parse", "--short", "HEAD") + dirty,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
    }
    folder = Path(tempfile.mkdtemp(prefix="tandem-upgrade-"))
    servers: list[Server] = []
    try:
        with worktree(ref, folder) as old, database(args.postgres, folder) as url:
            data = folder / "data"
            data.mkdir()
            old_env, new_env = env_for(old, url, data), env_for(ROOT, url, data)
            began = time.perf_counter()
            run(old, old_env, "bench/demo_build.py", "--data-dir", str(data), "--json")
            figures["demo_build_seconds"] = round(time.perf_counter() - began, 1)
            found = json.loads(run(old, old_env, "-c", FIND))
            token = json.loads(run(old, old_env, "-m", "django", "createtoken", found["username"],
                                   "--name", "upgrade bench", "--json"))["token"]
            pending = run(ROOT, new_env, "-m", "django", "showmigrations", "--plan")
            figures["migrations"] = [line.split("]", 1)[1].strip() for line in pending.splitlines()
                                     if line.startswith("[ ]")]
            servers.append(Server(old, old_env, folder / "old.log"))
            load = Load(token, found["requests"], args.clients)
            load.backends = [servers[0].url]
            load.start()
            time.sleep(args.seconds)
            load.phase = "migrating"
            began = time.perf_counter()
            run(ROOT, new_env, "-m", "django", "migrate", "--no-input")
            figures["migrate_seconds"] = round(time.perf_counter() - began, 2)
            load.phase = "old on new"
            time.sleep(args.seconds)
            load.phase = "rolling"
            began = time.perf_counter()
            servers.append(Server(ROOT, new_env, folder / "new.log"))
            load.backends = [servers[0].url, servers[1].url]
            time.sleep(1.0)
            load.backends = [servers[1].url]
            time.sleep(0.5)  # requests already sent to the old backend are in its queue
            servers[0].stop()
            figures["rolling_seconds"] = round(time.perf_counter() - began, 2)
            load.phase = "after"
            time.sleep(args.seconds)
            load.stop()
            figures["database"] = "postgresql" if args.postgres else "sqlite"
            figures["phases"] = load.figures()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
        shutil.rmtree(folder, ignore_errors=True)
    failed = sum(p["failed"] for p in figures["phases"].values())
    figures["failed"] = failed
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"upgrade {figures['from']} → {figures['to']} on {figures['database']} ({figures['machine']})")
        print(f"migrations applied: {len(figures['migrations'])} ({', '.join(figures['migrations']) or 'none'})")
        print(f"migrate {figures['migrate_seconds']} s; rolling restart {figures['rolling_seconds']} s")
        print(f"{'phase':<12}{'requests':>9}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for phase, p in figures["phases"].items():
            print(f"{phase:<12}{p['requests']:>9}{p['failed']:>8}{p['p50_ms'] or 0:>9}{p['p99_ms'] or 0:>9}"
                  f"{p['max_ms'] or 0:>9}")
        print(f"failed answers in all: {failed} (target 0)")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
