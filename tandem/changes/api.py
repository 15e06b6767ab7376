"""API: changes (draft, edit, consult, publish, move, cancel) and the change calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.responses import Status as HttpStatus
from pydantic import StringConstraints

from tandem.changes import actions, notices
from tandem.changes.models import TEXT_LIMIT, Change, ChangeComment, Status
from tandem.changes.queries import acknowledgements, calendar, changes_visible_to, may_own_changes
from tandem.org.api_shared import InSchema, PathId, Schema, Slug, actor, auth_user, errors
from tandem.org.queries import units_visible_to
from tandem.refusal import Forbidden, Invalid, NotFound

router = Router(tags=["changes"])

# Long enough that an over-long summary reaches the action, which answers with its count.
Typed = Annotated[str, StringConstraints(max_length=5000)]


class ChangeAudienceIn(InSchema):
    unit: Slug = Field(..., description="A front-office unit's slug.")
    must_do: str = Field("", max_length=500, description="What its people must do.")
    by_when: date | None = None
    role: str = Field("", max_length=40, description="Only its people of this role: member, lead, executive or "
                                                     "admin (blank: the change's `role`, else everyone of the unit).")


class ChangeIn(InSchema):
    unit: Slug = Field(..., description="The owning back-office unit's slug (you own one of its services).")
    title: Typed
    summary: Typed = Field(..., description="The notice people read: at most 280 characters.")
    why: Typed
    kind: str = Field(..., max_length=20, description="policy, process, system or form.")
    effective_on: date = Field(..., description="Today or later.")
    minutes: int = Field(..., description="Minutes each person needs to absorb it: a positive whole number.")
    audiences: list[ChangeAudienceIn] = Field(default_factory=list, max_length=500)
    everyone: bool = Field(False, description="Every front-office unit (then `audiences` only adds what they must do).")
    role: str = Field("", max_length=40, description="Every audience only for its people of this role: member, lead, "
                                                     "executive or admin (blank: everyone of the units). With "
                                                     "`everyone`: `lead` is every front-office lead.")
    services: list[Slug] = Field(default_factory=list, max_length=50, description="Services of the unit it alters.")


class ChangeAudienceOut(Schema):
    unit: str
    role: str = Field(..., description="Only its people of this role (blank: everyone of the unit).")
    must_do: str
    by_when: date | None
    effective_on: date | None = Field(..., description="A staged change: the day it reaches this audience "
                                                       "(null: the change's effective date).")


class ServiceEditOut(Schema):
    service: str
    state: str = Field(..., description="scheduled, applied, failed (not applied: see `problem`) or dropped.")
    describe: str = Field(..., description="What changes, in words.")
    turnaround_days: int | None
    procedure: list[str] | None
    add_fields: list[dict] = Field(..., description="Intake fields added: label, kind, key, required, help_text, "
                                                   "choices.")
    remove_fields: list[str]
    applied_at: datetime | None
    problem: str


class ChangeCommentOut(Schema):
    id: int
    author: str
    audience: str = Field(..., description="The audience the author leads.")
    text: str
    created_at: datetime
    answer: str
    answered_at: datetime | None

    @classmethod
    def of(cls, c: ChangeComment) -> ChangeCommentOut:
        return cls(id=c.pk, author=c.author.user.get_full_name() or c.author.user.username, audience=c.unit.slug,
                   text=c.text, created_at=c.created_at, answer=c.answer, answered_at=c.answered_at)


class ChangeOut(Schema):
    id: int
    unit: str
    title: str
    summary: str
    why: str
    kind: str
    status: str = Field(..., description="draft, consultation, published or cancelled.")
    everyone: bool
    effective_on: date
    requested_on: date = Field(..., description="The date first asked for.")
    minutes: int
    consultation_ends_on: date | None
    audiences: list[ChangeAudienceOut]
    services: list[str]
    comments: list[ChangeCommentOut] = Field(..., description="The consultation's comments and their answers.")
    consultation_outcome: str = Field(..., description="What changed because of the consultation.")
    service_edits: list[ServiceEditOut] = Field(
        ..., description="What changes in the linked services on the effective date.")

    @classmethod
    def of(cls, c: Change) -> ChangeOut:
        return cls(
            id=c.pk, unit=c.unit.slug, title=c.title, summary=c.summary, why=c.why, kind=c.kind, status=c.status,
            everyone=c.everyone, effective_on=c.effective_on, requested_on=c.requested_on, minutes=c.minutes,
            consultation_ends_on=c.consultation_ends_on,
            audiences=[ChangeAudienceOut(unit=a.unit.slug, role=a.role, must_do=a.must_do, by_when=a.by_when,
                                         effective_on=a.effective_on)
                       for a in c.audiences.select_related("unit")],
            services=list(c.services.values_list("slug", flat=True)),
            comments=[ChangeCommentOut.of(m) for m in c.comments.select_related("author__user", "unit")],
            consultation_outcome=c.consultation_outcome,
            service_edits=[ServiceEditOut(
                service=e.service.slug, state=e.state, describe=e.describe,
                turnaround_days=e.edit.get("turnaround_days"), procedure=e.edit.get("procedure"),
                add_fields=e.edit.get("add_fields", []), remove_fields=e.edit.get("remove_fields", []),
                applied_at=e.applied_at, problem=e.problem) for e in c.service_edits.select_related("service")],
        )


LongText = Annotated[str, StringConstraints(max_length=TEXT_LIMIT * 3)]


class ChangeTextIn(InSchema):
    text: LongText = Field(..., description=f"1 to {TEXT_LIMIT} characters.")


class ChangePublishIn(InSchema):
    consultation_outcome: LongText = Field(
        "", description="What changed because of the consultation: required when it drew comments.")


class ChangeAckOut(Schema):
    change: int
    acknowledged_at: datetime


class ChangeAckUnitOut(Schema):
    audience: str
    role: str = Field(..., description="The audience's role (blank: everyone of the unit).")
    acknowledged: int = Field(..., description="Its active people in the audience who acknowledged the change.")
    people: int = Field(..., description="Its active people in the audience (of its role, when it has one).")
    noticed: int = Field(..., description="Of them, those sent the day's notice.")


class ChangeRemindOut(Schema):
    reminded: int = Field(..., description="People reminded: those of the audiences who have not acknowledged.")


class ChangeConsultIn(InSchema):
    ends_on: date = Field(..., description="The last day of the consultation: at the latest the effective date.")


class ChangeMoveIn(InSchema):
    effective_on: date = Field(..., description="Today or later (a proposed slot, or any other day).")


class ChangeCalendarQuery(Schema):
    start: date | None = Field(None, description="A day in the first week shown (default: this week).")
    weeks: int = Field(13, ge=1, le=26)


class ChangeCellOut(Schema):
    audience: str
    week: date = Field(..., description="The Monday of the ISO week.")
    count: int = Field(..., description="Changes landing on the most-loaded person of the unit that week.")
    minutes: int = Field(..., description="Minutes per person: the load of the most-loaded person of the unit that "
                                          "week (the changes for the whole unit plus those for their role).")
    role: str = Field(..., description="That person's role when changes for one role weigh on them (blank: the "
                                       "unit-wide changes alone).")
    limit: int
    over: bool
    blackouts: list[str]
    requests: float | None = Field(..., description="The audience's usual requests that week, from its history.")
    leave_days: int = Field(..., description="Working days of booked leave among its people.")


class ChangeProposalOut(Schema):
    change: int
    reasons: list[str]
    proposed_on: date | None = Field(..., description="The plan's date: following every proposal leaves no "
                                                      "audience-week over its limit.")
    free_slots: list[date]
    staging: list[tuple[str, date]] | None
    late: bool = Field(..., description="The proposed date is more than four weeks after the date asked for.")
    unplaceable: bool


class ChangeBatchOut(Schema):
    period: int
    name: str
    moves: list[tuple[int, date]] = Field(..., description="Each change that fits and the day it would land.")
    left_out: int = Field(..., description="Nearby changes that would not fit.")


class ChangeCalendarOut(Schema):
    start: date
    weeks: list[date]
    over: int = Field(..., description="Audience-weeks over their limit.")
    clashes: int = Field(..., description="Landings in a blackout or outside a required change period.")
    over_after_proposals: int
    cells: list[ChangeCellOut]
    proposals: list[ChangeProposalOut]
    batches: list[ChangeBatchOut] = Field(..., description="For each change period ahead (three at most).")


def _draft(payload: ChangeIn) -> actions.Draft:
    return actions.Draft(
        title=payload.title, summary=payload.summary, why=payload.why, kind=payload.kind,
        effective_on=payload.effective_on, minutes=payload.minutes, everyone=payload.everyone,
        audiences=[actions.AudienceIn(a.unit, a.must_do, a.by_when, a.role) for a in payload.audiences],
        services=payload.services, role=payload.role,
    )


def _visible(request: HttpRequest, change_id: int) -> Change:
    change = changes_visible_to(auth_user(request)).filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change, or it is not yours to see.")
    return change


@router.get("/changes", response={200: list[ChangeOut], **errors(403)}, summary="Changes")
def list_changes(request: HttpRequest, status: Status | None = None) -> list[ChangeOut]:
    """The changes you may see, soonest first (at most 500): every function's for executives."""
    actor(request)
    qs = changes_visible_to(auth_user(request))
    if status:
        qs = qs.filter(status=status)
    return [ChangeOut.of(c) for c in qs[:500]]


