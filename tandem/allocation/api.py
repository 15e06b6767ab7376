"""API: a back-office unit's capacity, and its allocation plans (propose, read, accept).

Every change goes through the same actions as the pages (``tandem.allocation.actions``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router
from ninja.params import P, PathEx
from ninja.responses import Status

from tandem.allocation import actions
from tandem.allocation.forecast import Outcome, loan_suggestions
from tandem.allocation.jumps import queue_jumps, week_start
from tandem.allocation.models import Plan, PlanLine
from tandem.allocation.modes import MODE_HELP, worked_unit
from tandem.allocation.productivity import reads_unit_productivity, unit_productivity
from tandem.allocation.queries import (
    DEFAULT_DAYS,
    MAX_DAYS,
    Candidate,
    PersonCapacity,
    loan_candidates,
    loans_visible_to,
    plan_lines,
    planned_unit,
    plans_visible_to,
    unit_capacity,
)
from tandem.org.api_shared import (
    Id,
    InSchema,
    OptionalText200,
    PageQuery,
    PathId,
    PersonRef,
    Schema,
    ServiceRef,
    UnitRef,
    UtcTime,
    actor,
    auth_user,
    errors,
    keyset_page,
)
from tandem.org.models import AllocationMode, Loan, Side, Unit
from tandem.org.queries import units_visible_to
from tandem.refusal import Forbidden, NotFound
from tandem.rows import one_or_none
from tandem.work.api import REQUEST_WITH_CLOCK
from tandem.work.queries import requests_visible_to
from tandem.work.schemas import RequestOut

router = Router(tags=["allocation"])

UnitSlug = PathEx[str, P(pattern=r"^[-a-zA-Z0-9_]{1,80}$", description="The unit's slug.")]


# --- capacity ----------------------------------------------------------------------------------


class CapacityQuery(Schema):
    days: int = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="Working days ahead (1 to 30).")


class PersonCapacityOut(Schema):
    person: PersonRef
    skills: dict[str, int] = Field(..., description="Skill name → level (1 learning … 4 expert).")
    capacity_hours: float = Field(..., description="Working hours in the window (pattern, calendar, absences).")
    committed_hours: float = Field(..., description="Effort of the assigned and in-progress requests they hold.")
    committed_requests: int
    free_hours: float = Field(..., description="Capacity less committed, never below 0.")

    @classmethod
    def of(cls, row: PersonCapacity) -> PersonCapacityOut:
        return cls(
            person=PersonRef.of(row.person),
            skills=row.skills,
            capacity_hours=round(row.capacity_hours, 2),
            committed_hours=round(row.committed_hours, 2),
            committed_requests=row.committed_count,
            free_hours=round(row.free_hours, 2),
        )


class ServiceEffortOut(Schema):
    service: ServiceRef
    effort_hours: float = Field(..., description="Median working hours from start to resolution.")
    estimated: bool = Field(..., description="True: no history yet, the published one-hour fallback.")


class CapacityOut(Schema):
    unit: UnitRef
    start: UtcTime
    until: UtcTime = Field(..., description="The end of the last working day of the window.")
    days: int
    people: list[PersonCapacityOut]
    efforts: list[ServiceEffortOut]


@router.get(
    "/units/{unit_slug}/capacity",
    response={200: CapacityOut, **errors(403, 404, 422)},
    summary="Get a unit's capacity",
)
def get_capacity(request: HttpRequest, unit_slug: UnitSlug, query: Query[CapacityQuery]) -> CapacityOut:
    """Each person's working hours over the next working days of a back-office unit, the effort
    of the requests they hold, and what is free; with the effort per service (learned from
    history, or estimated). For the unit's leads and administrators."""
    actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    cap = unit_capacity(unit, timezone.now(), query.days)
    return CapacityOut(
        unit=UnitRef.of(unit),
        start=cap.now,
        until=cap.until,
        days=cap.days,
        people=[PersonCapacityOut.of(row) for row in cap.people],
        efforts=[
            ServiceEffortOut(
                service=ServiceRef(id=s.pk, slug=s.slug, name=s.name),
                effort_hours=round(cap.efforts[s.pk].hours, 2),
                estimated=not cap.efforts[s.pk].learned,
            )
            for s in cap.services
        ],
    )


