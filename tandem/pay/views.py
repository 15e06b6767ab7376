"""Pages: the report (executives, HR, administrators), importing a snapshot, a snapshot's
individual rows and the audit trail (HR and administrators)."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.org.models import Person
from tandem.org.pages import csv_number, refused, staff_page
from tandem.pay import actions
from tandem.pay.queries import audit_visible_to, reads_individual_pay
from tandem.pay.report import report
from tandem.refusal import Forbidden, Invalid, Refused


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def money(value: float | None) -> str:
    return "—" if value is None else f"£{value:,.2f}"


def _present(block: dict[str, Any]) -> dict[str, Any]:
    """Display strings beside the figures of a row (overall or a grade)."""
    out = dict(block)
    for key in ("mean_gap", "median_gap", "bonus_mean_gap", "bonus_median_gap"):
        out[f"{key}_text"] = pct(block[key])
    for side in ("front", "back"):
        g = dict(block[side])
        for key in ("mean_hourly", "median_hourly", "mean_bonus", "median_bonus"):
            g[f"{key}_text"] = money(g[key])
        g["bonus_share_text"] = pct(g["bonus_share"])
        out[side] = g
    return out


def _snapshot_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("snapshot", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@staff_page
def report_page(request: HttpRequest, me: Person) -> HttpResponse:
    try:
        data = report(request.user, snapshot_id=_snapshot_id(request))
    except Refused as refusal:
        return refused(request, refusal, title="Pay parity")
    if request.GET.get("format") == "csv":
        return report_csv(data)
    if data["overall"] is not None:
        data["overall"] = _present(data["overall"])
        data["grades"] = [_present(g) for g in data["grades"]]
        for q in [*data["quartiles"], *(q for g in data["grades"] for q in g["quartiles"])]:
            q["front_text"], q["back_text"] = pct(q["front_share"]), pct(q["back_share"])
        for t in [*data["trend"], *(t for g in data["grades"] for t in g["trend"])]:
            t["mean_gap_text"], t["median_gap_text"] = pct(t["mean_gap"]), pct(t["median_gap"])
            t["bonus_mean_gap_text"] = pct(t["bonus_mean_gap"])
    return render(request, "pay/report.html", {
        "data": data, "hr": reads_individual_pay(me), "today": date.today(),
        "flagged": [g for g in data["grades"] if g["flagged"]],
    })


REPORT_COLUMNS = (
    "snapshot_date", "scope", "shown", "front_people", "back_people", "front_mean_hourly", "back_mean_hourly",
    "front_median_hourly", "back_median_hourly", "mean_gap", "median_gap", "bonus_shown", "front_mean_bonus",
    "back_mean_bonus", "front_median_bonus", "back_median_bonus", "bonus_mean_gap", "bonus_median_gap",
    "front_bonus_share", "back_bonus_share", "flagged", "explanation", "action", "review_date",
    # The front office's share of each pay quartile (the back office has the rest); blank when a
    # band holds fewer people than the threshold.
    "lower_front_share", "lower_middle_front_share", "upper_middle_front_share", "upper_front_share",
)


def report_csv(data: dict[str, Any]) -> HttpResponse:
    """The report as CSV: the chosen snapshot overall and per grade; blank where withheld."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    day = data["snapshot"].snapshot_date.isoformat() if data["snapshot"] else ""
    response["Content-Disposition"] = f'attachment; filename="pay-parity-{day or "empty"}.csv"'
    writer = csv.writer(response)
    writer.writerow(REPORT_COLUMNS)
    rows = ([("overall", {**data["overall"], "quartiles": data["quartiles"]}, None)] if data["overall"] else []) + [
        (f"grade {g['grade']}", g, g.get("explanation")) for g in data["grades"]
    ]
    for scope, b, e in rows:
        shares = [csv_number(q["front_share"]) for q in b["quartiles"]] or ["", "", "", ""]
        f, k = b["front"], b["back"]
        writer.writerow([
            day, scope, "yes" if b["shown"] else "no", f["people"] if f["people"] is not None else "",
            k["people"] if k["people"] is not None else "", csv_number(f["mean_hourly"], 2),
            csv_number(k["mean_hourly"], 2), csv_number(f["median_hourly"], 2), csv_number(k["median_hourly"], 2),
            csv_number(b["mean_gap"]), csv_number(b["median_gap"]), "yes" if b["bonus_shown"] else "no",
            csv_number(f["mean_bonus"], 2), csv_number(k["mean_bonus"], 2), csv_number(f["median_bonus"], 2),
            csv_number(k["median_bonus"], 2), csv_number(b["bonus_mean_gap"]), csv_number(b["bonus_median_gap"]),
            csv_number(f["bonus_share"]), csv_number(k["bonus_share"]), "yes" if b["flagged"] else "no",
            e.explanation if e else "", e.action if e else "", e.review_date.isoformat() if e else "", *shares,
        ])
    return response


