"""Pages for leads: a unit's capacity and skills matrix (``/manage/capacity/``), its
allocation plan (``/manage/plan/``: propose, then accept all or line by line), and loans of
front-office people to back-office units (``/manage/loans/``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from tandem.allocation import actions, policy
from tandem.allocation.forecast import MAX_SUGGESTION_DAYS, loan_suggestions
from tandem.allocation.forms import LoanForm
from tandem.allocation.jumps import queue_jumps, week_start
from tandem.allocation.models import LineOutcome
from tandem.allocation.modes import mode_choices, worked_unit
from tandem.allocation.plan_loans import ask_for_week_loan, week_proposals_for
from tandem.allocation.productivity import (
    person_productivity,
    reads_person_productivity,
    reads_unit_productivity,
    unit_productivity,
)
from tandem.allocation.queries import (
    DEFAULT_DAYS,
    MAX_DAYS,
    latest_plan,
    loan_candidates,
    loans_visible_to,
    plan_lines,
    planned_unit,
    planned_units_visible_to,
    unit_capacity,
)
from tandem.org.models import Person, Side, Unit
from tandem.org.pages import refused, safe_next, staff_page
from tandem.org.queries import leads_unit, people_visible_to, units_visible_to
from tandem.org.views import manage_page, page, valid
from tandem.refusal import Forbidden, Invalid, Refused
from tandem.work.queries import work_held_by_absent


def _unit(request: HttpRequest, me: Person) -> Unit:
    """The unit asked for (``?unit=slug``), else the lead's own, else the first one listed."""
    slug = request.GET.get("unit") or request.POST.get("unit")
    if slug:
        return planned_unit(request.user, slug)
    units = planned_units_visible_to(request.user)
    unit = units.filter(pk=me.unit_id).first() or units.first()
    if unit is None:
        raise Forbidden("Capacity and plans are kept for back-office units; you lead none.")
    return unit


def _days(request: HttpRequest) -> int:
    try:
        return min(MAX_DAYS, max(1, int(request.GET.get("days", DEFAULT_DAYS))))
    except ValueError:
        return DEFAULT_DAYS


@manage_page
def capacity(request: HttpRequest, me: Person) -> HttpResponse:
    unit = _unit(request, me)
    now = timezone.now()
    cap = unit_capacity(unit, now, _days(request))
    return page(
        request,
        "allocation/capacity.html",
        {"unit": unit, "units": planned_units_visible_to(request.user), "cap": cap, "matrix": cap.matrix(),
         "away": work_held_by_absent(unit.pk, timezone.localdate(now)),
         "jumps": queue_jumps(unit, week_start(unit, now))},
    )


@manage_page
def plan(request: HttpRequest, me: Person) -> HttpResponse:
    unit = _unit(request, me)
    latest = latest_plan(unit)
    lines = list(plan_lines(latest)) if latest else []
    return page(
        request,
        "allocation/plan.html",
        {
            "unit": unit,
            "units": planned_units_visible_to(request.user),
            "plan": latest,
            "lines": lines,
            "pending": [line for line in lines if line.person_id and not line.accepted_at],
            "unplaced": [line for line in lines if not line.person_id],
            "modes": mode_choices(),
        },
    )


def _back(unit: Unit) -> HttpResponse:
    return redirect(f"{reverse('allocation:plan')}?unit={unit.slug}")


@staff_page
@require_POST
def hand_back(request: HttpRequest, me: Person, person_id: int) -> HttpResponse:
    """A lead hands the not-started requests of someone away today back to the queue."""
    try:
        returned = actions.hand_back_from_absent(me, person_id)
    except Refused as exc:
        return refused(request, exc)
    messages.success(request, f"{returned} request{'s' if returned != 1 else ''} went back to the queue.")
    return redirect(safe_next(request, reverse("allocation:capacity")))


