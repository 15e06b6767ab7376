"""Reads for allocation: effort per service, each person's capacity, the skills matrix, plans.

Effort per service is learned from history (``tandem.work.effort``: the definition the
promise quotes use). Capacity is a person's working time
(``calendar_for_person``: their pattern within the unit's calendar, minus absences) over the
next working days of their unit, less what they already hold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet

from tandem.agreements.queries import calendar_for_person, calendar_for_unit
from tandem.allocation.models import Plan
from tandem.catalogue.models import Service, ServiceSkill
from tandem.org.models import Absence, Loan, Person, PersonSkill, Role, Side, Unit
from tandem.org.queries import AnyUser, is_admin, leads_unit, person_of
from tandem.refusal import Forbidden, Invalid, NotFound
from tandem.work.effort import Effort, effort_of, service_efforts
from tandem.work.models import ServiceRequest, Status

#: The capacity page and API look this many working days ahead unless asked otherwise.
DEFAULT_DAYS = 5
MAX_DAYS = 30
#: What counts as already committed: work a person holds and has not finished.
COMMITTED_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS)


def window_end(unit: Unit, now: datetime, days: int) -> datetime:
    """The end of the ``days``-th working day of the unit from ``now`` on (today counts when the
    unit still has working time left today)."""
    cal = calendar_for_unit(unit)
    day = now.astimezone(cal.zone).date()
    found = 0
    for _ in range(days * 7 + 31):  # enough for a long closure; a unit never open stops here
        start = datetime.combine(day, time(), tzinfo=cal.zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=cal.zone)
        if cal.between(max(start, now), end) > 0:
            found += 1
            if found == days:
                return end
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=cal.zone)


Window = tuple[datetime, datetime]


def workers_of(
    unit: Unit, start: datetime, end: datetime, *, started_only: bool = False
) -> list[tuple[Person, list[Window]]]:
    """The active people who work the unit's queue in ``[start, end)``, each with the part of
    that window they work for it: its members all of it; people lent to it by an agreed loan
    the part the loan covers (``started_only``: only loans already running at ``start``, the
    ones whose person can be given work now)."""
    members = Person.objects.filter(unit=unit, user__is_active=True).select_related("user", "unit")
    rows: list[tuple[Person, list[Window]]] = [(person, [(start, end)]) for person in members]
    loans = Loan.objects.agreed().filter(unit=unit, starts_at__lt=end, ends_at__gt=start, person__user__is_active=True)
    if started_only:
        loans = loans.filter(starts_at__lte=start)
    lent: dict[int, tuple[Person, list[Window]]] = {}
    for loan in loans.select_related("person__user", "person__unit").order_by("starts_at"):
        window = (max(loan.starts_at, start), min(loan.ends_at, end))
        lent.setdefault(loan.person_id, (loan.person, []))[1].append(window)
    return rows + list(lent.values())


@dataclass
class PersonCapacity:
    person: Person
    skills: dict[str, int]  # skill name → level
    capacity_hours: float
    committed_hours: float
    committed_count: int
    no_working_time: bool = False
    absences: list[Absence] = field(default_factory=list)  # those overlapping the window

    @property
    def free_hours(self) -> float:
        return max(0.0, self.capacity_hours - self.committed_hours)

    @property
    def used_share(self) -> float:
        """Committed over capacity, 0..1 (1 also when there is no capacity at all)."""
        if self.capacity_hours <= 0:
            return 1.0 if self.committed_hours > 0 else 0.0
        return min(1.0, self.committed_hours / self.capacity_hours)

    @property
    def used_percent(self) -> int:
        return round(self.used_share * 100)


@dataclass
class UnitCapacity:
    unit: Unit
    now: datetime
    until: datetime
    days: int
    people: list[PersonCapacity]
    efforts: dict[int, Effort]
    services: list[Service]
    skill_names: list[str] = field(default_factory=list)

    def matrix(self) -> list[tuple[Person, list[int | None]]]:
        """People × skills: each person's level in each skill of ``skill_names`` (None: not held)."""
        return [(row.person, [row.skills.get(name) for name in self.skill_names]) for row in self.people]

    def service_rows(self) -> list[tuple[Service, Effort]]:
        return [(s, effort_of(self.efforts, s.pk)) for s in self.services]

    @property
    def capacity_hours(self) -> float:
        return sum(row.capacity_hours for row in self.people)

    @property
    def committed_hours(self) -> float:
        return sum(row.committed_hours for row in self.people)

    @property
    def free_hours(self) -> float:
        return sum(row.free_hours for row in self.people)


