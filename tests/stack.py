"""A real Tandem in separate processes, for tests that race or crash it: its own database, gunicorn
serving it, ``tandem worker`` beside it, and commands that run inside it.

    template = Template.create(tmp_dir)          # migrated once per session (migrations take ~8 s)
    stack = Stack(template, tmp_dir / "one")     # a fresh database copied from the template
    seed = stack.inside("seed", requests=5)     # the test cast, API tokens, submitted requests
    stack.start_server(workers=3, threads=4)
    status, body = call(stack.base_url, "POST", "/api/requests/1/start", seed["tokens"]["payroll_agent"])
    stack.kill_server()                          # SIGKILL to the whole process group: a crash
    report = stack.inside("report")              # the invariants, computed inside the stack

The database is a SQLite file when ``TANDEM_DATABASE_URL`` is unset, otherwise a new database on
the same PostgreSQL server (created from a migrated template, dropped at the end). The test
process never touches it through its own Django connection: pytest-django's SQLite test
database is in memory, and a server in another process cannot share that.

``python -m tests.stack seed|report|fire`` are the commands run inside the stack (JSON in on
stdin, JSON out on stdout); bench/crash.py uses the same pieces at a larger size.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
TANDEM = str(Path(sys.executable).parent / "tandem")


# --- databases ---------------------------------------------------------------------------------


def _pg_admin(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password or None,
        dbname=parts.path.lstrip("/") or "postgres", autocommit=True,
    )


def _with_db_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tandem.settings",
        TANDEM_DATABASE_URL=database_url,
        TANDEM_DATA_DIR=str(data_dir),
        TANDEM_LOG_LEVEL="ERROR",
        # Connections are not kept between requests: a killed server must not leave the next
        # one waiting on a stale connection, and the figures should include connecting.
        TANDEM_CONN_MAX_AGE="0",
        # The stack's webhook receivers listen on 127.0.0.1, which Tandem refuses by default.
        TANDEM_WEBHOOK_ALLOW_PRIVATE="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


class Template:
    """A migrated database that each Stack copies (SQLite: a file; PostgreSQL: CREATE DATABASE
    ... TEMPLATE)."""

    def __init__(self, url: str, server_url: str | None, folder: Path) -> None:
        self.url = url
        self.server_url = server_url  # PostgreSQL: the maintenance database to create others from
        self.folder = folder

    @property
    def vendor(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    @classmethod
    def create(cls, folder: Path) -> Template:
        folder.mkdir(parents=True, exist_ok=True)
        server_url = os.environ.get("TANDEM_DATABASE_URL") or None
        if server_url:
            name = f"stack_tpl_{uuid.uuid4().hex[:10]}"
            with _pg_admin(server_url) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = _with_db_name(server_url, name)
        else:
            url = f"sqlite:///{folder / 'template.sqlite3'}"
        template = cls(url, server_url, folder)
        subprocess.run(
            [TANDEM, "migrate", "--no-input", "-v", "0"], env=base_env(url, folder), check=True, cwd=REPO_ROOT,
            timeout=180,
        )
        if not server_url:
            # Fold the WAL into the main file, so that copying the file copies everything.
            with closing(sqlite3.connect(folder / "template.sqlite3")) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA journal_mode=DELETE")
        return template

    def copy(self, folder: Path) -> str:
        """A new database with the template's schema; its URL."""
        if self.server_url:
            name = f"stack_{uuid.uuid4().hex[:12]}"
            with _pg_admin(self.server_url) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{urlsplit(self.url).path.lstrip("/")}"')
            return _with_db_name(self.server_url, name)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.folder / "template.sqlite3", folder / "tandem.sqlite3")
        return f"sqlite:///{folder / 'tandem.sqlite3'}"

    def drop(self, url: str) -> None:
        if self.server_url:
            with _pg_admin(self.server_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self.url)


# --- the processes -----------------------------------------------------------------------------


