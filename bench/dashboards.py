"""Dashboard latency on a big history in PostgreSQL.

Builds (or reuses) a PostgreSQL database of about ``--requests`` service requests (default
1,000,000) with ``bench/demo_build.py``, tops its event log up to about
``--events-per-request`` events per request (default 10) with internal notes appended to each
request's history (hash chains, comments and ``last_event_seq`` kept consistent), rebuilds the
materialised weekly rows (``WeeklyFlow``) in full and as the worker does (this week and last),
and times them. Then it starts ``tandem serve`` (gunicorn) and times every dashboard page and
API for an executive, the lead of the busiest back-office unit and a front-office lead: the
evidence dashboard with and without filters and its CSV downloads, a service's flow, the
executive page, the promises report and the pulse results, plus ``getEvidence``/``getFlow``.
It prints p50/p95/max per target beside the 300 ms target.

The database: ``TANDEM_DATABASE_URL`` if set (an empty database is built, a built one reused),
else a throwaway cluster from ``scripts/postgres-cluster`` (``--keep-cluster`` leaves it
running and prints its URL, for reuse).

    python bench/dashboards.py --requests 100000
    TANDEM_DATABASE_URL=postgres://… python bench/dashboards.py --requests 1000000 --samples 30
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from list_latency import free_port, sign_in, summarise, timed  # noqa: E402

TARGET_MS = 300.0
NOTE_BATCH = 20_000  # requests per top-up batch


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests to build (default 1,000,000)")
    parser.add_argument("--events-per-request", type=float, default=10.0,
                        help="top the event log up to about this many events per request (default 10; 0: no top-up)")
    parser.add_argument("--data-dir", default="", help="TANDEM_DATA_DIR to use (default: a temporary folder)")
    parser.add_argument("--samples", type=int, default=30, help="timed requests per target (default 30)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per target first (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the throwaway cluster running")
    parser.add_argument("--skip-rebuild", action="store_true",
                        help="skip the full rebuild of the weekly rows (the build times one)")
    parser.add_argument("--json", default="", help="also write the figures as JSON to this file")
    parser.add_argument("--only", default="", help="time only the pages whose name contains this (e.g. 'pulse')")
    return parser.parse_args()


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout.strip()


# --- the database ---------------------------------------------------------------------------------


def build(requests: int, data_dir: str) -> dict[str, object]:
    """Run bench/demo_build.py into the (empty) database; its figures."""
    print(f"building about {requests:,} requests (bench/demo_build.py)…", flush=True)
    began = time.perf_counter()
    out = run([sys.executable, str(ROOT / "bench" / "demo_build.py"), "--requests", str(requests),
               "--data-dir", data_dir, "--json"], env=dict(os.environ))
    figures: dict[str, object] = json.loads(out[out.index("{"):])
    figures["wall_seconds"] = round(time.perf_counter() - began, 1)
    print(f"built in {figures['wall_seconds']} s", flush=True)
    return figures


def top_up_events(per_request: float) -> dict[str, float]:
    """Append internal notes to every request until the log holds about ``per_request`` events
    per request, as ``add_note`` would have written them: a comment (internal), a
    ``note_added`` event chained onto the request's last hash, ``last_event_seq`` moved on.
    Written with COPY (PostgreSQL), batch by batch of requests."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from tandem.demo.texts import NOTES
    from tandem.engines.auditchain import event_digest
    from tandem.org.models import Person, Role
    from tandem.work.models import Comment, Event, ServiceRequest

    n_requests = ServiceRequest.objects.count()
    n_events = Event.objects.count()
    extra = max(0, math.floor(per_request - n_events / max(n_requests, 1) + 0.5))
    if extra == 0:
        return {"notes_per_request": 0, "seconds": 0.0}
    print(f"{n_events:,} events for {n_requests:,} requests: appending {extra} notes per request…", flush=True)
    began = time.perf_counter()
    texts = [t for group in NOTES.values() for t in group]
    lead_of: dict[int, int] = {}
    for pk, unit_id, role in Person.objects.values_list("pk", "unit_id", "role").order_by("pk"):
        if unit_id not in lead_of or role == Role.LEAD:
            lead_of[unit_id] = pk
    now = timezone.now()
    next_comment = (Comment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    event_cols = "request_id, seq, kind, actor_id, at, from_status, to_status, internal, data, prev_hash, hash"
    comment_cols = "id, request_id, author_id, body, visibility, addressed_to_id, is_advice, created_at"
    newest = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        for lo in range(0, newest, NOTE_BATCH):
            hi = lo + NOTE_BATCH
            cursor.execute(
                "SELECT DISTINCT ON (e.request_id) e.request_id, e.seq, e.hash, e.at, r.assignee_id, r.unit_id "
                "FROM work_event e JOIN work_servicerequest r ON r.id = e.request_id "
                "WHERE e.request_id > %s AND e.request_id <= %s ORDER BY e.request_id, e.seq DESC",
                [lo, hi],
            )
            comments: list[tuple[object, ...]] = []
            events: list[tuple[object, ...]] = []
            for request_id, seq, prev, at, assignee, unit_id in cursor.fetchall():
                author = assignee or lead_of[unit_id]
                for i in range(1, extra + 1):
                    when = min(at + timedelta(minutes=7 * i), now)
                    body = texts[(request_id + i) % len(texts)]
                    comments.append((next_comment, request_id, author, body, "internal", None, False, when))
                    data = {"comment": next_comment}
                    next_comment += 1
                    digest = event_digest(prev, (request_id, seq + i, "note_added", author, when, "", "", True, data))
                    events.append((request_id, seq + i, "note_added", author, when, "", "", True,
                                   json.dumps(data), prev, digest))
                    prev = digest
            with raw.copy(f"COPY work_comment ({comment_cols}) FROM STDIN") as copy:
                for row in comments:
                    copy.write_row(row)
            with raw.copy(f"COPY work_event ({event_cols}) FROM STDIN") as copy:
                for row in events:
                    copy.write_row(row)
            cursor.execute(
                "UPDATE work_servicerequest SET last_event_seq = last_event_seq + %s WHERE id > %s AND id <= %s",
                [extra, lo, hi],
            )
            written += len(events)
            if hi // NOTE_BATCH % 10 == 0:
                print(f"  {written:,} notes", flush=True)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Comment]):
            cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE work_event")
        cursor.execute("VACUUM ANALYZE work_comment")
        cursor.execute("VACUUM ANALYZE work_servicerequest")
    seconds = time.perf_counter() - began
    print(f"appended {written:,} notes in {seconds:.0f} s", flush=True)
    return {"notes_per_request": extra, "notes": written, "seconds": round(seconds, 1)}


