"""The allocation engine: hard rules always hold, the bound is a real bound, the objective's
tiers behave as documented, bad input is refused with messages naming field and index."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tandem.engines.allocation import (
    AllocationInputError,
    Item,
    Person,
    Plan,
    Problem,
    allocate,
    fairness_penalty,
    plan_to_json,
    problem_from_json,
    urgency,
)
from tandem.engines.allocation import dual as dual_method
from tandem.engines.allocation.model import STAY_BONUS, Id
from tandem.engines.allocation.pairs import build, lagrangian_bound
from tandem.engines.allocation.synthetic import generate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def item(iid: str, skill: str = "payroll", level: float = 1, effort: float = 1.0, due_hours: float = 24,
         priority: int = 3, holder: str | None = None) -> Item:
    return Item(iid, skill, level, effort, NOW + timedelta(hours=due_hours), priority, holder)


def value_of(problem: Problem, assignments: dict[Id, Id]) -> float:
    """The objective recomputed from its definition, independently of the engine's arrays."""
    people = {p.id: p for p in problem.people}
    total = 0.0
    load = dict.fromkeys(people, 0.0)
    for it in problem.items:
        if it.id not in assignments:
            continue
        hours_left = (it.due - problem.now).total_seconds() / 3600
        total += float(urgency(np.array([hours_left]), np.array([it.priority]))[0])
        total += STAY_BONUS if assignments[it.id] == it.current_assignee else 0.0
        load[assignments[it.id]] += it.effort_hours
    caps = np.array([people[p].capacity_hours for p in load])
    return total - float(fairness_penalty(np.array(list(load.values())), caps).sum())


def assert_feasible(problem: Problem, plan: Plan) -> None:
    people = {p.id: p for p in problem.people}
    items = {it.id: it for it in problem.items}
    placed = [i for i, _ in plan.assignments]
    assert len(placed) == len(set(placed)), "an item went to two people"
    assert set(placed) | {u.item for u in plan.unassigned} == set(items)
    assert not set(placed) & {u.item for u in plan.unassigned}
    load = dict.fromkeys(people, 0.0)
    for iid, pid in plan.assignments:
        it, person = items[iid], people[pid]
        assert person.skills.get(it.skill, -np.inf) >= it.min_level, f"{pid} is not qualified for {iid}"
        load[pid] += it.effort_hours
    for pid, hours in load.items():
        assert hours <= people[pid].capacity_hours + 1e-9, f"{pid} is over capacity"
    assert plan.gap >= 0
    assert plan.objective <= plan.bound + 1e-9
    assert plan.objective == pytest.approx(value_of(problem, dict(plan.assignments)), rel=1e-9, abs=1e-9)


def random_problem(seed: int, n_items: int, n_people: int) -> Problem:
    rng = np.random.default_rng(seed)
    skills = ["payroll", "invoicing", "hr"]
    people = [
        Person(f"p{i}", {s: int(rng.integers(1, 4)) for s in skills if rng.random() < 0.7},
               float(rng.choice([0.0, 2.0, 3.5, 5.0, 8.0])))
        for i in range(n_people)
    ]
    items = [
        item(f"r{j}", str(rng.choice([*skills, "legal"], p=[0.4, 0.3, 0.25, 0.05])), int(rng.integers(1, 4)),
             float(rng.choice([0.5, 1.0, 2.0, 3.0])), float(rng.uniform(-30, 200)), int(rng.integers(1, 6)),
             f"p{rng.integers(0, n_people)}" if rng.random() < 0.4 else None)
        for j in range(n_items)
    ]
    return Problem(NOW, people, items)


def brute_force(problem: Problem) -> float:
    """The best objective over every way of giving each item to a qualified person or nobody."""
    options = [
        [None, *[p.id for p in problem.people if p.skills.get(it.skill, -np.inf) >= it.min_level]]
        for it in problem.items
    ]
    caps = {p.id: p.capacity_hours for p in problem.people}
    best = 0.0
    for choice in itertools.product(*options):
        load = dict.fromkeys(caps, 0.0)
        for it, pid in zip(problem.items, choice, strict=True):
            if pid is not None:
                load[pid] += it.effort_hours
        if any(load[p] > caps[p] + 1e-9 for p in caps):
            continue
        best = max(best, value_of(problem, {it.id: pid for it, pid in zip(problem.items, choice, strict=True)
                                            if pid is not None}))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_it_never_breaks_a_hard_rule_and_its_bound_holds_against_brute_force(seed: int) -> None:
    problem = random_problem(seed, n_items=7, n_people=3)
    optimum = brute_force(problem)
    for method in ("auto", "dual", "lp", "mip"):
        plan = allocate(problem, method=method)
        assert_feasible(problem, plan)
        assert plan.objective <= optimum + 1e-6
        assert plan.bound >= optimum - 1e-6
        assert plan.objective >= (1 - plan.gap) * plan.bound - 1e-6
    # small problems also go through the MIP (mip_rel_gap 1 %)
    assert allocate(problem).objective >= 0.99 * optimum