@router.post("/changes", response={201: ChangeOut, **errors(400, 403, 422)}, summary="Draft a change")
def draft_change(request: HttpRequest, payload: ChangeIn) -> HttpStatus:
    """A new draft for a back-office unit whose services you own (administrators: any)."""
    me = actor(request)
    unit = units_visible_to(me.user).filter(slug=payload.unit).first()
    if unit is None:
        raise Invalid(f"No unit is called {payload.unit!r}.", errors={"unit": ["A back-office unit's slug."]})
    change = actions.draft_change(me, unit.pk, _draft(payload))
    return HttpStatus(201, ChangeOut.of(change))


@router.get("/changes/{change_id}", response={200: ChangeOut, **errors(403, 404)}, summary="A change")
def get_change(request: HttpRequest, change_id: PathId) -> ChangeOut:
    """One change you may see, with its audiences and what each must do."""
    actor(request)
    return ChangeOut.of(_visible(request, change_id))


@router.put("/changes/{change_id}", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
            summary="Edit a change")
def edit_change(request: HttpRequest, change_id: PathId, payload: ChangeIn) -> ChangeOut:
    """Rewrite a draft or a change in consultation (the unit stays the change's own)."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeOut.of(actions.edit_change(me, change_id, _draft(payload)))


@router.post("/changes/{change_id}/consultation", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
             summary="Open consultation")
def open_change_consultation(request: HttpRequest, change_id: PathId, payload: ChangeConsultIn) -> ChangeOut:
    """Open a draft to its audiences' leads until `ends_on`, at the latest its effective date."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeOut.of(actions.open_consultation(me, change_id, payload.ends_on))