def rebuild_times(full_rebuild: bool) -> dict[str, float]:
    """The weekly rows rebuilt in full (``rebuild_all``, as after an import) and as the worker
    keeps them (``refresh_recent_flow``: this week and last)."""
    from tandem.insights.actions import rebuild_all, refresh_recent_flow

    began = time.perf_counter()
    rows = rebuild_all() if full_rebuild else 0
    full = time.perf_counter() - began
    recent = []
    for _ in range(2):
        began = time.perf_counter()
        refresh_recent_flow(force=True)
        recent.append(time.perf_counter() - began)
    print(f"weekly rows: full rebuild {full:.1f} s ({rows:,} rows); worker's refresh of this week and last "
          f"{min(recent):.2f}-{max(recent):.2f} s", flush=True)
    return {"rows": rows, "full_seconds": round(full, 2), "recent_seconds": round(max(recent), 2)}


def pulse_months() -> dict[str, float]:
    """The pulse results' monthly summaries written as the worker writes them: every settled
    month at first (as after an upgrade or an import), then nothing left to do."""
    from tandem.voice.months import summarise

    out = {}
    for label in ("first", "next"):
        began = time.perf_counter()
        months = summarise()
        out[f"{label}_seconds"] = round(time.perf_counter() - began, 2)
        out[f"{label}_months"] = months
    print(f"pulse months: {out['first_months']} summarised in {out['first_seconds']} s; "
          f"the next round {out['next_seconds']} s", flush=True)
    return out


def flow_cold(service_slug: str) -> dict[str, float]:
    """A service's flow computed from its log (the page's cache empty), in this process."""
    from django.core.cache import cache

    from tandem.catalogue.models import Service
    from tandem.insights.flow import flow

    service = Service.objects.get(slug=service_slug)
    out = {}
    for weeks in (4, 12):
        samples = []
        for _ in range(1):
            cache.clear()
            began = time.perf_counter()
            flow(service, weeks=weeks)
            samples.append((time.perf_counter() - began) * 1000)
        out[f"flow {weeks} weeks, cold cache (in process)"] = min(samples)
        print(f"flow of {service_slug}, {weeks} weeks, from the weekly rows: {min(samples):.0f} ms", flush=True)
    return out


