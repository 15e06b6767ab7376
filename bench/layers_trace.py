"""Follow one submission through the code and count how often it climbs back up the layers.

A submission (``POST /api/requests``, or the submit page's form with ``--page``) goes through
Django's test client, on a fresh SQLite database seeded with the test cast, under a profiler hook
that sees every Python call inside ``tandem``. A call *climbs* when the calling module sits on a
lower layer than the called one (docs/architecture.md); the outbox handing a committed change to
the consumers that subscribed to it is counted apart, as the one way up by design. It also counts
the lookups of the service's calendar and terms in ``tandem/agreements/queries.py``, by whoever
asks. The second submission is the one traced, so that caches are warm as in a running server.

    .venv/bin/python bench/layers_trace.py [--page] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAYERS = [
    ("tandem.engines",),
    ("tandem.refusal", "tandem.rows", "tandem.objections"),
    ("tandem.outbox",),
    ("tandem.org", "tandem.pages", "tandem.api_shared"),
    ("tandem.catalogue",),
    ("tandem.agreements",),
    ("tandem.work",),
    ("tandem.notifications",),
    ("tandem.insights", "tandem.promises"),
    ("tandem.allocation",),
    ("tandem.voice",),
    ("tandem.site", "tandem.demo", "tandem.api", "tandem.api_urls", "tandem.urls", "tandem.security", "tandem.cli",
     "tandem.wsgi", "tandem.settings"),
]


#: The lookups of a service's calendar and terms in tandem/agreements/queries.py.
LOOKUPS = {"calendar_for_service", "calendar_for_unit", "terms_for", "matching_agreement"}


def layer(module: str) -> int | None:
    for rank, heads in enumerate(LAYERS):
        if any(module == h or module.startswith(h + ".") for h in heads):
            return rank
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="store_true", help="submit through the page's form, not the API")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ["TANDEM_DATA_DIR"] = tempfile.mkdtemp(prefix="tandem-trace-")
    os.environ.pop("TANDEM_DATABASE_URL", None)
    os.environ["TANDEM_LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tests.stack import _seed

    seed = _seed(requests=20)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {seed['tokens']['consultant']}"}
    intake = {"worker": "Ann Smith", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}

    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="consultant"))

    def submit(title: str) -> None:
        if args.page:
            form = {f"intake-{k}": v for k, v in intake.items()}
            form.update(title=title, channel="internal", token=title)
            status = client.post(f"/catalogue/{seed['service']}/request/", form).status_code
            assert status == 302, status
            return
        body = json.dumps({"service": seed["service"], "title": title, "intake": intake})
        status = client.post("/api/requests", body, content_type="application/json", **auth).status_code
        assert status == 201, status

    submit("warm-up")
    climbs: Counter[tuple[str, str]] = Counter()
    dispatch: Counter[tuple[str, str]] = Counter()
    agreements_entries: Counter[str] = Counter()
    calls = 0

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        caller_frame = frame.f_back
        caller = caller_frame.f_globals.get("__name__", "") if caller_frame else ""
        if not callee.startswith("tandem") or not caller.startswith("tandem") or callee == caller:
            return
        calls += 1
        if callee == "tandem.agreements.queries" and frame.f_code.co_name in LOOKUPS:
            agreements_entries[f"{frame.f_code.co_name} (from {caller})"] += 1
        low, high = layer(caller), layer(callee)
        if low is not None and high is not None and low < high:
            edge = (f"{caller}", f"{callee}.{frame.f_code.co_name}")
            (dispatch if caller.startswith("tandem.outbox") else climbs)[edge] += 1

    sys.setprofile(hook)
    try:
        submit("traced")
    finally:
        sys.setprofile(None)
    out = {
        "calls_between_tandem_modules": calls,
        "climbs": sum(climbs.values()),
        "climbs_by_edge": {f"{a} -> {b}": n for (a, b), n in climbs.most_common()},
        "outbox_dispatches": sum(dispatch.values()),
        "dispatches_by_edge": {f"{a} -> {b}": n for (a, b), n in dispatch.most_common()},
        "agreements_queries_entries": sum(agreements_entries.values()),
        "agreements_queries_by_entry": dict(agreements_entries.most_common()),
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"one submission: {out['calls_between_tandem_modules']} calls between Tandem modules")
    print(f"climbs up the layers: {out['climbs']}")
    for edge, n in out["climbs_by_edge"].items():
        print(f"  {n:3d}  {edge}")
    print(f"handed up by the outbox (subscribed reactions): {out['outbox_dispatches']}")
    for edge, n in out["dispatches_by_edge"].items():
        print(f"  {n:3d}  {edge}")
    print(f"lookups of the calendar and terms in tandem/agreements/queries.py: {out['agreements_queries_entries']}")
    for entry, n in out["agreements_queries_by_entry"].items():
        print(f"  {n:3d}  {entry}")


if __name__ == "__main__":
    main()
