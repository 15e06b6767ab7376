"""API: the pulse questions open for you, answering them, and the results (never below the
anonymity threshold)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.responses import Status as HttpStatus

from tandem.org.api_shared import InSchema, Schema, Slug, actor, auth_user, errors
from tandem.org.models import Side, Unit
from tandem.org.queries import units_visible_to
from tandem.refusal import Invalid
from tandem.voice import actions
from tandem.voice.models import Gift, Kudos, RequestRating
from tandem.voice.queries import (
    ask_quality,
    gifts_visible_to,
    kudos_visible_to,
    questions_for,
    results,
    unanswered_feedback,
)
from tandem.work.schemas import RequestPath

router = Router(tags=["pulse"])


class QuestionOut(Schema):
    unit: str = Field(..., description="The back-office unit's slug.")
    unit_name: str
    period: date = Field(..., description="The first day of the period asked about.")
    question: str
    your_answer: int | None = Field(..., description="Your answer (1 Never … 5 Always), if you gave one.")


class PulseAnswerIn(InSchema):
    unit: Slug = Field(..., description="The back-office unit's slug.")
    period: date = Field(..., description="The first day of the period, from GET /api/pulse/questions.")
    answer: int = Field(..., description="1 Never, 2 Rarely, 3 Sometimes, 4 Often, 5 Always.")
    comment: str = Field("", max_length=1000)
    requests: list[int] = Field(default_factory=list, max_length=50, description="Ids of your requests it is about.")


class AnswerOut(Schema):
    unit: str
    period: date
    answer: int


class CellOut(Schema):
    period: date
    complete: bool = Field(..., description="False while answers about the period are still taken: figures so far.")
    shown: bool = Field(..., description="False when fewer people answered than the anonymity threshold, or when "
                        "showing the cell would let a withheld one be worked out by subtraction.")
    asked: int = Field(..., description="People who asked something of the unit in the period.")
    answers: int | None = None
    response_rate: float | None = None
    frustration_index: float | None = Field(None, description="Share answering Often or Always.")
    mean_hours: float | None = Field(None, description="Mean working hours to resolve, the same period.")
    late_rate: float | None = Field(None, description="Share resolved after the agreement's (else the published) time.")
    promises_kept: float | None = None


class UnitResultOut(Schema):
    unit: str
    unit_name: str
    periods: list[CellOut]


class ResultsOut(Schema):
    threshold: int
    units: list[UnitResultOut]


class ResultsQuery(Schema):
    unit: Slug | None = Field(None, description="A back-office unit's slug.")
    requesting_unit: Slug | None = Field(None, description="Only answers from this front-office unit.")
    periods: int = Field(6, ge=1, le=24)


def _unit(request: HttpRequest, slug: str | None, side: str, field: str) -> Unit | None:
    if not slug:
        return None
    unit = units_visible_to(auth_user(request)).filter(slug=slug, side=side).first()
    if unit is None:
        kind = "back-office" if side == Side.BACK else "front-office"
        raise Invalid(f"There is no {kind} unit {slug!r}; GET /api/units lists them.", errors={field: ["Unknown."]})
    return unit


@router.get("/pulse/questions", response={200: list[QuestionOut], **errors(403)}, summary="Your pulse questions")
def list_pulse_questions(request: HttpRequest) -> list[dict]:
    """For each back-office unit you asked something of in an open period: the question, and
    your answer if you gave one (you may change it until the period closes)."""
    me = actor(request)
    return [
        {"unit": q.unit.slug, "unit_name": q.unit.name, "period": q.period, "question": q.text,
         "your_answer": q.answered}
        for q in questions_for(me, pending_only=False)
    ]


@router.post("/pulse/answers", response={200: AnswerOut, **errors(400, 403, 409, 422)}, summary="Answer the pulse")
def answer_pulse(request: HttpRequest, payload: PulseAnswerIn) -> dict:
    """One answer per person, unit and period: answering again changes it. 409 when the
    period has closed."""
    me = actor(request)
    unit = _unit(request, payload.unit, Side.BACK, "unit")
    assert unit is not None
    answered = actions.answer_pulse(me, unit.pk, payload.period, payload.answer, comment=payload.comment,
                                    request_ids=payload.requests)
    return {"unit": unit.slug, "period": answered.period, "answer": answered.answer}


@router.get("/pulse/results", response={200: ResultsOut, **errors(403, 422)}, summary="Pulse results")
def get_pulse_results(request: HttpRequest, query: Query[ResultsQuery]) -> dict:
    """Per back-office unit and period: response rate and frustration index beside the period's
    facts, only where at least the threshold of people answered (after the filters) and where
    no withheld cell could be worked out from the shown ones by subtraction."""
    actor(request)
    data = results(auth_user(request), unit=_unit(request, query.unit, Side.BACK, "unit"),
                   requesting_unit=_unit(request, query.requesting_unit, Side.FRONT, "requesting_unit"),
                   periods=query.periods)
    return {
        "threshold": data["threshold"],
        "units": [
            {"unit": row["unit"].slug, "unit_name": row["unit"].name, "periods": [
                {"period": c["period"], "complete": p["complete"], "shown": c["shown"], "asked": c["asked"],
                 **({"answers": c["answers"], "response_rate": c["response_rate"],
                     "frustration_index": c["frustration_index"], **c["evidence"]} if c["shown"] else {})}
                for p, c in zip(data["periods"], row["cells"], strict=True)
            ]}
            for row in data["units"]
        ],
    }


# --- satisfaction both ways ---------------------------------------------------------------------


class RatingIn(InSchema):
    score: int = Field(..., description="1 (poor) to 5 (excellent).")
    comment: str = Field("", max_length=1000)


class RatingAnswerIn(InSchema):
    answer: str = Field(..., max_length=1000)


class AskRatingIn(InSchema):
    complete: bool = Field(..., description="The requester gave everything the service asks for.")
    in_time: bool = Field(..., description="It came in time for the service's cut-off.")


class RatingOut(Schema):
    request: int
    score: int
    comment: str
    answer: str
    answered_at: datetime | None


class AskRatingOut(Schema):
    request: int
    complete: bool
    in_time: bool


class AskQualityOut(Schema):
    unit: str
    rated: int
    complete_share: float
    in_time_share: float
    complete_and_in_time_share: float


def _rating_out(r: RequestRating) -> dict:
    return {"request": r.request_id, "score": r.score, "comment": r.comment, "answer": r.answer,
            "answered_at": r.answered_at}


@router.post("/requests/{request:request_id}/rating", response={200: RatingOut, **errors(400, 403, 404, 409, 422)},
             summary="Rate a resolved request")
def rate_request(request: HttpRequest, request_id: RequestPath, payload: RatingIn) -> dict:
    """The requester rates a resolved request; rating again changes it until the team answers."""
    return _rating_out(actions.rate_request(actor(request), request_id, payload.score, payload.comment))


@router.post("/requests/{request:request_id}/rating/answer",
             response={200: RatingOut, **errors(400, 403, 404, 409, 422)},
             summary="Answer a rating")
def answer_rating(request: HttpRequest, request_id: RequestPath, payload: RatingAnswerIn) -> dict:
    """The providing unit answers the requester's rating, once; the requester sees it on the request."""
    return _rating_out(actions.answer_rating(actor(request), request_id, payload.answer))


