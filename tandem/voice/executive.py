"""The executive page's figures: both sides of the relationship on one page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count
from django.utils import timezone

from tandem.catalogue.queries import owner_missing, reviews_due
from tandem.org.models import Side, Unit
from tandem.org.queries import AnyUser
from tandem.promises.queries import integrity_report
from tandem.voice.models import RequestRating
from tandem.voice.queries import ask_quality, late_rates, results
from tandem.work.models import ServiceRequest

WEEKS = 12


def figures(user: AnyUser | None, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    since = now - timedelta(weeks=WEEKS)
    pulse = results(user, periods=6, now=now, facts=False)
    complete = [p["complete"] for p in pulse["periods"]]
    frustration = []
    for row in pulse["units"]:
        done = [(p, c) for p, c in zip(pulse["periods"], row["cells"], strict=True) if p["complete"] and c["shown"]]
        current = [c for c, ok in zip(row["cells"], complete, strict=True) if not ok]
        frustration.append({
            "unit": row["unit"].name,
            "series": [c["frustration_index"] if c["shown"] else None for c in row["cells"]],
            # The headline is the last complete period; the one under way is "so far".
            "latest": done[-1][1]["frustration_index"] if done else None,
            "latest_period": done[-1][0]["name"] if done else None,
            "so_far": current[-1] if current else None,
        })
    back_units = {u.pk: u.name for u in Unit.objects.filter(side=Side.BACK)}
    sat = {r["unit_id"]: r for r in RequestRating.objects.filter(rated_at__gte=since).values("unit_id")
           .annotate(mean=Avg("score"), n=Count("pk"))}
    resolved = ServiceRequest.objects.filter(resolved_at__gte=since)
    late = late_rates(resolved.filter(unit_id__in=back_units))
    promises = {r["name"]: r["kept_share"] for r in integrity_report(user, now=now, weeks=WEEKS, group="unit")["rows"]}
    units = [
        {"unit": name, "satisfaction": sat[pk]["mean"] if pk in sat else None,
         "ratings": sat[pk]["n"] if pk in sat else 0, "late_rate": late.get(pk),
         "promises_kept": promises.get(name)}
        for pk, name in sorted(back_units.items(), key=lambda kv: kv[1])
    ]
    due = reviews_due(user)
    return {
        "periods": pulse["periods"], "threshold": pulse.get("threshold"), "frustration": frustration,
        "asks": ask_quality(user, weeks=WEEKS, now=now), "units": units,
        "overdue_reviews": [r for r in due if r["overdue"]], "owners_missing": list(owner_missing(user)),
        "weeks": WEEKS,
    }


def spark(series: list[float | None], width: int = 120, height: int = 28) -> str:
    """SVG polyline points for a 0–1 series (gaps skipped)."""
    n = max(len(series) - 1, 1)
    return " ".join(
        f"{round(2 + i * (width - 4) / n, 1)},{round(height - 2 - v * (height - 4), 1)}"
        for i, v in enumerate(series) if v is not None
    )
