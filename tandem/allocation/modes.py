"""Reads for a unit's allocation mode (docs/allocation.md, "Modes"); the changes are in actions.

- pull: a person's "next for you", the unit's unassigned, not-started requests they hold the
  service's skill for, most urgent first by the engine's own weights (``urgency``: priority and
  time left to the due time), then the earlier due time, then the older request.
- auto: the units whose work Tandem must place now: unassigned, not-started requests that no
  plan applied by Tandem has looked at since they arrived or came back to the queue, and loans
  that began or ended since Tandem's last placement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Exists, OuterRef, Q, Subquery

from tandem.allocation.models import Plan, PlanLine, PlanStatus
from tandem.allocation.planning import EXTERNAL_PRIORITY, INTERNAL_PRIORITY, PLANNED_STATUSES, needed_skill
from tandem.allocation.queries import skills_of
from tandem.catalogue.models import Service
from tandem.engines.allocation import urgency
from tandem.org.models import AllocationMode, Loan, Person, Side, Unit
from tandem.org.queries import work_unit_ids
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.work.models import Channel, ServiceRequest
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


def ranked_ids(person: Person, unit: Unit, now: datetime) -> list[tuple[int, float]]:
    """(request id, urgency) of the unassigned, not-started requests of ``unit`` that ``person``
    may take, best first."""
    rows = list(
        requests_visible_to(person.user)
        .filter(unit=unit, status__in=PLANNED_STATUSES, assignee__isnull=True,
                service_id__in=qualified_service_ids(person, unit))
        .values_list("pk", "resolve_by", "due_at", "channel")
    )
    if not rows:
        return []
    dues = [resolve_by or due_at for _, resolve_by, due_at, _ in rows]
    hours_left = np.array([(due - now).total_seconds() / 3600.0 if due else 1e6 for due in dues])
    priority = np.array([EXTERNAL_PRIORITY if ch == Channel.EXTERNAL else INTERNAL_PRIORITY for *_, ch in rows])
    weight = urgency(hours_left, priority)
    order = sorted(range(len(rows)), key=lambda i: (-weight[i], hours_left[i], rows[i][0]))
    return [(rows[i][0], float(weight[i])) for i in order]


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
