"""The work pages: home, my requests, the request page and its moves, cases, the team queue.

Opening a request (which also reads the viewer's notifications about it) is the site's
``tandem.site.views.request_detail``; it renders ``request_page`` from here. The team queue,
whose order weighs the promise made to each requester, is the site's ``queue``; it renders
``queue_page`` from here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from tandem.isolation import one_transaction_for_reads
from tandem.org.models import Person, Side
from tandem.org.pages import refused, safe_next, staff_page
from tandem.org.queries import (
    is_admin,
    is_client,
    leads_unit,
    organisations_visible_to,
    people_visible_to,
    unit_members,
    units_visible_to,
    work_unit_ids,
)
from tandem.refusal import Forbidden, Invalid, Refused
from tandem.work import actions, clock
from tandem.work import forms as f
from tandem.work.downloads import download
from tandem.work.models import Event, SavedView, ServiceRequest
from tandem.work.paging import NEWEST_FIRST, keyset_page, parse_cursor
from tandem.work.queries import (
    approvals_waiting_for,
    attachments_for,
    can_see_internal,
    can_see_payload,
    can_work,
    cases_visible_to,
    comments_for,
    procedure_for,
    requests_visible_to,
    time_entries_for,
    timeline_for,
    work_held_by_absent,
)

PAGE_SIZE = 25
# What a row of a request list shows: fetched with the rows, never one query per row.
ROW_RELATED = ("service", "unit", "requesting_unit__organisation", "requester__user", "assignee__user", "case",
               "approver__user")


@staff_page
def home(request: HttpRequest, me: Person) -> HttpResponse:
    return redirect("work:queue" if work_unit_ids(me) else "work:my-requests")


@staff_page
def my_requests(request: HttpRequest, me: Person) -> HttpResponse:
    """Mine, or (?whose=unit) those my unit made: a branch's lead and colleagues follow the
    branch's work. Which of them the person may see is ``requests_visible_to``'s to say. Only
    reads: in one transaction."""
    with one_transaction_for_reads():
        return _my_requests(request, me)


def _my_requests(request: HttpRequest, me: Person) -> HttpResponse:
    show_open = request.GET.get("show") == "open"
    ours = request.GET.get("whose") == "unit"
    qs = requests_visible_to(request.user)
    qs = qs.filter(requesting_unit_id=me.unit_id) if ours else qs.filter(requester=me)
    qs = qs.filter(is_open=True) if show_open else qs
    page = keyset_page(
        qs,
        NEWEST_FIRST,
        after=parse_cursor(request.GET.get("after")),
        before=parse_cursor(request.GET.get("before")),
        size=PAGE_SIZE,
        related=ROW_RELATED,
    )
    filters = urlencode([*([("whose", "unit")] if ours else []), *([("show", "open")] if show_open else [])])
    context = {"page": page, "show_open": show_open, "ours": ours, "unit": me.unit, "filters": filters,
               "approvals": approvals_waiting_for(request.user).count()}
    return render(request, "work/my_requests.html", context)


# --- the request page ----------------------------------------------------------------------------

# Each move of the request page: its form, and the one action it calls with the form's values.
Move = tuple[type[f.PageForm], Callable[[Person, int, dict[str, Any]], Any], str]
MOVES: dict[str, Move] = {
    "pick": (
        f.TakeForm,
        lambda me, pk, d: actions.assign_request(me, pk, me.pk, reason=d.get("reason") or ""),
        "You picked it.",
    ),
    "assign": (
        f.AssignForm,
        lambda me, pk, d: actions.assign_request(me, pk, d["assignee"], reason=d.get("reason") or ""),
        "Assigned.",
    ),
    "unassign": (
        f.PageForm,
        lambda me, pk, d: actions.unassign_request(me, pk),
        "Returned to the queue.",
    ),
    "start": (
        f.TakeForm,
        lambda me, pk, d: actions.start_request(me, pk, reason=d.get("reason") or ""),
        "Started: it is in progress.",
    ),
    "ask": (
        f.QuestionForm,
        lambda me, pk, d: actions.ask_requester(me, pk, d["question"]),
        "Question sent; the request waits on the requester.",
    ),
    "answer": (
        f.AnswerForm,
        lambda me, pk, d: actions.provide_information(me, pk, d["answer"], files=d.get("attachments") or []),
        "Answer sent; the back office has it back.",
    ),
    "wait": (
        f.ThirdPartyForm,
        lambda me, pk, d: actions.wait_third_party(me, pk, d["party"], d["note"]),
        "Marked as waiting on a third party.",
    ),
    "wait_team": (
        f.TeamWaitForm,
        lambda me, pk, d: actions.wait_on_team(me, pk, d["unit"], d["note"]),
        "Marked as waiting on another team.",
    ),
    "resume": (f.PageForm, lambda me, pk, d: actions.resume_request(me, pk), "Resumed."),
    "resolve": (
        f.ResolveForm,
        lambda me, pk, d: actions.resolve_request(me, pk, d["resolution"]),
        "Resolved; the requester is asked to accept it.",
    ),
    "accept": (
        f.PageForm,
        lambda me, pk, d: actions.accept_resolution(me, pk),
        "Accepted and closed. Thank you.",
    ),
    "reopen": (
        f.ReasonForm,
        lambda me, pk, d: actions.reopen_request(me, pk, d["reason"]),
        "Reopened.",
    ),
    "cancel": (
        f.ReasonForm,
        lambda me, pk, d: actions.cancel_request(me, pk, d["reason"]),
        "Cancelled.",
    ),
    "approve": (
        f.ApproveForm,
        lambda me, pk, d: actions.approve_request(me, pk, d.get("note") or ""),
        "Approved: it goes to the providing unit's queue.",
    ),
    "decline": (
        f.ReasonForm,
        lambda me, pk, d: actions.decline_request(me, pk, d["reason"]),
        "Declined; the requester is told why.",
    ),
    "log_time": (
        f.TimeForm,
        lambda me, pk, d: actions.log_time(me, pk, d["duration"], worked_on=d["worked_on"], note=d["note"]),
        "Time logged.",
    ),
    "comment": (
        f.CommentForm,
        lambda me, pk, d: actions.add_comment(
            me,
            pk,
            d["comment"],
            internal=d["kind"] == "internal",
            advice=d["kind"] == "advice",
            addressed_to_id=d["addressed_to"],
            files=d.get("attachments") or [],
        ),
        "Comment added.",
    ),
}


def visible_request(request: HttpRequest, pk: int) -> ServiceRequest:
    return get_object_or_404(
        requests_visible_to(request.user).select_related(*ROW_RELATED, "agreement", "unit__calendar"), pk=pk
    )


def _move_form(verb: str, me: Person, sr: ServiceRequest, data: Any = None, files: Any = None) -> f.PageForm:
    form_class = MOVES[verb][0]
    kwargs: dict[str, Any] = {"prefix": verb}
    if form_class is f.AssignForm:
        kwargs["members"] = unit_members(sr.unit_id)
    if form_class is f.TeamWaitForm:
        kwargs["teams"] = units_visible_to(me.user).filter(side=Side.BACK).exclude(pk=sr.unit_id).order_by("name")
    if form_class is f.CommentForm:
        kwargs["back_office"] = can_work(me, sr)
        kwargs["people"] = _addressees(me, sr)
    return form_class(data, files, **kwargs)


def _addressees(me: Person, sr: ServiceRequest) -> list[Person]:
    people = [sr.requester, *([sr.assignee] if sr.assignee else [])]
    if can_work(me, sr):
        people += list(unit_members(sr.unit_id))
    unique = {p.pk: p for p in people if p.pk != me.pk}
    return sorted(unique.values(), key=lambda p: p.display_name)


def request_page(
    request: HttpRequest,
    me: Person,
    sr: ServiceRequest,
    *,
    status: int = 200,
    failed: tuple[str, f.PageForm] | None = None,
    refusal: Refused | None = None,
) -> HttpResponse:
    moves = f.moves_for(me, sr)
    move_forms = {verb: _move_form(verb, me, sr) for verb in moves}
    if failed and (failed[0] in move_forms or failed[0] == "assign"):  # keep what was typed, with its errors
        move_forms[failed[0]] = failed[1]
    events = list(timeline_for(me, sr))
    assignee_ids = {e.data.get("assignee") for e in events if e.kind == Event.Kind.ASSIGNED}
    names = {
        p.pk: p.display_name for p in people_visible_to(request.user).filter(pk__in=assignee_ids)
    }
    payload = can_see_payload(me, sr)
    labels = {field.key: field.label for field in sr.service.fields.all()}
    files = list(attachments_for(me, sr))
    comments = list(comments_for(me, sr))
    for comment in comments:
        comment.files = [a for a in files if a.comment_id == comment.pk]  # type: ignore[attr-defined]
    field_files = {a.field_key: a for a in files if a.field_key}
    return render(
        request,
        "work/request.html",
        {
            "sr": sr,
            "moves": move_forms,
            "events": events,
            "names": names,
            "payload": payload,
            "clock": clock.summary(sr, me, timezone.now()),
            "intake": [(labels.get(k, k), v, field_files.get(k)) for k, v in sr.intake.items()] if payload else [],
            "request_files": [a for a in files if not a.comment_id and not a.field_key],
            "comments": comments,
            "refusal": refusal,
            "internal": can_see_internal(me, sr),
            "reopen_until": actions.reopen_window_ends(sr),
            "worker": can_work(me, sr),
            "me": me,
            "your_turn": bool(moves - {"comment", "cancel", "log_time"}),
            "procedure": procedure_for(me, sr),
            "time_entries": list(time_entries_for(me, sr)),
            "approval_why": next((e.data.get("why", "") for e in events if e.kind == Event.Kind.APPROVAL_ASKED), ""),
            "approval_reminded": next(
                (e.at for e in reversed(events) if e.kind == Event.Kind.APPROVAL_REMINDED), None),
        },
        status=status,
    )


def _with_reason_box(
    verb: str, form: f.PageForm, me: Person, sr: ServiceRequest, exc: Refused
) -> tuple[str, f.PageForm]:
    """The form to show again. A pick or start refused for want of a reason (it goes ahead of
    the queue) comes back as the "give it to" form, for the person themself, with a Reason box
    holding what they typed: the page's Pick and Start buttons carry no text."""
    if verb not in ("pick", "start") or "reason" not in (exc.errors or {}):
        return verb, form
    typed = form.data.get(f"{verb}-reason", "")
    again = f.AssignForm({"assign-assignee": me.pk, "assign-reason": typed}, prefix="assign", members=[me])
    again.is_valid()
    again.attach(exc)
    return "assign", again


