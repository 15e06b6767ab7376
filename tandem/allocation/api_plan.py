"""API: the loans the four-week plan proposes for a short week, and asking for one
(docs/demand.md, "Borrowing for a short week"). The plan itself is
``GET /api/units/{slug}/demand-plan``; each short week there names this operation's path."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router
from ninja.params import P, PathEx
from ninja.responses import Status

from tandem.allocation.api import LoanOut, OutcomeOut, UnitSlug
from tandem.allocation.forecast import Outcome
from tandem.allocation.plan_loans import WeekLoan, ask_for_week_loan, week_proposals_for
from tandem.allocation.queries import loans_visible_to
from tandem.org.api_shared import Id, InSchema, PersonRef, Schema, UnitRef, UtcTime, actor, auth_user, errors

router = Router(tags=["allocation"])

WeekText = PathEx[str, P(pattern=r"^[-0-9]{1,20}$", description="The Monday the plan's week starts, YYYY-MM-DD.")]


class WeekOutcomeOut(OutcomeOut):
    resolved: int = Field(..., description="Requests resolved by the end of the week.")
    mean_hours_to_resolve: float = Field(
        ..., description="Working hours from arrival (or now, for open work) to resolution, the mean over those "
        "resolved: how long a promise made now would have to allow (0 when none is resolved)."
    )

    @classmethod
    def of(cls, o: Outcome) -> WeekOutcomeOut:
        return cls(breaches=o.breaches, backlog_requests=o.backlog_items, backlog_hours=o.backlog_hours,
                   resolved=o.resolved, mean_hours_to_resolve=o.mean_hours)


class WeekLoanOut(Schema):
    person: PersonRef
    home_unit: UnitRef
    skills: dict[str, int] = Field(..., description="The needed skills they hold, with their levels.")
    hours: float = Field(..., description="Their working hours in the week.")
    spare_hours: float = Field(..., description="Less the effort of the work they hold now: what the loan brings.")
    with_loan: WeekOutcomeOut = Field(..., description="The simulated queue at the end of the week with the loan.")

    @classmethod
    def of(cls, p: WeekLoan) -> WeekLoanOut:
        return cls(person=PersonRef.of(p.person), home_unit=UnitRef.of(p.person.unit), skills=dict(p.matches),
                   hours=p.hours, spare_hours=p.spare_hours, with_loan=WeekOutcomeOut.of(p.outcome))


class WeekProposalsOut(Schema):
    unit: UnitRef
    week: str = Field(..., description="The Monday the week starts.")
    gap_hours: float = Field(..., description="The plan's work less capacity that week: positive means short.")
    starts_at: UtcTime = Field(..., description="The loan's window: the week's Monday 00:00, or now once begun ...")
    ends_at: UtcTime = Field(..., description="... to Saturday 00:00, where the simulation ends too.")
    backlog_requests: int = Field(..., description="The work open now.")
    expected_requests: int = Field(..., description="Arrivals the stored forecast places from now to the week's end.")
    without_loan: WeekOutcomeOut
    proposals: list[WeekLoanOut] = Field(..., description="At most three, fewest breaches first; empty when the "
                                         "week is not short or no front-office person holds a needed skill.")


@router.get("/units/{unit_slug}/demand-plan/{week}/loan-proposals",
            response={200: WeekProposalsOut, **errors(403, 404, 409, 422)},
            summary="List the loans the four-week plan proposes for a week")
def list_week_loan_proposals(request: HttpRequest, unit_slug: UnitSlug, week: WeekText) -> WeekProposalsOut:
    """The unit's queue simulated to the end of the week without a loan and with each proposed
    front-office person lent for that week (a few seconds). For the unit's leads and
    administrators. 409 when the week is no longer one of the plan's four."""
    actor(request)
    p = week_proposals_for(auth_user(request), unit_slug, week)
    return WeekProposalsOut(
        unit=UnitRef.of(p.unit), week=p.week.monday.isoformat(), gap_hours=round(p.week.gap_hours, 1),
        starts_at=p.starts_at, ends_at=p.ends_at, backlog_requests=p.backlog_items,
        expected_requests=p.expected_items, without_loan=WeekOutcomeOut.of(p.without),
        proposals=[WeekLoanOut.of(x) for x in p.proposals],
    )


class WeekLoanIn(InSchema):
    person: Id = Field(..., description="The proposed front-office person's id.")


@router.post("/units/{unit_slug}/demand-plan/{week}/loan-proposals",
             response={201: LoanOut, **errors(400, 403, 404, 409, 422)},
             summary="Ask to borrow a person the four-week plan proposes for a short week")
def ask_for_proposed_loan(request: HttpRequest, unit_slug: UnitSlug, week: WeekText, payload: WeekLoanIn) -> Status:
    """The usual loan flow (`POST /api/units/{slug}/loans` for the week's window, noted with the
    gap); the person's own lead then agrees. The plan is read again first: 409, with nothing
    saved, when the week is no longer short or one of the four, or the person is lent meanwhile
    or no longer holds a needed skill."""
    me = actor(request)
    loan = ask_for_week_loan(me, unit_slug, week, payload.person)
    return Status(201, LoanOut.of(loans_visible_to(auth_user(request)).get(pk=loan.pk)))
