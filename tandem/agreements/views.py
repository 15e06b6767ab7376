"""Pages for working calendars (``/manage/calendars/``), agreements (``/manage/agreements/``)
and customer agreements with their coverage check (``/manage/customer-agreements/``).

Leads change their own unit's, administrators every unit's; executives read the lists. Each
change calls one action; a refusal re-renders the form as it was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from tandem.agreements import actions
from tandem.agreements.forms import AgreementForm, CalendarForm, CustomerAgreementForm
from tandem.agreements.models import Agreement, Calendar, CustomerAgreement
from tandem.agreements.queries import (
    agreements_listed_for,
    calendar_data,
    calendar_for_service,
    calendar_for_unit,
    coverage,
    customer_agreements_listed_for,
    holidays_ahead,
    own_service_calendar,
    reads_agreement_pages,
    service_calendar_data,
    service_day_seconds,
    service_holidays_ahead,
)
from tandem.catalogue.models import Service
from tandem.engines.agreements.slaclock import target_words
from tandem.org.models import Person, Side, Unit
from tandem.org.pages import refused, staff_page
from tandem.org.queries import leads_unit, units_led_by
from tandem.org.views import manage_page, page, require, valid
from tandem.refusal import Forbidden, Refused


def reading_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Leads and administrators, and executives who read without changing."""

    @staff_page
    @wraps(view)
    def wrapper(request: HttpRequest, me: Person, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reads_agreement_pages(me):
            return refused(request, Forbidden("Agreement pages are for team leads, executives and administrators."))
        try:
            return view(request, me, *args, **kwargs)
        except Refused as exc:
            return refused(request, exc)

    return wrapper


# --- calendars ---------------------------------------------------------------------------------


@manage_page
def calendars(request: HttpRequest, me: Person) -> HttpResponse:
    units = units_led_by(request.user)
    own = set(Calendar.objects.filter(unit__in=units).values_list("unit_id", flat=True))
    rows = [(unit, unit.pk in own) for unit in units.order_by("name")]
    services = Service.objects.filter(unit__in=units).select_related("unit").order_by("unit__name", "name")
    own_services = set(Calendar.objects.filter(service__in=services).values_list("service_id", flat=True))
    service_rows = [(service, service.pk in own_services) for service in services]
    return page(request, "agreements/calendars.html", {"rows": rows, "service_rows": service_rows})


@manage_page
def calendar_edit(request: HttpRequest, me: Person, slug: str) -> HttpResponse:
    unit = get_object_or_404(Unit, slug=slug)
    require(
        leads_unit(me, unit.pk), f"Only the lead of {unit.name} or an administrator can see and change its calendar."
    )
    form = CalendarForm(
        request.POST or None, time_zone=unit.time_zone, initial=CalendarForm.initial_for(calendar_data(unit))
    )
    refusal = None
    if request.method == "POST":
        try:
            actions.set_calendar(me, unit, valid(form)["data"])
            messages.success(request, f"The calendar of {unit.name} was saved.")
            return redirect("agreements:calendar", slug=unit.slug)
        except Refused as exc:
            refusal = exc
    spec = calendar_for_unit(unit).spec
    context = {
        "unit": unit,
        "name": unit.name,
        "form": form,
        "spec": spec,
        "holidays": holidays_ahead(unit, timezone.localdate()),
    }
    return page(request, "agreements/calendar.html", context, refusal)


@manage_page
def service_calendar_edit(request: HttpRequest, me: Person, slug: str) -> HttpResponse:
    """A service's own calendar (overriding its unit's), with the same form; "remove" reverts
    the service to its unit's calendar."""
    service = get_object_or_404(Service.objects.select_related("unit"), slug=slug)
    require(
        leads_unit(me, service.unit_id),
        f"Only the lead of {service.unit.name} or an administrator can see and change the calendar of {service.name}.",
    )
    form = CalendarForm(
        request.POST or None,
        time_zone=service.unit.time_zone,
        initial=CalendarForm.initial_for(service_calendar_data(service)),
    )
    refusal = None
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                actions.remove_service_calendar(me, service)
                messages.success(request, f"{service.name} runs on the calendar of {service.unit.name} again.")
            else:
                actions.set_service_calendar(me, service, valid(form)["data"])
                messages.success(request, f"The calendar of {service.name} was saved.")
            return redirect("agreements:service-calendar", slug=service.slug)
        except Refused as exc:
            refusal = exc
    context = {
        "unit": service.unit,
        "service": service,
        "own": own_service_calendar(service) is not None,
        "name": service.name,
        "form": form,
        "spec": calendar_for_service(service).spec,
        "holidays": service_holidays_ahead(service, timezone.localdate()),
    }
    return page(request, "agreements/calendar.html", context, refusal)


# --- agreements --------------------------------------------------------------------------------


@reading_page
def agreements(request: HttpRequest, me: Person) -> HttpResponse:
    rows = [
        (
            a,
            target_words(a.first_response_minutes * 60, service_day_seconds(a.service)),
            target_words(a.resolution_minutes * 60, service_day_seconds(a.service)),
        )
        for a in agreements_listed_for(me)
    ]
    may_add = units_led_by(request.user).filter(side=Side.BACK).exists()
    return page(request, "agreements/agreements.html", {"rows": rows, "may_add": may_add})


def _agreement_form(request: HttpRequest, agreement: Agreement | None) -> AgreementForm:
    services = Service.objects.filter(unit__in=units_led_by(request.user)).select_related("unit").order_by("name")
    initial = AgreementForm.initial_for(agreement) if agreement else {"target_percent": 90, "active": True}
    return AgreementForm(request.POST or None, services=services, initial=initial)


@manage_page
def agreement_new(request: HttpRequest, me: Person) -> HttpResponse:
    form = _agreement_form(request, None)
    if request.method == "POST":
        try:
            agreement = actions.define_agreement(me, valid(form)["service"], **form.for_action())
        except Refused as exc:
            return page(request, "agreements/agreement_form.html", {"form": form}, exc)
        messages.success(request, f"The agreement {agreement.name!r} was created.")
        return redirect("agreements:agreements")
    return page(request, "agreements/agreement_form.html", {"form": form})


@manage_page
def agreement_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    agreement = get_object_or_404(Agreement.objects.select_related("service__unit"), pk=pk)
    require(
        leads_unit(me, agreement.service.unit_id),
        f"Only the lead of {agreement.service.unit.name} or an administrator can change this agreement.",
    )
    form = _agreement_form(request, agreement)
    if request.method == "POST":
        try:
            actions.update_agreement(me, agreement.pk, valid(form)["service"], **form.for_action())
        except Refused as exc:
            return page(request, "agreements/agreement_form.html", {"form": form, "agreement": agreement}, exc)
        messages.success(request, f"The agreement {agreement.name!r} was saved.")
        return redirect("agreements:agreements")
    return page(request, "agreements/agreement_form.html", {"form": form, "agreement": agreement})


# --- customer agreements -----------------------------------------------------------------------


@reading_page
def customer_agreements(request: HttpRequest, me: Person) -> HttpResponse:
    rows = [(ca, coverage(ca)) for ca in customer_agreements_listed_for(me)]
    may_add = units_led_by(request.user).filter(side=Side.FRONT).exists()
    return page(request, "agreements/customer_agreements.html", {"rows": rows, "may_add": may_add})


def _customer_form(request: HttpRequest, ca: CustomerAgreement | None) -> CustomerAgreementForm:
    units = units_led_by(request.user).filter(side=Side.FRONT)
    initial = CustomerAgreementForm.initial_for(ca) if ca else {"active": True, "margin_minutes": "0"}
    form = CustomerAgreementForm(request.POST or None, units=units, initial=initial)
    form.fields["unit"].disabled = ca is not None  # an agreement stays with its unit
    return form


@manage_page
def customer_agreement_new(request: HttpRequest, me: Person) -> HttpResponse:
    form = _customer_form(request, None)
    if request.method == "POST":
        try:
            ca = actions.define_customer_agreement(me, valid(form)["unit"], **form.for_action())
        except Refused as exc:
            return page(request, "agreements/customer_agreement_form.html", {"form": form}, exc)
        messages.success(request, f"{ca.name} was created. {coverage(ca).message}")
        return redirect("agreements:customer-agreement", pk=ca.pk)
    return page(request, "agreements/customer_agreement_form.html", {"form": form})


@manage_page
def customer_agreement_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    ca = get_object_or_404(CustomerAgreement.objects.select_related("unit"), pk=pk)
    require(
        leads_unit(me, ca.unit_id),
        f"Only the lead of {ca.unit.name} or an administrator can change this customer agreement.",
    )
    form = _customer_form(request, ca)
    context = {"form": form, "ca": ca, "coverage": coverage(ca)}
    if request.method == "POST":
        try:
            valid(form)
            actions.update_customer_agreement(me, ca.pk, **form.for_action())
        except Refused as exc:
            return page(request, "agreements/customer_agreement_form.html", context, exc)
        messages.success(request, f"{ca.name} was saved.")
        return redirect("agreements:customer-agreement", pk=ca.pk)
    return page(request, "agreements/customer_agreement_form.html", context)
