"""Pages: the promise integrity report (the quote and the promise live on the submit form and
the request page)."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.org.models import Person
from tandem.org.pages import csv_number, refused, staff_page
from tandem.promises.queries import integrity_report, reads_integrity_report
from tandem.refusal import Forbidden, Invalid

WEEK_CHOICES = (4, 12, 26, 52)


@staff_page
def report(request: HttpRequest, me: Person) -> HttpResponse:
    if not reads_integrity_report(me):
        return refused(
            request, Forbidden("The promise integrity report is for team leads, executives and administrators.")
        )
    group = request.GET.get("group", "service")
    weeks_text = request.GET.get("weeks", "12")
    if group not in ("service", "unit") or not weeks_text.isdigit() or int(weeks_text) not in WEEK_CHOICES:
        return refused(request, Invalid(
            f"Group by 'service' or 'unit', over {', '.join(map(str, WEEK_CHOICES))} weeks; "
            f"got group={group!r}, weeks={weeks_text!r}."
        ))
    data = integrity_report(request.user, weeks=int(weeks_text), group=group)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="promises-by-{group}.csv"'
        writer = csv.writer(response)
        writer.writerow([group, "unit", "promises", "kept_share", "mean_lateness_hours", "mean_quote_hours"])
        for row in data["rows"]:
            writer.writerow([row["name"], row["unit"], row["promises"], csv_number(row["kept_share"]),
                             csv_number(row["mean_lateness_hours"]), csv_number(row["mean_quote_hours"])])
        return response
    peak = max((w["promises"] for w in data["weeks"]), default=0)
    return render(request, "promises/report.html", {
        "rows": data["rows"], "trend": data["weeks"], "group": group, "weeks": int(weeks_text),
        "week_choices": WEEK_CHOICES, "peak": peak,
    })