def skills_of(people: list[Person]) -> dict[int, dict[str, int]]:
    levels: dict[int, dict[str, int]] = defaultdict(dict)
    for person_id, name, level in PersonSkill.objects.filter(person__in=people).values_list(
        "person_id", "skill__name", "level"
    ):
        levels[person_id][name] = level
    return levels


def committed_by(
    people: list[Person], efforts: dict[int, Effort], statuses: tuple[str, ...], unit: Unit
) -> dict[int, tuple[float, int]]:
    """Person id → (hours, count) of the open requests of ``unit`` they hold in ``statuses``."""
    hours: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    rows = ServiceRequest.objects.filter(unit=unit, assignee__in=people, status__in=statuses).values_list(
        "assignee_id", "service_id"
    )
    for person_id, service_id in rows:
        hours[person_id] += effort_of(efforts, service_id).hours
        count[person_id] += 1
    return {pk: (hours[pk], count[pk]) for pk in hours}


def hours_available(person: Person, windows: list[Window]) -> float | None:
    """The person's hours for requests within ``windows`` (their working time times their
    ``request_share``); None when they have no working time."""
    try:
        cal = calendar_for_person(person)
    except Invalid:
        return None
    return sum(cal.between(a, b) for a, b in windows) * person.request_share / 3600.0


def unit_capacity(unit: Unit, now: datetime, days: int = DEFAULT_DAYS) -> UnitCapacity:
    """Capacity, committed and free hours of each person of a back-office unit."""
    efforts = service_efforts(unit, now)
    until = window_end(unit, now, days)
    workers = workers_of(unit, now, until)
    people = [person for person, _ in workers]
    levels = skills_of(people)
    held = committed_by(people, efforts, COMMITTED_STATUSES, unit)
    away: dict[int, list[Absence]] = defaultdict(list)
    for absence in Absence.objects.filter(
        person__in=people, starts_on__lte=until.date(), ends_on__gte=now.date()
    ).order_by("starts_on"):
        away[absence.person_id].append(absence)
    rows = []
    for person, windows in workers:
        hours = hours_available(person, windows)
        committed, count = held.get(person.pk, (0.0, 0))
        rows.append(
            PersonCapacity(
                person, levels.get(person.pk, {}), hours or 0.0, committed, count, hours is None, away[person.pk]
            )
        )
    services = list(Service.objects.filter(unit=unit).order_by("name"))
    needed = set(ServiceSkill.objects.filter(service__unit=unit).values_list("skill__name", flat=True))
    names = sorted(needed | {name for row in rows for name in row.skills})
    return UnitCapacity(unit, now, until, days, rows, efforts, services, names)


# --- who may read and plan ------------------------------------------------------------------------


def planned_units_visible_to(user: AnyUser | None) -> QuerySet[Unit]:
    """Back-office units whose capacity and plans this user may see: every one for an
    administrator, a lead's own unit, none otherwise."""
    person = person_of(user)
    qs = Unit.objects.filter(side=Side.BACK).order_by("name")
    if is_admin(person):
        return qs
    if person is not None and person.role == Role.LEAD:
        return qs.filter(pk=person.unit_id)
    return qs.none()