# --- productivity -------------------------------------------------------------------------------


class ProductivityWeekOut(Schema):
    week: date = Field(..., description="The Monday of the week (server's time zone).")
    complete: bool = Field(..., description="False for the current week: its figures are so far.")
    arrivals: int
    resolved: int = Field(..., description="Requests resolved in the week (and not reopened since).")
    hands_on_hours: float = Field(..., description="Hands-on hours of the unit's people in the week (docs/figures.md).")
    hands_on_hours_per_request: float | None = Field(..., description="Mean effort of the requests resolved.")
    rework_rate: float | None = Field(..., description="Share of resolutions that followed a reopen.")
    capacity_hours: float = Field(..., description="Hours the unit's people give to requests (calendars x share).")
    utilisation: float | None = Field(..., description="hands_on_hours / capacity_hours, a share in 0–1.")
    absence_days: int


class ProductivityServiceOut(Schema):
    service: str
    resolved: int
    hands_on_hours_per_request: float = Field(..., description="The mean: adds up to the hours worked.")
    median_hands_on_hours: float = Field(..., description="The typical request: what capacity and plans count.")


class ProductivityOut(Schema):
    unit: UnitRef
    weeks: list[ProductivityWeekOut]
    services: list[ProductivityServiceOut]


@router.get(
    "/units/{unit_slug}/productivity",
    response={200: ProductivityOut, **errors(403, 404, 422)},
    summary="Get a unit's productivity, week by week",
)
def get_productivity(request: HttpRequest, unit_slug: UnitSlug) -> ProductivityOut:
    """The figures of the productivity page: per week, what came in and went out, hands-on hours
    and per request, rework, capacity and utilisation; per service, hands-on hours per request.
    For the unit's people, its lead, executives and administrators."""
    person = actor(request)
    unit = one_or_none(units_visible_to(auth_user(request)).filter(slug=unit_slug, side=Side.BACK))
    if unit is None:
        raise NotFound(f"There is no back-office unit {unit_slug!r}.")
    if not reads_unit_productivity(person, unit):
        raise Forbidden(f"{unit.name}'s productivity is for its people, its lead, executives and administrators.")
    data = unit_productivity(unit)
    return ProductivityOut(
        unit=UnitRef.of(unit),
        weeks=[ProductivityWeekOut(**w) for w in data["weeks"]],
        services=[ProductivityServiceOut(**row) for row in data["services"]],
    )


# --- plans -------------------------------------------------------------------------------------


class PlanLineOut(Schema):
    id: int
    request: int = Field(..., description="The service request's id.")
    reference: str
    service: ServiceRef
    due: UtcTime | None
    effort_hours: float
    holder: PersonRef | None = Field(..., description="Who held it when the plan was made.")
    proposed: PersonRef | None = Field(..., description="Null: nobody could take it (see reason).")
    reason: str
    accepted_at: UtcTime | None
    outcome: str = Field(..., description="'' not accepted yet; applied, kept, changed (since the plan), refused.")
    outcome_note: str

    @classmethod
    def of(cls, line: PlanLine) -> PlanLineOut:
        service = line.request.service
        return cls(
            id=line.pk,
            request=line.request_id,
            reference=line.request.reference,
            service=ServiceRef(id=service.pk, slug=service.slug, name=service.name),
            due=line.due,
            effort_hours=round(line.effort_hours, 2),
            holder=PersonRef.maybe(line.was_assignee),
            proposed=PersonRef.maybe(line.person),
            reason=line.reason,
            accepted_at=line.accepted_at,
            outcome=line.outcome,
            outcome_note=line.outcome_note,
        )