def functions(ids: dict[str, dict[str, str]], repeat: int = 5) -> dict[str, float]:
    """The read functions behind the pages, timed in this process for the executive (median of
    ``repeat``; caches cleared first): which part of a page costs what."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from tandem.insights.queries import Filters, evidence
    from tandem.promises.queries import integrity_report
    from tandem.voice.executive import figures
    from tandem.voice.queries import results

    user = get_user_model().objects.get(username=ids["executive"]["username"])
    parts: dict[str, object] = {
        "evidence(): weekly rows, 26 weeks": lambda: evidence(user, Filters()),
        "evidence(): weekly rows, 52 weeks": lambda: evidence(user, Filters(weeks=52)),
        "executive figures()": lambda: figures(user),
        "pulse results(), 6 periods": lambda: results(user, periods=6),
        "promises integrity_report()": lambda: integrity_report(user),
    }
    try:
        from tandem.insights.conformance import service_conformance
    except ImportError:
        pass
    else:
        parts["conformance section, 26 weeks"] = lambda: service_conformance(user, Filters())
    out = {}
    for name, call in parts.items():
        samples = []
        for _ in range(repeat if not name.startswith("conformance") else 1):
            cache.clear()
            began = time.perf_counter()
            call()  # type: ignore[operator]
            samples.append((time.perf_counter() - began) * 1000)
        out[name] = round(sorted(samples)[len(samples) // 2], 1)
        print(f"{name:<42} {out[name]:9.1f} ms (in process, median of {len(samples)})", flush=True)
    return out


def counts() -> dict[str, object]:
    from django.db import connection

    from tandem.insights.models import WeeklyFlow
    from tandem.work.models import Comment, Event, ServiceRequest

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    return {"requests": ServiceRequest.objects.count(), "events": Event.objects.count(),
            "comments": Comment.objects.count(), "weekly_flow_rows": WeeklyFlow.objects.count(),
            "database_gib": round(size / 2**30, 2), "postgresql": version}


# --- who looks --------------------------------------------------------------------------------------


def identities() -> dict[str, dict[str, str]]:
    """An executive, the lead of the busiest back-office unit and a front-office lead, each
    with a bench password and an API token; and the slugs the filters use."""
    from django.db.models import Count

    from tandem.org.models import ApiToken, Person, Role, Side, hash_token
    from tandem.work.models import ServiceRequest

    busiest = (ServiceRequest.objects.filter(unit__side=Side.BACK).values("unit_id", "unit__slug")
               .annotate(n=Count("id")).order_by("-n").first())
    assert busiest is not None, "no requests: the build failed"
    service = (ServiceRequest.objects.filter(unit_id=busiest["unit_id"]).values("service__slug")
               .annotate(n=Count("id")).order_by("-n").first())
    front = (ServiceRequest.objects.filter(requesting_unit__side=Side.FRONT)
             .values("requesting_unit_id", "requesting_unit__slug").annotate(n=Count("id")).order_by("-n").first())
    assert service is not None and front is not None
    picks = {
        "executive": Person.objects.filter(role=Role.EXECUTIVE),
        "back-office lead": Person.objects.filter(role=Role.LEAD, unit_id=busiest["unit_id"]),
        "front-office lead": Person.objects.filter(role=Role.LEAD, unit_id=front["requesting_unit_id"]),
    }
    out: dict[str, dict[str, str]] = {}
    for label, qs in picks.items():
        person = qs.select_related("user").order_by("pk").first()
        assert person is not None, f"no {label} in the organisation"
        person.user.set_password("bench-password")
        person.user.save(update_fields=["password"])
        raw = ApiToken.new_raw_key()
        ApiToken.objects.create(user=person.user, name="dashboards bench", prefix=raw[:8], key_hash=hash_token(raw))
        out[label] = {"username": person.user.username, "token": raw}
    out["slugs"] = {"unit": busiest["unit__slug"], "service": service["service__slug"],
                    "front": front["requesting_unit__slug"]}
    return out


def targets(role: str, s: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(name, path, via the API) for one role."""
    unit, service, front = s["unit"], s["service"], s["front"]
    evidence = [
        ("baseline: the sign-in page", "/accounts/login/", False),
        ("evidence, 26 weeks", "/evidence/", False),
        ("evidence, 52 weeks", "/evidence/?weeks=52", False),
        ("evidence, unit + channel", f"/evidence/?unit={unit}&channel=internal", False),
        ("evidence, service, 12 weeks", f"/evidence/?service={service}&weeks=12", False),
        ("evidence, requesting unit", f"/evidence/?requesting_unit={front}", False),
        ("evidence CSV services", "/evidence/?format=csv&figure=services", False),
        ("evidence CSV chart", "/evidence/?format=csv&figure=chart&weeks=52", False),
        ("evidence CSV waiting", "/evidence/?format=csv&figure=waiting", False),
        ("API getEvidence", "/api/evidence", True),
        ("API getEvidence, filtered", f"/api/evidence?weeks=52&unit={unit}&channel=internal", True),
        ("promises report", "/promises/", False),
        ("pulse results", "/pulse/results/", False),
    ]
    flow = [
        ("flow page, 12 weeks (cached)", f"/evidence/flow/?service={service}&weeks=12", False),
        ("flow CSV, 26 weeks (cached)", f"/evidence/flow/?service={service}&weeks=26&format=csv", False),
        ("API getFlow, 4 weeks (cached)", f"/api/evidence/flow?service={service}&weeks=4", True),
    ]
    executive = [
        ("executive page", "/executive/", False),
        ("executive CSV units", "/executive/?format=csv&figure=units", False),
        ("executive CSV frustration", "/executive/?format=csv&figure=frustration", False),
    ]
    if role == "executive":
        return executive + evidence + flow
    if role == "back-office lead":
        return evidence + flow
    return evidence


