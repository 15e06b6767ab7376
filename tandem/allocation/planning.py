"""From a unit's open work to the allocation engine's problem, and back (no writes here).

Items are the unit's open requests nobody has started (new, assigned, reopened). Each needs
the skill its service requires at the highest level (none: any member may do it), takes the
service's effort (``queries.service_efforts``), and is due when the unit's queue order places
it (``order.QueueOrder``: the earlier of the promise and the agreement, less the head start the
unit may give customer work); every item has the same priority, so the channel counts only
through that explicit head start. People are the unit's workers with their skills and
their free hours over the next working day: their working time then, less the effort of the
work they have started (the requests in the plan are not counted twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tandem.allocation.order import PRIORITY, QueueOrder, with_queue_due
from tandem.allocation.queries import (
    committed_by,
    hours_available,
    skills_of,
    window_end,
    workers_of,
)
from tandem.catalogue.models import ServiceSkill
from tandem.engines import allocation
from tandem.org.models import Person, Unit
from tandem.work.effort import Effort, effort_of, service_efforts
from tandem.work.models import ServiceRequest, Status

#: Requests a plan may give to someone: open and not started yet.
PLANNED_STATUSES = (Status.NEW, Status.ASSIGNED, Status.REOPENED)
#: The pseudo-skill of a service that needs no particular skill: every worker holds it.
ANY_SKILL = "(any member)"
#: Seconds the engine may spend; a unit's plan is small (hundreds of items), solved in well under one.
TIME_LIMIT = 5.0


@dataclass
class Draft:
    unit: Unit
    now: datetime
    requests: list[ServiceRequest]
    people: list[Person]
    efforts: dict[int, Effort]
    result: allocation.Plan
    order: QueueOrder

    def proposed(self) -> dict[int, int]:
        """Request id → person id the engine chose."""
        return {int(item): int(person) for item, person in self.result.assignments}

    def reasons(self) -> dict[int, str]:
        return {int(u.item): u.reason for u in self.result.unassigned}


def needed_skill(service_ids: set[int]) -> dict[int, tuple[str, int]]:
    """Service id → (skill name, min level) of its most demanding required skill."""
    needs: dict[int, tuple[str, int]] = {}
    rows = ServiceSkill.objects.filter(service_id__in=service_ids).values_list(
        "service_id", "skill__name", "min_level"
    ).order_by("service_id", "-min_level", "skill__name")
    for service_id, name, level in rows:
        needs.setdefault(service_id, (name, level))
    return needs


def build_plan(unit: Unit, now: datetime, *, time_limit: float = TIME_LIMIT) -> Draft:
    """Ask the engine who should hold each open, not-started request of ``unit`` now."""
    order = QueueOrder.of(unit)
    requests = list(
        with_queue_due(ServiceRequest.objects.filter(unit=unit, status__in=PLANNED_STATUSES))
        .select_related("service", "assignee__user")
        .order_by("id")
    )
    efforts = service_efforts(unit, now)
    needs = needed_skill({sr.service_id for sr in requests})
    workers = workers_of(unit, now, window_end(unit, now, 1), started_only=True)
    people = [person for person, _ in workers]
    levels = skills_of(people)
    started = committed_by(people, efforts, (Status.IN_PROGRESS,), unit)
    engine_people = []
    for person, windows in workers:
        hours = hours_available(person, windows) or 0.0
        held = started.get(person.pk, (0.0, 0))[0]
        skills: dict[str, float] = {name: float(level) for name, level in levels.get(person.pk, {}).items()}
        skills[ANY_SKILL] = 1.0
        engine_people.append(allocation.Person(person.pk, skills, max(0.0, hours - held)))
    items = []
    for sr in requests:
        skill, level = needs.get(sr.service_id, (ANY_SKILL, 1))
        items.append(
            allocation.Item(
                sr.pk,
                skill,
                float(level),
                effort_of(efforts, sr.service_id).hours,
                order.key_of(sr)[0],
                PRIORITY,
                sr.assignee_id,
            )
        )
    result = allocation.allocate(allocation.Problem(now, engine_people, items), time_limit=time_limit)
    return Draft(unit, now, requests, people, efforts, result, order)
