"""The catalogue as the requesting side sees it: browse, read a service, ask for it."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from tandem.catalogue.intake import intake_form_class
from tandem.catalogue.models import Service
from tandem.catalogue.queries import can_edit_service, services_visible_to
from tandem.org.models import Person
from tandem.pages import staff_page
from tandem.promises.queries import quote
from tandem.refusal import Conflict, Refused
from tandem.work.actions import submit_request
from tandem.work.forms import SubmitForm, raw_values, refuse_invalid
from tandem.work.models import Case, Channel
from tandem.work.queries import cases_visible_to


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
    return render(
        request,
        "catalogue/service.html",
        {
            "service": service,
            "can_edit": can_edit_service(request.user, service),
            "case": request.GET.get("case", ""),
        },
    )


def _submit_page(
    request: HttpRequest,
    me: Person,
    service: Service,
    intake: Form,
    meta: SubmitForm,
    *,
    refusal: Refused | None = None,
) -> HttpResponse:
    channel = request.POST.get("channel") if request.method == "POST" else None
    if channel not in Channel.values or (channel == Channel.EXTERNAL and not service.external_allowed):
        channel = Channel.INTERNAL
    promise = quote(service, me, channel=channel)
    return render(
        request,
        "catalogue/submit.html",
        {"service": service, "intake": intake, "meta": meta, "refusal": refusal, "quote": promise},
        status=refusal.status if refusal else 200,
    )


@staff_page
def submit(request: HttpRequest, me: Person, slug: str) -> HttpResponse:
    service = get_object_or_404(
        services_visible_to(request.user).filter(active=True).prefetch_related("fields"), slug=slug
    )
    cases = (
        cases_visible_to(request.user).filter(owner=me, status=Case.CaseStatus.OPEN).order_by("-id")
    )
    intake_class = intake_form_class(service)
    if request.method != "POST":
        meta = SubmitForm(service=service, cases=cases, initial={"case": request.GET.get("case")})
        return _submit_page(request, me, service, intake_class(prefix="intake"), meta)
    intake = intake_class(request.POST, prefix="intake")
    meta = SubmitForm(request.POST, service=service, cases=cases)
    try:
        refuse_invalid(meta)
        done = submit_request(me, service, raw_values(intake), **meta.submission())
    except Refused as exc:
        meta.attach(exc)
        if isinstance(exc, Conflict):
            meta.renew_token()
        return _submit_page(request, me, service, intake, meta, refusal=exc)
    if done.created:
        messages.success(request, f"Sent to {service.unit.name} as {done.request.reference}.")
    else:
        messages.info(request, f"This form was already sent: here is {done.request.reference}.")
    return redirect("work:request", pk=done.request.pk)