def planned_unit(user: AnyUser | None, slug: str) -> Unit:
    """The unit named ``slug`` if this user leads it (or administers): 404 when unknown, 422 for a
    front-office unit, 403 when it is not theirs."""
    unit = Unit.objects.filter(slug=slug).first()
    if unit is None:
        raise NotFound(f"There is no unit {slug!r}; GET /api/units lists them.")
    if unit.side != Side.BACK:
        raise Invalid(
            f"{unit.name} is a front-office unit; capacity and plans are kept for back-office units.",
            errors={"unit": ["Not a back-office unit."]},
        )
    if not leads_unit(person_of(user), unit.pk):
        raise Forbidden(f"Only a lead of {unit.name} or an administrator sees its capacity and plans.")
    return unit


def plans_visible_to(user: AnyUser | None) -> QuerySet[Plan]:
    """Plans of the units this user leads (every unit's for an administrator)."""
    return Plan.objects.filter(unit__in=planned_units_visible_to(user)).select_related(
        "unit", "created_by__user", "accepted_by__user"
    )


def latest_plan(unit: Unit) -> Plan | None:
    """The unit's newest plan (ids grow with every proposal), whatever its status."""
    return Plan.objects.filter(unit=unit).select_related("unit", "created_by__user", "accepted_by__user").order_by(
        "-id"
    ).first()


def plan_lines(plan: Plan) -> QuerySet:
    return plan.lines.select_related(
        "request__service", "request__assignee__user", "person__user", "was_assignee__user"
    ).order_by("due", "id")


# --- lending ----------------------------------------------------------------------------------------


def loans_visible_to(user: AnyUser | None) -> QuerySet[Loan]:
    """Every loan for an administrator; a lead's unit's (borrowed into it, or lent from it); a
    person's own loans; nothing otherwise."""
    person = person_of(user)
    qs = Loan.objects.select_related(
        "person__user", "person__unit", "unit", "agreed_by_lender__user", "agreed_by_borrower__user",
        "created_by__user",
    )
    if person is None:
        return qs.none()
    if is_admin(person):
        return qs
    scope = Q(person=person)
    if person.role == Role.LEAD:
        scope |= Q(unit_id=person.unit_id) | Q(person__unit_id=person.unit_id)
    return qs.filter(scope)


@dataclass
class Candidate:
    person: Person
    matches: list[tuple[str, int]]  # (skill name, level) of the unit's needs they meet
    hours: float  # their working hours in the window


def loan_candidates(
    unit: Unit, now: datetime, days: int = DEFAULT_DAYS, *, until: datetime | None = None
) -> list[Candidate]:
    """Front-office people who hold a skill the unit's services need at the level they need it,
    not lent (or asked for) elsewhere in the window (``now`` to the end of the ``days``-th working
    day, or to ``until``), with their working hours in it: most matching skills first, then most
    hours."""
    until = until or window_end(unit, now, days)
    needs: dict[int, int] = {}
    for skill_id, level in ServiceSkill.objects.filter(service__unit=unit, service__active=True).values_list(
        "skill_id", "min_level"
    ):
        needs[skill_id] = min(level, needs.get(skill_id, level))
    if not needs:
        return []
    busy = Loan.objects.filter(ended_at__isnull=True, starts_at__lt=until, ends_at__gt=now).values("person_id")
    holders: dict[int, list[tuple[str, int]]] = defaultdict(list)
    rows = PersonSkill.objects.filter(
        skill_id__in=needs, person__unit__side=Side.FRONT, person__user__is_active=True
    ).exclude(person_id__in=busy).values_list("person_id", "skill_id", "skill__name", "level")
    for person_id, skill_id, name, level in rows:
        if level >= needs[skill_id]:
            holders[person_id].append((name, level))
    people = Person.objects.filter(pk__in=holders).select_related("user", "unit")
    found = []
    for person in people:
        hours = hours_available(person, [(now, until)])
        if hours:
            found.append(Candidate(person, sorted(holders[person.pk]), hours))
    return sorted(found, key=lambda c: (-len(c.matches), -c.hours, c.person.display_name))
