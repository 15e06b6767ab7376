"""Loans proposed on the four-week plan (docs/demand.md, "Borrowing for a short week").

For a week of the plan (``tandem.demand.queries.four_week_plan``) whose work exceeds its
capacity, the unit's queue is simulated from now to the end of that week (``forecast.scene``:
the open work, the people, the stored forecast's arrivals day by day) without a loan, and with
each front-office candidate who holds a skill the unit needs (``queries.loan_candidates`` for
the week's window) lent for that week only, for their spare hours (their working hours in the
week less the work they hold now). The same scene is built once per week and run once per
candidate: there is no second simulator.

Asking for a proposed loan (``ask_for_week_loan``) re-reads the plan first: a week that has
begun or is no longer short, or a person lent meanwhile or no longer holding the skills, is
refused (409) with nothing saved; otherwise it is the usual ``actions.propose_loan`` (the
person's own lead then agrees).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from tandem.allocation import actions
from tandem.allocation.forecast import Outcome, scene
from tandem.allocation.queries import loan_candidates, planned_unit
from tandem.demand.queries import WeekPlan, four_week_plan
from tandem.org.models import Loan, Person, Unit
from tandem.org.queries import AnyUser
from tandem.refusal import Conflict, Invalid


@dataclass
class WeekLoan:
    person: Person
    matches: list[tuple[str, int]]
    hours: float  # their working hours in the week
    spare_hours: float  # less the work they hold now: what the loan brings
    outcome: Outcome  # the simulated queue at the end of the week with the loan


@dataclass
class WeekProposals:
    unit: Unit
    week: WeekPlan
    now: datetime
    starts_at: datetime  # the loan's window: the week (from now if it has begun) ...
    ends_at: datetime  # ... to Saturday 00:00, where the simulation ends too
    without: Outcome
    proposals: list[WeekLoan]
    expected_items: int  # the arrivals the stored forecast places between now and the week's end
    backlog_items: int  # the work open now

    @property
    def best(self) -> WeekLoan | None:
        return self.proposals[0] if self.proposals else None


def loan_window(week: WeekPlan, now: datetime) -> tuple[datetime, datetime]:
    start, end = week.loan_window
    return max(start, now), end


def week_proposals(unit: Unit, week: WeekPlan, now: datetime) -> WeekProposals:
    """See the module docstring. A week that is not short gets the simulation without a loan
    and no proposal."""
    starts_at, ends_at = loan_window(week, now)
    world = scene(unit, now, ends_at)
    without = Outcome.of(world.run([]))
    result = WeekProposals(unit, week, now, starts_at, ends_at, without, [], len(world.expected), len(world.backlog))
    if week.gap_hours <= 0 or ends_at <= now:
        return result
    for c, spare, outcome in world.with_each(loan_candidates(unit, starts_at, until=ends_at), [(starts_at, ends_at)]):
        result.proposals.append(WeekLoan(c.person, c.matches, round(c.hours, 1), round(spare, 1), outcome))
    result.proposals.sort(key=lambda p: (p.outcome.breaches, p.outcome.backlog_hours, p.person.display_name))
    return result


def plan_week(unit: Unit, week_text: str, today: date, now: datetime) -> WeekPlan:
    """The plan's week starting on ``week_text`` (YYYY-MM-DD): 422 when it is not a date, 409
    when it is no longer one of the four weeks ahead (a stale proposal)."""
    try:
        monday = date.fromisoformat(week_text)
    except ValueError:
        raise Invalid(f"week must be the Monday of a week of the plan as YYYY-MM-DD; got {week_text[:20]!r}.",
                      errors={"week": ["A date, YYYY-MM-DD."]}) from None
    weeks = four_week_plan(unit, today, now=now)
    week = next((w for w in weeks if w.monday == monday), None)
    if week is None:
        raise Conflict(f"The week of {monday:%d %b %Y} is no longer one of {unit.name}'s four weeks ahead (the plan "
                       f"now runs from {weeks[0].monday:%d %b}): reload the plan; nothing was asked.")
    return week


def week_proposals_for(actor: AnyUser | None, slug: str, week_text: str, now: datetime | None = None) -> WeekProposals:
    """For the unit's leads and administrators (``planned_unit``): the week's proposals."""
    now = now or timezone.now()
    unit = planned_unit(actor, slug)
    return week_proposals(unit, plan_week(unit, week_text, timezone.localdate(now), now), now)


def ask_for_week_loan(actor: Person, slug: str, week_text: str, person_id: int, now: datetime | None = None) -> Loan:
    """Ask to borrow ``person_id`` for a short week of the plan, through ``actions.propose_loan``;
    refused, with nothing saved, when the proposal is stale (see the module docstring)."""
    now = now or timezone.now()
    unit = planned_unit(actor.user, slug)
    week = plan_week(unit, week_text, timezone.localdate(now), now)
    if week.gap_hours <= 0:
        raise Conflict(f"The week of {week.monday:%d %b} is no longer short ({week.spare_hours:.0f} h to spare now): "
                       "nothing was asked.")
    starts_at, ends_at = loan_window(week, now)
    clash = Loan.objects.filter(person_id=person_id, ended_at__isnull=True, starts_at__lt=ends_at,
                                ends_at__gt=starts_at).select_related("person__user", "unit").first()
    if clash is not None:
        raise Conflict(f"{clash.person.display_name} is already lent (or asked for) to {clash.unit.name} from "
                       f"{timezone.localtime(clash.starts_at):%d %b %H:%M} to "
                       f"{timezone.localtime(clash.ends_at):%d %b %H:%M}: choose another proposal; nothing was asked.")
    if person_id not in {c.person.pk for c in loan_candidates(unit, starts_at, until=ends_at)}:
        raise Conflict("That person no longer holds a skill the unit's services need (or has no working time that "
                       "week): reload the proposals; nothing was asked.", errors={"person": ["Not a candidate."]})
    note = f"Four-week plan: week of {week.monday:%d %b} is {week.gap_hours:.0f} h short"
    return actions.propose_loan(actor, unit, person_id, starts_at=starts_at, ends_at=ends_at, note=note, now=now)
