"""A back-office unit's queue in the simulation's terms (``tandem.engines.allocation.simulate``),
and the lending suggestion built on it.

``Clock`` turns a window of real time into the simulation's clock: one step per hour of the
window in which the unit's calendar has working time (nights, weekends and closures are left
out), so positions are working hours. ``presence`` gives a person's working hours in each step
from their own calendar (pattern, absences: ``calendar_for_person``), cut to the windows they
work for the unit (a loan's). ``items_of`` makes simulation items of requests: the skill and
level their service needs (``planning.needed_skill``), the service's effort
(``queries.service_efforts``), due when the unit's queue order places them
(``order.QueueOrder``, as plans and Take next do: the earlier of promise and agreement, less
any head start the unit gives customer work), all at the same priority.

``forecast`` (``loan_suggestions`` calls it for the pages and the API) compares the unit's demand over the next
working days (its open backlog and the arrivals its recent weekly rate per service predicts)
with its capacity, and simulates the queue with and without each front-office candidate lent
for the window.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from tandem.agreements.capacity import capacity_by_day
from tandem.agreements.queries import calendar_for_person, calendar_for_unit
from tandem.allocation.order import PRIORITY, QueueOrder, with_queue_due
from tandem.allocation.planning import ANY_SKILL, needed_skill
from tandem.allocation.queries import (
    COMMITTED_STATUSES,
    DEFAULT_DAYS,
    Candidate,
    hours_available,
    loan_candidates,
    planned_unit,
    skills_of,
    window_end,
    workers_of,
)
from tandem.demand.queries import expected_by_day
from tandem.engines.allocation import simulate
from tandem.engines.worktime import to_epoch
from tandem.org.models import Person, Unit
from tandem.org.queries import AnyUser
from tandem.refusal import Invalid, Refused
from tandem.work.effort import Effort, effort_of, service_efforts
from tandem.work.models import Channel, ServiceRequest, Status

HOUR = 3600
#: Open requests someone can work on now (waiting ones wait on somebody else).
WORKABLE_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED)
#: The weekly arrival rate per service is the mean of this many recent weeks.
RATE_WEEKS = 4
#: At most this many candidates are simulated (the best matches first).
MAX_SUGGESTIONS = 3
#: The forecast's simulation re-plans every PLAN_EVERY working hours, a working day ahead.
PLAN_EVERY = 4
PLAN_HOURS = 8.0


class Clock:
    """The working hours of ``unit`` in ``[start, end)`` as simulation steps."""

    def __init__(self, unit: Unit, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        cal = calendar_for_unit(unit)
        first = to_epoch(start)
        hours = max(0, int(np.ceil((to_epoch(end) - first) / HOUR)))
        starts = first + HOUR * np.arange(hours, dtype=np.int64)
        ends = np.minimum(starts + HOUR, to_epoch(end))
        open_ = cal.between_many(starts, ends) > 0 if hours else np.zeros(0, dtype=bool)
        self.starts = starts[open_]
        self.ends = ends[open_]
        self._starts_list = [int(s) for s in self.starts]

    @property
    def steps(self) -> int:
        return len(self._starts_list)

    def position(self, at: datetime) -> float:
        """Where ``at`` falls on the clock: within a step, its fraction; in a gap, the next step."""
        x = to_epoch(at)
        k = bisect.bisect_right(self._starts_list, x) - 1
        if k < 0:
            return 0.0
        if x < int(self.ends[k]):
            return k + (x - self._starts_list[k]) / HOUR
        return float(k + 1)

    def presence(self, person: Person, windows: Iterable[tuple[datetime, datetime]] | None = None,
                 share: float = 1.0) -> list[float]:
        """The person's hours for requests in each step (within ``windows``): their working time
        times their ``request_share``, times ``share``."""
        try:
            cal = calendar_for_person(person)
        except Invalid:
            return [0.0] * self.steps
        total = np.zeros(self.steps)
        for a, b in windows if windows is not None else [(self.start, self.end)]:
            lo = np.maximum(self.starts, to_epoch(a))
            hi = np.maximum(np.minimum(self.ends, to_epoch(b)), lo)
            if self.steps:
                total += cal.between_many(lo, hi)
        return [float(v) * share * person.request_share / HOUR for v in total]


def items_of(
    requests: Iterable[ServiceRequest], efforts: dict[int, Effort], clock: Clock, *, at: datetime | None = None,
    holders: set[int] | None = None, order: QueueOrder,
) -> list[simulate.Arrival]:
    """Simulation items of ``requests``: arriving when submitted (or at ``at`` for work already
    open), held by their assignee when ``holders`` (the people simulated) includes them, due
    where ``order`` places them (requests loaded ``with_queue_due`` count their promise)."""
    rows = list(requests)
    needs = needed_skill({sr.service_id for sr in rows})
    items = []
    for sr in rows:
        skill, level = needs.get(sr.service_id, (ANY_SKILL, 1))
        holder = sr.assignee_id if holders is not None and sr.assignee_id in holders else None
        items.append(
            simulate.Arrival(
                sr.pk, skill, float(level), effort_of(efforts, sr.service_id).hours,
                clock.position(at or sr.submitted_at), clock.position(order.key_of(sr)[0]),
                PRIORITY, holder, holder is not None and sr.status == Status.IN_PROGRESS,
            )
        )
    return items


def sim_people(
    workers: list[tuple[Person, list[tuple[datetime, datetime]]]], clock: Clock
) -> list[simulate.SimPerson]:
    levels = skills_of([p for p, _ in workers])
    out = []
    for person, windows in workers:
        skills: dict[str, float] = {k: float(v) for k, v in levels.get(person.pk, {}).items()}
        skills[ANY_SKILL] = 1.0
        out.append(simulate.SimPerson(person.pk, skills, clock.presence(person, windows)))
    return out


# --- the lending forecast ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the simulated queue looks like at the end of the window."""

    breaches: int  # requests resolved after their due time, or still open and due by the end
    backlog_items: int
    backlog_hours: float
    resolved: int = 0
    #: Working hours from arrival (or now, for work already open) to resolution, the mean over the
    #: requests resolved in the window: how long a promise made now would have to be.
    mean_hours: float = 0.0

    @classmethod
    def of(cls, result: simulate.Result) -> Outcome:
        return cls(result.breaches, result.backlog_items, round(result.backlog_hours, 1), result.resolved,
                   round(result.mean_hours_to_resolution, 1))