@pytest.mark.parametrize("seed", range(3))
def test_it_agrees_with_the_exact_mip_on_medium_problems(seed: int) -> None:
    problem = random_problem(100 + seed, n_items=60, n_people=8)
    plan = allocate(problem, method="dual")
    exact = allocate(problem, method="mip", mip_rel_gap=1e-6, time_limit=30)
    lp = allocate(problem, method="lp")
    for p in (plan, exact, lp):
        assert_feasible(problem, p)
    # every bound is above the best plan found by anyone
    best = max(plan.objective, exact.objective, lp.objective)
    assert plan.bound >= best - 1e-6 and exact.bound >= best - 1e-6
    # the dual's bound is at least the LP optimum (its minimum) and close to it
    assert lp.bound - 1e-6 <= plan.bound <= lp.bound * 1.01
    assert plan.objective >= exact.objective * 0.97
    assert allocate(problem).objective >= exact.objective * 0.99


def test_it_reports_a_gap_within_one_percent_on_a_generated_problem() -> None:
    problem = generate(2000, 80, seed=3)
    plan = allocate(problem)
    assert_feasible(problem, plan)
    assert 0 <= plan.gap <= 0.01
    assert plan.gap == pytest.approx((plan.bound - plan.objective) / abs(plan.bound))


def test_it_evaluates_the_dual_per_class_exactly_as_per_pair() -> None:
    model = build(generate(600, 40, seed=5))
    per_pair, per_class = dual_method._Dual(model), dual_method._ClassDual(model)
    assert per_class.consistent
    rng = np.random.default_rng(1)
    for tau in (10.0, 1.0, 0.1):
        mu = rng.uniform(0, 600, len(model.capacity))
        v1, g1 = per_pair.smooth(mu, tau)
        v2, g2 = per_class.smooth(mu, tau)
        assert v2 == pytest.approx(v1, rel=1e-9)
        np.testing.assert_allclose(g2, g1, rtol=1e-7, atol=1e-7)
        # smoothing only adds: the smoothed value bounds the exact dual from above
        assert v1 >= lagrangian_bound(model, mu) - 1e-6


def test_its_bound_holds_at_any_prices_not_only_optimal_ones() -> None:
    problem = random_problem(7, n_items=40, n_people=6)
    exact = allocate(problem, method="mip", mip_rel_gap=1e-6, time_limit=30)
    model = build(problem)
    rng = np.random.default_rng(2)
    for _ in range(20):
        assert lagrangian_bound(model, rng.uniform(0, 3000, 6)) >= exact.objective - 1e-6
    hurried = allocate(problem, method="dual", time_limit=0.0)  # no optimisation of the prices at all
    assert_feasible(problem, hurried)
    assert hurried.bound >= exact.objective - 1e-6


def test_it_places_the_overdue_item_before_the_one_due_next_week() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 2.0)],
                      [item("later", due_hours=24 * 7, effort=2), item("overdue", due_hours=-5, effort=2)])
    plan = allocate(problem)
    assert plan.assignments == [("overdue", "ana")]
    assert plan.unassigned[0].item == "later"
    assert "capacity" in plan.unassigned[0].reason


def test_it_places_priority_one_before_priority_five_due_at_the_same_time() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 1.0)],
                      [item("low", priority=5), item("high", priority=1)])
    assert allocate(problem).assignments == [("high", "ana")]


def test_it_keeps_work_with_its_holder_even_when_another_person_is_idle() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 8.0), Person("ben", {"payroll": 2}, 8.0)],
                      [item("mine", holder="ben", effort=3), item("also-mine", holder="ben", effort=3)])
    assert sorted(allocate(problem).assignments) == [("also-mine", "ben"), ("mine", "ben")]


def test_it_moves_held_work_when_that_lets_an_urgent_item_be_placed() -> None:
    # only ben can do the urgent item, and not as well as the item he holds: the held item moves to ana
    problem = Problem(NOW, [Person("ana", {"payroll": 1}, 4.0), Person("ben", {"payroll": 3}, 4.0)],
                      [item("held", holder="ben", effort=3), item("urgent", level=3, effort=3, due_hours=2, priority=1)])
    assert sorted(allocate(problem).assignments) == [("held", "ana"), ("urgent", "ben")]


def test_it_spreads_load_between_equal_people() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 8.0), Person("ben", {"payroll": 2}, 8.0)],
                      [item(f"r{k}", effort=2) for k in range(4)])
    people = [p for _, p in allocate(problem).assignments]
    assert sorted(people) == ["ana", "ana", "ben", "ben"]


