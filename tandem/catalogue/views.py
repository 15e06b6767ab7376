"""The catalogue as the requesting side sees it: browse, read a service. Asking for it is the
submit page (``tandem.site.views.submit``: it shows the promise Tandem would make)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tandem.catalogue import runs
from tandem.catalogue.queries import can_edit_service, services_visible_to
from tandem.org.models import Person
from tandem.org.pages import staff_page


@staff_page
def browse(request: HttpRequest, me: Person) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    services = services_visible_to(request.user).order_by("unit__name", "name")
    if q:
        services = services.filter(
            Q(name__icontains=q) | Q(summary__icontains=q) | Q(unit__name__icontains=q)
        )
    return render(
        request,
        "catalogue/browse.html",
        {"services": services, "q": q, "case": request.GET.get("case", "")},
    )


@staff_page
def service_detail(request: HttpRequest, me: Person, slug: str) -> HttpResponse:
    service = get_object_or_404(
        services_visible_to(request.user).prefetch_related(
            "fields", "cutoffs", "steps", "skill_needs__skill"
        ),
        slug=slug,
    )
    # A client's own cut-offs when it has them, else the service's; never another client's.
    mine = me.unit.organisation_id
    cutoffs = [c for c in service.cutoffs.all() if c.organisation_id == mine] if mine is not None else []
    cutoffs = cutoffs or [c for c in service.cutoffs.all() if c.organisation_id is None]
    return render(
        request,
        "catalogue/service.html",
        {
            "service": service,
            "run_now": runs.place(service, timezone.now(), {}, rows=cutoffs),
            "cutoffs": cutoffs,
            "can_edit": can_edit_service(request.user, service),
            "case": request.GET.get("case", ""),
        },
    )
