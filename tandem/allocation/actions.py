"""Allocation plans: propose (a lead, or Tandem when an absence starts) and accept.

Accepting applies each line with ``tandem.work.actions.assign_request``, which owns its own
durable transaction. So acceptance is two steps: first one transaction locks the unit's latest
plan row, checks that this plan is still the one to apply (a newer proposal supersedes the
older ones) and claims the lines; then each claimed line is applied on its own, refusing (and
reporting "changed since the plan") a request that moved since the plan saw it. Two leads
accepting at once: the lock makes one claim win; the other is refused with Conflict.

A unit's mode (docs/allocation.md, "Modes") decides who accepts: a lead (suggest), Tandem
itself as soon as the plan is stored (auto: ``place_work``, run by the worker's
``place_new_work`` and after an absence or a loan changes capacity), or nobody, people taking
the next request themselves (pull: ``take_next``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from tandem.allocation.models import LineOutcome, Plan, PlanLine, PlanStatus
from tandem.allocation.modes import ranked_ids, units_to_place
from tandem.allocation.order import due_of
from tandem.allocation.planning import PLANNED_STATUSES, build_plan
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Absence, AllocationMode, Loan, Person, Role, Side, Unit
from tandem.org.queries import leads_unit, work_unit_ids
from tandem.outbox.actions import action_transaction, publish
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound, Refused
from tandem.work import actions as work_actions
from tandem.work.models import ServiceRequest, Status

logger = logging.getLogger(__name__)


def _require_lead(actor: Person, unit: Unit) -> None:
    if unit.side != Side.BACK:
        raise Invalid(
            f"{unit.name} is a front-office unit; plans are made for back-office units.",
            errors={"unit": ["Not a back-office unit."]},
        )
    if not leads_unit(actor, unit.pk):
        raise Forbidden(f"Only a lead of {unit.name} (or an administrator) can propose and accept its plans.")


def _lock_latest(unit: Unit) -> Plan | None:
    """The unit's newest plan, row-locked: every propose and accept of the unit queues here."""
    return Plan.objects.select_for_update().filter(unit=unit).order_by("-id").first()


def _leads_of(unit: Unit) -> list[int]:
    return list(
        Person.objects.filter(unit=unit, role=Role.LEAD, user__is_active=True).values_list("pk", flat=True)
    )


def _store(unit: Unit, actor: Person | None, now: datetime, reason: str, *, tell_unplaced: bool = True) -> Plan:
    """Ask the engine (outside any transaction: it may take a second), then store the plan and
    supersede the unit's older proposals in one transaction."""
    draft = build_plan(unit, now)
    proposed, reasons = draft.proposed(), draft.reasons()
    with action_transaction():
        _lock_latest(unit)
        Plan.objects.filter(unit=unit, status=PlanStatus.PROPOSED).update(status=PlanStatus.SUPERSEDED)
        result = draft.result
        plan = Plan.objects.create(
            unit=unit, created_by=actor, created_at=now, reason=reason[:200], objective=result.objective,
            bound=result.bound, gap=result.gap, seconds=result.seconds,
        )
        PlanLine.objects.bulk_create(
            [
                PlanLine(
                    plan=plan,
                    request=sr,
                    person_id=proposed.get(sr.pk),
                    reason=reasons.get(sr.pk, "")[:300],
                    was_status=sr.status,
                    was_assignee_id=sr.assignee_id,
                    effort_hours=draft.efforts[sr.service_id].hours if sr.service_id in draft.efforts else 1.0,
                    due=due_of(sr),
                )
                for sr in draft.requests
            ]
        )
        unplaced = len(draft.requests) - len(proposed)
        if unplaced and tell_unplaced:
            leads = _leads_of(unit)
            message = (
                f"{unplaced} request{'s' if unplaced != 1 else ''} of {unit.name} could not be given to anyone "
                f"(nobody qualified or no capacity): review the plan at /manage/plan/."
            )
            notify(leads, Notification.Kind.PLAN_TO_REVIEW, None, message)  # commits with the plan
        return plan