def test_it_gives_nothing_to_a_person_without_capacity() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 5}, 0.0), Person("ben", {"payroll": 1}, 1.0)],
                      [item("a"), item("b")])
    plan = allocate(problem)
    assert [p for _, p in plan.assignments] == ["ben"]
    assert_feasible(problem, plan)


def test_it_says_why_an_item_nobody_can_take_is_unassigned() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 8.0), Person("ben", {"payroll": 3}, 1.0)],
                      [item("unknown", skill="legal"), item("too-hard", level=4),
                       item("too-big", level=3, effort=2), item("fine", level=2, effort=8)])
    plan = allocate(problem)
    reasons = {u.item: u.reason for u in plan.unassigned}
    assert plan.assignments == [("fine", "ana")]
    assert reasons["unknown"] == "no person has skill 'legal'"
    assert reasons["too-hard"] == "nobody has skill 'payroll' at level 4 or above (highest: 3)"
    assert "less than 2 h of capacity" in reasons["too-big"] and "level 3" in reasons["too-big"]


def test_it_accepts_an_absent_holder_and_empty_lists() -> None:
    problem = Problem(NOW, [Person("ana", {"payroll": 2}, 8.0)], [item("orphan", holder="gone")])
    assert allocate(problem).assignments == [("orphan", "ana")]
    empty = allocate(Problem(NOW, [], [item("x")]))
    assert empty.assignments == [] and empty.unassigned[0].reason == "no person has skill 'payroll'"
    nothing = allocate(Problem(NOW, [Person("ana", {}, 1.0)], []))
    assert (nothing.assignments, nothing.unassigned, nothing.gap) == ([], [], 0.0)


# -- the JSON format ----------------------------------------------------------------------------

def good() -> dict:
    return {
        "now": "2026-03-02T09:00:00Z",
        "people": [{"id": "ana", "skills": {"payroll": 3}, "capacity_hours": 6}],
        "items": [{"id": "R-1", "skill": "payroll", "min_level": 2, "effort_hours": 1.5,
                   "due": "2026-03-01T09:00:00+00:00", "priority": 1, "current_assignee": None}],
    }


def test_it_reads_and_writes_the_json_format() -> None:
    problem = problem_from_json(good())
    assert problem.items[0].due == NOW - timedelta(days=1)
    out = plan_to_json(allocate(problem))
    assert out["assignments"] == [{"item": "R-1", "person": "ana"}]
    assert out["unassigned"] == []
    assert {"objective", "bound", "gap", "solve_seconds"} <= set(out)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["items"][0].update(effort_hours=-1), "items[0] (id 'R-1'): 'effort_hours' must be more than 0"),
    (lambda d: d["items"][0].update(effort_hours=0), "items[0] (id 'R-1'): 'effort_hours' must be more than 0"),
    (lambda d: d["items"][0].pop("due"), "items[0] (id 'R-1'): missing field 'due'"),
    (lambda d: d["items"][0].update(priority=6), "items[0] (id 'R-1'): 'priority' must be an integer from 1 to 5"),
    (lambda d: d["items"][0].update(priority="1"), "'priority' must be an integer"),
    (lambda d: d["items"][0].update(min_level="high"), "items[0] (id 'R-1'): 'min_level' must be a number"),
    (lambda d: d["items"][0].update(due="tomorrow"), "items[0] (id 'R-1'): 'due' is not an ISO-8601 date-time"),
    (lambda d: d["items"].append(dict(d["items"][0])), "items[1] (id 'R-1'): duplicate item id 'R-1'"),
    (lambda d: d["people"].append(dict(d["people"][0])), "people[1] (id 'ana'): duplicate person id 'ana'"),
    (lambda d: d["people"][0].update(capacity_hours=-2), "people[0] (id 'ana'): 'capacity_hours' must be 0 or more"),
    (lambda d: d["people"][0].update(capacity_hours=True), "'capacity_hours' must be a number"),
    (lambda d: d["people"][0].update(skills=["payroll"]), "people[0] (id 'ana'): 'skills' must be an object"),
    (lambda d: d["people"][0]["skills"].update(hr=None), "'skills.hr' must be a number"),
    (lambda d: d["people"][0].pop("id"), "people[0]: missing field 'id'"),
    (lambda d: d["items"].append(3), "items[1]: must be an object"),
    (lambda d: d.pop("now"), "input: missing field 'now'"),
    (lambda d: d.update(items={}), "'items' must be a list"),
])
def test_it_refuses_bad_input_naming_the_field_and_index(change, message: str) -> None:
    data = good()
    change(data)
    with pytest.raises(AllocationInputError) as caught:
        problem_from_json(data)
    assert message in str(caught.value)