class PlanOut(Schema):
    id: int
    unit: UnitRef
    status: str = Field(..., description="proposed, accepted or superseded.")
    created_at: UtcTime
    created_by: PersonRef | None = Field(..., description="Null: proposed by Tandem (an absence started).")
    reason: str
    accepted_at: UtcTime | None
    accepted_by: PersonRef | None
    objective: float
    bound: float
    gap: float = Field(..., description="(bound - objective) / |bound|: how far from the best plan at most.")
    seconds: float
    lines: list[PlanLineOut]

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        return cls(
            id=plan.pk,
            unit=UnitRef.of(plan.unit),
            status=plan.status,
            created_at=plan.created_at,
            created_by=PersonRef.maybe(plan.created_by),
            reason=plan.reason,
            accepted_at=plan.accepted_at,
            accepted_by=PersonRef.maybe(plan.accepted_by),
            objective=plan.objective,
            bound=plan.bound,
            gap=plan.gap,
            seconds=plan.seconds,
            lines=[PlanLineOut.of(line) for line in plan_lines(plan)],
        )


class AcceptIn(InSchema):
    lines: list[Id] | None = Field(None, max_length=10_000, description="Line ids; left out: every line.")


def _plan_out(plan_id: int, request: HttpRequest) -> PlanOut:
    plan = plans_visible_to(auth_user(request)).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(f"There is no plan {plan_id} that you can see.")
    return PlanOut.of(plan)


@router.post(
    "/units/{unit_slug}/plans",
    response={201: PlanOut, **errors(403, 404, 422)},
    summary="Propose a plan",
)
def propose_plan(request: HttpRequest, unit_slug: UnitSlug) -> Status:
    """Ask the allocation engine who should hold each open, not-started request of the unit
    (docs/allocation.md). The new plan supersedes the unit's older proposals. Leads only."""
    me = actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    plan = actions.propose_plan(me, unit)
    return Status(201, _plan_out(plan.pk, request))


@router.get(
    "/units/{unit_slug}/plans/latest",
    response={200: PlanOut, **errors(403, 404, 422)},
    summary="Get a unit's latest plan",
)
def get_latest_plan(request: HttpRequest, unit_slug: UnitSlug) -> PlanOut:
    """The unit's newest plan, whatever its status; 404 when none was proposed yet."""
    actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    plan = plans_visible_to(auth_user(request)).filter(unit=unit).order_by("-id").first()
    if plan is None:
        raise NotFound(f"No plan was proposed for {unit.name} yet; POST /api/units/{unit.slug}/plans proposes one.")
    return PlanOut.of(plan)


@router.post(
    "/plans/{plan_id}/accept",
    response={200: PlanOut, **errors(400, 403, 404, 409, 422)},
    summary="Accept a plan",
)
def accept_plan(request: HttpRequest, plan_id: PathId, payload: AcceptIn | None = None) -> PlanOut:
    """Apply every line (or the given `lines`) as the lead's assignments. 409 when a newer plan
    was proposed or this one was accepted already. Lines whose request moved since the plan come
    back with outcome `changed` and are not applied."""
    me = actor(request)
    actions.accept_plan(me, plan_id, lines=list(payload.lines) if payload and payload.lines is not None else None)
    return _plan_out(plan_id, request)


# --- modes -------------------------------------------------------------------------------------


class ModeIn(InSchema):
    mode: str = Field(..., max_length=40, description="suggest, auto or pull (docs/allocation.md, Modes).")


class ModeOut(Schema):
    unit: UnitRef
    mode: str = Field(..., description="suggest, auto or pull.")
    label: str
    explanation: str

    @classmethod
    def of(cls, unit: Unit) -> ModeOut:
        mode = AllocationMode(unit.allocation_mode)
        return cls(unit=UnitRef.of(unit), mode=mode.value, label=mode.label, explanation=MODE_HELP[mode])


