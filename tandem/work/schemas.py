"""The shapes of the work API: one schema per purpose, ``...In`` for bodies and ``...Out``
for answers (see ``tandem.work.api`` for the endpoints)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field
from ninja.params import HeaderEx, P, PathEx
from pydantic import StringConstraints, field_validator

from tandem.org.api_shared import (
    HIDDEN_ID,
    MAX_ID,
    Id,
    InSchema,
    LongText,
    OptionalLongText,
    OptionalText200,
    PageQuery,
    PersonRef,
    Schema,
    ServiceRef,
    Slug,
    Text80,
    Text200,
    UnitRef,
    UtcTime,
    shared_id,
    shared_ids_hidden,
)
from tandem.org.models import Person
from tandem.work import clock
from tandem.work.addresses import REFERENCE_PATTERN
from tandem.work.models import Case, Channel, Comment, Event, ServiceRequest, Status, TimeEntry
from tandem.work.queries import can_see_payload

# --- addresses ---------------------------------------------------------------------------------


#: ``{request_id}`` in an API address: read by the path converter ``request``
#: (tandem.work.addresses), the same as the pages', into the request's id.
RequestPath = PathEx[int, P(
    ge=1, le=MAX_ID,
    description="The request's reference (`NORTHERN-000042`; case and leading zeros as you like) or its id. "
    "A client organisation's people give the reference: an id answers them 404.",
)]


#: A case's reference in a body (``C-NORTHERN-000007``, as typed).
CaseReference = Annotated[str, StringConstraints(pattern=REFERENCE_PATTERN)]

#: ``{case_id}``: read by the path converter ``case`` into the case's id, as ``RequestPath``.
CasePath = PathEx[int, P(
    ge=1, le=MAX_ID,
    description="The case's reference (`C-NORTHERN-000007`, `C-000123`; case and leading zeros as you like) or "
    "its id. A client organisation's people give the reference: an id answers them 404.",
)]


# --- schemas: cases ----------------------------------------------------------------------------


class CaseIn(InSchema):
    customer_reference: Text80 = Field(
        ..., description="The customer's own reference for the matter."
    )
    title: Text200


class CaseOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    reference: str | None = Field(..., description="`C-NORTHERN-000007`: numbered within its unit's organisation "
                                  "(`C-000123` the provider's); null only while a case the release before opened "
                                  "awaits its number.")
    customer_reference: str
    title: str
    owner: PersonRef
    unit: UnitRef
    status: Case.CaseStatus
    created_at: UtcTime
    closed_at: UtcTime | None

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(
            id=shared_id(case.pk),
            reference=case.reference,
            customer_reference=case.customer_reference,
            title=case.title,
            owner=PersonRef.of(case.owner),
            unit=UnitRef.of(case.unit),
            status=Case.CaseStatus(case.status),
            created_at=case.created_at,
            closed_at=case.closed_at,
        )


class CasePage(Schema):
    items: list[CaseOut]
    next_after: int | None


class CaseQuery(PageQuery):
    mine: bool | None = Field(None, description="true: only cases you own.")
    open: bool | None = Field(None, description="true: open cases only; false: closed only.")


# --- schemas: service requests -----------------------------------------------------------------


class RequestSummaryOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    reference: str = Field(..., description="`NORTHERN-000042`: numbered within the requesting organisation; "
                           "the key a client's people address it by (`/api/requests/{reference}`).")
    title: str
    status: Status
    status_label: str
    channel: Channel
    service: ServiceRef = Field(..., description="The service asked.")
    unit: UnitRef = Field(..., description="The providing back-office unit.")
    requesting_unit: UnitRef
    requester: PersonRef
    assignee: PersonRef | None
    case_id: int | None = Field(..., description="Its case's id; null without a case. " + HIDDEN_ID)
    holder: str = Field(..., description="Whose move it is, in words.")
    waiting_on: str = Field(..., description="What or whom it waits for, when waiting.")
    waiting_on_unit: str | None = Field(None, description="While waiting on another team: that team's slug.")
    approver: PersonRef | None = Field(
        None, description="Who approves it before work starts (its service requires approval); kept after the decision."
    )
    confidential: bool
    is_open: bool
    submitted_at: UtcTime
    status_changed_at: UtcTime = Field(..., description="Since when it has had its status.")
    due_at: UtcTime = Field(
        ..., description="The published turnaround from submission: the service's working days on its "
        "calendar, public holidays and closures not counted (the default terms' clock runs to it)."
    )
    resolved_at: UtcTime | None
    closed_at: UtcTime | None

    @staticmethod
    def _fields(sr: ServiceRequest) -> dict[str, Any]:
        return {
            "id": shared_id(sr.pk),
            "reference": sr.reference,
            "title": sr.title,
            "status": Status(sr.status),
            "status_label": Status(sr.status).label,
            "channel": Channel(sr.channel),
            "service": ServiceRef(id=sr.service.pk, slug=sr.service.slug, name=sr.service.name),
            "unit": UnitRef.of(sr.unit),
            "requesting_unit": UnitRef.of(sr.requesting_unit),
            "requester": PersonRef.of(sr.requester),
            "assignee": PersonRef.maybe(sr.assignee),
            "case_id": shared_id(sr.case_id),
            "holder": sr.holder,
            "waiting_on": sr.waiting_on,
            "waiting_on_unit": sr.waiting_on_unit.slug if sr.waiting_on_unit else None,
            "approver": PersonRef.maybe(sr.approver),
            "confidential": sr.confidential,
            "is_open": sr.is_open,
            "submitted_at": sr.submitted_at,
            "status_changed_at": sr.status_changed_at,
            "due_at": sr.due_at,
            "resolved_at": sr.resolved_at,
            "closed_at": sr.closed_at,
        }

    @classmethod
    def of(cls, sr: ServiceRequest) -> RequestSummaryOut:
        return cls(**cls._fields(sr))


class AgreementRef(Schema):
    id: int | None = Field(..., description="Null for the default terms (the published turnaround).")
    name: str


class SlaOut(Schema):
    """The agreement clock, in working seconds of the providing unit's calendar."""

    agreement: AgreementRef
    respond_by: UtcTime | None
    resolve_by: UtcTime | None = Field(..., description="Null while the clock is paused.")
    first_response_at: UtcTime | None
    elapsed_seconds: int = Field(..., description="Working time used, pauses excluded.")
    paused_seconds: int = Field(..., description="Working time paused, the current pause included.")
    remaining_seconds: int = Field(..., description="Negative once the target is missed.")
    running: bool = Field(..., description="False while paused, resolved or finished.")
    breached: bool
    summary: str = Field(..., description="The clock in words.")

    @classmethod
    def maybe(cls, person: Person, sr: ServiceRequest) -> SlaOut | None:
        read = clock.read(sr, timezone.now())
        if read is None:
            return None
        return cls(
            agreement=AgreementRef(id=sr.agreement_id, name=clock.terms(sr).name),
            respond_by=sr.respond_by,
            resolve_by=sr.resolve_by,
            first_response_at=sr.first_response_at,
            elapsed_seconds=read.elapsed,
            paused_seconds=read.paused,
            remaining_seconds=read.remaining,
            running=read.running,
            breached=read.breached or sr.breached_at is not None,
            summary=clock.summary(sr, person, timezone.now()),
        )


