"""Management pages for administrators and team leads: units, people, skills, working patterns
and absences (the service editor is ``tandem.catalogue.manage_views``).

Each view: decorate, fetch through a permission-aware query, call one action, then redirect
or render. A refused action re-renders the form with what was typed, the message, and the
refusal's HTTP status.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tandem.org import actions
from tandem.org.forms import (
    AbsenceForm,
    PeopleFilterForm,
    PersonCreateForm,
    PersonEditForm,
    SignInForm,
    SkillForm,
    SkillLevelsForm,
    UnitForm,
    WorkingPatternForm,
)
from tandem.org.models import Person, Skill, Unit
from tandem.org.pages import refused, staff_page
from tandem.org.queries import (
    can_manage_organisation,
    can_manage_person,
    can_use_management,
    is_admin,
    people_managed_by,
    people_visible_to,
    person_of,
    units_visible_to,
)
from tandem.refusal import Forbidden, Invalid, Refused

TIME_ZONES = sorted(zoneinfo.available_timezones())
PEOPLE_PER_PAGE = 50


# --- signing in --------------------------------------------------------------------------------


class SignInView(LoginView):
    """Django's sign-in page; a locked-out account or address hears 429 and until when."""

    form_class = SignInForm

    def form_invalid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        if form.lockout is None:
            return super().form_invalid(form)
        response = self.render_to_response(self.get_context_data(form=form, locked_out=form.lockout), status=429)
        response["Retry-After"] = str(form.lockout.retry_after_seconds())
        return response


# --- what every management page shares ---------------------------------------------------------


def manage_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, a lead or an administrator; a refusal raised while fetching becomes its page."""

    @staff_page
    @wraps(view)
    def wrapper(request: HttpRequest, me: Person, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_use_management(me):
            return refused(
                request,
                Forbidden(
                    "The management pages are for team leads and administrators. "
                    "If something about "
                    "your unit, your skills or your absences needs changing, ask your lead."
                ),
                title="Not yours to manage",
            )
        try:
            return view(request, me, *args, **kwargs)
        except Refused as exc:
            return refused(request, exc)

    return wrapper


def valid(form: forms.Form) -> dict[str, Any]:
    """The cleaned data, or ``Invalid`` naming what to fix, so every refusal shows alike."""
    if not form.is_valid():
        raise Invalid(
            "Some details are missing or wrong; correct the highlighted fields and save again.",
            errors={name: [str(e) for e in errors] for name, errors in form.errors.items()},
        )
    return form.cleaned_data


def page(
    request: HttpRequest, template: str, context: dict[str, Any], refusal: Refused | None = None
) -> HttpResponse:
    """Render a management page; a refusal's field errors go beside the posted form's fields."""
    if refusal is not None:
        for form in context.values():
            if isinstance(form, forms.Form) and form.is_bound:
                for name, errors in refusal.errors.items():
                    if name in form.fields and name not in form.errors:
                        form.add_error(name, list(errors))
    me = person_of(request.user)
    return render(
        request,
        template,
        {
            **context,
            "refusal": refusal,
            "time_zones": TIME_ZONES,
            "me": me,
            "is_admin": is_admin(me),
        },
        status=refusal.status if refusal else 200,
    )


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def managed_person(me: Person, pk: int) -> Person:
    target = get_object_or_404(people_visible_to(me.user), pk=pk)
    require(
        can_manage_person(me, target),
        f"{target.display_name} is in {target.unit.name}; "
        "only that unit's lead or an administrator "
        "can change their skills, working pattern and absences.",
    )
    return target


ADMINS_ONLY = "Only administrators manage units, skills and people's accounts; ask one of them."


# --- units -------------------------------------------------------------------------------------


@manage_page
def units(request: HttpRequest, me: Person) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    listed = units_visible_to(me.user).annotate(
        people=Count("members", filter=Q(members__user__is_active=True), distinct=True),
        service_count=Count("services", distinct=True),
    ).order_by("side", "name")
    return page(request, "manage/units.html", {"units": listed})


@manage_page
def unit_new(request: HttpRequest, me: Person) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    form = UnitForm(request.POST or None)
    if request.method == "POST":
        try:
            unit = actions.create_unit(me, **valid(form))
        except Refused as exc:
            return page(request, "manage/unit_form.html", {"form": form}, exc)
        messages.success(request, f"{unit.name} was created.")
        return redirect("org:units")
    return page(request, "manage/unit_form.html", {"form": form})


@manage_page
def unit_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    unit = get_object_or_404(Unit, pk=pk)
    form = UnitForm(request.POST or None, initial=UnitForm.initial_for(unit))
    if request.method == "POST":
        try:
            unit = actions.update_unit(me, unit.pk, **valid(form))
        except Refused as exc:
            return page(request, "manage/unit_form.html", {"form": form, "unit": unit}, exc)
        messages.success(request, f"{unit.name} was saved.")
        return redirect("org:units")
    return page(request, "manage/unit_form.html", {"form": form, "unit": unit})


# --- skills ------------------------------------------------------------------------------------


@manage_page
def skills(request: HttpRequest, me: Person) -> HttpResponse:
    """The list of skills, with the form to add one."""
    require(can_manage_organisation(me), ADMINS_ONLY)
    listed = Skill.objects.annotate(
        holders=Count("person_levels", distinct=True),
        needed_by=Count("service_needs", distinct=True),
    )
    form = SkillForm(request.POST or None)
    if request.method == "POST":
        try:
            skill = actions.create_skill(me, **valid(form))
        except Refused as exc:
            return page(request, "manage/skills.html", {"skills": listed, "form": form}, exc)
        messages.success(request, f"The skill {skill.name} was added.")
        return redirect("org:skills")
    return page(request, "manage/skills.html", {"skills": listed, "form": form})


@manage_page
def skill_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    skill = get_object_or_404(Skill, pk=pk)
    form = SkillForm(request.POST or None, initial={"name": skill.name, "slug": skill.slug})
    if request.method == "POST":
        try:
            skill = actions.update_skill(me, skill.pk, **valid(form))
        except Refused as exc:
            return page(request, "manage/skill_form.html", {"form": form, "skill": skill}, exc)
        messages.success(request, f"The skill {skill.name} was saved.")
        return redirect("org:skills")
    return page(request, "manage/skill_form.html", {"form": form, "skill": skill})


# --- people ------------------------------------------------------------------------------------


@manage_page
def people(request: HttpRequest, me: Person) -> HttpResponse:
    """Everyone for an administrator, the unit's people for a lead; search and filter by unit."""
    listed = people_managed_by(request.user).order_by(
        "unit__name", "user__first_name", "user__last_name"
    )
    filters = PeopleFilterForm(request.GET or None)
    if filters.is_valid():
        if q := filters.cleaned_data["q"].strip():
            listed = listed.filter(
                Q(user__first_name__icontains=q)
                | Q(user__last_name__icontains=q)
                | Q(user__username__icontains=q)
                | Q(user__email__icontains=q)
                | Q(job_title__icontains=q)
            )
        if filters.cleaned_data["unit"]:
            listed = listed.filter(unit=filters.cleaned_data["unit"])
    found = Paginator(listed, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "manage/people.html",
        {
            "page_obj": found,
            "filters": filters,
            "query": query.urlencode(),
            "may_add": can_manage_organisation(me),
        },
    )