@router.post(
    "/units/{unit_slug}/allocation-mode",
    response={200: ModeOut, **errors(400, 403, 404, 422)},
    summary="Set a unit's allocation mode",
)
def set_allocation_mode(request: HttpRequest, unit_slug: UnitSlug, payload: ModeIn) -> ModeOut:
    """How the unit's open work finds its holder: `suggest` (a lead accepts Tandem's plans),
    `auto` (Tandem places new and orphaned work itself) or `pull` (people take the next request).
    422 for any other value (the answer lists them). Leads of the unit and administrators."""
    me = actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    return ModeOut.of(actions.set_allocation_mode(me, unit, payload.mode))


class JumpsQuery(Schema):
    since: datetime | None = Field(None, description="From this instant (ISO 8601; default: Monday 00:00 of this "
                                   "week in the unit's time zone).")


class JumpOut(Schema):
    request: int
    reference: str
    title: str
    at: UtcTime
    by: PersonRef | None = Field(..., description="Who took or gave it.")
    assignee: PersonRef | None = Field(..., description="Who it went to.")
    reason: str = Field(..., description="Empty when the unit does not require one and none was given.")
    jumped: int = Field(..., description="How many earlier requests the person could take it went ahead of.")
    first: str = Field(..., description="The reference of the first of them.")


class JumpsOut(Schema):
    unit: UnitRef
    order: str = Field(..., description="The unit's queue order in words (`by what is due`, `customers first by 8 h`).")
    reason_required: bool
    since: UtcTime
    count: int
    jumps: list[JumpOut]


@router.get("/units/{unit_slug}/queue-jumps", response={200: JumpsOut, **errors(403, 404, 422)},
            summary="List a unit's queue jumps")
def list_queue_jumps(request: HttpRequest, unit_slug: UnitSlug, query: Query[JumpsQuery]) -> JumpsOut:
    """Requests taken or given while earlier ones the person could take waited in the unit's queue,
    newest first, from `since` (default: this week). Leads of the unit and administrators."""
    unit = planned_unit(auth_user(request), unit_slug)
    since = query.since or week_start(unit, timezone.now())
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    rows = queue_jumps(unit, since)
    return JumpsOut(
        unit=UnitRef.of(unit), order=unit.queue_order_label, reason_required=unit.queue_jump_reason_required,
        since=since, count=len(rows),
        jumps=[JumpOut(request=j.request.pk, reference=j.request.reference, title=j.request.title, at=j.at,
                       by=PersonRef.maybe(j.by), assignee=PersonRef.maybe(j.assignee), reason=j.reason,
                       jumped=j.jumped, first=j.first) for j in rows],
    )


@router.post(
    "/units/{unit_slug}/take-next",
    response={200: RequestOut, **errors(403, 404, 409, 422)},
    summary="Take the next request",
)
def take_next(request: HttpRequest, unit_slug: UnitSlug) -> RequestOut:
    """Pull mode: assigns you the most urgent unassigned, not-started request of the unit that
    you are qualified for (the order of "Next for you"). Two people at once get different
    requests. 409 when nothing is left that you are qualified for, or the unit is not in pull
    mode; 403 when you do not work the unit's queue."""
    me = actor(request)
    taken = actions.take_next(me, worked_unit(me, unit_slug))
    sr = requests_visible_to(auth_user(request)).select_related(*REQUEST_WITH_CLOCK)
    return RequestOut.for_person(me, sr.get(pk=taken.pk))


# --- loans -------------------------------------------------------------------------------------