@router.post("/requests/{request:request_id}/ask-rating",
             response={200: AskRatingOut, **errors(400, 403, 404, 409, 422)},
             summary="Rate the ask")
def rate_ask(request: HttpRequest, request_id: RequestPath, payload: AskRatingIn) -> dict:
    """The back office says whether the ask was complete and in time for the cut-off."""
    rated = actions.rate_ask(actor(request), request_id, complete=payload.complete, in_time=payload.in_time)
    return {"request": rated.request_id, "complete": rated.complete, "in_time": rated.in_time}


@router.get("/feedback/unanswered", response={200: list[RatingOut], **errors(403)}, summary="Feedback to answer")
def list_unanswered_feedback(request: HttpRequest) -> list[dict]:
    """Ratings of your unit's requests that wait for an answer, oldest first."""
    actor(request)
    return [_rating_out(r) for r in unanswered_feedback(auth_user(request))[:500]]


@router.get("/asks/quality", response={200: list[AskQualityOut], **errors(403)}, summary="Asks complete and on time")
def get_ask_quality(request: HttpRequest) -> list[dict]:
    """Per front-office unit, over 12 weeks: share of asks the back office found complete, in time, both."""
    actor(request)
    return ask_quality(auth_user(request))


# --- recognition ---------------------------------------------------------------------------------