@manage_page
def person_new(request: HttpRequest, me: Person) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    form = PersonCreateForm(request.POST or None)
    if request.method == "POST":
        try:
            person = actions.create_person(me, **valid(form))
        except Refused as exc:
            return page(request, "manage/person_form.html", {"form": form}, exc)
        messages.success(
            request,
            f"{person.display_name} was added. Give them their username and first password.",
        )
        return redirect("org:person", pk=person.pk)
    return page(request, "manage/person_form.html", {"form": form})


@manage_page
def person_edit(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    require(can_manage_organisation(me), ADMINS_ONLY)
    person = get_object_or_404(people_visible_to(request.user), pk=pk)
    form = PersonEditForm(request.POST or None, initial=PersonEditForm.initial_for(person))
    if request.method == "POST":
        try:
            person = actions.update_person(me, person.pk, **valid(form))
        except Refused as exc:
            return page(request, "manage/person_form.html", {"form": form, "person": person}, exc)
        messages.success(request, f"{person.display_name} was saved.")
        return redirect("org:person", pk=person.pk)
    return page(request, "manage/person_form.html", {"form": form, "person": person})


def person_page(
    request: HttpRequest,
    me: Person,
    person: Person,
    refusal: Refused | None = None,
    **bound: forms.Form,
) -> HttpResponse:
    """The person's page: skills, working pattern and absences, each with its own form."""
    all_skills = list(Skill.objects.all())
    context: dict[str, Any] = {
        "person": person,
        "may_edit_account": can_manage_organisation(me),
        "skills_form": SkillLevelsForm(
            skills=all_skills, initial=SkillLevelsForm.initial_for(person)
        ),
        "pattern_form": WorkingPatternForm(initial=WorkingPatternForm.initial_for(person)),
        "absence_form": AbsenceForm(),
        "absences": person.absences.all(),
        **bound,
    }
    return page(request, "manage/person.html", context, refusal)


@manage_page
def person(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    return person_page(request, me, managed_person(me, pk))


@manage_page
@require_POST
def person_skills(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    target = managed_person(me, pk)
    form = SkillLevelsForm(request.POST, skills=list(Skill.objects.all()))
    try:
        valid(form)
        actions.set_person_skills(me, target.pk, form.levels())
    except Refused as exc:
        return person_page(request, me, target, exc, skills_form=form)
    messages.success(request, f"{target.display_name}'s skills were saved.")
    return redirect("org:person", pk=target.pk)


@manage_page
@require_POST
def person_pattern(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    target = managed_person(me, pk)
    form = WorkingPatternForm(request.POST)
    try:
        valid(form)
        target = actions.set_working_pattern(me, target.pk, form.pattern())
    except Refused as exc:
        return person_page(request, me, target, exc, pattern_form=form)
    messages.success(
        request,
        f"{target.display_name}'s working pattern was saved: "
        f"{target.weekly_hours():g} hours a week.",
    )
    return redirect("org:person", pk=target.pk)


@manage_page
@require_POST
def absence_add(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    target = managed_person(me, pk)
    form = AbsenceForm(request.POST)
    try:
        absence = actions.add_absence(me, target.pk, **valid(form))
    except Refused as exc:
        return person_page(request, me, target, exc, absence_form=form)
    messages.success(
        request,
        f"Added {absence.get_kind_display().lower()} for {target.display_name}, "
        f"{absence.starts_on:%d %b} to {absence.ends_on:%d %b %Y}.",
    )
    return redirect("org:person", pk=target.pk)


@manage_page
@require_POST
def absence_remove(request: HttpRequest, me: Person, pk: int, absence_id: int) -> HttpResponse:
    target = managed_person(me, pk)
    absence = get_object_or_404(target.absences, pk=absence_id)
    actions.remove_absence(me, absence.pk)
    messages.success(
        request,
        f"Removed the absence from {absence.starts_on:%d %b} to {absence.ends_on:%d %b %Y}.",
    )
    return redirect("org:person", pk=target.pk)
