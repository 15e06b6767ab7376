"""API: cases, service requests, their timeline and comments, and every move on them.

Each write endpoint calls exactly one action from ``tandem.work.actions`` (the same ones the
pages call); reads go through ``tandem.work.queries``' permission-aware entries. A request
the caller may not know about answers 404, one they see but may not touch answers 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.responses import Status as HttpStatus

from tandem.catalogue.models import Service
from tandem.catalogue.queries import services_visible_to
from tandem.org.api_shared import (
    HIDDEN_ID,
    InSchema,
    PageQuery,
    PathId,
    PersonRef,
    Schema,
    UtcTime,
    actor,
    auth_user,
    errors,
    keyset_page,
    shared_id,
    shared_ids_hidden,
)
from tandem.org.models import Person
from tandem.org.queries import units_visible_to
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work import actions
from tandem.work.addresses import NO_SUCH_REQUEST
from tandem.work.api_intake_files import intake_files
from tandem.work.models import ServiceRequest
from tandem.work.numbering import canonical
from tandem.work.queries import (
    can_see_payload,
    cases_visible_to,
    comments_for,
    procedure_for,
    requests_visible_to,
    timeline_for,
)
from tandem.work.schemas import (
    AnswerIn,
    AskIn,
    AssignIn,
    CommentIn,
    CommentOut,
    CommentPage,
    EventOut,
    EventPage,
    IdempotencyKey,
    ReasonIn,
    RequestOut,
    RequestPage,
    RequestPath,
    RequestQuery,
    RequestSummaryOut,
    ResolveIn,
    StartIn,
    SubmitIn,
    TeamWaitIn,
    WaitIn,
)

router = Router()

REQUEST_RELATED = (
    "service", "unit", "requesting_unit", "requester__user", "assignee__user", "waiting_on_unit", "approver__user",
)
# One request with its agreement clock: the agreement and both calendars it may run on come
# along, so that reading the clock asks the database nothing more.
REQUEST_WITH_CLOCK = (*REQUEST_RELATED, "agreement", "unit__calendar", "service__calendar")
MOVE_ERRORS = errors(400, 403, 404, 409, 422)


# --- reads -------------------------------------------------------------------------------------


def _visible_request(request: HttpRequest, request_id: int) -> ServiceRequest:
    sr = one_or_none(
        requests_visible_to(auth_user(request)).select_related(*REQUEST_WITH_CLOCK).filter(pk=request_id)
    )
    if sr is None:
        raise NotFound(NO_SUCH_REQUEST)
    return sr


def _request_out(request: HttpRequest, person: Person, request_id: int) -> RequestOut:
    return RequestOut.for_person(person, _visible_request(request, request_id))


def _unit_id(person: Person, slug: str, field: str) -> int:
    unit_id = units_visible_to(person.user).filter(slug=slug).values_list("pk", flat=True).first()
    if unit_id is None:
        raise Invalid(
            f"There is no unit {slug!r}; GET /api/units lists them.",
            errors={field: ["Unknown unit."]},
        )
    return unit_id


def _filtered(
    qs: QuerySet[ServiceRequest], person: Person, query: RequestQuery
) -> QuerySet[ServiceRequest]:
    if query.mine is not None:
        qs = qs.filter(requester=person) if query.mine else qs.exclude(requester=person)
    if query.unit is not None:
        qs = qs.filter(unit_id=_unit_id(person, query.unit, "unit"))
    if query.requesting_unit is not None:
        qs = qs.filter(requesting_unit_id=_unit_id(person, query.requesting_unit, "requesting_unit"))
    if query.channel is not None:
        qs = qs.filter(channel=query.channel)
    if query.status is not None:
        qs = qs.filter(status=query.status)
    if query.service is not None:
        service_id = Service.objects.filter(slug=query.service).values_list("pk", flat=True).first()
        if service_id is None:
            raise Invalid(
                f"There is no service {query.service!r}; GET /api/services lists them.",
                errors={"service": ["Unknown service."]},
            )
        qs = qs.filter(service_id=service_id)
    if query.assignee == "me":
        qs = qs.filter(assignee=person)
    elif query.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif query.assignee is not None:
        qs = qs.filter(assignee_id=int(query.assignee))
    if query.open is not None:
        qs = qs.filter(is_open=query.open)
    if query.case is not None:
        case_id = _case_id(person, query.case, "case")
        qs = qs.filter(case_id=case_id) if case_id is not None else qs.none()
    return qs


def _case_id(person: Person, key: int | str, field: str) -> int | None:
    """A case given by reference or id (a body's ``case``, the filter's): its id, or None for a
    reference to no case the person sees. A client's people give the reference: an id from them
    is refused without a look, so that it tells nothing."""
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, int):
        if shared_ids_hidden():
            raise Invalid("Give the case's reference (such as C-NORTHERN-000007), not its id.",
                          errors={field: ["Give the case's reference."]})
        return key
    reference = canonical(key)
    found = cases_visible_to(person.user).filter(reference=reference).values_list("pk", flat=True).first() \
        if reference else None
    return int(found) if found is not None else None


@router.get(
    "/requests",
    response={200: RequestPage, **errors(403, 422)},
    tags=["requests"],
    summary="List service requests",
)
def list_requests(request: HttpRequest, query: Query[RequestQuery]) -> dict:
    """The service requests you may see, newest first (descending id; for a client's people, descending
    number within their organisation, and `after`/`next_after` are numbers), with filters. For a
    team queue: `?unit=payroll&channel=internal&open=true`; for your own work:
    `?assignee=me&open=true`."""
    person = actor(request)
    qs = _filtered(requests_visible_to(auth_user(request)), person, query)
    # A client's requests are all its organisation's: paged by their number there, not the id.
    key = "number" if shared_ids_hidden() else "id"
    rows, next_after = keyset_page(qs, query, related=REQUEST_RELATED, key=key)
    return {"items": [RequestSummaryOut.of(sr) for sr in rows], "next_after": next_after}


@router.get(
    "/requests/{request:request_id}",
    response={200: RequestOut, **errors(403, 404, 422)},
    tags=["requests"],
    summary="Get a service request",
)
def get_request(request: HttpRequest, request_id: RequestPath) -> RequestOut:
    """One request with its intake and resolution (both null when confidential and not yours to
    see). 404 when you may not know it exists."""
    return _request_out(request, actor(request), request_id)


@router.get(
    "/requests/{request:request_id}/events",
    response={200: EventPage, **errors(403, 404, 422)},
    tags=["requests"],
    summary="Get a request's timeline",
)
def list_request_events(request: HttpRequest, request_id: RequestPath, page: Query[PageQuery]) -> dict:
    """Every event of the request in order (ascending `seq`); internal notes only for the
    providing unit. `after` and `next_after` are `seq` numbers."""
    person = actor(request)
    sr = _visible_request(request, request_id)
    rows, next_after = keyset_page(timeline_for(person, sr), page, newest_first=False, key="seq")
    visible = can_see_payload(person, sr)
    return {
        "items": [EventOut.of(e, payload_visible=visible) for e in rows],
        "next_after": next_after,
    }


@router.get(
    "/requests/{request:request_id}/comments",
    response={200: CommentPage, **errors(403, 404, 422)},
    tags=["comments"],
    summary="List a request's comments",
)
def list_comments(request: HttpRequest, request_id: RequestPath, page: Query[PageQuery]) -> dict:
    """Comments oldest first (ascending id). Internal notes only for the providing unit; none at
    all when the request is confidential and not yours to see."""
    person = actor(request)
    sr = _visible_request(request, request_id)
    rows, next_after = keyset_page(comments_for(person, sr), page, newest_first=False)
    return {"items": [CommentOut.of(c) for c in rows], "next_after": next_after}


# --- submission --------------------------------------------------------------------------------


def _intake_values(service: Service, intake: dict[str, Any]) -> dict[str, str]:
    """JSON values as the form reads them: numbers as their text, null as left empty."""
    values: dict[str, str] = {}
    wrong: dict[str, list[str]] = {}
    for key, value in intake.items():
        if value is None:
            values[key] = ""
        elif isinstance(value, str):
            values[key] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = str(value)
        else:
            wrong[f"intake.{key}"] = [
                "Give text, a number or a YYYY-MM-DD date here, not a list, object or boolean."
            ]
    if wrong:
        labels = {f"intake.{f.key}": f.label for f in service.fields.all()}
        named = ", ".join(labels.get(key, f"the unknown field {key[len('intake.'):]!r}") for key in wrong)
        raise Invalid(
            f"Give text, a number or a YYYY-MM-DD date for {named}, not a list, object or boolean.",
            errors=wrong,
        )
    return values


def _attached_case(person: Person, key: int | str | None) -> int | None:
    case_id = None if key is None else _case_id(person, key, "case")
    if key is not None and case_id is None:
        raise Invalid(f"There is no case {key} that you can see.", errors={"case": ["Unknown case."]})
    return case_id


@router.post(
    "/requests",
    response={201: RequestOut, 200: RequestOut, **errors(400, 403, 409, 422)},
    tags=["requests"],
    summary="Submit a service request",
)
def submit_request(
    request: HttpRequest, payload: SubmitIn, idempotency_key: IdempotencyKey = None
) -> HttpStatus:
    """Ask a service. 201 with the new request; with an `Idempotency-Key` header, sending the
    same key and body again answers 200 with the same request, and the same key with a
    different body answers 409. Intake errors come per field as `intake.<key>`."""
    person = actor(request)
    service = one_or_none(
        services_visible_to(auth_user(request))
        .select_related("calendar", "unit__calendar")
        .prefetch_related("fields")  # read by the check below and again by the action
        .filter(active=True, slug=payload.service)
    )
    if service is None:
        raise Invalid(
            f"There is no published service {payload.service!r}; GET /api/services lists them.",
            errors={"service": ["Unknown service."]},
        )
    given, field_files = intake_files(service, payload.intake)
    intake = _intake_values(service, given)
    try:
        actions.validate_intake(service, intake, strict=True, files=field_files)
    except Invalid as refusal:
        raise Invalid(
            refusal.message, errors={f"intake.{k}": v for k, v in refusal.errors.items()}
        ) from refusal
    submission = actions.submit_request(
        person,
        service,
        intake,
        channel=payload.channel,
        title=payload.title,
        case_id=_attached_case(person, payload.case),
        idempotency_key=idempotency_key,
        strict=True,
        field_files=field_files,
    )
    if not submission.created:
        return HttpStatus(200, _request_out(request, person, submission.request.pk))
    # The new request is the caller's own, built with everything its answer shows: no re-read.
    return HttpStatus(201, RequestOut.for_person(person, submission.request))


# --- the moves ---------------------------------------------------------------------------------


@router.post(
    "/requests/{request:request_id}/assign",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Assign a request",
)
def assign_request(request: HttpRequest, request_id: RequestPath, payload: AssignIn) -> RequestOut:
    """Give it to a member of the providing unit (leads), or pick it yourself (`"me"`)."""
    person = actor(request)
    assignee_id = person.pk if payload.assignee == "me" else int(payload.assignee)
    actions.assign_request(person, request_id, assignee_id, reason=payload.reason)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/unassign",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Return a request to the queue",
)
def unassign_request(request: HttpRequest, request_id: RequestPath) -> RequestOut:
    """The assignee or a lead puts it back in the unit's queue (status `new`)."""
    person = actor(request)
    actions.unassign_request(person, request_id)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/start",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Start work on a request",
)
def start_request(request: HttpRequest, request_id: RequestPath, payload: StartIn | None = None) -> RequestOut:
    """Status `in_progress`; an unassigned request becomes yours (taking it ahead of earlier ones
    you could take needs a `reason` where the unit requires one)."""
    person = actor(request)
    actions.start_request(person, request_id, reason=payload.reason if payload else "")
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/ask",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Ask the requester for information",
)
def ask_requester(request: HttpRequest, request_id: RequestPath, payload: AskIn) -> RequestOut:
    """Status `waiting_requester` (the agreement clock pauses); the requester is told."""
    person = actor(request)
    actions.ask_requester(person, request_id, payload.question)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/answer",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Answer the back office's question",
)
def provide_information(request: HttpRequest, request_id: RequestPath, payload: AnswerIn) -> RequestOut:
    """The requester answers; status back to `in_progress` and the assignee is told."""
    person = actor(request)
    actions.provide_information(person, request_id, payload.answer)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/wait",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Wait on a third party",
)
def wait_third_party(request: HttpRequest, request_id: RequestPath, payload: WaitIn) -> RequestOut:
    """Status `waiting_third_party`, saying on whom."""
    person = actor(request)
    actions.wait_third_party(person, request_id, payload.party, payload.note)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/wait-team",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Wait on another back-office team",
)
def wait_on_team(request: HttpRequest, request_id: RequestPath, payload: TeamWaitIn) -> RequestOut:
    """Status `waiting_team`: another back-office team must do its part first. The agreement
    clock keeps running; the evidence counts the wait against that team."""
    person = actor(request)
    team = units_visible_to(person.user).filter(slug=payload.unit).first()
    if team is None:
        raise Invalid(f"There is no unit {payload.unit!r}; GET /api/units lists them.",
                      errors={"unit": ["Unknown unit."]})
    actions.wait_on_team(person, request_id, team.pk, payload.note)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/resume",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Resume a waiting request",
)
def resume_request(request: HttpRequest, request_id: RequestPath) -> RequestOut:
    """From either waiting status back to `in_progress`."""
    person = actor(request)
    actions.resume_request(person, request_id)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/resolve",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Resolve a request",
)
def resolve_request(request: HttpRequest, request_id: RequestPath, payload: ResolveIn) -> RequestOut:
    """Status `resolved` with a resolution note; the requester is asked to accept or reopen.
    Resolving twice answers 409."""
    person = actor(request)
    actions.resolve_request(person, request_id, payload.resolution)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/accept",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Accept a resolution",
)
def accept_resolution(request: HttpRequest, request_id: RequestPath) -> RequestOut:
    """The requester accepts; status `closed`."""
    person = actor(request)
    actions.accept_resolution(person, request_id)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/reopen",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Reopen a resolved request",
)
def reopen_request(request: HttpRequest, request_id: RequestPath, payload: ReasonIn) -> RequestOut:
    """The requester reopens within the reopen window, saying why."""
    person = actor(request)
    actions.reopen_request(person, request_id, payload.reason)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/cancel",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Cancel a request",
)
def cancel_request(request: HttpRequest, request_id: RequestPath, payload: ReasonIn) -> RequestOut:
    """The requester, or a lead of the providing unit, cancels an unfinished request."""
    person = actor(request)
    actions.cancel_request(person, request_id, payload.reason)
    return _request_out(request, person, request_id)