# --- timing ------------------------------------------------------------------------------------------


def time_pages(ids: dict[str, dict[str, str]], samples: int, warmup: int, workers: int,
               only: str = "") -> list[dict[str, object]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    rows: list[dict[str, object]] = []
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        for role in ("executive", "back-office lead", "front-office lead"):
            who = ids[role]
            opener = sign_in(base, who["username"], "bench-password")
            auth = {"Authorization": f"Bearer {who['token']}"}
            for name, path, api in [t for t in targets(role, ids["slugs"]) if only in t[0]]:
                headers = auth if api else None
                try:
                    # The first request may fill a cache (the flow, the conformance section):
                    # kept apart as "first". A target still over a second after it gets one
                    # sample: the verdict is the same and a 1M run stays within the hour.
                    first = timed(opener, base + path, headers)[0]
                    slow = timed(opener, base + path, headers)[0] > 1000
                    for _ in range(0 if slow else warmup - 1):
                        timed(opener, base + path, headers)
                    times = [timed(opener, base + path, headers)[0] for _ in range(1 if slow else samples)]
                except (OSError, RuntimeError) as exc:  # HTTP errors, a worker timing out
                    print(f"{role}: {name}: {exc}", flush=True)
                    rows.append({"role": role, "target": name, "path": path, "error": str(exc)})
                    continue
                row = summarise(f"{role[:5]} {name}"[:42], times)
                rows.append({"role": role, "target": name, "path": path, "first": round(first, 1),
                             **{k: round(v, 1) for k, v in row.items()}})
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def table(rows: list[dict[str, object]]) -> None:
    print()
    print(f"| role | target | first ms | n | p50 ms | p95 ms | max ms | p95 ≤ {TARGET_MS:.0f} ms |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['role']} | {r['target']} | | | | | | error: {r['error']} |")
            continue
        ok = "yes" if float(r["p95"]) <= TARGET_MS else "**no**"  # type: ignore[arg-type]
        print(f"| {r['role']} | {r['target']} | {r['first']:.0f} | {r['n']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} "
              f"| {r['max']:.1f} | {ok} |")


def main() -> None:
    args = parse()
    cluster = ""
    url = os.environ.get("TANDEM_DATABASE_URL", "")
    if not url:
        cluster = run([str(ROOT / "scripts" / "postgres-cluster"), "start"])
        url = run([str(ROOT / "scripts" / "postgres-cluster"), "url", cluster])
        os.environ["TANDEM_DATABASE_URL"] = url
        print(f"throwaway cluster {cluster}: {url}", flush=True)
    if not url.startswith("postgres"):
        sys.exit("This benchmark measures PostgreSQL: give a postgres:// TANDEM_DATABASE_URL or none.")
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="tandem-dashboards-")
    os.environ["TANDEM_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    figures: dict[str, object] = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from tandem.demo.load import database_is_empty

        call_command("migrate", verbosity=0)
        if database_is_empty():
            figures["build"] = build(args.requests, data_dir)
        else:
            print("reusing the database as it is", flush=True)
        if args.events_per_request:
            figures["top_up"] = top_up_events(args.events_per_request)
        figures["database"] = counts()
        print(json.dumps(figures["database"]), flush=True)
        figures["rebuild"] = rebuild_times(not args.skip_rebuild)
        figures["pulse_months"] = pulse_months()
        ids = identities()
        figures["functions_ms"] = functions(ids)
        figures["flow_cold_ms"] = flow_cold(ids["slugs"]["service"])
        from django.db import connection

        connection.close()  # the server's workers open their own
        rows = time_pages(ids, args.samples, args.warmup, args.workers, args.only)
        figures["load_after"] = os.getloadavg()
        figures["pages"] = rows
        table(rows)
        print(f"\nload average before {figures['load_before']}, after {figures['load_after']}")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    finally:
        if cluster and not args.keep_cluster:
            run([str(ROOT / "scripts" / "postgres-cluster"), "stop", cluster])
        elif cluster:
            print(f"cluster left running: TANDEM_DATABASE_URL={url}  (stop: scripts/postgres-cluster stop {cluster})")


if __name__ == "__main__":
    main()
