"""Pages: the evidence dashboard (processing time, control charts, who waits on whom), every
figure downloadable as CSV."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tandem.catalogue.queries import services_visible_to
from tandem.engines.evidence.phases import BAND_LABELS
from tandem.insights.attainment import attainment_scope, weekly_attainment
from tandem.insights.charts import band_rects, picture
from tandem.insights.conformance import conformance_csv, service_conformance
from tandem.insights.flow import flow
from tandem.insights.forms import EvidenceFilterForm
from tandem.insights.journey import journey
from tandem.insights.queries import Filters, client_units, evidence, flow_service
from tandem.org.models import Person, Side
from tandem.org.pages import csv_number, refused, staff_page
from tandem.org.queries import organisations_visible_to, units_visible_to
from tandem.refusal import Invalid
from tandem.work.queries import requests_visible_to

FIGURES = ("services", "chart", "waiting", "team_waits", "advice")


def csv3(value: float | None) -> str:
    return csv_number(value, 3)


@staff_page
def dashboard(request: HttpRequest, me: Person) -> HttpResponse:
    if any("\x00" in v for v in request.GET.values()):
        return refused(request, Invalid("The address contains a NUL character; choose the filters from the lists."))
    form = EvidenceFilterForm(request.GET or None, services=services_visible_to(request.user).order_by("name"),
                              clients=list(organisations_visible_to(request.user)))
    if request.GET and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())
        return refused(request, Invalid(f"Those filters cannot be used ({problems}). Choose from the lists."))
    filters = form.filters() if request.GET else Filters()
    if request.GET.get("format") == "csv" and request.GET.get("figure") == "conformance":
        return conformance_csv(service_conformance(request.user, filters))
    data = evidence(request.user, filters)
    figure = request.GET.get("figure", "")
    if request.GET.get("format") == "csv":
        if figure not in FIGURES:
            return refused(request, Invalid(f"Download one of the figures: {', '.join(FIGURES)} (figure=…)."))
        return _csv(figure, data)
    data["conformance"] = service_conformance(request.user, filters)
    labels = [w.strftime("%d %b") for w in data["weeks"]]
    for row in data["services"]:
        row["picture"] = picture(row["chart"], labels) if row["chart"] is not None else None
        row["band_pairs"] = list(zip(BAND_LABELS, row["band_shares"], strict=True))
        row["band_rects"] = band_rects(row["band_shares"])
    return render(request, "insights/dashboard.html", {
        "form": form, "data": data, "band_labels": BAND_LABELS, "query": request.GET.urlencode(),
    })


def _csv(figure: str, data: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tandem-{figure}.csv"'
    out = csv.writer(response)
    if figure == "services":
        out.writerow(["unit", "service", "resolved", "mean_working_days", "published_days", "reopen_rate",
                      *[f"band {label}" for label in BAND_LABELS], "queued_h", "in_progress_h",
                      "waiting_requester_h", "waiting_third_party_h", "waiting_other_team_h", "waiting_approver_h",
                      "verdict"])
        for r in data["services"]:
            out.writerow([r["service"].unit.name, r["service"].name, r["resolved"], csv3(r["mean_days"]),
                          r["published_days"], csv3(r["reopen_rate"]), *r["bands"],
                          *[csv3(h) for h in r["phase_hours"]],
                          r["chart"].verdict if r["chart"] else "not enough data"])
    elif figure == "chart":
        out.writerow(["unit", "service", "week", "mean_working_days", "centre", "upper", "lower", "signal"])
        for r in data["services"]:
            chart = r["chart"]
            for i, (week, value) in enumerate(zip(r["weeks"], r["series"], strict=True)):
                out.writerow([r["service"].unit.name, r["service"].name, week.isoformat(), csv3(value),
                              csv3(chart.centre if chart else None), csv3(chart.upper if chart else None),
                              csv3(chart.lower if chart else None), chart.signal_at(i) if chart else ""])
    elif figure == "team_waits":
        out.writerow(["unit", "waited_on", "requests", "hours"])
        for t in data["team_waits"]:
            out.writerow([t["unit"], t["waited_on"], t["requests"], csv3(t["hours"])])
    elif figure == "advice":
        out.writerow(["unit", "given", "accepted", "declined", "undecided", "followed"])
        for a in data["advice"]:
            out.writerow([a["unit"], a["given"], a["accepted"], a["declined"], a["undecided"], csv3(a["followed"])])
    else:
        out.writerow(["requesting_unit", "unit", "resolved", "front_waits_on_back_h", "back_waits_on_front_h",
                      "waits_on_third_party_h", "waits_on_other_team_h", "waits_on_approver_h"])
        for w in data["waiting"]:
            out.writerow([w["requesting_unit"], w["unit"], w["resolved"], csv3(w["front_waits_on_back_hours"]),
                          csv3(w["back_waits_on_front_hours"]), csv3(w["waits_on_third_party_hours"]),
                          csv3(w["waits_on_other_team_hours"]), csv3(w["waits_on_approver_hours"])])
    return response



@staff_page
def journey_page(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    """Whoever may see the request may follow it (404 otherwise, as for the request itself)."""
    sr = get_object_or_404(
        requests_visible_to(request.user).select_related("service__unit", "unit", "requester__user", "approver__user"),
        pk=pk,
    )
    return render(request, "insights/journey.html", {"sr": sr, "journey": journey(me, sr)})


@staff_page
def flow_page(request: HttpRequest, me: Person) -> HttpResponse:
    """One service's flow: its steps, variants, ping-pong between units, bottlenecks."""
    slug, weeks_text = request.GET.get("service", ""), request.GET.get("weeks", "12")
    service = flow_service(request.user, slug)
    if service is None or weeks_text not in ("4", "12", "26"):
        return refused(request, Invalid("Choose a service you may see (service=<slug>) and 4, 12 or 26 weeks."))
    data = flow(service, weeks=int(weeks_text))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="tandem-flow-{service.slug}.csv"'
        out = csv.writer(response)
        out.writerow(["from", "to", "count", "mean_days", "total_days"])
        for step in data["steps"]:
            out.writerow([step["from"], step["to"], step["count"], csv3(step["mean_days"]), csv3(step["total_days"])])
        return response
    peak = max((s["count"] for s in data["steps"]), default=1)
    return render(request, "insights/flow.html", {"service": service, "data": data, "weeks": weeks_text,
                                                  "peak": peak})