@router.post("/changes/{change_id}/publish", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
             summary="Publish a change")
def publish_change(request: HttpRequest, change_id: PathId, payload: ChangePublishIn | None = None) -> ChangeOut:
    """Publish a draft or a change in consultation (its effective date must not have passed).
    When the consultation drew comments, each must be answered and `consultation_outcome` said."""
    me = actor(request)
    _visible(request, change_id)
    outcome = payload.consultation_outcome if payload else ""
    return ChangeOut.of(actions.publish_change(me, change_id, outcome))


@router.post("/changes/{change_id}/comments", response={201: ChangeCommentOut, **errors(400, 403, 404, 409, 422)},
             summary="Comment on a change in consultation")
def comment_on_change(request: HttpRequest, change_id: PathId, payload: ChangeTextIn) -> HttpStatus:
    """A comment or suggestion by a lead of one of its audiences, while its consultation is open."""
    me = actor(request)
    _visible(request, change_id)
    return HttpStatus(201, ChangeCommentOut.of(actions.comment_on_change(me, change_id, payload.text)))


@router.post("/changes/{change_id}/comments/{comment_id}/answer",
             response={200: ChangeCommentOut, **errors(400, 403, 404, 409, 422)}, summary="Answer a comment")
def answer_change_comment(request: HttpRequest, change_id: PathId, comment_id: PathId,
                          payload: ChangeTextIn) -> ChangeCommentOut:
    """The owner's answer to a consultation comment (a second answer replaces the first)."""
    me = actor(request)
    change = _visible(request, change_id)
    if not change.comments.filter(pk=comment_id).exists():
        raise NotFound("There is no such comment on this change.")
    return ChangeCommentOut.of(actions.answer_comment(me, comment_id, payload.text))