def _hr_only(me: Person) -> None:
    if not reads_individual_pay(me):
        raise Forbidden("Importing and reading individual pay is for people with the HR role and administrators.")


@staff_page
def import_page(request: HttpRequest, me: Person) -> HttpResponse:
    refusal: Refused | None = None
    typed = {"snapshot_date": request.POST.get("snapshot_date", "")}
    try:
        _hr_only(me)
        if request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                raise Invalid("Choose the CSV file to import.", errors={"file": ["Choose a file."]})
            try:
                day = date.fromisoformat(typed["snapshot_date"])
            except ValueError as e:
                raise Invalid("Give the snapshot date (the pay period's last day).",
                              errors={"snapshot_date": ["Enter a date."]}) from e
            if upload.size and upload.size > actions.MAX_BYTES:
                raise Invalid("The file is larger than 5 MB.", errors={"file": ["Too large."]})
            snapshot = actions.import_snapshot(me, upload.read(), day, file_name=upload.name or "")
            messages.success(request, f"Imported {snapshot.rows.count()} rows for {day:%d %b %Y}.")
            return redirect(f"{reverse('pay:report')}?snapshot={snapshot.pk}")
    except Forbidden as exc:
        return refused(request, exc, title="Pay parity")
    except Refused as exc:
        refusal = exc
    problems = [(where.replace("row_", "Row ", 1).replace(".", ", ", 1), said)
                 for where, said in (refusal.errors if refusal else {}).items()]
    return render(request, "pay/import.html", {"refusal": refusal, "problems": problems, "typed": typed,
                                               "columns": actions.COLUMNS},
                  status=refusal.status if refusal else 200)


@staff_page
def template_download(request: HttpRequest, me: Person) -> HttpResponse:
    if not reads_individual_pay(me):
        return refused(request, Forbidden("The pay snapshot template is for HR and administrators."))
    response = HttpResponse(actions.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pay-snapshot-template.csv"'
    return response


@staff_page
def rows_page(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    """A snapshot's individual pay: HR and administrators; every read is audited."""
    download = request.GET.get("format") == "csv"
    try:
        snapshot, rows = actions.read_rows(me, pk, download=download)
    except Refused as refusal:
        return refused(request, refusal, title="Pay parity")
    if download:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="pay-rows-{snapshot.snapshot_date}.csv"'
        writer = csv.writer(response)
        writer.writerow([*actions.COLUMNS, "side"])
        for r in rows:
            writer.writerow([r.person.user.username, r.grade, r.weekly_hours, r.period_days, r.ordinary_pay,
                             r.period_bonus, r.bonus_12_months, "yes" if r.reduced_by_leave else "no", r.side])
        return response
    return render(request, "pay/rows.html", {"snapshot": snapshot, "rows": rows})


@staff_page
@require_POST
def explain(request: HttpRequest, me: Person) -> HttpResponse:
    try:
        try:
            review = date.fromisoformat(request.POST.get("review_date", ""))
        except ValueError as e:
            raise Invalid("Give the date the gap is reviewed again.", errors={"review_date": ["Enter a date."]}) from e
        actions.explain_grade(me, request.POST.get("grade", ""), request.POST.get("explanation", ""),
                              request.POST.get("action", ""), review)
        messages.success(request, "The explanation is recorded; the report shows it beside the grade.")
    except Refused as refusal:
        if isinstance(refusal, Forbidden):
            return refused(request, refusal, title="Pay parity")
        messages.error(request, refusal.message)
    return redirect(reverse("pay:report"))


@staff_page
def audit_page(request: HttpRequest, me: Person) -> HttpResponse:
    if not reads_individual_pay(me):
        return refused(request, Forbidden("The pay audit trail is for HR and administrators."))
    return render(request, "pay/audit.html", {"entries": audit_visible_to(request.user)[:200]})