class LoanOut(Schema):
    id: int
    person: PersonRef
    home_unit: UnitRef = Field(..., description="The lent person's own (front-office) unit.")
    unit: UnitRef = Field(..., description="The borrowing (back-office) unit.")
    starts_at: UtcTime
    ends_at: UtcTime
    note: str
    state: str = Field(..., description="proposed, agreed (not started yet), active or ended.")
    agreed_by_borrower: PersonRef | None
    agreed_by_lender: PersonRef | None
    ended_at: UtcTime | None

    @classmethod
    def of(cls, loan: Loan) -> LoanOut:
        return cls(
            id=loan.pk,
            person=PersonRef.of(loan.person),
            home_unit=UnitRef.of(loan.person.unit),
            unit=UnitRef.of(loan.unit),
            starts_at=loan.starts_at,
            ends_at=loan.ends_at,
            note=loan.note,
            state=loan.state(timezone.now()),
            agreed_by_borrower=PersonRef.maybe(loan.agreed_by_borrower),
            agreed_by_lender=PersonRef.maybe(loan.agreed_by_lender),
            ended_at=loan.ended_at,
        )


class LoanPage(Schema):
    items: list[LoanOut]
    next_after: int | None


class LoanIn(InSchema):
    person: Id = Field(..., description="The front-office person's id.")
    starts_at: UtcTime
    ends_at: UtcTime = Field(..., description="After starts_at and from now on; at most 92 days later.")
    note: OptionalText200 = ""


class CandidateOut(Schema):
    person: PersonRef
    home_unit: UnitRef
    skills: dict[str, int] = Field(..., description="The needed skills they hold, with their levels.")
    hours: float = Field(..., description="Their working hours over the next five working days.")

    @classmethod
    def of(cls, c: Candidate) -> CandidateOut:
        return cls(
            person=PersonRef.of(c.person), home_unit=UnitRef.of(c.person.unit), skills=dict(c.matches),
            hours=round(c.hours, 2),
        )


def _loan_out(request: HttpRequest, loan_id: int) -> LoanOut:
    loan = loans_visible_to(auth_user(request)).filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(f"There is no loan {loan_id} that you can see.")
    return LoanOut.of(loan)