@router.post("/changes/{change_id}/acknowledge", response={200: ChangeAckOut, **errors(403, 404, 409)},
             summary="Acknowledge a change")
def acknowledge_change(request: HttpRequest, change_id: PathId) -> ChangeAckOut:
    """One click by a person of its audiences: they have read the published change."""
    me = actor(request)
    _visible(request, change_id)
    receipt = notices.acknowledge_change(me, change_id)
    assert receipt.acknowledged_at is not None
    return ChangeAckOut(change=change_id, acknowledged_at=receipt.acknowledged_at)


@router.get("/changes/{change_id}/acknowledgements", response={200: list[ChangeAckUnitOut], **errors(403, 404)},
            summary="Acknowledgement per audience")
def change_acknowledgements(request: HttpRequest, change_id: PathId) -> list[ChangeAckUnitOut]:
    """For the change's owners: per audience unit, how many of its people acknowledged it, of how many."""
    me = actor(request)
    change = _visible(request, change_id)
    if not may_own_changes(me, change.unit_id):
        raise Forbidden("Only the owners of the unit's services (and administrators) see who acknowledged.")
    return [ChangeAckUnitOut(audience=a.unit.slug, role=a.role, acknowledged=a.acknowledged, people=a.people,
                             noticed=a.noticed)
            for a in acknowledgements(change)]


@router.post("/changes/{change_id}/remind", response={200: ChangeRemindOut, **errors(403, 404, 409)},
             summary="Remind the audience")
def remind_change_audience(request: HttpRequest, change_id: PathId) -> ChangeRemindOut:
    """Remind those of its audiences who have not acknowledged it: one notification each, once a day."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeRemindOut(reminded=notices.remind_audience(me, change_id))


@router.post("/changes/{change_id}/move", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
             summary="Move a change")
def move_change(request: HttpRequest, change_id: PathId, payload: ChangeMoveIn) -> ChangeOut:
    """Another effective date: a proposed slot accepted, or the owner's own choice."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeOut.of(actions.move_change(me, change_id, payload.effective_on))


@router.post("/changes/{change_id}/cancel", response={200: ChangeOut, **errors(403, 404, 409)},
             summary="Cancel a change")
def cancel_change(request: HttpRequest, change_id: PathId) -> ChangeOut:
    """Cancel a change: it no longer counts on the calendar."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeOut.of(actions.cancel_change(me, change_id))


@router.get("/change-calendar", response={200: ChangeCalendarOut, **errors(403, 422)}, summary="The change calendar")
def get_change_calendar(request: HttpRequest, query: Query[ChangeCalendarQuery]) -> ChangeCalendarOut:
    """Per front-office audience and week: the load of changes (count, minutes per person) against
    its limit, its usual requests and booked leave; the collisions and the proposed slots."""
    actor(request)
    cal = calendar(auth_user(request), start=query.start, weeks=query.weeks)
    return ChangeCalendarOut(
        start=cal.start, weeks=cal.weeks, over=cal.over, clashes=cal.clashes, over_after_proposals=cal.plan_over_after,
        cells=[ChangeCellOut(audience=row.unit.slug, week=c["week"], count=c["count"], minutes=c["minutes"],
                       role=c["role"],
                       limit=row.limit, over=c["over"], blackouts=c["clashes"], requests=c["requests"],
                       leave_days=c["leave_days"]) for row in cal.rows for c in row.cells],
        proposals=[ChangeProposalOut(change=p.change.pk, reasons=p.reasons, proposed_on=p.plan_on, free_slots=p.slots,
                               staging=[(u.slug, d) for u, d in p.stages] if p.stages else None, late=p.late,
                               unplaceable=p.unplaceable) for p in cal.proposals],
        batches=[ChangeBatchOut(period=b["period"].pk, name=b["period"].name,
                                moves=[(c.pk, d) for c, d in b["fits"]], left_out=b["left_out"]) for b in cal.batches],
    )