class RunOut(Schema):
    """The run a service's cut-offs placed the request in (docs/agreements.md, "Cut-offs and runs")."""

    on: date = Field(..., description="The date of the run.")
    name: str = Field(..., description="What the run is, e.g. payroll.")
    cutoff_at: UtcTime = Field(..., description="When that run's intake closes.")
    late: bool = Field(..., description="It asked for an earlier run whose intake had closed.")
    missed: str = Field(..., description="The run it asked for and missed, in words; empty when in time.")
    summary: str = Field(..., description="In words, as the request page says it.")

    @classmethod
    def maybe(cls, sr: ServiceRequest) -> RunOut | None:
        if sr.run_on is None or sr.run_cutoff_at is None:
            return None
        late = bool(sr.late_for_cutoff)
        return cls(
            on=sr.run_on, name=sr.run_name, cutoff_at=sr.run_cutoff_at, late=late, missed=sr.late_for_cutoff,
            summary=f"Missed {sr.late_for_cutoff}; in {sr.run_words}" if late else f"In time for {sr.run_words}",
        )


class RequestOut(RequestSummaryOut):
    payload_visible: bool = Field(
        ...,
        description="False when the request is confidential and you are not the requester, "
        "the providing unit or an admin: then intake and resolution are null.",
    )
    intake: dict[str, Any] | None = Field(..., description="The intake form's values by field key.")
    resolution: str | None = Field(..., description="Null until resolved, or not yours to see.")
    sla: SlaOut | None = Field(
        None, description="The agreement clock; null for requests submitted before agreements."
    )
    run: RunOut | None = Field(None, description="The run its service's cut-offs placed it in; null without cut-offs.")

    @classmethod
    def for_person(cls, person: Person, sr: ServiceRequest) -> RequestOut:
        visible = can_see_payload(person, sr)
        return cls(
            **cls._fields(sr),
            payload_visible=visible,
            intake=sr.intake if visible else None,
            resolution=(sr.resolution or None) if visible else None,
            sla=SlaOut.maybe(person, sr),
            run=RunOut.maybe(sr),
        )


