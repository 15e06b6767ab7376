"""Solve an allocation problem: build the pairs, find prices or solve with HiGHS, make an
integral plan, bound it."""

from __future__ import annotations

import time

import numpy as np

from tandem.engines.allocation import dual
from tandem.engines.allocation.highs import round_and_repair, solve_lp
from tandem.engines.allocation.model import Id, Plan, Problem, Unassigned
from tandem.engines.allocation.pairs import build, capacity_reason, lagrangian_bound, objective_of

EXACT_PAIRS = 20_000  # up to this many eligible pairs, "auto" also solves the MIP (HiGHS)


def solve(problem: Problem, *, time_limit: float = 20.0, method: str = "auto", mip_rel_gap: float = 0.01) -> Plan:
    """See ``tandem.engines.allocation.allocate``."""
    if method not in ("auto", "dual", "lp", "mip"):
        raise ValueError(f"unknown method {method!r}")
    began = time.perf_counter()
    model = build(problem)
    built = time.perf_counter()
    solver_bound = np.inf
    statuses = []
    if method in ("auto", "dual"):
        price, evaluations = dual.prices(model, time_limit=max(time_limit - (built - began), 0.1))
        statuses.append(f"dual: {evaluations} evaluations")
        item_person = dual.plan_from_prices(model, price)
    else:
        x, price, status, solver_bound = solve_lp(model, time_limit=max(time_limit - (built - began), 0.1),
                                                 integral=method == "mip", mip_rel_gap=mip_rel_gap)
        statuses.append(f"{method}: {status}")
        item_person = round_and_repair(model, x)
    if method == "auto" and 0 < len(model.pair_item) <= EXACT_PAIRS:
        left = time_limit - (time.perf_counter() - began)
        if left > 0.05:
            x, _, status, solver_bound = solve_lp(model, time_limit=left, integral=True, mip_rel_gap=mip_rel_gap)
            statuses.append(f"mip: {status}")
            exact = round_and_repair(model, x)
            if objective_of(model, exact) > objective_of(model, item_person):
                item_person = exact
    solved = time.perf_counter()
    objective = objective_of(model, item_person)
    # Always a valid bound: the Lagrangian bound at the prices found (the LP optimum when the
    # prices are the LP's optimal duals), or the MIP's own dual bound if lower.
    bound = lagrangian_bound(model, price)
    if np.isfinite(solver_bound):
        bound = min(bound, solver_bound)
    bound = max(bound, objective)  # float noise only: every bound above is >= any plan's value
    gap = (bound - objective) / abs(bound) if bound else 0.0
    ended = time.perf_counter()

    items, people = problem.items, problem.people
    assignments: list[tuple[Id, Id]] = [
        (items[j].id, people[i].id) for j, i in enumerate(item_person.tolist()) if i >= 0
    ]
    unassigned = [
        Unassigned(items[j].id, model.reasons.get(j) or capacity_reason(model, j))
        for j in np.flatnonzero(item_person < 0).tolist()
    ]
    return Plan(
        assignments=assignments,
        unassigned=unassigned,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=ended - began,
        method=method,
        solver_status="; ".join(statuses),
        figures={
            "build_seconds": built - began,
            "solver_seconds": solved - built,
            "plan_seconds": ended - solved,
            "pairs": float(len(model.pair_item)),
        },
    )


