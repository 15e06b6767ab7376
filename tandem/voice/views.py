"""Pages: the pulse questions (also as a banner on every page), the emailed one-click link, and
the results."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.org.models import Person, Side
from tandem.org.pages import csv_number, refused, safe_next, staff_page
from tandem.org.queries import people_visible_to, sees_everything, units_visible_to
from tandem.refusal import Forbidden, Invalid, NotFound, Refused
from tandem.voice import actions
from tandem.voice.executive import figures, spark
from tandem.voice.models import Frequency
from tandem.voice.queries import (
    ask_quality,
    gifts_visible_to,
    kudos_visible_to,
    period_name,
    questions_for,
    results,
    reviews_gifts,
    unanswered_feedback,
)
from tandem.work.queries import requests_visible_to


def _posted(request: HttpRequest) -> tuple[int, date, int, str]:
    try:
        unit_id = int(request.POST.get("unit", ""))
        start = date.fromisoformat(request.POST.get("period", ""))
    except ValueError as e:
        raise Invalid("The question was not recognised (unit or period missing); answer from the list.") from e
    answer_text = request.POST.get("answer", "")
    answer = int(answer_text) if answer_text.isdigit() else 0
    return unit_id, start, answer, request.POST.get("comment", "")


@staff_page
def pulse(request: HttpRequest, me: Person) -> HttpResponse:
    """The open questions, each answerable (and changeable) here."""
    typed: dict[str, str] = {}
    refusal: Refused | None = None
    if request.method == "POST":
        try:
            unit_id, start, answer, comment = _posted(request)
            typed = {"unit": str(unit_id), "period": start.isoformat(), "comment": comment, "answer": str(answer)}
            if request.POST.get("dismiss"):
                actions.dismiss_pulse(me, unit_id, start)
                messages.info(request, "We will not ask about that again this period.")
            else:
                actions.answer_pulse(me, unit_id, start, answer, comment=comment)
                messages.success(
                    request, "Thank you: your answer is recorded. You can change it until the period closes."
                )
            return redirect(safe_next(request, reverse("voice:pulse")))
        except Refused as exc:
            refusal = exc
    return render(request, "voice/pulse.html", {
        "questions": questions_for(me, pending_only=False), "choices": Frequency.choices, "typed": typed,
        "refusal": refusal,
    }, status=refusal.status if refusal else 200)


def link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed answer. Opening it shows the answer chosen, ready to send with one click (a
    GET never writes: mail scanners open every link in a message)."""
    try:
        data = actions.read_link(token)
        if request.method == "POST":
            actions.answer_by_link(token, comment=request.POST.get("comment", ""))
            return render(request, "voice/link_done.html", {"data": data, "label": Frequency(data["answer"]).label,
                                                             "period": period_name(data["period"])})
    except Refused as exc:
        return refused(request, exc)
    return render(request, "voice/link.html", {"data": data, "label": Frequency(data["answer"]).label,
                                               "period": period_name(data["period"])})


@staff_page
def results_page(request: HttpRequest, me: Person) -> HttpResponse:
    if any("\x00" in v for v in request.GET.values()):
        return refused(request, Invalid("The address contains a NUL character; choose the filters from the lists."))
    units = units_visible_to(me.user).filter(side=Side.BACK).order_by("name")
    fronts = units_visible_to(me.user).filter(side=Side.FRONT).order_by("name")
    unit = units.filter(slug=request.GET.get("unit") or "").first()
    front = fronts.filter(slug=request.GET.get("from") or "").first()
    periods_text = request.GET.get("periods", "6")
    if (request.GET.get("unit") and unit is None) or (request.GET.get("from") and front is None) or (
        periods_text not in ("3", "6", "12")
    ):
        return refused(request, Invalid("Choose a back-office unit, a requesting unit and 3, 6 or 12 periods "
                                        "from the lists."))
    data = results(request.user, unit=unit, requesting_unit=front, periods=int(periods_text))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="tandem-pulse.csv"'
        out = csv.writer(response)
        out.writerow(["unit", "period", "answers", "asked", "response_rate", "frustration_index", "mean_hours",
                      "late_rate", "promises_kept"])
        for row in data["units"]:
            for cell in row["cells"]:
                if cell["shown"]:
                    ev = cell["evidence"]
                    out.writerow([row["unit"].name, cell["period"].isoformat(), cell["answers"], cell["asked"],
                                  *[csv_number(v) for v in (cell["response_rate"], cell["frustration_index"],
                                                            ev["mean_hours"], ev["late_rate"], ev["promises_kept"])]])
        return response
    return render(request, "voice/results.html", {
        "data": data, "units": units, "fronts": fronts, "unit": unit, "front": front, "periods": periods_text,
        "query": request.GET.urlencode(),
    })



