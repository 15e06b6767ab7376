"""Pages: the change calendar, drafting and managing a change, the executives' rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.catalogue import scheduled
from tandem.catalogue.models import IntakeField, Service
from tandem.changes import actions, notices, proposals, service_edits
from tandem.changes.calendar_page import grid, named, proposal_rows
from tandem.changes.models import ROLE_PLURALS, SUMMARY_LIMIT, TEXT_LIMIT, Blackout, Kind, Status
from tandem.changes.queries import (
    acknowledgements,
    blackouts_visible_to,
    calendar,
    changes_visible_to,
    comments_visible_to,
    in_audience,
    led_audience,
    limits_visible_to,
    may_own_changes,
    periods_visible_to,
    receipts_visible_to,
    sets_calendar_rules,
    to_acknowledge,
    units_owned_by,
)
from tandem.org.models import Person, Role, Side
from tandem.org.pages import refused, staff_page
from tandem.org.queries import units_visible_to
from tandem.refusal import Invalid, NotFound, Refused

#: Audiences (rows) per page of the calendar: the check always covers every audience.
AUDIENCES_PER_PAGE = 30

EDIT_FIELDS = ("service", "turnaround_days", "procedure", "add_label", "add_kind", "add_required", "add_choices")
FIELDS = ("unit", "title", "summary", "why", "kind", "effective_on", "minutes", "must_do", "by_when", "role")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _typed(request: HttpRequest) -> dict[str, Any]:
    typed: dict[str, Any] = {k: request.POST.get(k, "")[:4000].replace("\x00", "") for k in FIELDS}
    typed["audiences"] = [v[:80] for v in request.POST.getlist("audiences")][:200]
    typed["services"] = [v[:80] for v in request.POST.getlist("services")][:50]
    typed["everyone"] = request.POST.get("everyone") == "on"
    typed["every_lead"] = request.POST.get("every_lead") == "on"
    return typed


def _draft(typed: dict[str, Any]) -> actions.Draft:
    by_when = _date(typed["by_when"])
    audiences = [actions.AudienceIn(slug, typed["must_do"], by_when) for slug in typed["audiences"]]
    return actions.Draft(
        title=typed["title"], summary=typed["summary"], why=typed["why"], kind=typed["kind"],
        effective_on=_date(typed["effective_on"]), minutes=typed["minutes"], audiences=audiences,
        everyone=typed["everyone"] or typed["every_lead"], services=typed["services"],
        role=Role.LEAD if typed["every_lead"] else typed["role"],
    )


def _form_context(me: Person, typed: dict[str, Any], refusal: Refused | None, **extra: Any) -> dict[str, Any]:
    owned = list(units_owned_by(me.user))
    return {
        "typed": typed, "refusal": refusal, "units": owned, "kinds": Kind.choices, "summary_limit": SUMMARY_LIMIT,
        "roles": [(value, ROLE_PLURALS[value]) for value in Role.values],
        "audiences": units_visible_to(me.user).filter(side=Side.FRONT).order_by("name"),
        "services": Service.objects.filter(unit__in=owned, active=True).select_related("unit").order_by("name"),
        **extra,
    }


@staff_page
def calendar_page(request: HttpRequest, me: Person) -> HttpResponse:
    """Per audience and week: the changes landing, beside the audience's requests and leave, with
    the collisions and the proposed slots."""
    start = _date(request.GET.get("start", "")[:20])
    try:
        weeks = int(request.GET.get("weeks", "13")[:4])
    except ValueError:
        weeks = 13
    front = list(units_visible_to(me.user).filter(side=Side.FRONT).order_by("name").values_list("pk", flat=True))
    pages = max(1, -(-len(front) // AUDIENCES_PER_PAGE))
    try:
        number = min(max(1, int(request.GET.get("page", "1")[:4])), pages)
    except ValueError:
        number = 1
    shown = front[(number - 1) * AUDIENCES_PER_PAGE:number * AUDIENCES_PER_PAGE]
    cal = calendar(request.user, start=start, weeks=weeks, audience_ids=shown)
    owned = list(units_owned_by(request.user))
    base = reverse("changes:calendar")
    return render(request, "changes/calendar.html", {
        "grid": grid(cal, base), "proposals": proposal_rows(cal, base, {u.pk for u in owned}),
        "late": named(cal.late, base), "unplaceable": named(cal.unplaceable, base),
        "earlier": cal.start - timedelta(days=7 * len(cal.weeks)),
        "later": cal.start + timedelta(days=7 * len(cal.weeks)),
        "page_number": number, "pages": range(1, pages + 1) if pages > 1 else None,
        "cal": cal, "owns": bool(owned),
        "may_batch": bool(owned) or sets_calendar_rules(me),
        "executive": sets_calendar_rules(me),
        "blackouts": blackouts_visible_to(request.user).filter(ends_on__gte=cal.start)[:20],
        "periods": periods_visible_to(request.user).filter(ends_on__gte=cal.start)[:10],
        "for_you": list(to_acknowledge(request.user)[:20]),
    })


@staff_page
def new_change(request: HttpRequest, me: Person) -> HttpResponse:
    """Draft a change for a back-office unit whose services you own."""
    typed: dict[str, Any] = {"audiences": [], "services": [], "everyone": False, "every_lead": False, "role": ""}
    refusal: Refused | None = None
    if not units_owned_by(request.user).exists():
        return refused(request, Refused("Only the owners of a back-office unit's services (and administrators) "
                                        "draft changes."), status=403)
    if request.method == "POST":
        typed = _typed(request)
        try:
            unit_id = int(typed["unit"]) if typed["unit"].isdigit() else None
            change = actions.draft_change(me, unit_id, _draft(typed))
            messages.success(request, "Drafted. See where it lands on the calendar below.")
            return redirect("changes:change", pk=change.pk)
        except Refused as exc:
            refusal = exc
    return render(request, "changes/form.html", _form_context(me, typed, refusal),
                  status=refusal.status if refusal else 200)


@staff_page
def change_page(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    change = changes_visible_to(request.user).filter(pk=pk).first()
    if change is None:
        return refused(request, NotFound("There is no such change, or it is not yours to see."))
    refusal: Refused | None = None
    manages = may_own_changes(me, change.unit_id)
    audiences = list(change.audiences.select_related("unit"))
    typed: dict[str, Any] = {
        "unit": str(change.unit_id), "title": change.title, "summary": change.summary, "why": change.why,
        "kind": change.kind, "effective_on": change.effective_on.isoformat(), "minutes": str(change.minutes),
        "must_do": audiences[0].must_do if audiences else "",
        "by_when": audiences[0].by_when.isoformat() if audiences and audiences[0].by_when else "",
        "audiences": [a.unit.slug for a in audiences], "everyone": change.everyone,
        "role": audiences[0].role if audiences and len({a.role for a in audiences}) == 1 else "",
        "every_lead": change.everyone and bool(audiences) and all(a.role == Role.LEAD for a in audiences),
        "services": list(change.services.values_list("slug", flat=True)),
    }
    form = request.POST.get("form", "edit")[:20] if request.method == "POST" else ""
    said: dict[str, Any] = {k: request.POST.get(k, "")[:TEXT_LIMIT * 3].replace("\x00", "")
            for k in ("text", "answer", "comment", "consultation_outcome", *EDIT_FIELDS)}
    said["remove_fields"] = [v[:80] for v in request.POST.getlist("remove_fields")][:200]
    if form in ("comment", "answer", "publish", "service_edit"):
        try:
            if form == "service_edit":
                service_edits.schedule_service_edit(me, change.pk, said["service"], _service_edit(said))
                messages.success(request, "Scheduled: the service changes with the change.")
            elif form == "comment":
                actions.comment_on_change(me, change.pk, said["text"])
                messages.success(request, "Your comment is with the change's owner.")
            elif form == "answer":
                comment_id = int(said["comment"]) if said["comment"].isdigit() else 0
                if not change.comments.filter(pk=comment_id).exists():
                    raise NotFound("There is no such comment on this change.")
                actions.answer_comment(me, comment_id, said["answer"])
                messages.success(request, "Answered.")
            else:
                actions.publish_change(me, change.pk, said["consultation_outcome"])
                messages.success(request, "Published: its audience is told on the effective date.")
            return redirect("changes:change", pk=change.pk)
        except Refused as exc:
            refusal = exc
    elif request.method == "POST":
        if not manages:
            return refused(request, Refused("Only the owners of the unit's services manage this change."), status=403)
        typed = _typed(request)
        try:
            actions.edit_change(me, change.pk, _draft(typed))
            messages.success(request, "Saved.")
            return redirect("changes:change", pk=change.pk)
        except Refused as exc:
            refusal = exc
    cal = calendar(request.user, start=change.effective_on, weeks=5,
                   audience_ids=[a.unit_id for a in audiences])
    own_refusal = refusal if form in ("comment", "answer", "publish", "service_edit") else None
    return render(request, "changes/change.html", _form_context(
        me, typed, None if own_refusal else refusal, other_refusal=own_refusal, change=change, manages=manages,
        change_audiences=audiences, cal=cal,
        editable=manages and change.status in (Status.DRAFT, Status.CONSULTATION),
        proposal=next((p for p in cal.proposals if p.change.pk == change.pk), None),
        form=form, said=said, said_for=said["service"] if form == "service_edit" else None,
        text_limit=TEXT_LIMIT, field_kinds=IntakeField.Kind.choices,
        linked=list(change.services.prefetch_related("fields").order_by("name")),
        service_edits=list(change.service_edits.select_related("service")),
        comments=list(comments_visible_to(request.user).filter(change=change)),
        may_comment=(change.status == Status.CONSULTATION and change.consultation_ends_on is not None
                     and timezone.localdate() <= change.consultation_ends_on and led_audience(me, change) is not None),
        in_audience=change.status == Status.PUBLISHED and in_audience(me, change),
        acknowledged=receipts_visible_to(request.user).filter(
            change=change, person=me, acknowledged_at__isnull=False).first(),
        acks=acknowledgements(change) if manages and change.status == Status.PUBLISHED else None,
        may_remind=(manages and change.status == Status.PUBLISHED and change.effective_on <= timezone.localdate()
                    and change.reminded_on != timezone.localdate()),
    ), status=refusal.status if refusal else 200)


@require_POST
@staff_page
def change_action(request: HttpRequest, me: Person, pk: int, what: str) -> HttpResponse:
    """Open consultation, publish, move (or accept a proposed slot), cancel, acknowledge, remind."""
    if not changes_visible_to(request.user).filter(pk=pk).exists():
        return refused(request, NotFound("There is no such change, or it is not yours to see."))
    try:
        if what == "consult":
            actions.open_consultation(me, pk, _date(request.POST.get("consultation_ends_on", "")[:20]))
            messages.success(request, "Open for consultation.")
        elif what == "publish":
            actions.publish_change(me, pk, request.POST.get("consultation_outcome", "")[:TEXT_LIMIT * 3])
            messages.success(request, "Published.")
        elif what == "acknowledge":
            notices.acknowledge_change(me, pk)
            messages.success(request, "Acknowledged. Thank you.")
        elif what == "remind":
            count = notices.remind_audience(me, pk)
            messages.success(request, f"Reminded {count} {'person' if count == 1 else 'people'}.")
        elif what == "move":
            change = actions.move_change(me, pk, _date(request.POST.get("effective_on", "")[:20]))
            messages.success(request, f"Moved to {change.effective_on:%-d %b %Y}.")
        elif what == "cancel":
            actions.cancel_change(me, pk)
            messages.success(request, "Cancelled.")
        elif what == "stage":
            stages = [(v.partition(":")[0], _date(v.partition(":")[2])) for v in request.POST.getlist("stage")[:500]]
            if any(d is None for _, d in stages):
                raise Invalid("Give the staging as proposed: each audience and its day.")
            proposals.accept_staging(me, pk, [(u, d) for u, d in stages if d is not None])
            messages.success(request, "Staged: each audience now has its own day.")
        elif what == "unschedule":
            service_edits.drop_service_edit(me, pk, request.POST.get("service", "")[:80])
            messages.success(request, "The service stays as it is on the day.")
        else:
            raise NotFound("No such action.")
    except Refused as exc:
        return refused(request, exc)
    back = request.POST.get("next", "")
    return redirect("changes:calendar") if back == "calendar" else redirect("changes:change", pk=pk)


@require_POST
@staff_page
def accept_batch(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    """Move every change of the batch proposed for a change period into it, as shown."""
    moves: dict[int, date] = {}
    for value in request.POST.getlist("move")[:1000]:
        change_id, _, day = value.partition(":")
        when = _date(day)
        if not change_id.isdigit() or when is None:
            return refused(request, Invalid("Give the batch as proposed: each change and its day."))
        moves[int(change_id)] = when
    try:
        moved = proposals.accept_batch(me, pk, moves)
    except Refused as exc:
        return refused(request, exc)
    messages.success(request, f"Batched: {len(moved)} change{'s' if len(moved) != 1 else ''} moved into the period.")
    return redirect("changes:calendar")


def _service_edit(said: dict[str, Any]) -> scheduled.ServiceEditIn:
    """The page's one form for a linked service: blank parts stay as they are."""
    days = said["turnaround_days"].strip()
    procedure = [line for line in said["procedure"].splitlines() if line.strip()]
    add = []
    if said["add_label"].strip():
        add.append(scheduled.FieldIn(label=said["add_label"], kind=said["add_kind"] or IntakeField.Kind.TEXT,
                                     required=said["add_required"] == "on",
                                     choices=said["add_choices"].splitlines()))
    try:
        turnaround = int(days) if days else None
    except ValueError:
        raise Invalid("The turnaround is a whole number of working days.",
                      errors={"turnaround_days": [f"{days[:20]!r} is not a whole number."]}) from None
    return scheduled.ServiceEditIn(turnaround_days=turnaround, procedure=procedure or None, add_fields=add,
                                   remove_fields=said["remove_fields"])