@manage_page
@require_POST
def propose(request: HttpRequest, me: Person) -> HttpResponse:
    unit = _unit(request, me)
    new = actions.propose_plan(me, unit)
    placed = new.lines.filter(person__isnull=False).count()
    messages.success(request, f"Plan proposed: {placed} of {new.lines.count()} requests have a proposed holder.")
    return _back(unit)


@manage_page
@require_POST
def accept(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    """Accept every line, or the lines posted as ``line``; a refusal (409: a newer plan, or
    accepted already) is its own page, and nothing was applied."""
    try:
        ids = [int(v) for v in request.POST.getlist("line")] or None
    except ValueError:
        raise Invalid("Choose lines of the plan to accept.", errors={"line": ["Not a line id."]}) from None
    done = actions.accept_plan(me, pk, lines=ids)
    not_applied = done.count(LineOutcome.CHANGED) + done.count(LineOutcome.REFUSED)
    text = f"{done.count(LineOutcome.APPLIED)} assigned, {done.count(LineOutcome.KEPT)} kept with their holder"
    if not_applied:
        text += f"; {not_applied} not applied (changed since the plan: see the lines below)"
    messages.success(request, text + ".")
    return _back(done.plan.unit)


@manage_page
@require_POST
def set_mode(request: HttpRequest, me: Person) -> HttpResponse:
    unit = _unit(request, me)
    actions.set_allocation_mode(me, unit, request.POST.get("mode", ""))
    messages.success(request, f"{unit.name} now works in “{unit.get_allocation_mode_display()}” mode.")
    return _back(unit)


@manage_page
@require_POST
def set_queue_policy(request: HttpRequest, me: Person) -> HttpResponse:
    unit = _unit(request, me)
    raw = request.POST.get("customer_head_start_hours", "0").strip() or "0"
    if not raw.isdigit() or len(raw) > 4:
        raise Invalid(f"The head start is a whole number of working hours; got {raw[:20]!r}.",
                      errors={"customer_head_start_hours": ["A whole number of working hours."]})
    policy.set_queue_policy(me, unit, head_start_hours=int(raw),
                            reason_required=request.POST.get("queue_jump_reason_required") == "1")
    messages.success(request, f"{unit.name}'s queue order: {unit.queue_order_label}.")
    return _back(unit)


@staff_page
@require_POST
def take_next(request: HttpRequest, me: Person) -> HttpResponse:
    """Pull mode: the queue page's "Take next"; a refusal (409: nothing left you are qualified
    for) is its own page, and nothing changed."""
    try:
        unit = worked_unit(me, request.POST.get("unit", ""))
        taken = actions.take_next(me, unit)
    except Refused as exc:
        return refused(request, exc, title="Nothing taken")
    messages.success(request, f"{taken.reference} is yours: {taken.title}")
    return redirect("work:request", taken)


# --- loans ----------------------------------------------------------------------------------------


def _loans_page(request: HttpRequest, me: Person, form: LoanForm, refusal: Refused | None = None) -> HttpResponse:
    now = timezone.now()
    units = planned_units_visible_to(request.user)
    slug = request.GET.get("unit") or request.POST.get("unit")
    unit = planned_unit(request.user, slug) if slug else units.filter(pk=me.unit_id).first() or units.first()
    rows = [
        (loan, loan.state(now), leads_unit(me, loan.person.unit_id), leads_unit(me, loan.unit_id))
        for loan in loans_visible_to(request.user).order_by("-starts_at", "-id")[:200]
    ]
    # Suggested loans: only for a lead of the unit (or an administrator); ``planned_unit`` checked.
    forecast = loan_suggestions(request.user, unit, now, min(_days(request), MAX_SUGGESTION_DAYS)) if unit else None
    return page(
        request,
        "allocation/loans.html",
        {
            "unit": unit,
            "units": units,
            "candidates": loan_candidates(unit, now) if unit else [],
            "rows": rows,
            "form": form,
            "forecast": forecast,
        },
        refusal,
    )


def _prefilled(request: HttpRequest) -> LoanForm:
    """An empty loan form, filled in from a suggestion's "Fill in the form" (GET parameters)."""
    initial = {}
    for name in ("person", "starts_at", "ends_at", "note"):
        value = request.GET.get(name, "")
        if value and "\x00" not in value and len(value) <= 200:
            initial[name] = value
    return LoanForm(initial=initial)


@manage_page
def loans(request: HttpRequest, me: Person) -> HttpResponse:
    form = LoanForm(request.POST or None)
    if request.method == "POST":
        try:
            unit = planned_unit(request.user, request.POST.get("unit", ""))
            data = valid(form)
            loan = actions.propose_loan(
                me, unit, data["person"].pk, starts_at=data["starts_at"], ends_at=data["ends_at"], note=data["note"]
            )
        except Refused as exc:
            return _loans_page(request, me, form, exc)
        messages.success(request, f"Asked to borrow {loan.person.display_name}; their lead is told.")
        return redirect(f"{reverse('allocation:loans')}?unit={unit.slug}")
    return _loans_page(request, me, _prefilled(request))


@manage_page
@require_POST
def loan_agree(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    loan = actions.agree_loan(me, pk)
    messages.success(request, f"Agreed: {loan.person.display_name} works for {loan.unit.name} in that window.")
    return redirect("allocation:loans")


@manage_page
@require_POST
def loan_end(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    loan = actions.end_loan(me, pk)
    messages.success(request, f"The loan of {loan.person.display_name} to {loan.unit.name} is over.")
    return redirect("allocation:loans")


@manage_page
def week_loans(request: HttpRequest, me: Person) -> HttpResponse:
    """The loans proposed for a short week of the four-week plan, with their simulated effect:
    a part of the plan page (loaded by htmx), or a page of its own without JavaScript."""
    proposals = week_proposals_for(request.user, request.GET.get("unit", ""), request.GET.get("week", ""))
    template = "allocation/_week_loans.html" if getattr(request, "htmx", False) else "allocation/week_loans.html"
    response = page(request, template, {"p": proposals})
    patch_vary_headers(response, ("HX-Request",))
    return response


@manage_page
@require_POST
def ask_week_loan(request: HttpRequest, me: Person) -> HttpResponse:
    person = request.POST.get("person", "")
    loan = ask_for_week_loan(me, request.POST.get("unit", ""), request.POST.get("week", ""),
                             int(person) if person.isdigit() and len(person) < 12 else 0)
    messages.success(request, f"Asked to borrow {loan.person.display_name} for the week of "
                              f"{timezone.localtime(loan.starts_at):%d %b}; their lead is told.")
    return redirect(f"{reverse('demand:plan')}?unit={loan.unit.slug}")


@staff_page
def productivity(request: HttpRequest, me: Person) -> HttpResponse:
    """A unit's weeks (its people, its lead, executives, administrators) and, for a person, their
    own weeks (only them and their lead)."""
    slug = request.GET.get("unit") or (me.unit.slug if me.unit.side == Side.BACK else "")
    unit = units_visible_to(me.user).filter(slug=slug, side=Side.BACK).first() if slug and "\x00" not in slug else None
    if unit is None:
        return refused(request, Invalid("Choose a back-office unit (unit=<slug>)."))
    if not reads_unit_productivity(me, unit):
        return refused(request, Forbidden(f"{unit.name}'s productivity is for its people, its lead, executives "
                                          "and administrators."))
    person = None
    person_id = request.GET.get("person", "")
    if person_id:
        person = people_visible_to(me.user).filter(pk=int(person_id) if person_id.isdigit() else 0, unit=unit).first()
        if person is None or not reads_person_productivity(me, person):
            return refused(request, Forbidden("A person's own figures are for them and their lead only."))
    members = [p for p in people_visible_to(me.user).filter(unit=unit) if reads_person_productivity(me, p)]
    return render(request, "allocation/productivity.html", {
        "data": unit_productivity(unit), "person": person,
        "personal": person_productivity(person) if person else None, "members": members,
        "units": units_visible_to(me.user).filter(side=Side.BACK).order_by("name"),
    })