def propose_plan(actor: Person, unit: Unit, *, now: datetime | None = None) -> Plan:
    """A lead asks for a plan of the unit's open, not-started requests; it supersedes older ones."""
    _require_lead(actor, unit)
    return _store(unit, actor, now or timezone.now(), "")


@dataclass
class Acceptance:
    plan: Plan
    lines: list[PlanLine]

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)


def _check_current(plan: Plan, latest: Plan | None) -> None:
    if latest is not None and latest.pk != plan.pk:
        at = timezone.localtime(latest.created_at)
        raise Conflict(
            f"A newer plan was proposed at {at:%H:%M} by {latest.author}; review that one.",
        )
    if plan.status == PlanStatus.SUPERSEDED:
        raise Conflict("This plan was superseded by a newer one; review the latest plan.")
    if plan.status == PlanStatus.ACCEPTED:
        by = plan.accepted_by.display_name if plan.accepted_by else "someone"
        when = f" at {timezone.localtime(plan.accepted_at):%H:%M}" if plan.accepted_at else ""
        raise Conflict(f"{by} already accepted this plan{when}; propose a new one if needed.")


def _claim(
    actor: Person | None, plan_id: int, line_ids: list[int] | None, now: datetime
) -> tuple[Plan, list[PlanLine]]:
    """``actor`` None: Tandem itself accepts (a unit in auto mode)."""
    with action_transaction():
        plan = Plan.objects.select_related("unit").filter(pk=plan_id).first()
        if plan is None or (actor is not None and not leads_unit(actor, plan.unit_id)):
            raise NotFound(f"There is no plan {plan_id} that you can accept.")
        latest = _lock_latest(plan.unit)
        plan.refresh_from_db()
        _check_current(plan, latest)
        open_lines = plan.lines.filter(accepted_at__isnull=True, person__isnull=False)
        if line_ids is not None:
            wanted = set(line_ids)
            known = set(plan.lines.filter(pk__in=wanted).values_list("pk", flat=True))
            if wanted - known:
                missing = ", ".join(str(pk) for pk in sorted(wanted - known))
                raise Invalid(
                    f"Line {missing} is not a line of plan {plan.pk}; GET the plan for its line ids.",
                    errors={"lines": ["Not a line of this plan."]},
                )
            if not open_lines.filter(pk__in=wanted).exists():
                raise Conflict("Those lines were accepted already, or propose nobody; nothing to apply.")
            open_lines = open_lines.filter(pk__in=wanted)
        claimed = list(open_lines.select_related("request", "person__user"))
        PlanLine.objects.filter(pk__in=[line.pk for line in claimed]).update(accepted_at=now)
        if not plan.lines.filter(accepted_at__isnull=True, person__isnull=False).exists():
            plan.status, plan.accepted_by, plan.accepted_at = PlanStatus.ACCEPTED, actor, now
            plan.save(update_fields=["status", "accepted_by", "accepted_at"])
        return plan, claimed


def _apply(actor: Person | None, line: PlanLine, now: datetime) -> None:
    assert line.person_id is not None
    if not line.moves:
        line.outcome, line.outcome_note = LineOutcome.KEPT, ""
        return
    expect = (line.was_status, line.was_assignee_id)
    try:
        if actor is None:
            _assign_by_tandem(line.request_id, line.person_id, expect=expect, plan_id=line.plan_id, now=now)
        else:
            work_actions.assign_request(actor, line.request_id, line.person_id, now=now, expect=expect,
                                        plan_id=line.plan_id)
    except Conflict as refusal:
        line.outcome, line.outcome_note = LineOutcome.CHANGED, refusal.message[:300]
    except Refused as refusal:
        line.outcome, line.outcome_note = LineOutcome.REFUSED, refusal.message[:300]
    else:
        line.outcome, line.outcome_note = LineOutcome.APPLIED, ""


