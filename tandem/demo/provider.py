"""``tandem demo --provider``: the demo's back office as a provider serving three agencies.

The default demo is built as it is (``build_demo``: the same organisation, simulator and six
months of history), then its front office is handed to three client organisations of different
sizes, each with its contracts, its own targets on the services it leans on most, and one
in Scotland keeping Scottish bank holidays:

- **Northern Recruitment** (large, England): the Leeds, Manchester and Sheffield branches;
- **Caledonia Staffing** (medium, Scotland): account management, renamed its Glasgow office;
- **Harbour Temps** (small, England): the reception desk, renamed its front desk.

The leadership team stays the provider's own. Each client contracts every service its units
asked for in the history (so that the history agrees with the contracts) and gets an executive
who reads its service review. Caledonia's requests have their clocks worked out again on its
calendar and targets, and last month's service reports are made as the worker would have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from tandem.agreements.models import DEFAULT_PAUSE_STATUSES, Agreement
from tandem.catalogue.models import Contract, Service
from tandem.demo.load import DemoSummary, build_demo
from tandem.demo.people import PASSWORD
from tandem.org.models import Organisation, Person, Role, Unit
from tandem.voice.service_reports import make_service_reports
from tandem.work.clock_replay import rebuild_clocks
from tandem.work.models import ServiceRequest
from tandem.work.numbering import renumber_clients


@dataclass(frozen=True)
class DemoClient:
    name: str
    slug: str
    units: tuple[tuple[str, str, str], ...]  # (demo unit slug, new name or "", new slug or "")
    holidays: tuple[str, str]
    executive: tuple[str, str, str]  # username, first name, last name
    # The client's own targets, tighter than the service-wide ones, on its busiest services.
    own_targets: int  # how many of its busiest services
    resolution_share: float  # of the service's published turnaround


CLIENTS = (
    DemoClient("Northern Recruitment", "northern", (("leeds", "", ""), ("manchester", "", ""), ("sheffield", "", "")),
               ("", ""), ("david.ashworth", "David", "Ashworth"), 3, 0.8),
    DemoClient("Caledonia Staffing", "caledonia",
               (("accounts", "Caledonia Glasgow office", "caledonia-glasgow"),), ("GB", "SCT"),
               ("fiona.macleod", "Fiona", "MacLeod"), 2, 1.0),
    DemoClient("Harbour Temps", "harbour", (("reception", "Harbour Temps front desk", "harbour-front-desk"),),
               ("", ""), ("grace.bell", "Grace", "Bell"), 1, 1.0),
)


def build_provider_demo(
    *, seed: int = 2026, weeks: int = 26, end: datetime | None = None, report: Callable[[str], None] | None = None,
) -> DemoSummary:
    """The default demo, then its front office handed to the three client organisations."""
    summary = build_demo(seed=seed, weeks=weeks, end=end, report=report)
    assert summary.end is not None
    began = time.perf_counter()
    summary.counts.update(load_clients(summary.end, summary.start or summary.end - timedelta(weeks=weeks)))
    summary.seconds["clients"] = time.perf_counter() - began
    return summary


def load_clients(end: datetime, start: datetime) -> dict[str, int]:
    started_on = start.astimezone(timezone.get_default_timezone()).date()
    hashed = make_password(PASSWORD)
    scottish: list[int] = []
    with transaction.atomic():
        for client in CLIENTS:
            org = Organisation.objects.create(name=client.name, slug=client.slug, holiday_country=client.holidays[0],
                                              holiday_subdivision=client.holidays[1])
            unit_ids = []
            for slug, name, new_slug in client.units:
                unit = Unit.objects.get(slug=slug)
                unit.organisation = org
                unit.name, unit.slug = name or unit.name, new_slug or unit.slug
                unit.save(update_fields=["organisation", "name", "slug"])
                unit_ids.append(unit.pk)
            _contract(org, unit_ids, started_on)
            username, first, last = client.executive
            user = get_user_model().objects.create(username=username, first_name=first, last_name=last,
                                                   email=f"{username}@{client.slug}.example", password=hashed)
            Person.objects.create(user=user, unit_id=unit_ids[0], role=Role.EXECUTIVE,
                                  job_title=f"Managing director, {client.name}")
            if client.holidays[0]:
                scottish += unit_ids
        # Their requests take their clients' numbering, as if they had been asked there.
        renumber_clients(list(Organisation.objects.values_list("pk", flat=True)))
    # The client's calendar and targets apply to its requests: their clocks are replayed.
    ServiceRequest.objects.filter(requesting_unit_id__in=scottish).update(resolve_seconds=None)
    for client in CLIENTS:
        if client.own_targets:
            org_units = Unit.objects.filter(organisation__slug=client.slug).values_list("pk", flat=True)
            ServiceRequest.objects.filter(requesting_unit_id__in=list(org_units)).update(resolve_seconds=None)
    replayed = rebuild_clocks(end, end - timedelta(days=1))
    reports = make_service_reports(end)
    return {"clients": len(CLIENTS), "client clocks replayed": replayed, "service reports": reports}


def _contract(org: Organisation, unit_ids: list[int], since: date) -> None:
    asked = list(
        ServiceRequest.objects.filter(requesting_unit_id__in=unit_ids).values_list("service_id", flat=True)
    )
    counts: dict[int, int] = {}
    for service_id in asked:
        counts[service_id] = counts.get(service_id, 0) + 1
    Contract.objects.bulk_create([Contract(organisation=org, service_id=sid, starts_on=since) for sid in counts])
    client = next(c for c in CLIENTS if c.slug == org.slug)
    busiest = sorted(counts, key=lambda sid: (-counts[sid], sid))[: client.own_targets]
    services = Service.objects.select_related("unit").in_bulk(busiest)
    for sid in busiest:
        service = services[sid]
        general = Agreement.objects.filter(service=service, requesting_unit__isnull=True, active=True,
                                           requesting_organisation__isnull=True, channel="").first()
        resolution = general.resolution_minutes if general else max(1, service.turnaround_days) * 450
        Agreement.objects.create(
            service=service, requesting_organisation=org, name=f"{org.name}: {service.name}",
            first_response_minutes=general.first_response_minutes if general else 60,
            resolution_minutes=max(60, int(resolution * client.resolution_share)), target_percent=95,
            pause_statuses=list(general.pause_statuses if general else DEFAULT_PAUSE_STATUSES),
        )


def provider_accounts() -> list[tuple[str, str, str]]:
    """(username, name, role) of each client's people that `tandem demo --provider` prints:
    its executive, a lead and a member of its first unit."""
    rows = []
    for client in CLIENTS:
        org = Organisation.objects.filter(slug=client.slug).first()
        if org is None:
            continue
        people = Person.objects.filter(unit__organisation=org, user__is_active=True).select_related("user", "unit")
        for role, word in ((Role.EXECUTIVE, "executive"), (Role.LEAD, "lead"), (Role.MEMBER, "member")):
            person = people.filter(role=role).order_by("unit__name", "user__username").first()
            if person is not None:
                rows.append((person.user.username, person.display_name,
                             f"{client.name}: {person.unit.name} ({word})"))
    return rows


def provider_present() -> bool:
    return Organisation.objects.filter(slug__in=[c.slug for c in CLIENTS]).count() == len(CLIENTS)
