"""Who does what now: the allocation engine (pure; no Django).

Use::

    from tandem.engines.allocation import Item, Person, Problem, allocate
    plan = allocate(Problem(now, people=[Person("ana", {"payroll": 3}, 12.0)],
                            items=[Item("R-1", "payroll", 2, 1.5, due, priority=2, current_assignee=None)]))
    plan.assignments   # [(item id, person id), ...]
    plan.unassigned    # [Unassigned(item id, reason), ...]
    plan.objective, plan.bound, plan.gap, plan.seconds

Hard rules: an item goes only to a person holding its skill at ``min_level`` or above; nobody's
assigned effort exceeds their ``capacity_hours``; an item goes to at most one person.

Objective (maximised; docs/allocation.md writes it out): for every placed item its urgency
weight ``100 x 2**(5 - priority) x due factor`` (``urgency``), plus ``STAY_BONUS`` when it stays
with its current holder, minus a convex fairness penalty on each person's utilisation
(``fairness_penalty``). The tiers are set so that one item's placement outweighs any stay bonus,
and a stay bonus outweighs the fairness change of moving one item.

Solver (``method``): ``"dual"`` minimises the Lagrangian dual over one price per person,
builds the plan from the prices and reports the exact Lagrangian bound at those prices;
``"auto"`` (default) does the same and, for problems of up to 20,000 eligible pairs, also solves
the integer programme with HiGHS (``mip_rel_gap``) and keeps the better plan and lower bound;
``"lp"`` solves the LP relaxation with HiGHS and rounds it; ``"mip"`` solves the integer
programme only. Every method reports a valid upper ``bound`` and
``gap = (bound - objective) / |bound|``.

``problem_from_json`` / ``plan_to_json`` read and write the CLI's JSON format
(``tandem allocate``); ``synthetic.generate`` makes seeded test problems.
"""

from __future__ import annotations

from tandem.engines.allocation.inputs import plan_to_json, problem_from_json
from tandem.engines.allocation.model import (
    AllocationInputError,
    Item,
    Person,
    Plan,
    Problem,
    Unassigned,
    fairness_penalty,
    urgency,
)
from tandem.engines.allocation.solver import solve


def allocate(problem: Problem, *, time_limit: float = 20.0, method: str = "auto", mip_rel_gap: float = 0.01) -> Plan:
    """Choose who does what now; see the module docstring. ``time_limit`` is in seconds."""
    return solve(problem, time_limit=time_limit, method=method, mip_rel_gap=mip_rel_gap)


__all__ = [
    "AllocationInputError",
    "Item",
    "Person",
    "Plan",
    "Problem",
    "Unassigned",
    "allocate",
    "fairness_penalty",
    "plan_to_json",
    "problem_from_json",
    "urgency",
]
