"""Reads for a unit's allocation mode (docs/allocation.md, "Modes"); the changes are in actions.

- pull: a person's "next for you", the unit's unassigned, not-started requests they hold the
  service's skill for, in the unit's queue order (``order.QueueOrder``: what is due first, the
  earlier of promise and agreement, the older request on a tie; customer work earlier only by
  the head start the unit gives it).
- auto: the units whose work Tandem must place now: unassigned, not-started requests that no
  plan applied by Tandem has looked at since they arrived or came back to the queue, and loans
  that began or ended since Tandem's last placement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from tandem.allocation.models import Plan, PlanLine, PlanStatus
from tandem.allocation.order import DUE, PRIORITY, QueueOrder, with_queue_due
from tandem.allocation.planning import PLANNED_STATUSES, needed_skill
from tandem.allocation.queries import skills_of
from tandem.catalogue.models import Service
from tandem.engines.allocation import urgency
from tandem.org.models import AllocationMode, Loan, Person, Side, Unit
from tandem.org.queries import work_unit_ids
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.work.models import ServiceRequest
from tandem.work.queries import requests_visible_to

#: What each mode means, for the plan page and the API description.
MODE_HELP = {
    AllocationMode.SUGGEST: (
        "Tandem proposes who should hold each open request; a lead reviews the plan and accepts it "
        "in one click or line by line. Nothing moves without a lead."
    ),
    AllocationMode.AUTO: (
        "Tandem places new work as it arrives (within a minute), work returned to the queue, and the "
        "work of someone whose absence starts, and applies the plan itself. The people who receive "
        "work are told; the leads are told what nobody could take, and why."
    ),
    AllocationMode.PULL: (
        "Nobody is given work: each person presses “Take next” on the queue page and gets the most "
        "urgent request they are qualified for. When someone's absence starts, their not-started "
        "work goes back to the queue and the leads are told."
    ),
}


def mode_choices() -> list[tuple[str, str, str]]:
    """(value, label, explanation) of each mode, in order."""
    return [(mode.value, mode.label, MODE_HELP[mode]) for mode in AllocationMode]


def worked_unit(person: Person | None, slug: str) -> Unit:
    """The back-office unit named ``slug`` whose queue ``person`` works: 404 when unknown, 422 for
    a front-office unit, 403 when it is not theirs."""
    unit = Unit.objects.filter(slug=slug).first() if "\x00" not in slug else None
    if unit is None or person is None:
        raise NotFound(f"There is no unit {slug!r}; GET /api/units lists them.")
    if unit.side != Side.BACK:
        raise Invalid(f"{unit.name} is a front-office unit; it has no queue to take work from.",
                      errors={"unit": ["Not a back-office unit."]})
    if unit.pk not in work_unit_ids(person):
        raise Forbidden(f"You do not work {unit.name}'s queue; only its members (and people lent to it) take its work.")
    return unit


def qualified_service_ids(person: Person, unit: Unit) -> set[int]:
    """The unit's services whose most demanding required skill ``person`` holds at that level
    (a service that needs no skill: anyone) — the engine's rule (``planning.build_plan``)."""
    services = set(Service.objects.filter(unit=unit).values_list("pk", flat=True))
    needs = needed_skill(services)
    levels = skills_of([person]).get(person.pk, {})
    return {pk for pk in services if pk not in needs or levels.get(needs[pk][0], 0) >= needs[pk][1]}


@dataclass(frozen=True)
class Next:
    request: ServiceRequest
    urgency: float


def takeable(person: Person, unit: Unit) -> QuerySet[ServiceRequest]:
    """The unassigned, not-started requests of ``unit`` that ``person`` may take (Take next's
    rule: they can see it and hold its service's skill), each with its ``queue_due``."""
    return with_queue_due(
        requests_visible_to(person.user).filter(
            unit=unit, status__in=PLANNED_STATUSES, assignee__isnull=True,
            service_id__in=qualified_service_ids(person, unit),
        )
    )