# --- satisfaction both ways ---------------------------------------------------------------------


def _back_to_request(request: HttpRequest, pk: int, refusal: Refused | None, done: str) -> HttpResponse:
    if refusal is not None:
        messages.error(request, refusal.message)
        # The request page shows the form again with what was typed (read once by the template tag).
        request.session[f"feedback-typed-{pk}"] = {
            k: request.POST.get(k, "")[:1000] for k in ("score", "comment", "answer", "complete", "in_time")
        }
    else:
        messages.success(request, done)
    # Its address (a client's request: its reference, tandem.work.addresses).
    sr = requests_visible_to(request.user).only("organisation", "reference").filter(pk=pk).first()
    return redirect(f"{reverse('work:request', args=[sr or pk])}#feedback")


@require_POST
@staff_page
def rate(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    score = request.POST.get("score", "")
    try:
        actions.rate_request(me, pk, int(score) if score.isdigit() else 0, request.POST.get("comment", ""))
    except Refused as exc:
        if isinstance(exc, NotFound):
            return refused(request, exc)
        return _back_to_request(request, pk, exc, "")
    return _back_to_request(request, pk, None, "Thank you: the team sees your rating and can answer it.")


@require_POST
@staff_page
def answer(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    try:
        actions.answer_rating(me, pk, request.POST.get("answer", ""))
    except Refused as exc:
        if isinstance(exc, NotFound):
            return refused(request, exc)
        return _back_to_request(request, pk, exc, "")
    return _back_to_request(request, pk, None, "Your answer is on the request for the requester to read.")


@require_POST
@staff_page
def rate_ask(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    try:
        actions.rate_ask(me, pk, complete=request.POST.get("complete") == "yes",
                         in_time=request.POST.get("in_time") == "yes")
    except Refused as exc:
        if isinstance(exc, NotFound):
            return refused(request, exc)
        return _back_to_request(request, pk, exc, "")
    return _back_to_request(request, pk, None, "Recorded: the requesting unit sees its asks' completeness.")


@staff_page
def feedback(request: HttpRequest, me: Person) -> HttpResponse:
    """Feedback waiting for an answer (ageing like any other work) and how complete and timely
    the asks are, per front-office unit."""
    waiting = list(unanswered_feedback(request.user)[:200])
    return render(request, "voice/feedback.html", {
        "waiting": waiting, "asks": ask_quality(request.user), "now": timezone.now(),
    })


@staff_page
def executive(request: HttpRequest, me: Person) -> HttpResponse:
    """Both sides on one page, for senior management (executives and administrators)."""
    if not sees_everything(me):
        return refused(request, Forbidden("The executive page is for executives and administrators."))
    data = figures(request.user)
    figure = request.GET.get("figure", "")
    if request.GET.get("format") == "csv":
        return _executive_csv(figure, data) or refused(
            request, Invalid("Download one of the figures: frustration, asks, units, reviews (figure=…)."))
    for row in data["frustration"]:
        row["points"] = spark(row["series"])
    return render(request, "voice/executive.html", {"data": data})


def _executive_csv(figure: str, data: dict) -> HttpResponse | None:
    rows: list[list[object]]
    if figure == "frustration":
        head = ["unit", *[p["start"].isoformat() for p in data["periods"]]]
        rows = [[r["unit"], *[csv_number(v) for v in r["series"]]] for r in data["frustration"]]
    elif figure == "asks":
        head = ["requesting_unit", "rated", "complete_share", "in_time_share", "complete_and_in_time_share"]
        rows = [[a["unit"], a["rated"], csv_number(a["complete_share"]), csv_number(a["in_time_share"]),
                 csv_number(a["complete_and_in_time_share"])] for a in data["asks"]]
    elif figure == "units":
        head = ["unit", "satisfaction", "ratings", "late_rate", "promises_kept"]
        rows = [[u["unit"], csv_number(u["satisfaction"]), u["ratings"], csv_number(u["late_rate"]),
                 csv_number(u["promises_kept"])]
                for u in data["units"]]
    elif figure == "reviews":
        head = ["service", "owner", "due_on", "overdue", "owner_missing"]
        rows = [[r["service"].name, r["service"].owner.display_name, r["due_on"].isoformat(), r["overdue"],
                 r["owner_missing"]] for r in data["overdue_reviews"]]
    else:
        return None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tandem-executive-{figure}.csv"'
    out = csv.writer(response)
    out.writerow(head)
    out.writerows(rows)
    return response


# --- recognition ---------------------------------------------------------------------------------


@staff_page
def kudos(request: HttpRequest, me: Person) -> HttpResponse:
    """Give kudos to a back-office person or unit, and read the thanks each unit received."""
    typed: dict[str, str] = {}
    refusal: Refused | None = None
    if request.method == "POST":
        typed = {k: request.POST.get(k, "")[:600] for k in ("to", "message", "request")}
        kind, _, ident = typed["to"].partition(":")
        try:
            actions.give_kudos(
                me, message=typed["message"],
                person_id=int(ident) if kind == "person" and ident.isdigit() else None,
                unit_id=int(ident) if kind == "unit" and ident.isdigit() else None,
                request_id=int(typed["request"]) if typed["request"].isdigit() else None,
            )
            messages.success(request, "Thank you: your kudos are on the unit's page and in its monthly digest.")
            return redirect("voice:kudos")
        except Refused as exc:
            refusal = exc
    slug = request.GET.get("unit", "")
    shown = kudos_visible_to(request.user)
    if slug and "\x00" not in slug:
        shown = shown.filter(to_unit__slug=slug)
    back = units_visible_to(me.user).filter(side=Side.BACK).order_by("name")
    people = people_visible_to(me.user).filter(unit__side=Side.BACK, user__is_active=True).exclude(
        pk=me.pk).order_by("unit__name", "user__first_name")
    return render(request, "voice/kudos.html", {
        "kudos": shown[:100], "units": back, "people": people, "typed": typed, "refusal": refusal, "unit": slug,
    }, status=refusal.status if refusal else 200)


@staff_page
def gifts(request: HttpRequest, me: Person) -> HttpResponse:
    """The gifts and hospitality register: your entries (and, for compliance, everyone's)."""
    typed: dict[str, Any] = {}
    refusal: Refused | None = None
    if request.method == "POST":
        typed = {k: request.POST.get(k, "")[:600] for k in ("received_on", "giver", "value", "description")}
        typed["shared_with"] = [int(v) for v in request.POST.getlist("shared_with") if v.isdigit()]
        try:
            try:
                received_on = date.fromisoformat(typed["received_on"])
            except ValueError as e:
                raise Invalid("Give the date it was received (YYYY-MM-DD).",
                              errors={"received_on": ["A date."]}) from e
            try:
                value = Decimal(typed["value"].replace(",", "."))
            except InvalidOperation as e:
                raise Invalid("Give the value as an amount, e.g. 25.00.", errors={"value": ["An amount."]}) from e
            gift = actions.register_gift(me, received_on=received_on, giver=typed["giver"], value=value,
                                         description=typed["description"], shared_with=typed["shared_with"])
            messages.success(request, "Registered" + (": flagged for compliance review, as its value is at or above "
                                                      "the threshold." if gift.flagged else "."))
            return redirect("voice:gifts")
        except Refused as exc:
            refusal = exc
    entries = gifts_visible_to(request.user)
    if request.GET.get("flagged") == "1":
        entries = entries.filter(flagged=True)
    return render(request, "voice/gifts.html", {
        "gifts": entries[:200], "typed": typed, "refusal": refusal, "compliance": reviews_gifts(me),
        "units": units_visible_to(me.user).filter(side=Side.BACK).order_by("name"),
    }, status=refusal.status if refusal else 200)
