"""Replay a queue of arrivals through an allocation policy, hour by hour (pure; no Django).

Use::

    from tandem.engines.allocation.simulate import Arrival, SimPerson, World, POLICIES, replay
    world = World(people=[SimPerson("ana", {"payroll": 3}, hours=[1.0] * 40)],
                  arrivals=[Arrival("R-1", "payroll", 2, effort=1.5, at=0.3, due=8.0, priority=3)],
                  steps=40)
    result = replay(world, POLICIES["tandem"])
    result.within_due, result.mean_hours_to_resolution, result.utilisation_sd, result.done_at

Time runs in steps of one working hour of the unit (step ``t`` covers ``[t, t + 1)``);
``at`` and ``due`` are positions on that clock. In each step a person works
``hours[t]`` (0 when absent or off, 1 for a whole hour, a fraction for part of it) on their
queue, in order; an item someone has started stays with them. A policy decides who holds
what:

- ``tandem``: every ``plan_every`` steps the items nobody has started are re-planned with
  ``allocate`` (a person working now gets as capacity their working hours over the next
  ``plan_hours`` steps, less the effort left on what they have started; a person not working
  now gets none; an item counts at most ``plan_hours`` of effort, so that a long one can be
  placed; the item's current holder is its ``current_assignee``); queues are worked started
  first, then earliest due, then priority. Between plans, a person who runs out of work takes
  the most urgent item they are qualified for (one the plan left unplaced, else one waiting
  behind another item in someone else's queue), as a person in pull mode would.
- ``round_robin``: on arrival, the next qualified person in turn, working or not, whatever
  their queue; worked first in, first out.
- ``oldest_first_pull``: a working person with nothing left takes the oldest waiting item they
  are qualified for.

``Arrival.holder`` gives an item a holder from the start (open work at the start of a
forecast); ``Arrival.started`` marks it as begun (it stays with that holder).

Figures (``Result``): share of all items resolved by their due time (unresolved at the end
count as missed), the count of breaches (resolved late, or unresolved at the end and due by
then), mean working hours from arrival to resolution over resolved items, the backlog left at
the end (items and effort hours), and the spread of load: standard deviation across people of
utilisation (hours worked / hours working) and of hours worked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from tandem.engines.allocation.model import Id
from tandem.engines.allocation.model import Item as EngineItem
from tandem.engines.allocation.model import Person as EnginePerson
from tandem.engines.allocation.model import Problem as EngineProblem
from tandem.engines.allocation.solver import solve

EPS = 1e-9
#: The clock's origin when a plan needs real instants (only differences matter).
ORIGIN = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class SimPerson:
    id: Id
    skills: dict[str, float]
    hours: Sequence[float]  # working hours in each step, 0..1


@dataclass(frozen=True)
class Arrival:
    id: Id
    skill: str
    min_level: float
    effort: float  # working hours
    at: float  # arrival, on the working-hour clock
    due: float  # due instant, on the same clock
    priority: int = 3  # 1 (most important) .. 5
    holder: Id | None = None  # who holds it at ``at`` (open work at the start)
    started: bool = False


@dataclass(frozen=True)
class World:
    people: list[SimPerson]
    arrivals: list[Arrival]
    steps: int
    plan_hours: float = 8.0  # tandem: capacity horizon, working hours
    plan_every: int = 1  # tandem: re-plan every this many steps
    time_limit: float = 5.0  # tandem: seconds per plan
    method: str = "auto"  # tandem: the engine's method ("dual" is the fastest)


@dataclass
class State:
    """What a policy sees and changes: the world, and who holds what now."""

    world: World
    qualified: list[list[int]]  # item → indices of people qualified for it
    remaining: list[float]
    started: list[bool]
    holder: list[int | None]
    queues: list[list[int]]  # person → items they hold, in working order
    waiting: list[int]  # arrived, held by nobody
    turn: int = 0
    scratch: dict[str, object] = field(default_factory=dict)

    def hours(self, person: int, t: int) -> float:
        h = self.world.people[person].hours
        return float(h[t]) if 0 <= t < len(h) else 0.0

    def give(self, item: int, person: int) -> None:
        self.holder[item] = person
        self.queues[person].append(item)


@dataclass(frozen=True)
class Policy:
    """``arrive`` places a newly arrived item (default: it waits); ``plan`` runs at the start of
    every step after arrivals; ``refill`` gives a working person with an empty queue an item."""

    name: str
    arrive: Callable[[State, int, int], None] | None = None
    plan: Callable[[State, int], None] | None = None
    refill: Callable[[State, int, int], int | None] | None = None


@dataclass
class Result:
    items: int
    resolved: int
    within_due: float  # share of all items
    breaches: int
    mean_hours_to_resolution: float
    backlog_items: int
    backlog_hours: float
    utilisation_sd: float
    worked_hours_sd: float
    done_at: list[float | None]
    worked: list[float]

    def figures(self) -> dict[str, float]:
        return {
            "items": self.items,
            "resolved": self.resolved,
            "within_due": self.within_due,
            "breaches": self.breaches,
            "mean_hours_to_resolution": self.mean_hours_to_resolution,
            "backlog_items": self.backlog_items,
            "backlog_hours": self.backlog_hours,
            "utilisation_sd": self.utilisation_sd,
            "worked_hours_sd": self.worked_hours_sd,
        }


# --- policies -------------------------------------------------------------------------------------


def _round_robin_arrive(state: State, item: int, t: int) -> None:
    q = state.qualified[item]
    if not q:
        state.waiting.append(item)
        return
    n = len(state.world.people)
    pick = min(q, key=lambda i: (i - state.turn) % n)
    state.turn = (pick + 1) % n
    state.give(item, pick)


def _oldest_first_refill(state: State, person: int, t: int) -> int | None:
    arrivals = state.world.arrivals
    mine = [j for j in state.waiting if person in state.qualified[j]]
    if not mine:
        return None
    j = min(mine, key=lambda j: (arrivals[j].at, j))
    state.waiting.remove(j)
    return j


def _tandem_plan(state: State, t: int) -> None:
    world = state.world
    if t % max(1, world.plan_every):
        return
    unstarted = [j for q in state.queues for j in q if not state.started[j]] + state.waiting
    for q in state.queues:
        q[:] = [j for j in q if state.started[j]]
    state.waiting = []
    if not unstarted:
        return
    horizon = max(1, int(np.ceil(world.plan_hours)))
    people = []
    for i, p in enumerate(world.people):
        if state.hours(i, t) <= EPS:
            capacity = 0.0
        else:
            ahead = sum(state.hours(i, s) for s in range(t, t + horizon))
            capacity = max(ahead - sum(state.remaining[j] for j in state.queues[i]), 0.0)
        people.append(EnginePerson(i, p.skills, capacity))
    arrivals = world.arrivals
    items = [
        EngineItem(j, arrivals[j].skill, arrivals[j].min_level, min(max(state.remaining[j], 0.01), world.plan_hours),
                   ORIGIN + timedelta(hours=arrivals[j].due), arrivals[j].priority, state.holder[j])
        for j in unstarted
    ]
    plan = solve(EngineProblem(ORIGIN + timedelta(hours=t), people, items), time_limit=world.time_limit,
                 method=world.method, mip_rel_gap=0.01)
    for u in plan.unassigned:
        state.holder[int(u.item)] = None
        state.waiting.append(int(u.item))
    for item, who in plan.assignments:
        state.give(int(item), int(who))
    for q in state.queues:
        q.sort(key=lambda j: (not state.started[j], arrivals[j].due, arrivals[j].priority))


def _tandem_refill(state: State, person: int, t: int) -> int | None:
    """Between plans, a person who runs out of work takes the most urgent item they are
    qualified for: one the plan left unplaced, else one queued with someone else behind another
    item (not the next one they will start; the next plan sees the move)."""
    arrivals = state.world.arrivals

    def urgency(j: int) -> tuple[float, int, float]:
        return (arrivals[j].due, arrivals[j].priority, arrivals[j].at)

    mine = [j for j in state.waiting if person in state.qualified[j]]
    if mine:
        j = min(mine, key=urgency)
        state.waiting.remove(j)
        return j
    queued = [
        (j, other) for other, q in enumerate(state.queues) if other != person
        for j in q[1:] if not state.started[j] and person in state.qualified[j]
    ]
    if not queued:
        return None
    j, other = min(queued, key=lambda pair: urgency(pair[0]))
    state.queues[other].remove(j)
    return j


TANDEM = Policy("tandem", plan=_tandem_plan, refill=_tandem_refill)
ROUND_ROBIN = Policy("round_robin", arrive=_round_robin_arrive)
OLDEST_FIRST_PULL = Policy("oldest_first_pull", refill=_oldest_first_refill)
POLICIES: dict[str, Policy] = {p.name: p for p in (TANDEM, ROUND_ROBIN, OLDEST_FIRST_PULL)}


# --- the replay -----------------------------------------------------------------------------------


def _validate(world: World) -> None:
    ids = [p.id for p in world.people]
    if len(set(ids)) != len(ids):
        raise ValueError("Two people share an id; give each person their own.")
    for a in world.arrivals:
        if a.effort <= 0:
            raise ValueError(f"Item {a.id!r}: effort must be above 0 hours.")
        if a.holder is not None and a.holder not in ids:
            raise ValueError(f"Item {a.id!r}: holder {a.holder!r} is not one of the people.")
    if world.steps < 0:
        raise ValueError("steps must be 0 or more.")


def replay(world: World, policy: Policy) -> Result:
    """Run ``world`` for ``world.steps`` steps under ``policy``; see the module docstring."""
    _validate(world)
    people, arrivals = world.people, world.arrivals
    order = sorted(range(len(arrivals)), key=lambda j: (arrivals[j].at, j))
    index = {p.id: i for i, p in enumerate(people)}
    state = State(
        world=world,
        qualified=[[i for i, p in enumerate(people) if p.skills.get(a.skill, 0) >= a.min_level] for a in arrivals],
        remaining=[a.effort for a in arrivals],
        started=[False] * len(arrivals),
        holder=[None] * len(arrivals),
        queues=[[] for _ in people],
        waiting=[],
    )
    done_at: list[float | None] = [None] * len(arrivals)
    worked = np.zeros(len(people))
    present = np.zeros(len(people))
    nxt = 0
    for t in range(world.steps):
        while nxt < len(order) and arrivals[order[nxt]].at < t + 1:
            j = order[nxt]
            nxt += 1
            a = arrivals[j]
            if a.holder is not None:
                state.give(j, index[a.holder])
                state.started[j] = a.started
            elif policy.arrive is not None:
                policy.arrive(state, j, t)
            else:
                state.waiting.append(j)
        if policy.plan is not None:
            policy.plan(state, t)
        for i in range(len(people)):
            left = state.hours(i, t)
            present[i] += left
            while left > EPS:
                queue = state.queues[i]
                if not queue and policy.refill is not None:
                    taken = policy.refill(state, i, t)
                    if taken is not None:
                        state.give(taken, i)
                if not queue:
                    break
                j = queue[0]
                state.started[j] = True
                step = min(left, state.remaining[j])
                state.remaining[j] -= step
                left -= step
                worked[i] += step
                if state.remaining[j] <= EPS:
                    done_at[j] = max(t + 1 - left, arrivals[j].at)
                    queue.pop(0)
    end = float(world.steps)
    resolved = [j for j in range(len(arrivals)) if done_at[j] is not None]
    finished = {j: float(done_at[j] or 0.0) for j in resolved}
    met = sum(1 for j in resolved if finished[j] <= arrivals[j].due + EPS)
    late = len(resolved) - met
    open_late = sum(1 for j in range(len(arrivals)) if done_at[j] is None and arrivals[j].due <= end)
    open_items = [j for j in range(len(arrivals)) if done_at[j] is None]
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(present > 0, worked / np.where(present > 0, present, 1.0), 0.0)
    active = present > 0
    return Result(
        items=len(arrivals),
        resolved=len(resolved),
        within_due=met / len(arrivals) if arrivals else 1.0,
        breaches=late + open_late,
        mean_hours_to_resolution=float(np.mean([finished[j] - arrivals[j].at for j in resolved])) if resolved else 0.0,
        backlog_items=len(open_items),
        backlog_hours=float(sum(state.remaining[j] for j in open_items)),
        utilisation_sd=float(np.std(utilisation[active])) if active.any() else 0.0,
        worked_hours_sd=float(np.std(worked)) if len(people) else 0.0,
        done_at=done_at,
        worked=[float(w) for w in worked],
    )


def replay_all(
    world: World, policies: Sequence[Policy] = (TANDEM, ROUND_ROBIN, OLDEST_FIRST_PULL)
) -> dict[str, Result]:
    return {p.name: replay(world, p) for p in policies}