def accept_plan(
    actor: Person, plan_id: int, *, lines: list[int] | None = None, now: datetime | None = None
) -> Acceptance:
    """Apply a plan (every line, or the given line ids). Refused (nothing changes) when the plan
    is not the unit's latest, was accepted already, or names lines it does not have. Lines whose
    request moved since the plan are reported "changed since the plan" and not applied."""
    now = now or timezone.now()
    plan, claimed = _claim(actor, plan_id, lines, now)
    for line in claimed:
        _apply(actor, line, now)
    with action_transaction():
        for line in claimed:
            PlanLine.objects.filter(pk=line.pk).update(outcome=line.outcome, outcome_note=line.outcome_note)
    return Acceptance(plan, claimed)


# --- an absence starts ----------------------------------------------------------------------------


def absence_started(person_id: int, starts_on: date, ends_on: date, *, now: datetime | None = None) -> Plan | None:
    """Once an absence is recorded (``tandem.allocation.reactions``): when it covers today and the
    person holds open, not-started requests, their unit's mode decides. Suggest: propose a new plan
    of the unit; auto: place the work again and apply it; pull: return it to the queue. The leads
    are told."""
    now = now or timezone.now()
    person = Person.objects.select_related("unit", "user").filter(pk=person_id).first()
    today = timezone.localdate(now)
    if person is None or person.unit.side != Side.BACK or not (starts_on <= today <= ends_on):
        return None
    held = ServiceRequest.objects.filter(assignee=person, status__in=PLANNED_STATUSES).count()
    if not held:
        return None
    name = person.display_name
    if person.unit.allocation_mode == AllocationMode.PULL:
        _return_to_queue(person, now)
        return None
    if person.unit.allocation_mode == AllocationMode.AUTO:
        return place_work(person.unit, f"{name} is away from today", now=now, away=person)
    plan = _store(person.unit, None, now, f"{name} is away from today", tell_unplaced=False)
    leads = [pk for pk in _leads_of(person.unit) if pk != person.pk]
    unplaced = plan.lines.filter(person__isnull=True).count()
    nobody = f" ({unplaced} of the unit's requests have nobody to take them)" if unplaced else ""
    message = (
        f"{name} is away from today; {held} of their requests need{'s' if held == 1 else ''} a new holder: "
        f"review the plan at /manage/plan/{nobody}."
    )
    notify(leads, Notification.Kind.PLAN_TO_REVIEW, None, message)
    return plan


def hand_back_from_absent(actor: Person, person_id: int, *, now: datetime | None = None) -> int:
    """A lead hands the not-started requests of someone away today back to the queue (an event
    each, the lead as actor, ``reason: absent``); in auto mode Tandem places them again at once.
    Started ones stay with the person: the lead gives each to someone (the life cycle has no way
    back to the queue from there). Answers how many went back."""
    now = now or timezone.now()
    person = Person.objects.select_related("unit", "user").filter(pk=person_id).first()
    if person is None:
        raise NotFound(f"There is no person {person_id}.")
    if not leads_unit(actor, person.unit_id):
        raise Forbidden(f"Only a lead of {person.unit.name} (or an administrator) can hand back its people's work.")
    today = timezone.localdate(now)
    if not Absence.objects.filter(person=person, starts_on__lte=today, ends_on__gte=today).exists():
        raise Conflict(f"{person.display_name} is not away today: their requests stay with them.")
    returned = _unassign_not_started(person, actor, now)
    if returned and person.unit.allocation_mode == AllocationMode.AUTO:
        place_work(person.unit, f"{person.display_name} is away today", now=now)
    return returned


# --- lending --------------------------------------------------------------------------------------

#: The longest loan one agreement covers; a longer need is a transfer, or a second loan.
MAX_LOAN = timedelta(days=92)


