"""API: a client's service review (docs/organisations.md, "The service review")."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router

from tandem.org.api_shared import Schema, actor, errors
from tandem.voice.models import ServiceReport
from tandem.voice.review_views import client_for, month_of
from tandem.voice.service_review import review

router = Router(tags=["service review"])


class ReviewQuery(Schema):
    client: str | None = Field(None, pattern=r"^[-a-zA-Z0-9_]{1,60}$",
                               description="Provider staff: the client's id or slug.")
    month: str | None = Field(None, max_length=7, description="YYYY-MM; default: the last complete month.")


class ServiceVolumeOut(Schema):
    service: str
    submitted: int
    resolved: int


class VolumesOut(Schema):
    submitted: int
    resolved: int
    open_at_end: int
    services: list[ServiceVolumeOut]


class AgreementShareOut(Schema):
    name: str
    service: str
    target_percent: float
    resolved: int
    met: int
    percent: float | None
    meets_target: bool | None


class ReviewAttainmentOut(Schema):
    resolved: int
    met: int
    percent: float | None
    agreements: list[AgreementShareOut]


class PromisesOut(Schema):
    known: int = Field(..., description="Promises quoted in the month whose outcome is known by its end.")
    kept: int
    percent: float | None


class SatisfactionOut(Schema):
    ratings: int
    mean: float | None


class PulseOut(Schema):
    team: str
    shown: bool = Field(..., description="False: too few answers, withheld.")
    answers: int | None
    frustration_percent: float | None
    months: int | None = Field(..., description="1: the month's own answers; 3: the calendar quarter ending with the "
                               "month, pooled because the month alone had too few; null: withheld.")


class WaitOut(Schema):
    reason: str
    waits: int
    hours: float


class ReportRef(Schema):
    month: date
    markdown_url: str
    csv_url: str


class ServiceReviewOut(Schema):
    client: str
    month: date
    volumes: VolumesOut
    attainment: ReviewAttainmentOut
    promises: PromisesOut
    satisfaction: SatisfactionOut
    pulse: list[PulseOut]
    waits: list[WaitOut]
    reports: list[ReportRef] = Field(..., description="The monthly reports the worker has made, newest first.")


@router.get("/service-review", response={200: ServiceReviewOut, **errors(403, 404, 422)},
            summary="Get a client's service review")
def get_service_review(request: HttpRequest, query: Query[ReviewQuery]) -> ServiceReviewOut:
    """One month of a client's service review, over its own requests only (a client's
    executives and leads: their organisation; the provider's administrators and executives:
    the client named)."""
    org = client_for(actor(request), query.client)
    f = review(org, month_of(query.month))
    reports = ServiceReport.objects.filter(organisation=org, made_at__isnull=False).order_by("-month")[:24]
    return ServiceReviewOut(
        client=org.slug, month=f["month"], volumes=VolumesOut(**f["volumes"]),
        attainment=ReviewAttainmentOut(**f["attainment"]), promises=PromisesOut(**f["promises"]),
        satisfaction=SatisfactionOut(**f["satisfaction"]), pulse=[PulseOut(**r) for r in f["pulse"]],
        waits=[WaitOut(**r) for r in f["waits"]],
        reports=[ReportRef(month=r.month, markdown_url=f"/service-review/reports/{r.pk}/",
                           csv_url=f"/service-review/reports/{r.pk}/?format=csv") for r in reports],
    )
