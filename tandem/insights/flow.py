"""The flow of one service's requests: directly-follows steps with counts and times, variants,
handovers between units and ping-pong, the slowest steps named as bottlenecks. Computed from
the event log on demand for one service and period, and cached for ten minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.engines.eventlog import analyse
from tandem.insights.logs import database_log
from tandem.work.models import Event

CACHE_SECONDS = 600
TOP_STEPS = 20
BOTTLENECKS = 5


def flow(service: Service, *, weeks: int) -> dict[str, Any]:
    today = timezone.localdate()
    latest = Event.objects.filter(request__service=service).order_by("-id").values_list("id", flat=True).first()
    key = f"tandem:flow:{service.pk}:{weeks}:{today}:{latest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    log = database_log(since=today - timedelta(weeks=weeks), services=[service.pk])
    result: dict[str, Any] = analyse(log, group_attribute="org:group") if len(log) else {
        "cases": 0, "events": 0, "activities": 0, "variants": 0, "directly_follows": [],
        "handovers_per_case": 0.0, "ping_pong_rate": 0.0, "case_duration_days": {},
    }
    steps: list[dict[str, Any]] = result["directly_follows"]
    for step in steps:
        step["total_days"] = step["mean_days"] * step["count"]
    out = {
        "cases": result["cases"], "events": result["events"], "variants": result["variants"],
        "case_duration_days": result.get("case_duration_days", {}),
        "handovers_per_case": result.get("handovers_per_case", 0.0),
        "ping_pong_rate": result.get("ping_pong_rate", 0.0),
        "steps": steps[:TOP_STEPS],
        # Where the time goes: the steps that add up to the most waiting, not the rare slow ones.
        "bottlenecks": sorted(steps, key=lambda s: -s["total_days"])[:BOTTLENECKS],
    }
    cache.set(key, out, CACHE_SECONDS)
    return out