def propose_loan(
    actor: Person,
    unit: Unit,
    person_id: int,
    *,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> Loan:
    """A lead of the borrowing (back-office) unit asks to borrow a front-office person for a
    window; their own lead then agrees (``agree_loan``). The proposer agrees for the borrower."""
    now = now or timezone.now()
    if unit.side != Side.BACK:
        raise Invalid(
            f"{unit.name} is a front-office unit; only back-office units borrow people.",
            errors={"unit": ["Not a back-office unit."]},
        )
    if not leads_unit(actor, unit.pk):
        raise Forbidden(f"Only a lead of {unit.name} (or an administrator) can ask to borrow someone for it.")
    errors: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = ["The loan must end after it starts."]
    elif ends_at <= now:
        errors["ends_at"] = ["The loan would already be over; choose a window from now on."]
    elif ends_at - starts_at > MAX_LOAN:
        errors["ends_at"] = [f"A loan lasts at most {MAX_LOAN.days} days; agree a second one later if needed."]
    with action_transaction():
        person = Person.objects.select_related("user", "unit").filter(pk=person_id, user__is_active=True).first()
        if person is None or person.unit.side != Side.FRONT:
            errors["person"] = ["Choose an active member of a front-office unit."]
        if errors:
            first = next(iter(errors.values()))[0]
            raise Invalid(f"The loan cannot be proposed: {first}", errors=errors)
        assert person is not None
        Person.objects.select_for_update().filter(pk=person.pk).first()  # one loan decision per person at a time
        clash = Loan.objects.filter(
            person=person, ended_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=max(starts_at, now)
        ).select_related("unit").first()
        if clash is not None:
            raise Conflict(
                f"{person.display_name} is already lent (or asked for) to {clash.unit.name} from "
                f"{timezone.localtime(clash.starts_at):%d %b %H:%M} to "
                f"{timezone.localtime(clash.ends_at):%d %b %H:%M}; "
                "end that loan first or choose another window."
            )
        loan = Loan.objects.create(
            person=person, unit=unit, starts_at=starts_at, ends_at=ends_at, note=note.strip()[:200],
            agreed_by_borrower=actor, created_by=actor, created_at=now,
        )
        lenders = _leads_of(person.unit)
        message = (
            f"{actor.display_name} ({unit.name}) asks to borrow {person.display_name} from "
            f"{timezone.localtime(starts_at):%d %b %H:%M} to {timezone.localtime(ends_at):%d %b %H:%M}: "
            "agree or decline at /manage/loans/."
        )
        notify(lenders, Notification.Kind.LOAN, None, message)  # commits with the proposal
        return loan


def _loan_for(actor: Person, loan_id: int) -> Loan:
    """The loan, row-locked, if the actor may know of it (404 otherwise)."""
    # of=("self",): only the loan's row needs the lock, not the people and units joined to it.
    loan = (
        Loan.objects.select_for_update(of=("self",))
        .select_related("person__user", "person__unit", "unit", "agreed_by_lender__user")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None or not (
        leads_unit(actor, loan.unit_id) or leads_unit(actor, loan.person.unit_id) or actor.pk == loan.person_id
    ):
        raise NotFound(f"There is no loan {loan_id} that you can see.")
    return loan


def agree_loan(actor: Person, loan_id: int, *, now: datetime | None = None) -> Loan:
    """The lead of the lent person's own unit agrees: from ``starts_at`` the person works the
    borrowing unit's queue until ``ends_at``."""
    now = now or timezone.now()
    with action_transaction():
        loan = _loan_for(actor, loan_id)
        person = loan.person
        if not leads_unit(actor, person.unit_id):
            raise Forbidden(f"Only a lead of {person.unit.name} (or an administrator) can agree to lend {person}.")
        if loan.state(now) == "ended":
            raise Conflict("That loan is over (ended or past its window); propose a new one if still needed.")
        if loan.agreed_by_lender_id is not None:
            raise Conflict(f"{loan.agreed_by_lender} already agreed to this loan.")
        loan.agreed_by_lender = actor
        loan.save(update_fields=["agreed_by_lender"])
        recipients = [person.pk, *_leads_of(loan.unit)]
        message = (
            f"{person.display_name} works for {loan.unit.name} from "
            f"{timezone.localtime(loan.starts_at):%d %b %H:%M} to {timezone.localtime(loan.ends_at):%d %b %H:%M} "
            f"(agreed by {actor.display_name})."
        )
        notify(recipients, Notification.Kind.LOAN, None, message)
        # Once this commits: the unit's promises are re-forecast, and a unit in auto mode places
        # its work again if the loan has begun (a later start is the worker's, ``place_new_work``).
        publish(
            "loan.agreed",
            f"unit:{loan.unit_id}",
            {"loan": loan.pk, "unit": loan.unit_id, "begun": loan.starts_at <= now,
             "reason": f"{person.display_name} is lent to it"},
        )
        return loan


def end_loan(actor: Person, loan_id: int, *, now: datetime | None = None) -> Loan:
    """A lead of either side ends a loan now (or withdraws or declines one not yet agreed). The
    person stops seeing the unit's queue at once; requests they held there are re-planned by
    the unit's next plan (their holder is no longer among its people)."""
    now = now or timezone.now()
    with action_transaction():
        loan = _loan_for(actor, loan_id)
        if not (leads_unit(actor, loan.unit_id) or leads_unit(actor, loan.person.unit_id)):
            raise Forbidden("Only a lead of the borrowing or the lending unit (or an administrator) can end a loan.")
        if loan.state(now) == "ended":
            raise Conflict("That loan is over already.")
        loan.ended_at, loan.ended_by = now, actor
        loan.save(update_fields=["ended_at", "ended_by"])
        recipients = [loan.person_id, *_leads_of(loan.unit), *_leads_of(loan.person.unit)]
        message = f"The loan of {loan.person.display_name} to {loan.unit.name} was ended by {actor.display_name}."
        others = [pk for pk in recipients if pk != actor.pk]
        notify(others, Notification.Kind.LOAN, None, message)
        publish(
            "loan.ended",
            f"unit:{loan.unit_id}",
            {"loan": loan.pk, "unit": loan.unit_id, "begun": True,
             "reason": f"the loan of {loan.person.display_name} ended"},
        )
        return loan


# --- modes: suggest, auto, pull (docs/allocation.md, "Modes") --------------------------------------


def set_allocation_mode(actor: Person, unit: Unit, mode: str, *, now: datetime | None = None) -> Unit:
    """A lead (or an administrator) chooses how the unit's work finds its holder. Switching to
    auto hands the unit's unplaced work to the worker's next round (``place_new_work``)."""
    _require_lead(actor, unit)
    if mode not in AllocationMode.values:
        allowed = ", ".join(AllocationMode.values)
        raise Invalid(
            f"{mode[:40]!r} is not an allocation mode; choose one of: {allowed}.",
            errors={"mode": [f"One of: {allowed}."]},
        )
    with action_transaction():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        if locked.allocation_mode != mode:
            locked.allocation_mode = mode
            locked.save(update_fields=["allocation_mode"])
            others = [pk for pk in _leads_of(unit) if pk != actor.pk]
            label = AllocationMode(mode).label
            message = f"{actor.display_name} set how {unit.name}'s work is allocated to “{label}”."
            notify(others, Notification.Kind.PLAN_TO_REVIEW, None, message)  # commits with the change
    unit.allocation_mode = mode
    return unit


def _assign_by_tandem(
    request_id: int, person_id: int, *, expect: tuple[str, int | None], plan_id: int, now: datetime
) -> ServiceRequest:
    """Tandem gives a request to someone (a unit in auto mode): the event has no actor and names
    the plan. Refused, like a lead's acceptance, when the request moved since the plan saw it."""
    # Tandem acting for itself has no Person, so the lead's ``assign_request`` does not fit.
    with action_transaction():
        sr = ServiceRequest.objects.select_for_update().filter(pk=request_id).first()
        if sr is None:
            raise NotFound(f"There is no service request {request_id}.")
        if (sr.status, sr.assignee_id) != expect:
            raise Conflict(f"{sr.reference} changed since the plan was made; the next placement looks at it again.")
        assignee = Person.objects.select_related("user", "unit").filter(pk=person_id, user__is_active=True).first()
        if assignee is None or sr.unit_id not in work_unit_ids(assignee):
            raise Invalid("That person no longer works this queue.", errors={"assignee": ["Not a worker of the unit."]})
        data = {"assignee": assignee.pk, "previous": sr.assignee_id, "plan": plan_id}
        work_actions.hand_over_locked(sr, assignee, actor=None, now=now, data=data)
        return sr


def _unplaced_news(plan: Plan) -> list[PlanLine]:
    """The plan's lines nobody could take, less those Tandem's previous placement already
    reported (a request nobody can take is told once, not at every arrival)."""
    previous = (
        Plan.objects.filter(unit_id=plan.unit_id, status=PlanStatus.ACCEPTED, created_by__isnull=True, pk__lt=plan.pk)
        .order_by("-id")
        .first()
    )
    told = set(previous.lines.filter(person__isnull=True).values_list("request_id", flat=True)) if previous else set()
    return [
        line for line in plan.lines.filter(person__isnull=True).select_related("request").order_by("due", "id")
        if line.request_id not in told
    ]


def place_work(unit: Unit, reason: str, *, now: datetime | None = None, away: Person | None = None) -> Plan | None:
    """Auto mode: ask the engine for a plan of the unit's open, not-started work and apply it as
    Tandem (no lead). Each person given work is told by the assignment; the leads are told what
    nobody could take and why (and, when ``away`` is someone whose absence started, what moved).

    None when the engine failed (logged) or another placement superseded this one meanwhile
    (two workers at once: the newer plan is the one applied; a request moved by the first is
    "changed since the plan" for the second, so nothing is placed twice)."""
    now = now or timezone.now()
    try:
        plan = _store(unit, None, now, reason, tell_unplaced=False)
    except Exception:
        # Runs after someone else's change committed (or in the worker): a failed placement must
        # not turn it into an error. The lead can still propose a plan by hand.
        logger.exception("Placing %s's work failed", unit.name)
        return None
    try:
        plan, claimed = _claim(None, plan.pk, None, now)
    except Conflict:
        return None
    for line in claimed:
        _apply(None, line, now)
    with action_transaction():
        for line in claimed:
            PlanLine.objects.filter(pk=line.pk).update(outcome=line.outcome, outcome_note=line.outcome_note)
    unplaced = _unplaced_news(plan)
    parts = []
    if away is not None:
        moved = sum(1 for line in claimed if line.was_assignee_id == away.pk and line.outcome == LineOutcome.APPLIED)
        parts.append(
            f"{away.display_name} is away from today; Tandem gave {moved} of their requests to others."
        )
    if unplaced:
        listed = "; ".join(f"{line.request.reference}: {line.reason}" for line in unplaced[:3])
        more = f" and {len(unplaced) - 3} more" if len(unplaced) > 3 else ""
        parts.append(f"Tandem could not place {len(unplaced)} request{'s' if len(unplaced) != 1 else ''} of "
                     f"{unit.name} ({listed}{more}); see /manage/plan/.")
    if parts:
        leads = [pk for pk in _leads_of(unit) if away is None or pk != away.pk]
        notify(leads, Notification.Kind.PLAN_TO_REVIEW, None, " ".join(parts))
    return plan


def capacity_changed(unit_id: int, reason: str) -> Plan | None:
    """A loan began or ended now (``tandem.allocation.reactions``): a unit in auto mode places its
    work again."""
    unit = Unit.objects.filter(pk=unit_id, side=Side.BACK, allocation_mode=AllocationMode.AUTO).first()
    return place_work(unit, f"Capacity changed: {reason}") if unit is not None else None


def place_new_work(*, now: datetime | None = None) -> int:
    """The worker's step: for each unit in auto mode with new or returned unassigned work (or a
    loan that began or ended), place it. Returns how many requests were given to someone."""
    placed = 0
    for unit in units_to_place(now or timezone.now()):
        plan = place_work(unit, "New work to place", now=now)
        if plan is not None:
            placed += plan.lines.filter(outcome=LineOutcome.APPLIED).count()
    return placed


def _unassign_not_started(person: Person, actor: Person | None, now: datetime) -> int:
    """The absent person's assigned, not-started requests back to the queue, one transaction and
    one event each (``reason: absent``); answers how many went."""
    returned = 0
    held = ServiceRequest.objects.filter(assignee=person, status=Status.ASSIGNED)
    for pk in list(held.values_list("pk", flat=True)):
        with action_transaction():
            sr = held.select_for_update().filter(pk=pk).first()
            if sr is None:
                continue  # moved meanwhile
            work_actions.hand_over_locked(sr, None, actor=actor, now=now,
                                          data={"previous": person.pk, "reason": "absent"})
            returned += 1
    return returned


def _return_to_queue(person: Person, now: datetime) -> int:
    """Pull mode, an absence started: the person's assigned, not-started requests go back to the
    queue (an event each, no actor), and the leads are told. Reopened ones stay with them (the
    life cycle has no way back to the queue from there): the leads are told to hand them over."""
    returned = _unassign_not_started(person, None, now)
    kept = ServiceRequest.objects.filter(assignee=person, status=Status.REOPENED).count()
    message = (
        f"{person.display_name} is away from today; {returned} of their not-started request"
        f"{'s' if returned != 1 else ''} went back to {person.unit.name}'s queue for the team to take."
    )
    if kept:
        message += f" {kept} reopened request{'s' if kept != 1 else ''} still with them need a new holder from you."
    notify([pk for pk in _leads_of(person.unit) if pk != person.pk], Notification.Kind.PLAN_TO_REVIEW, None, message)
    return returned


def _nothing_left(actor: Person, unit: Unit, *, raced: bool = False) -> str:
    if raced:
        # Requests the actor could take were listed, and others took (or are taking) each of
        # them at the same moment: they may still look unassigned until those commit.
        return (
            f"Nothing is left to take in {unit.name}'s queue: the requests you could take were "
            "taken by others at the same moment. Reload the queue."
        )
    waiting = ServiceRequest.objects.filter(unit=unit, status__in=PLANNED_STATUSES, assignee__isnull=True).count()
    if waiting:
        return (
            f"Nothing is left in {unit.name}'s queue that you are qualified for: the {waiting} waiting "
            f"request{'s' if waiting != 1 else ''} need{'s' if waiting == 1 else ''} a skill or level you do "
            "not hold. Ask your lead to add the skill, or to give them to someone who has it."
        )
    return f"Nothing is left to take in {unit.name}'s queue: every open request has a holder."


def take_next(actor: Person, unit: Unit, *, now: datetime | None = None) -> ServiceRequest:
    """Pull mode: give the actor the first request of their "next for you" list
    (``tandem.allocation.modes``). Two people pressing at once get different requests: on
    PostgreSQL the candidate row is locked with SKIP LOCKED, so the second passes over the one
    being taken instead of waiting for it; SQLite's IMMEDIATE transactions run one at a time.
    Either way the row is re-checked (still unassigned, not started) under the lock."""
    now = now or timezone.now()
    if unit.side != Side.BACK or unit.pk not in work_unit_ids(actor):
        raise Forbidden(f"You do not work {unit.name}'s queue; only its members (and people lent to it) take its work.")
    if unit.allocation_mode != AllocationMode.PULL:
        raise Conflict(
            f"{unit.name} does not work in pull mode (its work is allocated in "
            f"“{AllocationMode(unit.allocation_mode).label}” mode); pick a request in the queue instead."
        )
    ranked = [pk for pk, _ in ranked_ids(actor, unit, now)]
    with action_transaction():
        for pk in ranked:
            sr = (
                ServiceRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, unit=unit, status__in=PLANNED_STATUSES, assignee__isnull=True)
                .first()
            )
            if sr is None or sr.assignee_id is not None:
                continue  # taken (or being taken) by someone else
            data = {"assignee": actor.pk, "previous": None, "taken": True}
            work_actions.hand_over_locked(sr, actor, actor=actor, now=now, data=data)
            return sr
    raise Conflict(_nothing_left(actor, unit, raced=bool(ranked)))
