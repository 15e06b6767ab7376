"""The team queue's tools (docs/users.md): a lead's saved views, and bulk moves on the
requests ticked in the queue, each request its own action (``tandem.work.actions.queue``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.org.models import Person
from tandem.org.pages import safe_next, staff_page
from tandem.refusal import Refused
from tandem.work import actions
from tandem.work.models import SavedView

DONE = {"assign": "Assigned", "unassign": "Handed back to the queue", "note": "Note added"}


def _back(request: HttpRequest) -> str:
    return safe_next(request, reverse("work:queue"))


def _view_form(request: HttpRequest, refusal: Refused, view: SavedView | None = None) -> HttpResponse:
    """The refused form again, with what was typed, and what to fix."""
    context = {"refusal": refusal, "view": view, "name": request.POST.get("name", ""),
               "query": request.POST.get("query", ""), "unit": request.POST.get("unit", ""), "next": _back(request)}
    return render(request, "work/saved_view_form.html", context, status=refusal.status)


@require_POST
@staff_page
def save_view(request: HttpRequest, me: Person) -> HttpResponse:
    unit = request.POST.get("unit", "")
    try:
        view = actions.save_view(me, int(unit) if unit.isdigit() else 0, request.POST.get("name", ""),
                                 request.POST.get("query", ""))
    except Refused as refusal:
        return _view_form(request, refusal)
    return redirect(reverse("work:queue") + "?" + view.query)


@require_POST
@staff_page
def rename_view(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    try:
        actions.rename_view(me, pk, request.POST.get("name", ""))
    except Refused as refusal:
        return _view_form(request, refusal, SavedView.objects.filter(pk=pk).first())
    return redirect(_back(request))


@require_POST
@staff_page
def delete_view(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    try:
        actions.delete_view(me, pk)
    except Refused as refusal:
        return _view_form(request, refusal)
    return redirect(_back(request))


@require_POST
@staff_page
def bulk(request: HttpRequest, me: Person) -> HttpResponse:
    """Each ticked request moved by its own action; the page lists what was done and, for each
    refused request, why (it is left as it was)."""
    verb = request.POST.get("verb", "")
    ids = [int(v) for v in request.POST.getlist("requests") if v.isdigit() and len(v) < 12]
    assignee = request.POST.get("assignee", "")
    values = {"assignee": me.pk if assignee == "me" else int(assignee) if assignee.isdigit() else None,
              "reason": request.POST.get("reason", ""), "note": request.POST.get("note", "")}
    context: dict[str, object] = {"verb": verb, "done_words": DONE.get(verb, ""), "next": _back(request)}
    try:
        outcomes = actions.bulk_move(me, verb, ids, **values)
    except Refused as refusal:
        return render(request, "work/bulk_results.html", {**context, "refusal": refusal}, status=refusal.status)
    context |= {"done": [o for o in outcomes if o.done], "refused": [o for o in outcomes if not o.done]}
    return render(request, "work/bulk_results.html", context)