@dataclass
class Suggestion:
    person: Person
    matches: list[tuple[str, int]]
    hours: float  # their working hours in the window
    spare_hours: float  # less the work they hold; what the loan brings
    starts_at: datetime
    ends_at: datetime
    outcome: Outcome  # with the loan
    without: Outcome  # the same simulation without it

    @property
    def avoided(self) -> int:
        """Breaches the loan avoids (negative: it makes things worse)."""
        return self.without.breaches - self.outcome.breaches


@dataclass
class Forecast:
    unit: Unit
    now: datetime
    until: datetime
    days: int
    backlog_items: int
    backlog_hours: float
    expected_items: int
    expected_hours: float
    capacity_hours: float
    daily: list[tuple[date, float, int]]  # (day, working hours, people working)
    without: Outcome
    suggestions: list[Suggestion]

    @property
    def demand_hours(self) -> float:
        return self.backlog_hours + self.expected_hours

    @property
    def short(self) -> bool:
        """The forecast demand exceeds the unit's capacity over the window."""
        return self.demand_hours > self.capacity_hours


def expected_arrivals(
    unit: Unit, now: datetime, clock: Clock, efforts: dict[int, Effort], order: QueueOrder
) -> list[simulate.Arrival]:
    """The arrivals expected over the clock's window: each service's stored forecast
    (``tandem.demand``: its expected arrivals day by day, spread over each day's working hours),
    else its recent weekly rate spread evenly; each due as many working hours after arrival as
    that service's recent requests were (the median), less the head start ``order`` gives the
    service's usual channel."""
    since = now - timedelta(weeks=RATE_WEEKS)
    cal = calendar_for_unit(unit)
    sampled_hours = cal.between(since, now) / HOUR
    if sampled_hours <= 0 or clock.steps == 0:
        return []
    recent = ServiceRequest.objects.filter(unit=unit, submitted_at__gte=since, submitted_at__lte=now).values_list(
        "service_id", "submitted_at", "resolve_by", "due_at", "channel"
    )
    by_service: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for service_id, submitted, resolve_by, due_at, channel in recent:
        by_service[service_id].append((cal.between(submitted, resolve_by or due_at) / HOUR, channel))
    needs = needed_skill(set(by_service))
    step_days = [datetime.fromtimestamp(int(s), cal.zone).date() for s in clock.starts]
    stored = expected_by_day(sorted(by_service), step_days[0], step_days[-1])
    items = []
    for service_id, rows in sorted(by_service.items()):
        skill, level = needs.get(service_id, (ANY_SKILL, 1))
        lead = statistics.median(h for h, _ in rows)
        external = sum(1 for _, c in rows if c == Channel.EXTERNAL) * 2 > len(rows)
        head_start = order.head_start(Channel.EXTERNAL if external else Channel.INTERNAL)
        for k, at in enumerate(_arrival_steps(step_days, stored.get(service_id), len(rows) / sampled_hours)):
            items.append(
                simulate.Arrival(
                    f"expected-{service_id}-{k}", skill, float(level), effort_of(efforts, service_id).hours, at,
                    at + lead - head_start, PRIORITY,
                )
            )
    return items