@require_POST
@staff_page
def request_move(request: HttpRequest, me: Person, pk: int, verb: str) -> HttpResponse:
    sr = visible_request(request, pk)
    form = _move_form(verb, me, sr, request.POST, request.FILES)
    try:
        f.refuse_invalid(form)
        MOVES[verb][1](me, sr.pk, form.cleaned_data)
    except Refused as exc:
        form.attach(exc)
        return request_page(
            request,
            me,
            visible_request(request, pk),
            status=exc.status,
            failed=_with_reason_box(verb, form, me, sr, exc),
            refusal=exc,
        )
    messages.success(request, MOVES[verb][2])
    return redirect(safe_next(request, reverse("work:request", args=[sr])))


@staff_page
def attachment(request: HttpRequest, me: Person, pk: int, file_id: int) -> HttpResponse:
    """A file, to whoever may see it (404 to anyone else), always as a download: its type from
    the allow-list, never sniffed, never shown as a page."""
    sr = visible_request(request, pk)
    item = get_object_or_404(attachments_for(me, sr), pk=file_id)
    return download(item)


@require_POST
@staff_page
def acknowledge(request: HttpRequest, me: Person, pk: int, comment_id: int) -> HttpResponse:
    sr = visible_request(request, pk)
    try:
        actions.acknowledge_advice(me, comment_id)
    except Refused as exc:
        return request_page(request, me, sr, status=exc.status, refusal=exc)
    messages.success(request, "Advice acknowledged.")
    return redirect("work:request", pk=sr)


