"""The flow of one service's requests: directly-follows steps with counts and times, variants,
handovers between units and ping-pong, the slowest steps named as bottlenecks. Summed from the
weekly rows the worker keeps (``WeeklyProcess``, ``WeeklyVariant``) of the requests resolved in
the last weeks: a page reads a few dozen rows whatever the size of the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.insights.actions import monday
from tandem.insights.models import WeeklyProcess, WeeklyVariant

TOP_STEPS = 20
BOTTLENECKS = 5


def flow(service: Service, *, weeks: int) -> dict[str, Any]:
    """The requests of ``service`` resolved in the last ``weeks`` weeks (this one included)."""
    this_week = monday(timezone.now().astimezone(timezone.get_default_timezone()).date())
    first = this_week - timedelta(weeks=weeks - 1)
    window = {"service": service, "week__gte": first, "week__lte": this_week}
    sums = [0, 0, 0, 0, 0]  # cases, events, handovers, requests that ping-pong, duration seconds
    pairs: dict[tuple[str, str], list[float]] = {}
    for *figures, rows in WeeklyProcess.objects.filter(**window).values_list(
        "cases", "events", "handovers", "ping_pong", "duration_seconds", "steps"
    ):
        sums = [x + y for x, y in zip(sums, figures, strict=True)]
        for a, b, count, seconds in rows:
            acc = pairs.setdefault((a, b), [0, 0.0])
            acc[0] += count
            acc[1] += seconds
    steps: list[dict[str, Any]] = [
        {"from": a, "to": b, "count": int(count), "mean_seconds": seconds / count, "mean_days": seconds / count / 86400,
         "total_days": seconds / 86400}
        for (a, b), (count, seconds) in pairs.items()
    ]
    steps.sort(key=lambda s: (-s["count"], s["from"], s["to"]))
    cases, events, handovers, ping_pong, duration = sums
    return {
        "cases": cases, "events": events,
        "variants": WeeklyVariant.objects.filter(**window).values("key").distinct().count() if cases else 0,
        "case_duration_days": {"mean": duration / cases / 86400 if cases else 0.0},
        "handovers_per_case": handovers / cases if cases else 0.0,
        "ping_pong_rate": ping_pong / cases if cases else 0.0,
        "steps": steps[:TOP_STEPS],
        # Where the time goes: the steps that add up to the most waiting, not the rare slow ones.
        "bottlenecks": sorted(steps, key=lambda s: -s["total_days"])[:BOTTLENECKS],
    }
