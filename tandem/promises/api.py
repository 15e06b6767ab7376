"""API: quotes before submitting, a request's promise and forecast, the integrity report."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router

from tandem.catalogue.queries import services_visible_to
from tandem.org.api_shared import InSchema, PathId, Schema, Slug, UtcTime, actor, auth_user, errors
from tandem.org.queries import is_client
from tandem.promises.models import Promise
from tandem.promises.queries import client_words, integrity_report, promises_visible_to, quote, reads_integrity_report
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.work.models import Channel

router = Router(tags=["promises"])


class QuoteIn(InSchema):
    service: Slug = Field(..., description="The service's slug, from GET /api/services.")
    channel: Channel = Channel.INTERNAL


class QuoteOut(Schema):
    quoted_at: UtcTime
    confidence: int = Field(..., description="Per cent: how likely `promised_at` is kept.")
    p50_at: UtcTime = Field(..., description="As likely to be done before as after.")
    promised_at: UtcTime = Field(..., description="Done by then with the stated confidence.")
    basis: Literal["engine", "history", "turnaround"] = Field(
        ..., description="engine: the mean of the queue model fitted nightly (the explanation says when) and "
        "similar past requests; history: from the queue and similar requests alone (no model fitted yet); "
        "turnaround: not enough history yet."
    )
    queue_hours: float | None = Field(..., description="Estimated working hours queued in the providing unit "
                                      "(null for a client organisation's people: it adds up every client's work).")
    people_on_shift: int | None
    resolve_by: UtcTime | None = Field(..., description="What the agreement that would apply promises.")
    agreement: str
    meets_agreement: bool
    explanation: str


class PromiseOut(Schema):
    request: int
    quoted_at: UtcTime
    confidence: int
    p50_at: UtcTime
    promised_at: UtcTime = Field(..., description="Never rewritten after submission.")
    basis: str
    explanation: str
    forecast_p50_at: UtcTime | None
    forecast_at: UtcTime | None = Field(..., description="Live forecast at the promise's confidence.")
    forecast_refreshed_at: UtcTime | None
    slipping: bool = Field(..., description="True once the live forecast passed the promised time.")
    slip_reason: str

    @classmethod
    def of(cls, p: Promise, *, client: bool = False) -> PromiseOut:
        """``client``: as a client organisation's person reads it (``client_words``)."""
        words = client_words if client else str
        return cls(
            request=p.request_id,
            quoted_at=p.quoted_at,
            confidence=p.confidence,
            p50_at=p.p50_at,
            promised_at=p.promised_at,
            basis=p.basis,
            explanation=words(p.explanation),
            forecast_p50_at=p.forecast_p50_at,
            forecast_at=p.forecast_at,
            forecast_refreshed_at=p.forecast_refreshed_at,
            slipping=p.slipped_at is not None,
            slip_reason=words(p.slip_reason),
        )


class IntegrityRow(Schema):
    name: str
    unit: str
    promises: int = Field(..., description="Promises whose outcome is known (resolved, or open and late).")
    kept_share: float | None
    mean_lateness_hours: float | None = Field(..., description="Mean lateness of the promises broken.")
    mean_quote_hours: float | None = Field(..., description="Mean length of the promises: their sharpness.")


class IntegrityWeek(Schema):
    week: date
    promises: int
    kept_share: float


class IntegrityOut(Schema):
    group: Literal["service", "unit"]
    weeks: int
    rows: list[IntegrityRow]
    trend: list[IntegrityWeek]


class IntegrityQuery(Schema):
    group: Literal["service", "unit"] = "service"
    weeks: int = Field(12, ge=1, le=104, description="How many weeks back (1–104).")


@router.post("/quotes", response={200: QuoteOut, **errors(400, 403, 404, 422)}, summary="Quote a promise")
def create_quote(request: HttpRequest, payload: QuoteIn) -> dict:
    """What Tandem would promise now for a new request to the service: P50 and the organisation's
    confidence (default P85), beside the agreement's resolve-by. Nothing is stored."""
    person = actor(request)
    service = services_visible_to(auth_user(request)).filter(active=True, slug=payload.service).first()
    if service is None:
        raise NotFound(f"There is no published service {payload.service!r}; GET /api/services lists them.")
    if payload.channel == Channel.EXTERNAL and not service.external_allowed:
        raise Invalid(
            f"{service.name} takes internal requests only; quote it on the internal channel.",
            errors={"channel": ["Internal only for this service."]},
        )
    return quote(service, person, channel=payload.channel).as_dict()


@router.get(
    "/requests/{request:request_id}/promise", response={200: PromiseOut, **errors(403, 404)},
    summary="A request's promise"
)
def get_promise(request: HttpRequest, request_id: PathId) -> PromiseOut:
    """The promise given at submission and the live forecast (P50 and the promise's confidence)."""
    person = actor(request)
    p = promises_visible_to(auth_user(request)).filter(request_id=request_id).first()
    if p is None:
        raise NotFound("There is no request with that reference or id with a promise that you can see.")
    return PromiseOut.of(p, client=is_client(person))


@router.get(
    "/promises/report", response={200: IntegrityOut, **errors(403, 422)}, summary="Promise integrity report"
)
def get_integrity_report(request: HttpRequest, query: Query[IntegrityQuery]) -> dict:
    """Per service (or unit): share of promises kept, mean lateness of those broken, mean quote
    length, and the weekly trend of the share kept. For leads, executives and administrators."""
    if not reads_integrity_report(actor(request)):
        raise Forbidden("The promise integrity report is for leads, executives and administrators.")
    report = integrity_report(auth_user(request), weeks=query.weeks, group=query.group)
    return {"group": query.group, "weeks": query.weeks, "rows": report["rows"], "trend": report["weeks"]}