@require_POST
@staff_page
def decide_advice(request: HttpRequest, me: Person, pk: int, comment_id: int) -> HttpResponse:
    """Accept the advice, or decline it saying why (the page keeps what was typed if refused)."""
    sr = visible_request(request, pk)
    follow = request.POST.get("follow") == "yes"
    try:
        actions.decide_advice(me, comment_id, follow=follow, reason=request.POST.get("reason", "")[:5000])
    except Refused as exc:
        return request_page(request, me, sr, status=exc.status, refusal=exc)
    messages.success(request, "Advice accepted." if follow else "Advice declined; your reason is on the record.")
    return redirect("work:request", pk=sr)


@require_POST
@staff_page
def mark_step(request: HttpRequest, me: Person, pk: int, step_id: int) -> HttpResponse:
    """Tick (done=1) or untick (done=0) a step of the request's procedure checklist."""
    sr = visible_request(request, pk)
    done = request.POST.get("done", "")
    try:
        if done not in ("0", "1"):
            raise Invalid("Say whether the step is done (done=1) or not (done=0).")
        actions.mark_step(me, sr.pk, step_id, done == "1")
    except Refused as exc:
        return request_page(request, me, visible_request(request, pk), status=exc.status, refusal=exc)
    messages.success(request, "Step marked done." if done == "1" else "Step unmarked.")
    return redirect(reverse("work:request", args=[sr]) + "#procedure")


