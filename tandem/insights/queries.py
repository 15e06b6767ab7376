"""Reading the evidence: processing-time bands, control charts and who waits on whom, from the
materialised weekly rows, for whoever may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from tandem.agreements.queries import service_day_seconds
from tandem.catalogue.models import Service
from tandem.engines.evidence import control
from tandem.engines.evidence.phases import BAND_LABELS
from tandem.insights.actions import monday
from tandem.insights.advice import advice_followed
from tandem.insights.models import WeeklyFlow, WeeklyTeamWait
from tandem.org.models import Organisation, Unit
from tandem.org.queries import (
    AnyUser,
    client_unit_ids,
    person_of,
    provider_unit_ids,
    sees_everything,
    work_unit_ids,
)
from tandem.refusal import Invalid

PERIODS = (12, 26, 52)
#: A week with fewer resolutions than this is left off its service's control chart: the mean
#: of two requests says nothing about the process.
MIN_WEEKLY = 5
BAND_FIELDS = ("band_3", "band_6", "band_15", "band_30", "band_over")
PHASE_FIELDS = (
    "queued_seconds", "in_progress_seconds", "waiting_requester_seconds", "waiting_third_party_seconds",
    "waiting_team_seconds", "waiting_approval_seconds",
)

Summary = TypeVar("Summary", WeeklyFlow, WeeklyTeamWait)


def _visible(model: type[Summary], user: AnyUser | None) -> QuerySet[Summary]:
    """Evidence is for all staff, except about confidential services: only their providing
    unit, administrators and executives learn even how many requests they had."""
    person = person_of(user)
    if person is None:
        return model.objects.none()
    if sees_everything(person):
        return model.objects.all()
    return model.objects.filter(Q(service__confidential=False) | Q(unit_id__in=work_unit_ids(person)))


def flows_visible_to(user: AnyUser | None) -> QuerySet[WeeklyFlow]:
    return _visible(WeeklyFlow, user)


def flow_service(user: AnyUser | None, slug: str) -> Service | None:
    """The service whose flow the user may study: any non-confidential one; a confidential one
    only for its unit, executives and administrators (the rule of ``flows_visible_to``)."""
    person = person_of(user)
    if person is None or not slug or "\x00" in slug:
        return None
    service = Service.objects.select_related("unit").filter(slug=slug).first()
    if service is None:
        return None
    if service.confidential and not (sees_everything(person) or service.unit_id in work_unit_ids(person)):
        return None
    return service


@dataclass(frozen=True)
class Filters:
    weeks: int = 26
    unit: Unit | None = None  # providing unit
    requesting_unit: Unit | None = None
    service: Service | None = None
    channel: str = ""
    #: A client's units (or the provider's own): the requests of one organisation, worked out
    #: once from ``client_choice`` and passed down (a request has no organisation column).
    requesting_units: frozenset[int] | None = None


def client_units(choice: str, clients: list[Organisation]) -> frozenset[int] | None:
    """The requesting units a client choice stands for: ``"own"`` the organisation running
    Tandem, a client's slug its units, ``""`` every organisation (None). Unknown → Invalid."""
    if not choice:
        return None
    if choice == "own":
        return frozenset(provider_unit_ids())
    found = next((o for o in clients if o.slug == choice), None)
    if found is None:
        raise Invalid(f"There is no client {choice[:50]!r}: choose one from the list, or \"own\" for your own units.",
                      errors={"client": ["Unknown client."]})
    return frozenset(client_unit_ids(found.pk))


def _filtered(user: AnyUser | None, f: Filters, now: datetime) -> tuple[QuerySet[WeeklyFlow], list[date]]:
    this_week = monday(now.astimezone(timezone.get_default_timezone()).date())
    weeks = [this_week - timedelta(weeks=n) for n in range(f.weeks - 1, -1, -1)]
    return _narrowed(_visible(WeeklyFlow, user), f, weeks), weeks


def _narrowed(qs: QuerySet[Summary], f: Filters, weeks: list[date]) -> QuerySet[Summary]:
    qs = qs.filter(week__gte=weeks[0], week__lte=weeks[-1])
    if f.unit is not None:
        qs = qs.filter(unit=f.unit)
    if f.requesting_unit is not None:
        qs = qs.filter(requesting_unit=f.requesting_unit)
    if f.requesting_units is not None:
        qs = qs.filter(requesting_unit_id__in=f.requesting_units)
    if f.service is not None:
        qs = qs.filter(service=f.service)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    return qs


def _sums(*fields: str) -> dict[str, Sum]:
    return {name: Sum(name) for name in fields}