class Stack:
    def __init__(self, template: Template, folder: Path) -> None:
        self.template = template
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.url = template.copy(folder)
        self.env = base_env(self.url, folder)
        self.port = 0
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @classmethod
    def sharing(cls, other: Stack, folder: Path) -> Stack:
        """A second set of processes on ``other``'s database: another app server (and worker)
        as a second machine behind a load balancer would run them."""
        made = cls.__new__(cls)
        made.template, made.folder = other.template, folder
        folder.mkdir(parents=True, exist_ok=True)
        made.url, made.env = other.url, {**other.env}
        made.port, made.server, made.worker = 0, None, None
        return made

    @property
    def vendor(self) -> str:
        return self.template.vendor

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inside(self, command: str, **arguments: Any) -> Any:
        """Run ``python -m tests.stack COMMAND`` against this stack's database; its JSON answer."""
        done = subprocess.run(
            [PYTHON, "-m", "tests.stack", command], input=json.dumps(arguments).encode(), env=self.env,
            cwd=REPO_ROOT, capture_output=True, timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tests.stack {command} failed:\n{done.stderr.decode(errors='replace')[-4000:]}")
        return json.loads(done.stdout)

    def dies_inside(self, command: str, **arguments: Any) -> int:
        """Run ``python -m tests.stack COMMAND`` that is meant to kill itself; its exit status."""
        done = subprocess.run(
            [PYTHON, "-m", "tests.stack", command], input=json.dumps(arguments).encode(), env=self.env,
            cwd=REPO_ROOT, capture_output=True, timeout=300,
        )
        return done.returncode

    def scalar(self, sql: str) -> Any:
        """One value by plain SQL, outside Django (e.g. to watch the worker's progress)."""
        if self.template.server_url:
            with _pg_admin(self.url) as conn:
                return conn.execute(sql).fetchone()[0]
        with closing(sqlite3.connect(self.folder / "tandem.sqlite3", timeout=20)) as db:
            return db.execute(sql).fetchone()[0]

    def tandem(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TANDEM, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
        )

    def start_server(self, *, workers: int = 2, threads: int = 4, wait: float = 30.0) -> None:
        """gunicorn on a free port, in its own process group (so a kill takes its workers too).

        ``threads=1`` runs sync workers, as ``tandem serve`` does: the shape to stop gracefully
        (``kill -HUP``, SIGTERM). More threads run gunicorn's gthread worker, for races inside
        one process; stop it with kill_server only. When a graceful stop outlasts its timeout,
        gunicorn 27's gthread worker closes its wake-up pipe while request threads still run,
        and their next wake-up byte goes to whatever file reused that descriptor number: in
        this stack, the SQLite file, whose header it zeroed (docs/scaling.md)."""
        self.port = self.port or _free_port()
        log = open(self.folder / "gunicorn.log", "ab")  # noqa: SIM115 - the child keeps it
        worker = ["--worker-class", "sync"] if threads == 1 else ["--worker-class", "gthread", "--threads", str(threads)]
        self.server = subprocess.Popen(
            [
                GUNICORN, "tandem.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), *worker,
                "--timeout", "60", "--graceful-timeout", "10", "--log-level", "warning",
                # Import Django once in the master and fork the workers from it: a restart
                # after a kill takes one import, not one per worker.
                "--preload",
            ],
            env=self.env, cwd=REPO_ROOT, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.server.returncode}; see {self.folder}/gunicorn.log")
            try:
                status, _ = call(self.base_url, "GET", "/accounts/login/", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {wait} s; see {self.folder}/gunicorn.log")

    def kill_server(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would."""
        if self.server is not None:
            _kill_group(self.server)
            self.server = None

    def start_worker(self, *, interval: float = 0.2) -> None:
        log = open(self.folder / "worker.log", "ab")  # noqa: SIM115 - the child keeps it
        self.worker = subprocess.Popen(
            [TANDEM, "worker", "--interval", str(interval)], env=self.env, cwd=REPO_ROOT, stdout=log,
            stderr=log, start_new_session=True,
        )
        log.close()

    def kill_worker(self) -> None:
        if self.worker is not None:
            _kill_group(self.worker)
            self.worker = None

    def close(self) -> None:
        self.kill_server()
        self.kill_worker()
        self.template.drop(self.url)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# --- HTTP, standard library only ----------------------------------------------------------------


def call(
    base_url: str,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One request on a new connection; (status, parsed JSON or text). Raises OSError when the
    server is not there or drops the connection, mid-answer included: a server killed while
    sending leaves a short body (http.client's IncompleteRead), which is the same drop to a
    client that retries."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        sent = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
        except http.client.HTTPException as error:  # RemoteDisconnected is an OSError already
            raise ConnectionError(f"{method} {path}: the answer was cut off ({error!r})") from error
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


# --- commands run inside the stack (python -m tests.stack ...) ----------------------------------


def _seed(
    requests: int = 0, extra_agents: int = 0, overdue: int = 0, subscribers: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The test cast, a token for each person, ``requests`` new timesheet requests, and
    ``overdue`` ones submitted two weeks ago (their agreement is breached: the worker's work).
    ``subscribers``: webhook addresses that want every new request, subscribed first."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from tandem.org.models import Role
    from tandem.org.tokens import issue_token
    from tandem.work.actions import submit_request
    from tests.cast import TIMESHEET_OK, build_cast, make_person

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding, not signing in
    cast = build_cast()
    people = {
        name: getattr(cast, name)
        for name in ("consultant", "colleague", "payroll_agent", "payroll_agent2", "payroll_lead", "hr_agent")
    }
    for i in range(extra_agents):
        people[f"payroll_extra{i}"] = make_person(f"payroll_extra{i}", cast.payroll, Role.MEMBER)
    tokens = {name: issue_token(p.user, "stack").raw for name, p in people.items()}
    from tandem.notifications.actions import add_subscriber

    secrets = {url: add_subscriber(None, name=f"receiver {i}", url=url, kinds=["submitted"]).secret
               for i, url in enumerate(subscribers)}
    ids = {name: p.pk for name, p in people.items()}
    made = [
        submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), title=f"race {i}").request.pk
        for i in range(requests)
    ]
    past = timezone.now() - timedelta(days=14)
    late = [
        submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), title=f"late {i}", now=past).request.pk
        for i in range(overdue)
    ]
    return {"tokens": tokens, "people": ids, "requests": made, "overdue": late, "service": cast.timesheet.slug,
            "secrets": secrets}


def _report() -> dict[str, Any]:
    """The invariants the race and crash tests check, computed by queries inside the stack."""
    from collections import Counter, defaultdict

    from django.core.management import call_command
    from django.db.models import Count

    from tandem.notifications.models import Notification
    from tandem.outbox.models import PENDING, Message
    from tandem.outbox.registry import consumer
    from tandem.promises.models import Promise
    from tandem.work.models import TRANSITIONS, Comment, Event, ServiceRequest

    problems: list[str] = []
    events: dict[int, list[tuple[int, str, str, str, Any, int | None]]] = defaultdict(list)
    for row in Event.objects.order_by("request_id", "seq").values_list(
        "request_id", "seq", "kind", "from_status", "to_status", "data", "actor_id"
    ):
        events[row[0]].append(row[1:])
    comments = Counter(Comment.objects.values_list("request_id", flat=True))
    requests = {}
    for sr in ServiceRequest.objects.values("id", "status", "assignee_id", "last_event_seq", "idempotency_key",
                                            "requester_id", "breached_at", "breach_warned_at", "title"):
        chain = events.get(sr["id"], [])
        seqs = [e[0] for e in chain]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"request {sr['id']}: event seqs {seqs} are not 1..n")
        if sr["last_event_seq"] != len(seqs):
            problems.append(f"request {sr['id']}: last_event_seq {sr['last_event_seq']} but {len(seqs)} events")
        status = "new"
        assignee = None
        for seq, kind, before, after, data, actor in chain:
            # Replay who holds the request: assigning names them, starting an unassigned
            # request gives it to whoever started it, unassigning empties it.
            if kind == "assigned":
                assignee = data.get("assignee")
            elif kind == "started" and assignee is None:
                assignee = actor
            elif kind == "unassigned":
                assignee = None
            if not after or seq == 1:
                continue
            if before != status:
                problems.append(f"request {sr['id']} event {seq}: moved from {before} but was {status}")
            if after not in TRANSITIONS[before]:
                problems.append(f"request {sr['id']} event {seq}: {before} -> {after} is not allowed")
            status = after
        if chain and status != sr["status"]:
            problems.append(f"request {sr['id']}: status {sr['status']} but its events end at {status}")
        requests[sr["id"]] = {
            "status": sr["status"], "assignee": sr["assignee_id"], "events": len(seqs),
            "kinds": [e[1] for e in chain], "event_assignee": assignee, "title": sr["title"],
            "comments": comments.get(sr["id"], 0),
            "breached": sr["breached_at"] is not None, "warned": sr["breach_warned_at"] is not None,
        }
    keys = Counter(
        (r, k) for r, k in ServiceRequest.objects.exclude(idempotency_key=None).values_list(
            "requester_id", "idempotency_key")
    )
    duplicated_keys = sorted(str(k) for (_, k), n in keys.items() if n > 1)
    notes = list(
        Notification.objects.filter(request__isnull=False)
        .values("request_id", "kind", "recipient_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    duplicated_notes = [n for n in notes if n["n"] > 1]
    sla_notes = Counter((n["request_id"], n["kind"]) for n in notes if n["kind"].startswith("sla_"))
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify-audit", "--json", stdout=out)
        audit = json.loads(out.getvalue())
    except SystemExit:
        audit = json.loads(out.getvalue() or '{"ok": false}')
    pending = Message.objects.filter(PENDING).values_list("consumer", flat=True)
    handled = Message.objects.filter(handled_at__isnull=False, attempts=1).values_list("created_at", "handled_at")
    from tandem.notifications.models import Delivery

    hooks = Counter(Delivery.objects.values_list("status", flat=True))
    return {
        "problems": problems,
        "hooks": {"pending": hooks["pending"], "delivered": hooks["delivered"], "failed": hooks["failed"],
                  "deliveries": sum(hooks.values())},
        "requests": {str(k): v for k, v in requests.items()},
        "promised": sorted(Promise.objects.values_list("request_id", flat=True)),
        # Reactions this release still owes (a consumer it does not know is not its to handle).
        "owed": sum(1 for name in pending if consumer(name) is not None),
        "failed": Message.objects.filter(failed_at__isnull=False, handled_at__isnull=True).count(),
        # Handled at the first attempt but not at once: the process that owed it died first.
        "recovered": sum(1 for made, done in handled if (done - made).total_seconds() > 0.5),
        "keys": sorted(str(k) for (_, k) in keys),
        "duplicated_keys": duplicated_keys,
        "duplicated_notifications": duplicated_notes,
        "sla_notifications": [[r, k] for (r, k) in sla_notes],
        "notified": sorted({(n["request_id"], n["kind"]) for n in notes}),
        "audit": audit,
    }


def _fire(start_at: float = 0.0, rounds: int = 1) -> dict[str, Any]:
    """Wait until ``start_at`` (a time.time()), then run the SLA duty ``rounds`` times."""
    from tandem.work.actions import fire_due_sla_alerts

    time.sleep(max(0.0, start_at - time.time()))
    warned = breached = 0
    for _ in range(rounds):
        w, b = fire_due_sla_alerts()
        warned, breached = warned + w, breached + b
    return {"warned": warned, "breached": breached}


def _die_after_commit(action: str) -> dict[str, Any]:
    """Commit one action, then die by SIGKILL before any of its reactions after the commit runs:
    a consumer that kills the process is first in line (consumers are handled in name order).
    ``submit``: a consultant submits (its promise is owed); ``breach``: the worker's duty alerts
    the overdue requests of the seed (their webhooks are owed)."""
    from tandem.org.models import Person
    from tandem.outbox.registry import subscribe
    from tandem.work import actions
    from tests.cast import TIMESHEET_OK

    subscribe("0-dies", ["request.*"], lambda message: os.kill(os.getpid(), signal.SIGKILL), in_transaction=False)
    if action == "submit":
        consultant = Person.objects.get(user__username="consultant")
        service = consultant.requests_made.first().service
        actions.submit_request(consultant, service, dict(TIMESHEET_OK), title="dies after commit")
    elif action == "breach":
        actions.fire_due_sla_alerts()
    return {"survived": True}  # never reached: the reaction kills the process


def _die_after_post() -> dict[str, Any]:
    """Send the due webhooks and die by SIGKILL right after the first receiver's answer, before
    the delivery is noted as delivered."""
    from tandem.notifications import sending

    post = sending.post

    def post_then_die(subscriber: Any, delivery: Any) -> Any:
        post(subscriber, delivery)
        os.kill(os.getpid(), signal.SIGKILL)

    sending.post = post_then_die  # type: ignore[assignment]
    sending.send_due()
    return {"survived": True}  # never reached


def _hook_ids() -> list[str]:
    """Every webhook delivery's X-Tandem-Delivery."""
    from tandem.notifications.models import Delivery

    return [str(u) for u in Delivery.objects.values_list("uuid", flat=True)]


def main() -> None:
    import django

    django.setup()
    command = sys.argv[1]
    arguments = json.loads(sys.stdin.read() or "{}")
    handler = {"seed": _seed, "report": _report, "fire": _fire, "die_after_commit": _die_after_commit,
               "die_after_post": _die_after_post, "hook_ids": _hook_ids}[command]
    json.dump(handler(**arguments), sys.stdout, default=str)


if __name__ == "__main__":
    main()