def ranked_ids(person: Person, unit: Unit, now: datetime, order: QueueOrder | None = None) -> list[tuple[int, float]]:
    """(request id, urgency) of the requests ``person`` may take (``takeable``), in the unit's
    queue order (``order.QueueOrder``: what is due first, the older first on a tie); the urgency
    is the engine's weight at that placed due time, for display."""
    order = order or QueueOrder.of(unit)
    rows = list(takeable(person, unit).values_list("pk", DUE, "channel", "submitted_at"))
    if not rows:
        return []
    keyed = sorted(order.key(due, channel, submitted, pk) for pk, due, channel, submitted in rows)
    hours_left = np.array([(placed - now).total_seconds() / 3600.0 for placed, _, _ in keyed])
    weight = urgency(hours_left, np.full(len(keyed), PRIORITY, dtype=np.int64))
    return [(pk, float(w)) for (_, _, pk), w in zip(keyed, weight, strict=True)]


def ahead_of(sr: ServiceRequest, person: Person, now: datetime) -> list[str]:
    """The references of the requests ``person`` could take (``takeable``) that come before
    ``sr`` in its unit's queue order, first first: taking or giving ``sr`` to them instead jumps
    these. Empty when ``sr`` is not waiting in the queue (started, or waiting on someone)."""
    if sr.status not in PLANNED_STATUSES:
        return []
    unit = sr.unit
    order = QueueOrder.of(unit)
    due = with_queue_due(ServiceRequest.objects.filter(pk=sr.pk)).values_list(DUE, flat=True).first()
    mine = order.key(due or sr.agreed_due, sr.channel, sr.submitted_at, sr.pk)
    rows = takeable(person, unit).exclude(pk=sr.pk).values_list("pk", DUE, "channel", "submitted_at", "reference")
    references = {pk: reference for pk, _, _, _, reference in rows}
    before = sorted(k for k in (order.key(d, c, s, pk) for pk, d, c, s, _ in rows) if k < mine)
    return [references[pk] for _, _, pk in before]


def next_for_you(person: Person, unit: Unit, now: datetime, *, limit: int = 5) -> list[Next]:
    """The first ``limit`` requests ``person`` would get from "Take next", in that order."""
    top = ranked_ids(person, unit, now)[:limit]
    found = ServiceRequest.objects.select_related("service").in_bulk([pk for pk, _ in top])
    return [Next(found[pk], weight) for pk, weight in top if pk in found]


def units_to_place(now: datetime) -> list[Unit]:
    """Back-office units in auto mode with work Tandem has not placed yet: an unassigned,
    not-started request that no plan applied by Tandem looked at since its last status change
    (it arrived, or came back to the queue), or a loan that began or ended since Tandem's last
    placement. Cheap: a few indexed queries, whatever the number of units in other modes."""
    auto = Unit.objects.filter(side=Side.BACK, allocation_mode=AllocationMode.AUTO)
    if not auto.exists():
        return []
    seen = PlanLine.objects.filter(
        request=OuterRef("pk"), plan__status=PlanStatus.ACCEPTED, plan__created_by__isnull=True,
        plan__created_at__gte=OuterRef("status_changed_at"),
    )
    waiting = set(
        ServiceRequest.objects.filter(unit__in=auto, status__in=PLANNED_STATUSES, assignee__isnull=True)
        .exclude(Exists(seen))
        .values_list("unit_id", flat=True)
        .distinct()
    )
    last_placed = Plan.objects.filter(
        unit=OuterRef("unit_id"), status=PlanStatus.ACCEPTED, created_by__isnull=True
    ).order_by("-id").values("created_at")[:1]
    boundary = (Q(starts_at__lte=now) & Q(starts_at__gt=Subquery(last_placed))) | (
        Q(ends_at__lte=now) & Q(ends_at__gt=Subquery(last_placed))
    )
    moved = set(
        Loan.objects.agreed().filter(unit__in=auto).filter(boundary).values_list("unit_id", flat=True).distinct()
    )
    return list(auto.filter(pk__in=waiting | moved).order_by("pk"))


def may_take(person: Person | None, unit: Unit) -> bool:
    """Whether the queue page shows ``person`` the "Take next" button for ``unit``."""
    return person is not None and unit.allocation_mode == AllocationMode.PULL and unit.pk in work_unit_ids(person)