def evidence(user: AnyUser | None, f: Filters, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    qs, weeks = _filtered(user, f, now)
    per_service = list(
        qs.values("service_id")
        .annotate(**_sums("resolved", "reopened", "total_seconds", *BAND_FIELDS, *PHASE_FIELDS))
        .order_by()
    )
    # The calendars too: each row's working day reads them (two queries per service otherwise).
    services = {s.pk: s for s in Service.objects.filter(pk__in=[r["service_id"] for r in per_service])
                .select_related("unit", "unit__calendar", "calendar")}
    weekly = {
        (r["service_id"], r["week"]): r
        for r in qs.values("service_id", "week").annotate(**_sums("resolved", "total_seconds")).order_by()
    }
    rows = []
    for r in sorted(per_service, key=lambda r: (services[r["service_id"]].unit.name, services[r["service_id"]].name)):
        service = services[r["service_id"]]
        day = service_day_seconds(service)
        series: list[float | None] = []
        for w in weeks:
            cell = weekly.get((service.pk, w))
            enough = cell is not None and cell["resolved"] >= MIN_WEEKLY
            series.append(cell["total_seconds"] / cell["resolved"] / day if enough and cell else None)
        chart = _chart(series, [r[b] for b in BAND_FIELDS])
        rows.append({
            "service": service,
            "resolved": r["resolved"],
            "reopen_rate": r["reopened"] / r["resolved"] if r["resolved"] else 0.0,
            "mean_days": r["total_seconds"] / r["resolved"] / day if r["resolved"] else None,
            "published_days": service.turnaround_days,
            "bands": [r[b] for b in BAND_FIELDS],
            "band_shares": [r[b] / r["resolved"] if r["resolved"] else 0.0 for b in BAND_FIELDS],
            "phase_hours": [r[p] / 3600 for p in PHASE_FIELDS],
            "weeks": weeks,
            "series": series,
            "chart": chart,
        })
    team_qs = _narrowed(_visible(WeeklyTeamWait, user), f, weeks)
    return {
        "weeks": weeks, "services": rows, "waiting": waiting_matrix(qs), "team_waits": team_waits(team_qs),
        "band_labels": BAND_LABELS,
        "advice": advice_followed(user, weeks, unit=f.unit, requesting_unit=f.requesting_unit, service=f.service,
                                  channel=f.channel, requesting_units=f.requesting_units),
    }


#: Upper edge (working days) of each turnaround band; > 30 read as 60.
BAND_UPPER_DAYS = (3, 6, 15, 30, 60)


def _chart(series: list[float | None], band_counts: list[int]) -> control.Chart | None:
    """The control chart of a service's weekly mean, leaving out the weeks whose means are
    biased by the edges of the data: the current week (only the quick ones are done yet) and
    the first weeks of the history (only the quick ones had time to finish), as many as the
    90th percentile of durations spans."""
    values = list(series[:-1])  # the current week is not over
    first = next((i for i, v in enumerate(values) if v is not None), None)
    if first is None:
        return None
    total, running, p90_days = sum(band_counts), 0, BAND_UPPER_DAYS[-1]
    for count, upper in zip(band_counts, BAND_UPPER_DAYS, strict=True):
        running += count
        if running >= 0.9 * total:
            p90_days = upper
            break
    warmup = first + -(-p90_days // 5)
    blank: list[float | None] = [None] * min(warmup, len(values))
    trimmed = blank + values[warmup:]
    try:
        return control.xmr(trimmed)
    except ValueError:
        return None


def waiting_matrix(qs: QuerySet[WeeklyFlow]) -> list[dict[str, Any]]:
    """Per requesting unit and providing unit: working hours the requester's side waited on the
    back office (queued + in progress), and the back office waited on the requester, on a
    third party, on another team, or on the approver before work could start."""
    rows = (
        qs.values("requesting_unit__name", "unit__name")
        .annotate(resolved=Sum("resolved"), **_sums(*PHASE_FIELDS))
        .order_by("requesting_unit__name", "unit__name")
    )
    return [
        {
            "requesting_unit": r["requesting_unit__name"],
            "unit": r["unit__name"],
            "resolved": r["resolved"],
            "front_waits_on_back_hours": (r["queued_seconds"] + r["in_progress_seconds"]) / 3600,
            "back_waits_on_front_hours": r["waiting_requester_seconds"] / 3600,
            "waits_on_third_party_hours": r["waiting_third_party_seconds"] / 3600,
            "waits_on_other_team_hours": r["waiting_team_seconds"] / 3600,
            "waits_on_approver_hours": r["waiting_approval_seconds"] / 3600,
        }
        for r in rows
    ]


def team_waits(qs: QuerySet[WeeklyTeamWait]) -> list[dict[str, Any]]:
    """Per back-office unit and the team it waited on: requests that waited and working hours
    waited, largest first (the back-office-to-back-office part of who waits on whom)."""
    rows = (
        qs.values("unit__name", "waited_on__name")
        .annotate(requests=Sum("requests"), seconds=Sum("seconds"))
        .order_by("-seconds", "unit__name", "waited_on__name")
    )
    return [
        {"unit": r["unit__name"], "waited_on": r["waited_on__name"], "requests": r["requests"],
         "hours": r["seconds"] / 3600}
        for r in rows
    ]