class KudosIn(InSchema):
    message: str = Field(..., max_length=500)
    person: int | None = Field(None, description="A back-office person's id (or give `unit`).")
    unit: Slug | None = Field(None, description="A back-office unit's slug (or give `person`).")
    request: int | None = Field(None, description="The request it is about, if any.")


class KudosOut(Schema):
    id: int
    unit: str
    person: str | None
    message: str
    given_by: str
    created_at: datetime


class GiftIn(InSchema):
    received_on: date
    giver: str = Field(..., max_length=200)
    value: Decimal = Field(..., description="Estimated value in the local currency, 0 or more.")
    description: str = Field(..., max_length=500)
    shared_with: list[Slug] = Field(default_factory=list, max_length=20, description="Back-office unit slugs.")


class GiftOut(Schema):
    id: int
    received_on: date
    received_by: str
    giver: str
    value: Decimal
    description: str
    shared_with: list[str]
    flagged: bool = Field(..., description="At or above the review value: for compliance.")


def _kudos_out(k: Kudos) -> dict:
    return {"id": k.pk, "unit": k.to_unit.slug, "person": k.to_person.display_name if k.to_person else None,
            "message": k.message, "given_by": k.given_by.display_name, "created_at": k.created_at}


def _gift_out(g: Gift) -> dict:
    return {"id": g.pk, "received_on": g.received_on, "received_by": g.received_by.display_name, "giver": g.giver,
            "value": g.value, "description": g.description, "shared_with": [u.slug for u in g.shared_with.all()],
            "flagged": g.flagged}


@router.post("/kudos", response={201: KudosOut, **errors(400, 403, 404, 422)}, summary="Give kudos")
def give_kudos(request: HttpRequest, payload: KudosIn) -> HttpStatus:
    """Thank a back-office person or unit (not yourself), optionally about a request you can see."""
    me = actor(request)
    unit = _unit(request, payload.unit, Side.BACK, "unit") if payload.unit else None
    given = actions.give_kudos(me, message=payload.message, person_id=payload.person,
                               unit_id=unit.pk if unit else None, request_id=payload.request)
    return HttpStatus(201, _kudos_out(given))


@router.get("/kudos", response={200: list[KudosOut], **errors(403, 422)}, summary="Kudos received")
def list_kudos(request: HttpRequest, unit: Slug | None = None) -> list[dict]:
    """The latest thanks, newest first, optionally for one back-office unit (its slug)."""
    actor(request)
    qs = kudos_visible_to(auth_user(request))
    if unit:
        qs = qs.filter(to_unit=_unit(request, unit, Side.BACK, "unit"))
    return [_kudos_out(k) for k in qs[:200]]


@router.post("/gifts", response={201: GiftOut, **errors(400, 403, 422)}, summary="Register a gift")
def register_gift(request: HttpRequest, payload: GiftIn) -> HttpStatus:
    """A gift or hospitality received from a customer; flagged for compliance at or above the set value."""
    me = actor(request)
    units = [_unit(request, slug, Side.BACK, "shared_with") for slug in payload.shared_with]
    gift = actions.register_gift(me, received_on=payload.received_on, giver=payload.giver, value=payload.value,
                                 description=payload.description, shared_with=[u.pk for u in units if u])
    return HttpStatus(201, _gift_out(gift))


@router.get("/gifts", response={200: list[GiftOut], **errors(403)}, summary="The gifts register")
def list_gifts(request: HttpRequest, flagged: bool | None = None) -> list[dict]:
    """Your entries; those shared with the unit you lead; every entry for executives and administrators."""
    actor(request)
    qs = gifts_visible_to(auth_user(request))
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    return [_gift_out(g) for g in qs[:500]]
