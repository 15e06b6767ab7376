"""API: the pay parity report (executives, HR, administrators), the snapshots, and for HR and
administrators only: importing a snapshot, reading its individual rows (audited) and explaining
a grade's gap."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, UploadedFile
from ninja.responses import Status as HttpStatus

from tandem.org.api_shared import InSchema, PathId, PersonRef, Schema, Text80, UtcTime, actor, auth_user, errors
from tandem.pay import actions
from tandem.pay.queries import snapshots_visible_to
from tandem.pay.report import report
from tandem.refusal import Invalid

router = Router(tags=["pay"])


class GroupOut(Schema):
    people: int | None = Field(None, description="Everybody of the group in the snapshot (null when withheld).")
    full_pay: int | None = Field(None, description="Of whom on full pay: the hourly figures are over these.")
    mean_hourly: float | None = None
    median_hourly: float | None = None
    bonus_share: float | None = Field(None, description="Share paid any bonus in the twelve months.")
    mean_bonus: float | None = Field(None, description="Over the people paid a bonus.")
    median_bonus: float | None = None


class FiguresOut(Schema):
    shown: bool = Field(..., description="False when a group is under the threshold, or showing it would let a "
                        "withheld group be worked out by subtraction: every figure is then null.")
    bonus_shown: bool
    front: GroupOut
    back: GroupOut
    mean_gap: float | None = Field(None, description="(front - back) / front of the mean hourly pay.")
    median_gap: float | None = None
    bonus_mean_gap: float | None = None
    bonus_median_gap: float | None = None
    flagged: bool = Field(..., description="A mean or median gap of 5 % or more either way: to review.")


class ExplanationOut(Schema):
    explanation: str
    action: str
    review_date: date
    by: PersonRef
    at: UtcTime


class QuartileOut(Schema):
    name: str
    people: float
    front_share: float | None
    back_share: float | None


class TrendOut(Schema):
    snapshot_id: int
    snapshot_date: date
    shown: bool
    mean_gap: float | None
    median_gap: float | None
    bonus_mean_gap: float | None
    bonus_median_gap: float | None


class GradeOut(FiguresOut):
    grade: str
    explanation: ExplanationOut | None = None
    quartiles: list[QuartileOut] = Field(..., description="The grade's own pay quartiles; empty when the grade "
                                         "is withheld or a band would hold fewer people than the threshold.")
    trend: list[TrendOut] = Field(..., description="The grade's gaps in each snapshot that has the grade.")


class ReportOut(Schema):
    threshold: int = Field(..., description="The smallest group whose figures are shown.")
    snapshot_id: int | None
    snapshot_date: date | None
    overall: FiguresOut | None
    quartiles: list[QuartileOut]
    grades: list[GradeOut]
    trend: list[TrendOut]


class ReportQuery(Schema):
    snapshot: int | None = Field(None, ge=1, le=2**63 - 1, description="A snapshot's id; the latest if left out.")


def _explanation(e: Any) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"explanation": e.explanation, "action": e.action, "review_date": e.review_date,
            "by": PersonRef.of(e.by), "at": e.at}


@router.get("/pay/report", response={200: ReportOut, **errors(403, 404, 422)}, summary="The pay parity report")
def get_pay_report(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    """The front office against the back office, overall and per grade, for one snapshot (the
    latest unless asked), with every snapshot's gaps as the trend (overall and per grade). For executives, HR
    and administrators; no group under the threshold, directly or by subtraction."""
    actor(request)
    data = report(auth_user(request), snapshot_id=query.snapshot)
    snap = data["snapshot"]
    return {
        "threshold": data["threshold"], "snapshot_id": snap.pk if snap else None,
        "snapshot_date": snap.snapshot_date if snap else None, "overall": data["overall"],
        "quartiles": data["quartiles"],
        "grades": [{**g, "explanation": _explanation(g.get("explanation")), "trend": _trend(g["trend"])}
                   for g in data["grades"]],
        "trend": _trend(data["trend"]),
    }


def _trend(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"snapshot_id": t["snapshot"].pk, "snapshot_date": t["date"], "shown": t["shown"],
             "mean_gap": t["mean_gap"], "median_gap": t["median_gap"], "bonus_mean_gap": t["bonus_mean_gap"],
             "bonus_median_gap": t["bonus_median_gap"]} for t in points]


class SnapshotOut(Schema):
    id: int
    snapshot_date: date
    imported_at: UtcTime
    imported_by: PersonRef
    rows: int


@router.get("/pay/snapshots", response={200: list[SnapshotOut], **errors(403)}, summary="Pay snapshots")
def list_pay_snapshots(request: HttpRequest) -> list[dict[str, Any]]:
    """The snapshots imported (their dates and who imported them; not their rows)."""
    me = actor(request)
    qs = snapshots_visible_to(me.user)
    return [{"id": s.pk, "snapshot_date": s.snapshot_date, "imported_at": s.imported_at,
             "imported_by": PersonRef.of(s.imported_by), "rows": getattr(s, "row_count", 0)} for s in qs]


@router.post("/pay/snapshots", response={201: SnapshotOut, **errors(400, 403, 409, 413, 422)},
             summary="Import a pay snapshot")
def import_pay_snapshot(
    request: HttpRequest, snapshot_date: Form[date], file: File[UploadedFile]
) -> HttpStatus:
    """Multipart: ``snapshot_date`` (the pay period's last day) and ``file``, payroll's CSV
    (docs/pay.md). Every row or nothing: a refusal names each wrong row and column in
    ``errors``. HR and administrators only."""
    me = actor(request)
    if (file.size or 0) > actions.MAX_BYTES:
        raise Invalid("The file is larger than 5 MB.", errors={"file": ["Too large."]})
    s = actions.import_snapshot(me, file.read(), snapshot_date, file_name=file.name or "")
    return HttpStatus(201, {"id": s.pk, "snapshot_date": s.snapshot_date, "imported_at": s.imported_at,
                 "imported_by": PersonRef.of(me), "rows": s.rows.count()})


class PayRowOut(Schema):
    person: PersonRef
    username: str
    side: str
    grade: str
    weekly_hours: float
    period_days: int
    ordinary_pay: float
    period_bonus: float
    bonus_12_months: float
    reduced_by_leave: bool


@router.get("/pay/snapshots/{snapshot_id}/rows", response={200: list[PayRowOut], **errors(404)},
            summary="A snapshot's individual pay")
def list_pay_rows(request: HttpRequest, snapshot_id: PathId) -> list[dict[str, Any]]:
    """Every person's row: HR and administrators only (404 for anybody else); each read is
    written to the audit trail."""
    me = actor(request)
    _snapshot, rows = actions.read_rows(me, snapshot_id)
    return [{"person": PersonRef.of(r.person), "username": r.person.user.username, "side": r.side,
             "grade": r.grade, "weekly_hours": float(r.weekly_hours), "period_days": r.period_days,
             "ordinary_pay": float(r.ordinary_pay), "period_bonus": float(r.period_bonus),
             "bonus_12_months": float(r.bonus_12_months), "reduced_by_leave": r.reduced_by_leave} for r in rows]


class ExplanationIn(InSchema):
    grade: Text80
    explanation: str = Field(..., min_length=1, max_length=4000)
    action: str = Field(..., min_length=1, max_length=4000)
    review_date: date


@router.post("/pay/explanations", response={201: ExplanationOut, **errors(400, 403, 404, 422)},
             summary="Explain a grade's gap")
def explain_pay_gap(request: HttpRequest, payload: ExplanationIn) -> HttpStatus:
    """HR's account of a grade's gap: why, what is being done, when it is reviewed again. The
    report shows the latest beside the grade. HR and administrators only."""
    me = actor(request)
    e = actions.explain_grade(me, payload.grade, payload.explanation, payload.action, payload.review_date)
    return HttpStatus(201, _explanation(e))