def _arrival_steps(step_days: list[date], by_day: dict[date, float] | None, hourly: float) -> list[float]:
    """Where on the clock the expected arrivals fall: the expected count per step (a day's
    forecast shared among its working hours, or the hourly rate), an arrival wherever the running
    total passes a half (k + 0.5), at the middle of its step."""
    steps = len(step_days)
    if by_day:
        per_day: dict[date, int] = defaultdict(int)
        for d in step_days:
            per_day[d] += 1
        rate = np.array([by_day.get(d, 0.0) / per_day[d] for d in step_days])
    else:
        rate = np.full(steps, hourly)
    total = np.cumsum(rate)
    marks = np.arange(0.5, total[-1], 1.0) if steps and total[-1] >= 0.5 else np.zeros(0)
    return [float(k) + 0.5 for k in np.searchsorted(total, marks, side="right")]


def held_hours(people: list[Person], now: datetime) -> dict[int, float]:
    """Person id → effort hours of the work they hold (assigned or in progress), any unit."""
    held: dict[int, float] = defaultdict(float)
    rows = ServiceRequest.objects.filter(assignee__in=people, status__in=COMMITTED_STATUSES).values_list(
        "assignee_id", "unit_id", "service_id"
    )
    efforts: dict[int, dict[int, Effort]] = {}
    for person_id, unit_id, service_id in rows:
        if unit_id not in efforts:
            efforts[unit_id] = service_efforts(Unit.objects.get(pk=unit_id), now)
        held[person_id] += effort_of(efforts[unit_id], service_id).hours
    return held


def open_work(unit: Unit) -> list[ServiceRequest]:
    """The unit's open requests someone can work on now."""
    return list(
        with_queue_due(ServiceRequest.objects.filter(unit=unit, is_open=True, status__in=WORKABLE_STATUSES)).only(
            "id", "service_id", "assignee_id", "status", "channel", "submitted_at", "resolve_by", "due_at"
        )
    )


@dataclass
class Scene:
    """The unit's queue from ``now`` to ``until`` in the simulation's terms: its people, its open
    work and the arrivals its stored forecast expects. Built once; ``run`` simulates it with
    extra (lent) people, as often as there are candidates to weigh."""

    unit: Unit
    now: datetime
    until: datetime
    clock: Clock
    workers: list[tuple[Person, list[tuple[datetime, datetime]]]]
    people: list[simulate.SimPerson]
    backlog: list[simulate.Arrival]
    expected: list[simulate.Arrival]
    method: str = "dual"

    def run(self, extra: list[simulate.SimPerson]) -> simulate.Result:
        world = simulate.World(self.people + extra, self.backlog + self.expected, self.clock.steps,
                               plan_hours=PLAN_HOURS, plan_every=PLAN_EVERY, time_limit=2.0, method=self.method)
        return simulate.replay(world, simulate.TANDEM)

    def lent(self, person: Person, skills: dict[str, int], spare: float, hours: float,
             windows: list[tuple[datetime, datetime]] | None = None) -> simulate.SimPerson:
        """``person`` lent for ``windows`` (the whole scene by default), giving ``spare`` of their
        ``hours`` there."""
        levels: dict[str, float] = {k: float(v) for k, v in skills.items()}
        levels[ANY_SKILL] = 1.0
        share = spare / hours if hours else 0.0
        return simulate.SimPerson(f"lent-{person.pk}", levels, self.clock.presence(person, windows, share=share))

    def with_each(self, candidates: list[Candidate],
                  windows: list[tuple[datetime, datetime]] | None = None) -> list[tuple[Candidate, float, Outcome]]:
        """The scene run once with each candidate lent for ``windows`` (the whole scene by
        default) for their spare hours (their hours less the work they hold now), in the
        candidates' order, skipping those with none to spare: (candidate, spare hours, outcome)
        for the first ``MAX_SUGGESTIONS``. The lending suggestions and the four-week plan's
        proposals both ask this."""
        held = held_hours([c.person for c in candidates], self.now)
        levels = skills_of([c.person for c in candidates])
        out: list[tuple[Candidate, float, Outcome]] = []
        for c in candidates:
            spare = max(0.0, c.hours - held.get(c.person.pk, 0.0))
            if spare <= 0:
                continue
            lent = self.lent(c.person, levels.get(c.person.pk, {}), spare, c.hours, windows)
            out.append((c, spare, Outcome.of(self.run([lent]))))
            if len(out) >= MAX_SUGGESTIONS:
                break
        return out