# --- cases ---------------------------------------------------------------------------------------


def _with_counts(cases: QuerySet) -> QuerySet:
    return cases.annotate(
        n_requests=Count("requests"), n_open=Count("requests", filter=Q(requests__is_open=True))
    )


@staff_page
def my_cases(request: HttpRequest, me: Person) -> HttpResponse:
    """Mine, or (?whose=unit) my unit's: the owner's unit works its cases together."""
    ours = request.GET.get("whose") == "unit"
    cases = cases_visible_to(request.user)
    qs = _with_counts(cases.filter(unit_id=me.unit_id) if ours else cases.filter(owner=me))
    page = keyset_page(
        qs,
        NEWEST_FIRST,
        after=parse_cursor(request.GET.get("after")),
        before=parse_cursor(request.GET.get("before")),
        size=PAGE_SIZE,
    )
    return render(request, "work/my_cases.html", {"page": page, "ours": ours, "unit": me.unit})


@staff_page
def case_new(request: HttpRequest, me: Person) -> HttpResponse:
    form = f.CaseForm(request.POST or None)
    if request.method == "POST":
        try:
            f.refuse_invalid(form)
            case = actions.create_case(me, **form.cleaned_data)
        except Refused as exc:
            form.attach(exc)
            return render(
                request, "work/case_new.html", {"form": form, "refusal": exc}, status=exc.status
            )
        messages.success(request, f"Case {case.reference} opened. Add the requests it needs.")
        return redirect("work:case", pk=case.address_key)
    return render(request, "work/case_new.html", {"form": form})


def case_page(
    request: HttpRequest, me: Person, pk: int, *, status: int = 200, refusal: Refused | None = None
) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    rows = (
        requests_visible_to(request.user)
        .filter(case=case)
        .select_related(*ROW_RELATED)
        .order_by("id")
    )
    may_close = case.owner_id == me.pk or leads_unit(me, case.unit_id)
    return render(
        request,
        "work/case.html",
        {"case": case, "rows": rows, "may_close": may_close, "refusal": refusal},
        status=status,
    )


@staff_page
def case_detail(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    return case_page(request, me, pk)


@require_POST
@staff_page
def case_close(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    try:
        case = actions.close_case(me, pk)
    except Refused as exc:
        return case_page(request, me, pk, status=exc.status, refusal=exc)
    messages.success(request, "Case closed.")
    return redirect("work:case", pk=case.address_key)


# --- the team queue ------------------------------------------------------------------------------


def _queue_units(me: Person) -> list:
    units = units_visible_to(me.user).filter(side=Side.BACK)
    return list(units if is_admin(me) else units.filter(pk__in=work_unit_ids(me)))


def queue_page(request: HttpRequest, me: Person, *, due: Any) -> HttpResponse:
    """The team queue; ``due`` says when a request is due (the site's ``queue`` knows the
    promise made to its requester as well as its agreement). Only reads: in one transaction."""
    with one_transaction_for_reads():
        return _queue_page(request, me, due)


def _queue_page(request: HttpRequest, me: Person, due: Any) -> HttpResponse:
    units = _queue_units(me)
    if not units:
        return refused(
            request,
            Forbidden(
                "The team queue is for back-office units, and you are not in one. "
                "Your own requests are under “My requests”."
            ),
            title="No team queue for you",
        )
    unit = next((u for u in units if str(u.pk) == request.GET.get("unit")), units[0])
    form = f.QueueFilterForm(
        request.GET,
        units=units,
        unit=unit,
        members=list(unit_members(unit.pk)),
        services=list(unit.services.order_by("name")),
        clients=list(organisations_visible_to(request.user)) if not is_client(me) else [],
    )
    qs = form.apply(requests_visible_to(request.user), me, timezone.now())
    page = keyset_page(
        qs,
        form.chosen_sort,
        after=parse_cursor(request.GET.get("after")),
        before=parse_cursor(request.GET.get("before")),
        size=PAGE_SIZE,
        keys=form.sort_keys(due),
        related=ROW_RELATED,
    )
    template = "work/_queue_results.html" if getattr(request, "htmx", False) else "work/queue.html"
    lead = leads_unit(me, unit.pk)
    away = work_held_by_absent(unit.pk, timezone.localdate()) if lead and template == "work/queue.html" else []
    context = {"form": form, "page": page, "unit": unit, "units": units, "sections": f.QUEUE_SECTIONS,
               "away": away, "lead": lead, "saved_views": list(SavedView.objects.filter(unit=unit)),
               "members": [(str(p.pk), p.display_name) for p in form.members]}
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
