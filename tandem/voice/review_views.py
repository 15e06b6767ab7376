"""The client's service review page, its CSV, and the monthly reports' downloads."""

from __future__ import annotations

import csv
import re
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.org.models import Organisation, Person
from tandem.org.pages import refused, staff_page
from tandem.org.queries import organisation_id_of, organisations_visible_to
from tandem.refusal import Invalid, NotFound, Refused
from tandem.voice.models import ServiceReport
from tandem.voice.service_review import csv_rows, last_complete_month, reads_review, review

SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


def client_for(me: Person, client: str | None) -> Organisation:
    """The organisation reviewed: a client's person's own (another one is not found), or the
    one a provider's administrator or executive names (``client``: its id or slug)."""
    mine = organisation_id_of(me)
    if client and not SLUG.match(client):
        client = "-"  # not a slug nor an id: no organisation has it
    if mine is not None and client in (None, "", str(mine)):
        wanted = organisations_visible_to(me.user).filter(pk=mine).first()
    elif mine is None and client:
        key = {"pk": int(client)} if client.isdigit() else {"slug": client}
        wanted = organisations_visible_to(me.user).filter(units__isnull=False, **key).distinct().first()
    elif mine is None:
        wanted = organisations_visible_to(me.user).filter(contracts__isnull=False).distinct().order_by("name").first()
    else:
        wanted = None
    if wanted is None or not reads_review(me, wanted.pk):
        raise NotFound("There is no service review here for you: it is for a client's executives and leads, "
                       "and for the provider's administrators and executives.")
    return wanted


def month_of(text: str | None) -> date:
    if not text:
        return last_complete_month()
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Invalid(f"month: write it as YYYY-MM, e.g. 2026-11, not {text[:20]!r}.",
                      errors={"month": ["YYYY-MM."]}) from None


@staff_page
def service_review(request: HttpRequest, me: Person) -> HttpResponse:
    try:
        org = client_for(me, request.GET.get("client"))
        month = month_of(request.GET.get("month"))
    except Refused as refusal:
        return refused(request, refusal)
    figures = review(org, month)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="service-review-{org.slug}-{month:%Y-%m}.csv"'
        csv.writer(response).writerows(csv_rows(figures))
        return response
    clients = (list(organisations_visible_to(me.user).filter(contracts__isnull=False).distinct().order_by("name"))
               if organisation_id_of(me) is None else [])
    reports = ServiceReport.objects.filter(organisation=org, made_at__isnull=False).order_by("-month")[:24]
    return render(request, "voice/service_review.html",
                  {"f": figures, "org": org, "clients": clients, "reports": reports})


@staff_page
def service_report(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    report = ServiceReport.objects.filter(pk=pk, made_at__isnull=False).select_related("organisation").first()
    if report is None or not reads_review(me, report.organisation_id):
        return refused(request, NotFound(f"There is no service report {pk} for you."))
    as_csv = request.GET.get("format") == "csv"
    response = HttpResponse(report.csv if as_csv else report.markdown,
                            content_type="text/csv; charset=utf-8" if as_csv else "text/markdown; charset=utf-8")
    name = f"service-report-{report.organisation.slug}-{report.month:%Y-%m}.{'csv' if as_csv else 'md'}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