# --- comments ----------------------------------------------------------------------------------


@router.post(
    "/requests/{request:request_id}/comments",
    response={201: CommentOut, **MOVE_ERRORS},
    tags=["comments"],
    summary="Comment on a request",
)
def add_comment(request: HttpRequest, request_id: RequestPath, payload: CommentIn) -> HttpStatus:
    """A comment both sides see; an internal note (`internal`) or advice (`advice`) from the
    providing unit. `addressed_to` tells that person it is their move."""
    comment = actions.add_comment(
        actor(request),
        request_id,
        payload.body,
        internal=payload.internal,
        advice=payload.advice,
        addressed_to_id=payload.addressed_to,
    )
    return HttpStatus(201, CommentOut.of(comment))


@router.post(
    "/comments/{comment_id}/acknowledge",
    response={200: CommentOut, **MOVE_ERRORS},
    tags=["comments"],
    summary="Acknowledge advice",
)
def acknowledge_advice(request: HttpRequest, comment_id: PathId) -> CommentOut:
    """The person the advice was given to confirms they have read it (409 the second time)."""
    return CommentOut.of(actions.acknowledge_advice(actor(request), comment_id))


# --- the procedure checklist ---------------------------------------------------------------------


class StepMarkIn(InSchema):
    done: bool = Field(..., description="True to mark the step done, false to unmark it.")


class StepOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    position: int
    text: str
    done: bool
    done_by: PersonRef | None = Field(..., description="Who marked it done (null while not done).")
    done_at: UtcTime | None


def _steps_out(request: HttpRequest, person: Person, request_id: int) -> list[StepOut]:
    steps = procedure_for(person, _visible_request(request, request_id))
    if steps is None:
        raise Forbidden(
            "The procedure checklist of a confidential request is for the requester and the providing unit."
        )
    return [
        StepOut(id=shared_id(step.pk), position=step.position, text=step.text, done=mark is not None,
                done_by=PersonRef.maybe(mark.actor) if mark else None, done_at=mark.at if mark else None)
        for step, mark in steps
    ]


@router.get(
    "/requests/{request:request_id}/steps",
    response={200: list[StepOut], **errors(403, 404, 422)},
    tags=["requests"],
    summary="Get a request's procedure checklist",
)
def list_request_steps(request: HttpRequest, request_id: RequestPath) -> list[StepOut]:
    """The steps of the service's documented procedure, in order, each with whether it is done on
    this request, by whom and when. Empty when the service documents no procedure."""
    return _steps_out(request, actor(request), request_id)


@router.post(
    "/requests/{request:request_id}/steps/{step_id}",
    response={200: list[StepOut], **MOVE_ERRORS},
    tags=["moves"],
    summary="Mark a procedure step done or not done",
)
def mark_step(request: HttpRequest, request_id: RequestPath, step_id: PathId, payload: StepMarkIn) -> list[StepOut]:
    """The providing unit ticks (`done: true`) or unticks (`done: false`) a step of the request's
    checklist; the status does not change. 404 for a step of another service; 409 when the step
    is already in that state or the request is closed or cancelled. Answers the checklist."""
    person = actor(request)
    actions.mark_step(person, request_id, step_id, payload.done)
    return _steps_out(request, person, request_id)
