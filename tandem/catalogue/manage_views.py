"""The service editor (``/manage/services/``): a unit's lead, or an administrator, publishes and
keeps a service: its details, intake form, cut-offs, required skills and procedure.

Everything about one service is edited on one page; each part posts to its own address and
calls one action. A refusal re-renders the page with the posted part as it was typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.catalogue import actions
from tandem.catalogue.approvals import rule_in_words
from tandem.catalogue.forms import (
    ApprovalRuleForm,
    CutOffForm,
    IntakeFieldForm,
    ProcedureStepForm,
    RequiredSkillForm,
    RunFieldForm,
    ServiceForm,
)
from tandem.catalogue.models import Service
from tandem.catalogue.queries import (
    REVIEW_SOON_DAYS,
    can_edit_service,
    reads_reviews,
    reviews_due,
    services_editable_by,
    services_visible_to,
)
from tandem.org.models import Person, Side
from tandem.org.pages import refused, staff_page
from tandem.org.queries import units_led_by
from tandem.org.views import manage_page, page, require, valid
from tandem.refusal import Forbidden, Refused


def editable_service(me: Person, pk: int) -> Service:
    service = get_object_or_404(services_visible_to(me.user), pk=pk)
    require(
        can_edit_service(me.user, service),
        f"{service.name} belongs to {service.unit.name}; "
        "only its lead or an administrator can change it.",
    )
    return service


def editor(
    request: HttpRequest,
    me: Person,
    service: Service,
    refusal: Refused | None = None,
    **bound: forms.Form,
) -> HttpResponse:
    """The editor page; ``bound`` replaces the blank form of the part that was just posted."""
    service = (
        Service.objects.select_related("unit", "owner__user", "owner__unit")
        .prefetch_related("fields", "cutoffs", "steps", "skill_needs__skill")
        .get(pk=service.pk)
    )
    context: dict[str, Any] = {
        "service": service,
        "service_form": ServiceForm(user=request.user, initial=ServiceForm.initial_for(service)),
        "field_form": IntakeFieldForm(prefix="field"),
        "cutoff_form": CutOffForm(prefix="cutoff"),
        "run_field_form": RunFieldForm(prefix="run", service=service),
        "need_form": RequiredSkillForm(prefix="need"),
        "step_form": ProcedureStepForm(prefix="step"),
        "approval_form": ApprovalRuleForm(prefix="approval", service=service, user=request.user,
                                          initial=ApprovalRuleForm.initial_for(service)),
        "approval_rule": rule_in_words(service),
        "review_due": service.review_due_on < timezone.localdate(),
        **bound,
    }
    return page(request, "manage/service.html", context, refusal)


def back(service: Service, anchor: str = "") -> HttpResponse:
    """To the editor, at the part just changed."""
    url = reverse("manage_services:edit", args=[service.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- the list and the details --------------------------------------------------------------------


@manage_page
def services(request: HttpRequest, me: Person) -> HttpResponse:
    listed = (
        services_editable_by(request.user)
        .annotate(field_count=Count("fields"))
        .order_by("unit__name", "name")
    )
    return page(
        request,
        "manage/services.html",
        {
            "services": listed,
            "may_add": units_led_by(request.user).filter(side=Side.BACK).exists(),
            "today": timezone.localdate(),
        },
    )


@manage_page
def service_new(request: HttpRequest, me: Person) -> HttpResponse:
    form = ServiceForm(
        request.POST or None,
        user=request.user,
        initial={
            "last_reviewed_on": timezone.localdate(),
            "owner": me.pk,
            "unit": me.unit_id,
            "turnaround_days": 2,
            "external_allowed": True,
        },
    )
    if request.method == "POST":
        try:
            service = actions.create_service(me, **valid(form))
        except Refused as exc:
            return page(request, "manage/service_new.html", {"form": form}, exc)
        messages.success(
            request, f"{service.name} was created. Add its intake form, then publish it."
        )
        return back(service)
    return page(request, "manage/service_new.html", {"form": form})


@manage_page
def service_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    if request.method != "POST":
        return editor(request, me, service)
    form = ServiceForm(request.POST, user=request.user)
    try:
        service = actions.update_service(me, service.pk, **valid(form))
    except Refused as exc:
        return editor(request, me, service, exc, service_form=form)
    messages.success(request, f"{service.name} was saved.")
    return back(service)


@manage_page
@require_POST
def service_reviewed(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = actions.mark_service_reviewed(me, editable_service(me, pk).pk)
    messages.success(request, f"{service.name} is marked as reviewed today.")
    return back(service)


# --- the intake form -----------------------------------------------------------------------------


@manage_page
@require_POST
def field_add(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = IntakeFieldForm(request.POST, prefix="field")
    try:
        valid(form)
        field = actions.save_intake_field(me, service.pk, None, **form.data_for_action())
    except Refused as exc:
        return editor(request, me, service, exc, field_form=form)
    messages.success(request, f"The field {field.label!r} was added at the end of the form.")
    return back(service, "intake")


@manage_page
def field_edit(request: HttpRequest, me: Person, pk: int, field_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    field = get_object_or_404(service.fields, pk=field_id)
    form = IntakeFieldForm(
        request.POST or None, prefix="field", initial=IntakeFieldForm.initial_for(field)
    )
    if request.method == "POST":
        try:
            valid(form)
            field = actions.save_intake_field(me, service.pk, field.pk, **form.data_for_action())
        except Refused as exc:
            return page(
                request,
                "manage/service_field.html",
                {"service": service, "field": field, "form": form},
                exc,
            )
        messages.success(request, f"The field {field.label!r} was saved.")
        return back(service, "intake")
    return page(
        request, "manage/service_field.html", {"service": service, "field": field, "form": form}
    )


@manage_page
@require_POST
def field_move(request: HttpRequest, me: Person, pk: int, field_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.move_intake_field(
        me, service.pk, field_id, "up" if request.POST.get("direction") == "up" else "down"
    )
    return back(service, "intake")


@manage_page
@require_POST
def field_remove(request: HttpRequest, me: Person, pk: int, field_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.remove_intake_field(me, service.pk, field_id)
    messages.success(request, "The field was removed; earlier requests keep what they were given.")
    return back(service, "intake")


@manage_page
@require_POST
def approval_set(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = ApprovalRuleForm(request.POST, prefix="approval", service=service, user=request.user)
    try:
        valid(form)
        service = actions.set_approval(me, service.pk, **form.data_for_action())
    except Refused as exc:
        return editor(request, me, service, exc, approval_form=form)
    messages.success(request, f"Saved who approves {service.name}'s requests.")
    return back(service, "approval")


# --- cut-offs, required skills, procedure ------------------------------------------------------


@manage_page
@require_POST
def cutoff_add(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = CutOffForm(request.POST, prefix="cutoff")
    try:
        actions.add_cutoff(me, service.pk, **valid(form))
    except Refused as exc:
        return editor(request, me, service, exc, cutoff_form=form)
    messages.success(request, "The cut-off was added.")
    return back(service, "cutoffs")


@manage_page
@require_POST
def run_field_set(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = RunFieldForm(request.POST, prefix="run", service=service)
    try:
        actions.set_run_field(me, service.pk, valid(form)["run_field"])
    except Refused as exc:
        return editor(request, me, service, exc, run_field_form=form)
    messages.success(request, "Saved which field names a request's run.")
    return back(service, "cutoffs")


@manage_page
@require_POST
def cutoff_remove(request: HttpRequest, me: Person, pk: int, cutoff_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.remove_cutoff(me, service.pk, cutoff_id)
    messages.success(request, "The cut-off was removed.")
    return back(service, "cutoffs")


@manage_page
@require_POST
def need_set(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = RequiredSkillForm(request.POST, prefix="need")
    try:
        need = actions.set_required_skill(me, service.pk, **valid(form))
    except Refused as exc:
        return editor(request, me, service, exc, need_form=form)
    messages.success(
        request, f"{service.name} now needs {need.skill.name} at level {need.min_level} or above."
    )
    return back(service, "skills")


@manage_page
@require_POST
def need_remove(request: HttpRequest, me: Person, pk: int, skill_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.remove_required_skill(me, service.pk, skill_id)
    messages.success(request, "The skill is no longer required.")
    return back(service, "skills")


@manage_page
@require_POST
def step_add(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    service = editable_service(me, pk)
    form = ProcedureStepForm(request.POST, prefix="step")
    try:
        actions.save_procedure_step(me, service.pk, None, **valid(form))
    except Refused as exc:
        return editor(request, me, service, exc, step_form=form)
    messages.success(request, "The step was added at the end of the procedure.")
    return back(service, "procedure")


@manage_page
def step_edit(request: HttpRequest, me: Person, pk: int, step_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    step = get_object_or_404(service.steps, pk=step_id)
    form = ProcedureStepForm(request.POST or None, prefix="step", initial={"text": step.text})
    if request.method == "POST":
        try:
            actions.save_procedure_step(me, service.pk, step.pk, **valid(form))
        except Refused as exc:
            return page(
                request,
                "manage/service_step.html",
                {"service": service, "step": step, "form": form},
                exc,
            )
        messages.success(request, "The step was saved.")
        return back(service, "procedure")
    return page(
        request, "manage/service_step.html", {"service": service, "step": step, "form": form}
    )


@manage_page
@require_POST
def step_move(request: HttpRequest, me: Person, pk: int, step_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.move_procedure_step(
        me, service.pk, step_id, "up" if request.POST.get("direction") == "up" else "down"
    )
    return back(service, "procedure")


@manage_page
@require_POST
def step_remove(request: HttpRequest, me: Person, pk: int, step_id: int) -> HttpResponse:
    service = editable_service(me, pk)
    actions.remove_procedure_step(me, service.pk, step_id)
    messages.success(request, "The step was removed.")
    return back(service, "procedure")


# --- process reviews -----------------------------------------------------------------------------


@staff_page
def reviews_due_page(request: HttpRequest, me: Person) -> HttpResponse:
    if not reads_reviews(me):
        return refused(request, Forbidden("Process reviews are for service owners, leads, executives and "
                                          "administrators."))
    return render(request, "manage/reviews_due.html", {"due": reviews_due(request.user),
                                                       "soon_days": REVIEW_SOON_DAYS})