def scene(unit: Unit, now: datetime, until: datetime, *, method: str = "dual",
          backlog: list[ServiceRequest] | None = None) -> Scene:
    """See ``Scene``. ``backlog``: the open work at ``now`` (default: ``open_work``)."""
    clock = Clock(unit, now, until)
    efforts = service_efforts(unit, now)
    workers = workers_of(unit, now, until)
    open_now = open_work(unit) if backlog is None else backlog
    order = QueueOrder.of(unit)
    backlog_items = items_of(open_now, efforts, clock, at=now, holders={p.pk for p, _ in workers}, order=order)
    expected = expected_arrivals(unit, now, clock, efforts, order)
    return Scene(unit, now, until, clock, workers, sim_people(workers, clock), backlog_items, expected, method)


def forecast(
    unit: Unit, now: datetime, days: int, *, method: str = "dual", backlog: list[ServiceRequest] | None = None
) -> Forecast:
    """See the module docstring. ``backlog``: the open work at ``now`` (default: ``open_work``;
    a replay of the past gives the work that was open then)."""
    until = window_end(unit, now, days)
    world = scene(unit, now, until, method=method, backlog=backlog)
    capacity = sum(hours_available(person, windows) or 0.0 for person, windows in world.workers)
    local = now.astimezone(calendar_for_unit(unit).zone).date()
    last = (until - timedelta(seconds=1)).astimezone(calendar_for_unit(unit).zone).date()
    daily = [(d, s / HOUR, n) for d, (s, n) in sorted(capacity_by_day(unit, local, last).items())]
    without = Outcome.of(world.run([]))
    result = Forecast(
        unit, now, until, days, len(world.backlog), round(sum(a.effort for a in world.backlog), 1),
        len(world.expected), round(sum(a.effort for a in world.expected), 1), round(capacity, 1), daily, without, [],
    )
    if not result.short:
        return result
    for c, spare, outcome in world.with_each(loan_candidates(unit, now, days)):
        result.suggestions.append(
            Suggestion(c.person, c.matches, round(c.hours, 1), round(spare, 1), now, until, outcome, without)
        )
    result.suggestions.sort(key=lambda s: (s.outcome.breaches, s.outcome.backlog_hours, s.person.display_name))
    return result


#: Lending suggestions look this many working days ahead at most.
MAX_SUGGESTION_DAYS = 20

def loan_suggestions(actor: AnyUser | None, unit: Unit | str, now: datetime, days: int = DEFAULT_DAYS) -> Forecast:
    """The unit's forecast over the next ``days`` working days (open backlog and the arrivals
    its recent weekly rate predicts, against its capacity) and, when the demand exceeds the
    capacity, front-office people to borrow with the simulated effect of each loan
    (``forecast``). For the unit's leads and administrators: 404 for an unknown
    unit, 422 for a front-office one, 403 for anyone else, 400 for ``days`` out of 1..20."""
    unit = planned_unit(actor, unit if isinstance(unit, str) else unit.slug)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_SUGGESTION_DAYS:
        raise Refused(
            f"days must be a whole number of working days from 1 to {MAX_SUGGESTION_DAYS}; got {days!r}.",
            errors={"days": [f"From 1 to {MAX_SUGGESTION_DAYS}."]},
        )
    return forecast(unit, now, days)