class RequestPage(Schema):
    items: list[RequestSummaryOut]
    next_after: int | None


class RequestQuery(PageQuery):
    mine: bool | None = Field(None, description="true: only requests you made.")
    unit: Slug | None = Field(None, description="The providing unit's slug (a team queue).")
    requesting_unit: Slug | None = Field(None, description="The requesting unit's slug.")
    channel: Channel | None = None
    status: Status | None = None
    service: Slug | None = Field(None, description="The service's slug.")
    assignee: str | None = Field(
        None,
        pattern=r"^(me|none|[0-9]{1,19})$",
        description="A person id, `me`, or `none` (unassigned).",
    )
    open: bool | None = Field(
        None, description="true: open (including resolved, not yet accepted); false: finished."
    )
    case: str | None = Field(
        None, pattern=r"^([0-9]{1,19}|[A-Za-z][A-Za-z0-9-]{0,59}-[0-9]{1,9})$",
        description="Only the requests of this case: its reference (`C-NORTHERN-000007`) or, for the provider's "
        "people, its id.",
    )

    @field_validator("assignee", "case")
    @classmethod
    def _id_fits(cls, value: str | None) -> str | None:
        if value is not None and value.isdigit() and not 1 <= int(value) <= MAX_ID:
            raise ValueError("An id is a positive 64-bit number.")
        return value


class SubmitIn(InSchema):
    service: Slug = Field(..., description="The service's slug, from GET /api/services.")
    intake: dict[str, Any] = Field(
        default_factory=dict,
        description="The intake form's values by field key: text, numbers, dates as YYYY-MM-DD, "
        "choices by value, a file field's file as {\"name\": ..., \"content_base64\": ...}. Unknown keys are refused.",
    )
    channel: Channel = Channel.INTERNAL
    title: OptionalText200 = Field(
        "", description="Defaults to the service's name (and the case's reference)."
    )
    case: Id | CaseReference | None = Field(
        None, description="An open case to attach it to: its reference (`C-NORTHERN-000007`) or, for the "
        "provider's people, its id.")


IdempotencyKey = HeaderEx[
    str | None,
    P(
        alias="Idempotency-Key",
        min_length=1,
        max_length=80,
        description="Any unique string (e.g. a UUID): the same key again returns the first result.",
    ),
]


# --- schemas: timeline and comments ------------------------------------------------------------


#: Keys of an event's details that hold ids of a shared sequence (a comment's, a case's, a step's,
#: a plan's, the requests a queue jump passed): left out of a client's answers.
SHARED_ID_KEYS = frozenset({"comment", "case", "step", "plan", "first", "ahead"})


