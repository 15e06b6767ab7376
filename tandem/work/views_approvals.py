"""The page an approver's email links to (docs/approvals.md): opening it shows the request and
the two decisions; only its POST decides (mail scanners open links, and must decide nothing).

The signed link is the approver's credential for that one request, so the page needs no
sign-in; a link that is not Tandem's answers 404, an expired one a page saying so (410), and one
used after the decision a page saying who decided and when (409 on a POST). Nothing changes in
any of these cases.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tandem.org.models import Person
from tandem.org.pages import staff_page
from tandem.org.queries import AnyUser
from tandem.refusal import Forbidden, Invalid, Refused
from tandem.rows import one_or_none
from tandem.work import actions
from tandem.work import forms as f
from tandem.work.approval_links import read_token
from tandem.work.models import Event, ServiceRequest, Status
from tandem.work.queries import approvals_waiting_for, requests_visible_to


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "work/approval_link.html", context, status=status)


@require_http_methods(["GET", "POST"])
def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    link = read_token(token)
    approver = one_or_none(
        Person.objects.select_related("user").filter(pk=link.approver_id or 0, user__is_active=True)
    )
    sr = None
    if approver is not None and link.request_id is not None:
        sr = one_or_none(
            requests_visible_to(approver.user)
            .select_related("service", "unit", "requester__user", "approver__user")
            .filter(pk=link.request_id)
        )
    if sr is None or approver is None:
        return _page(request, {"gone": "This link is not one Tandem sent, or its request no longer exists."}, 404)
    base = {"sr": sr, "approver": approver, "site": settings.SITE_URL}
    if link.expired:
        days = settings.TANDEM_APPROVAL_LINK_DAYS
        return _page(request, {**base, "expired": days}, 410)
    if sr.approver_id != approver.pk:
        who = sr.approver.display_name if sr.approver else "its approver"
        refusal = Forbidden(f"Only {who} can approve or decline {sr.reference}; nothing was changed.")
        return _page(request, {**base, "refusal": refusal, "refused": True}, 403)
    if sr.status != Status.WAITING_APPROVAL:
        return _page(request, {**base, "decided": actions.decided_words(sr)}, 409 if request.method == "POST" else 200)
    decline = f.ReasonForm(request.POST if request.POST.get("decision") == "decline" else None, prefix="decline")
    approve = f.ApproveForm(request.POST if request.POST.get("decision") == "approve" else None, prefix="approve")
    why = sr.events.filter(kind=Event.Kind.APPROVAL_ASKED).values_list("data", flat=True).first() or {}
    context = {**base, "approve": approve, "decline": decline, "why": why.get("why", ""),
               "intake": _intake(sr)}
    if request.method == "GET":
        return _page(request, context)
    decision = request.POST.get("decision")
    form = decline if decision == "decline" else approve
    form.is_valid()
    try:
        if decision == "decline":
            actions.decline_request(approver, sr.pk, form.cleaned_data.get("reason") or "")
        elif decision == "approve":
            actions.approve_request(approver, sr.pk, form.cleaned_data.get("note") or "")
        else:
            return _page(request, {**context, "refusal": Invalid("Choose Approve or Decline.")}, 422)
    except Refused as exc:
        form.attach(exc)
        return _page(request, {**context, "refusal": exc}, exc.status)
    return _page(request, {**base, "done": "approved" if decision == "approve" else "declined"})


def _intake(sr: ServiceRequest) -> list[tuple[str, object]]:
    labels = {field.key: field.label for field in sr.service.fields.all()}
    return [(labels.get(k, k), v) for k, v in sr.intake.items()]


#: The longest list of waiting approvals a page shows (an approver with more is told so).
WAITING_LIMIT = 200


def waiting(user: AnyUser | None) -> list[dict]:
    """The requests waiting for this user's approval, the longest waiting first, each with why
    it needs approval and the hours it has waited (wall-clock, since it was sent for approval)."""
    rows = list(approvals_waiting_for(user).select_related("service", "unit", "requester__user")[:WAITING_LIMIT + 1])
    why = dict(Event.objects.filter(request__in=rows[:WAITING_LIMIT], kind=Event.Kind.APPROVAL_ASKED)
               .values_list("request_id", "data"))
    now = timezone.now()
    return [{"request": sr, "why": (why.get(sr.pk) or {}).get("why", ""),
             "waiting_since": sr.status_changed_at,
             "hours": round((now - sr.status_changed_at).total_seconds() / 3600, 1)} for sr in rows]


@staff_page
def my_approvals(request: HttpRequest, me: Person) -> HttpResponse:
    """"Waiting for my approval": the approver's list, each request linking to its page, where
    its *Your move* panel approves or declines it."""
    rows = waiting(request.user)
    return render(request, "work/my_approvals.html",
                  {"rows": rows[:WAITING_LIMIT], "more": len(rows) > WAITING_LIMIT, "limit": WAITING_LIMIT})