@staff_page
def attainment_page(request: HttpRequest, me: Person) -> HttpResponse:
    """Agreement attainment: met and breached per agreement and requesting unit, week by week."""
    try:
        unit, service_ids, weeks = attainment_scope(request.user, request.GET.get("unit", ""),
                                                    request.GET.get("weeks", "12"))
        clients = list(organisations_visible_to(request.user))
        client = request.GET.get("client", "")
        requesting_units = client_units(client, clients)
    except Invalid as exc:
        return refused(request, exc)
    data = weekly_attainment(service_ids, weeks, timezone.now(), requesting_units)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="tandem-attainment-{unit.slug if unit else "all"}'
                                           f'{"-" + client if client else ""}.csv"')
        out = csv.writer(response)
        out.writerow(["week", "complete", "agreement", "target_percent", "requesting_unit", "resolved", "met",
                      "breached", "attainment"])
        complete = {w["week"]: w["complete"] for w in data["weeks"]}
        for cell in data["cells"]:
            t = cell["tally"]
            out.writerow([cell["week"].isoformat(), complete.get(cell["week"], True), cell["agreement"],
                          csv_number(cell["target_percent"], 1), cell["requesting_unit"], t.resolved, t.met,
                          t.breached, csv3(t.attainment)])
        return response
    return render(request, "insights/attainment.html", {
        "data": data, "unit": unit, "weeks": str(weeks), "clients": clients, "client": client,
        "units": units_visible_to(request.user).filter(side=Side.BACK).order_by("name"),
    })