def _details(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None or not shared_ids_hidden():
        return data
    return {key: value for key, value in data.items() if key not in SHARED_ID_KEYS}


class EventOut(Schema):
    seq: int = Field(..., description="1, 2, 3… within the request.")
    # Plain strings with an inline enum: three models call their enumeration `Kind`, and
    # OpenAPI components are named by class, so they would overwrite each other.
    kind: str = Field(..., json_schema_extra={"enum": list(Event.Kind.values)})
    kind_label: str
    actor: PersonRef | None = Field(
        ..., description="Null when the system did it (e.g. auto-close)."
    )
    at: UtcTime
    from_status: Status | None
    to_status: Status | None
    internal: bool
    data: dict[str, Any] | None = Field(
        ..., description="Details; null when the payload is not yours to see. A client's people read "
        "no ids of comments, cases, steps or other requests here."
    )

    @classmethod
    def of(cls, event: Event, *, payload_visible: bool) -> EventOut:
        return cls(
            seq=event.seq,
            kind=event.kind,
            kind_label=Event.Kind(event.kind).label,
            actor=PersonRef.maybe(event.actor),
            at=event.at,
            from_status=Status(event.from_status) if event.from_status else None,
            to_status=Status(event.to_status) if event.to_status else None,
            internal=event.internal,
            data=_details(event.data) if payload_visible else None,
        )


class EventPage(Schema):
    items: list[EventOut]
    next_after: int | None = Field(
        ..., description="A `seq`: pass it as `after` for the next page."
    )


class CommentIn(InSchema):
    body: LongText
    internal: bool = Field(False, description="An internal note: the providing unit only.")
    advice: bool = Field(False, description="Advice for the requester, to be acknowledged.")
    addressed_to: Id | None = Field(
        None, description="A person id: they are told it is their move."
    )


class CommentOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    request_id: int | None = Field(..., description=HIDDEN_ID)
    author: PersonRef
    body: str
    internal: bool
    advice: bool
    addressed_to: PersonRef | None
    acknowledged_at: UtcTime | None
    acknowledged_by: PersonRef | None
    advice_outcome: str = Field("", description="Advice: accepted or declined by the requester (blank: not yet).")
    advice_reason: str = Field("", description="Why the advice was declined.")
    created_at: UtcTime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(
            id=shared_id(comment.pk),
            request_id=shared_id(comment.request_id),
            author=PersonRef.of(comment.author),
            body=comment.body,
            internal=comment.internal,
            advice=comment.is_advice,
            addressed_to=PersonRef.maybe(comment.addressed_to),
            acknowledged_at=comment.acknowledged_at,
            acknowledged_by=PersonRef.maybe(comment.acknowledged_by),
            advice_outcome=comment.advice_outcome,
            advice_reason=comment.advice_reason,
            created_at=comment.created_at,
        )


class TimeEntryIn(InSchema):
    duration: str | float = Field(
        ..., description='Time spent: minutes (35) or text ("35 min", "1 h 20 min", "1:20"); 1 minute to 12 hours.',
        examples=["35 min"],
    )
    worked_on: date | None = Field(None, description="The day of the work (default today); within the last 31 days.")
    note: str = Field("", max_length=200, description="What the time went on (optional).")


class TimeEntryOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    request_id: int | None = Field(..., description=HIDDEN_ID)
    person: PersonRef
    minutes: float
    worked_on: date
    note: str
    created_at: UtcTime

    @classmethod
    def of(cls, entry: TimeEntry) -> TimeEntryOut:
        return cls(id=shared_id(entry.pk), request_id=shared_id(entry.request_id), person=PersonRef.of(entry.person),
                   minutes=round(entry.seconds / 60, 1), worked_on=entry.worked_on, note=entry.note,
                   created_at=entry.created_at)


class TimeEntryList(Schema):
    items: list[TimeEntryOut]
    total_minutes: float


class CommentPage(Schema):
    items: list[CommentOut]
    next_after: int | None


# --- schemas: moves ----------------------------------------------------------------------------


JUMP_REASON = (
    "Why it goes ahead of the queue (up to 300 characters): needed when earlier requests the person could "
    "take wait in the unit's queue and the unit requires a reason (422 naming `reason` otherwise); recorded "
    "as a `queue_jump` event."
)


class AssignIn(InSchema):
    assignee: Id | Literal["me"] = Field(
        ..., description="A person id of the providing unit, or `me`."
    )
    reason: str = Field("", max_length=2000, description=JUMP_REASON)


class StartIn(InSchema):
    reason: str = Field("", max_length=2000, description=JUMP_REASON)


class AskIn(InSchema):
    question: LongText


class AnswerIn(InSchema):
    answer: LongText


class WaitIn(InSchema):
    party: Text200 = Field(..., description="Who it waits on, e.g. 'Acme Ltd accounts'.")
    note: OptionalLongText = ""


class TeamWaitIn(InSchema):
    unit: Slug = Field(..., description="The slug of the other back-office team it waits on (GET /api/units).")
    note: OptionalLongText = ""


class ResolveIn(InSchema):
    resolution: LongText


class ReasonIn(InSchema):
    reason: LongText


class ApproveIn(InSchema):
    note: OptionalLongText = Field("", description="Optional: a word for the requester and the team.")


class DeclineIn(InSchema):
    reason: OptionalLongText = Field(
        "", description="Why it is declined; required (an empty reason answers 422). The requester reads it."
    )