@staff_page
def rules_page(request: HttpRequest, me: Person) -> HttpResponse:
    """Executives: each audience's weekly limit, blackouts and change periods."""
    refusal: Refused | None = None
    names = ("form", "unit", "minutes_per_week", "starts_on", "ends_on", "reason", "kind", "name")
    typed = {k: request.POST.get(k, "")[:200].replace("\x00", "") for k in names}
    if request.method == "POST":
        try:
            if typed["form"] == "limit":
                actions.set_limit(me, typed["unit"], typed["minutes_per_week"],
                                  batching_required=request.POST.get("batching_required") == "on")
            elif typed["form"] == "blackout":
                actions.declare_blackout(me, starts_on=_date(typed["starts_on"]), ends_on=_date(typed["ends_on"]),
                                         reason=typed["reason"], kind=typed["kind"] or Blackout.Kind.BUSY,
                                         unit_slug=typed["unit"] or None)
            elif typed["form"] == "period":
                actions.declare_period(me, name=typed["name"], starts_on=_date(typed["starts_on"]),
                                       ends_on=_date(typed["ends_on"]))
            elif typed["form"] == "remove":
                actions.remove_rule(me, blackout_id=int(request.POST.get("blackout") or 0) or None,
                                    period_id=int(request.POST.get("period") or 0) or None)
            messages.success(request, "Saved.")
            return redirect("changes:rules")
        except (Refused, ValueError) as exc:
            refusal = exc if isinstance(exc, Refused) else Refused("That is not a number.")
    return render(request, "changes/rules.html", {
        "executive": sets_calendar_rules(me), "typed": typed, "refusal": refusal,
        "limits": limits_visible_to(request.user).order_by("unit__name"),
        "blackouts": blackouts_visible_to(request.user).order_by("-starts_on")[:60],
        "periods": periods_visible_to(request.user).order_by("-starts_on")[:30],
        "audiences": units_visible_to(me.user).filter(side=Side.FRONT).order_by("name"), "kinds": Blackout.Kind.choices,
    }, status=refusal.status if refusal else 200)