@router.get("/loans", response={200: LoanPage, **errors(403, 422)}, summary="List loans")
def list_loans(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """Loans you can see, newest first: an administrator every one, a lead those into or out of
    their unit, a lent person their own."""
    actor(request)
    rows, next_after = keyset_page(loans_visible_to(auth_user(request)), query)
    return {"items": [LoanOut.of(loan) for loan in rows], "next_after": next_after}


@router.get(
    "/units/{unit_slug}/loan-candidates",
    response={200: list[CandidateOut], **errors(403, 404, 422)},
    summary="Suggest people to borrow",
)
def list_loan_candidates(request: HttpRequest, unit_slug: UnitSlug) -> list[CandidateOut]:
    """Front-office people holding a skill the unit's services need at the level they need it,
    not lent elsewhere in the next five working days, with their working hours then."""
    actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    return [CandidateOut.of(c) for c in loan_candidates(unit, timezone.now())]


class SuggestionQuery(Schema):
    days: int = Field(
        DEFAULT_DAYS, description="Working days ahead (1 to 20); out of range answers 400 with a message."
    )


class OutcomeOut(Schema):
    breaches: int = Field(..., description="Requests resolved after their due time, or still open and due by then.")
    backlog_requests: int = Field(..., description="Requests still open at the end of the window.")
    backlog_hours: float = Field(..., description="Their effort left, working hours.")

    @classmethod
    def of(cls, o: Outcome) -> OutcomeOut:
        return cls(breaches=o.breaches, backlog_requests=o.backlog_items, backlog_hours=o.backlog_hours)


class SuggestionOut(Schema):
    person: PersonRef
    home_unit: UnitRef
    skills: dict[str, int] = Field(..., description="The needed skills they hold, with their levels.")
    hours: float = Field(..., description="Their working hours in the window.")
    spare_hours: float = Field(..., description="Less the work they already hold: what the loan brings.")
    starts_at: UtcTime
    ends_at: UtcTime
    with_loan: OutcomeOut = Field(..., description="The simulated queue at the end of the window with the loan.")
    breaches_avoided: int


class SuggestionsOut(Schema):
    unit: UnitRef
    start: UtcTime
    until: UtcTime = Field(..., description="The end of the last working day of the window.")
    days: int
    backlog_requests: int = Field(..., description="Open requests someone can work on now.")
    backlog_hours: float = Field(..., description="Their effort, working hours.")
    expected_requests: int = Field(..., description="Arrivals the recent weekly rate per service predicts.")
    expected_hours: float
    capacity_hours: float = Field(..., description="The unit's working hours in the window (loans agreed included).")
    short: bool = Field(..., description="True: backlog and expected arrivals exceed the capacity.")
    without_loan: OutcomeOut
    suggestions: list[SuggestionOut] = Field(..., description="Only when short; fewest breaches first.")


@router.get(
    "/units/{unit_slug}/loan-suggestions",
    response={200: SuggestionsOut, **errors(400, 403, 404, 422)},
    summary="Suggest loans for a unit's forecast backlog",
)
def list_loan_suggestions(request: HttpRequest, unit_slug: UnitSlug, query: Query[SuggestionQuery]) -> SuggestionsOut:
    """The unit's forecast over the next working days (open backlog and expected arrivals
    against its capacity) and, when it is short, front-office people with a needed skill and
    spare time, each with the simulated breaches and backlog at the end of the window with and
    without lending them. For the unit's leads and administrators."""
    actor(request)
    f = loan_suggestions(auth_user(request), unit_slug, timezone.now(), query.days)
    return SuggestionsOut(
        unit=UnitRef.of(f.unit), start=f.now, until=f.until, days=f.days,
        backlog_requests=f.backlog_items, backlog_hours=f.backlog_hours,
        expected_requests=f.expected_items, expected_hours=f.expected_hours,
        capacity_hours=f.capacity_hours, short=f.short, without_loan=OutcomeOut.of(f.without),
        suggestions=[
            SuggestionOut(
                person=PersonRef.of(s.person), home_unit=UnitRef.of(s.person.unit), skills=dict(s.matches),
                hours=s.hours, spare_hours=s.spare_hours, starts_at=s.starts_at, ends_at=s.ends_at,
                with_loan=OutcomeOut.of(s.outcome), breaches_avoided=s.avoided,
            )
            for s in f.suggestions
        ],
    )


@router.post(
    "/units/{unit_slug}/loans",
    response={201: LoanOut, **errors(400, 403, 404, 409, 422)},
    summary="Ask to borrow someone",
)
def propose_loan(request: HttpRequest, unit_slug: UnitSlug, payload: LoanIn) -> Status:
    """A lead of the borrowing unit asks; the person's own lead must agree
    (`POST /api/loans/{id}/agree`). 409 when the person is lent in an overlapping window."""
    me = actor(request)
    unit = planned_unit(auth_user(request), unit_slug)
    loan = actions.propose_loan(
        me, unit, payload.person, starts_at=payload.starts_at, ends_at=payload.ends_at, note=payload.note
    )
    return Status(201, _loan_out(request, loan.pk))


@router.post(
    "/loans/{loan_id}/agree", response={200: LoanOut, **errors(403, 404, 409, 422)}, summary="Agree to a loan"
)
def agree_loan(request: HttpRequest, loan_id: PathId) -> LoanOut:
    """The lent person's own lead agrees; within the window they then work the borrowing unit's
    queue. 409 when it was agreed already or is over."""
    actions.agree_loan(actor(request), loan_id)
    return _loan_out(request, loan_id)


@router.post("/loans/{loan_id}/end", response={200: LoanOut, **errors(403, 404, 409, 422)}, summary="End a loan")
def end_loan(request: HttpRequest, loan_id: PathId) -> LoanOut:
    """A lead of either side ends the loan now (or withdraws or declines one not agreed yet)."""
    actions.end_loan(actor(request), loan_id)
    return _loan_out(request, loan_id)
