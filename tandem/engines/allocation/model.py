"""The allocation problem and plan as plain data, and the objective's weights.

See the package docstring (``tandem.engines.allocation``) and docs/allocation.md for the
objective written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

Id = str | int
Floats = npt.NDArray[np.float64]

# The objective's tiers. One item's placement reward (at least PLACE_BASE) outweighs the stay
# bonus, which outweighs the largest change in the fairness penalty that moving one item can
# cause (at most FAIRNESS * BAND_SLOPES[-1] = 8, because an item never exceeds its person's
# capacity).
PLACE_BASE = 100.0
STAY_BONUS = 10.0
FAIRNESS = 1.0
# The fairness penalty of a person is FAIRNESS * phi(load / capacity), phi piecewise linear and
# convex: slope BAND_SLOPES[k] on the k-th quarter of utilisation.
BAND_EDGES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
BAND_SLOPES = np.array([1.0, 2.0, 4.0, 8.0])
PHI_AT_EDGES = np.concatenate([[0.0], np.cumsum(np.diff(BAND_EDGES) * BAND_SLOPES)])


class AllocationInputError(ValueError):
    """The problem is malformed; the message names the field and the item or person."""


@dataclass(frozen=True)
class Person:
    id: Id
    skills: dict[str, float]
    capacity_hours: float


@dataclass(frozen=True)
class Item:
    id: Id
    skill: str
    min_level: float
    effort_hours: float
    due: datetime
    priority: int  # 1 (most important) .. 5
    current_assignee: Id | None = None


@dataclass(frozen=True)
class Problem:
    now: datetime
    people: list[Person]
    items: list[Item]


@dataclass(frozen=True)
class Unassigned:
    item: Id
    reason: str


@dataclass
class Plan:
    assignments: list[tuple[Id, Id]]  # (item, person)
    unassigned: list[Unassigned]
    objective: float
    bound: float
    gap: float  # (bound - objective) / |bound|, 0 when both are 0
    seconds: float
    method: str = "auto"
    solver_status: str = ""
    figures: dict[str, float] = field(default_factory=dict)


def urgency(hours_left: Floats, priority: npt.NDArray[np.int64]) -> Floats:
    """Placement reward of each item: PLACE_BASE x priority factor x due factor.

    priority factor 2**(5 - priority): 16 for priority 1 down to 1 for priority 5.
    due factor 1 + 4 / (1 + max(h, 0) / 24) for h hours left: 5 when due now, 3 in a day, 2 in
    three days, tending to 1; an overdue item adds up to 1 more (reached at a day overdue).
    """
    left = np.maximum(hours_left, 0.0)
    overdue = np.minimum(np.maximum(-hours_left, 0.0) / 24.0, 1.0)
    due_factor = 1.0 + 4.0 / (1.0 + left / 24.0) + overdue
    return PLACE_BASE * np.exp2(5 - priority) * due_factor


def fairness_penalty(load: Floats, capacity: Floats) -> Floats:
    """FAIRNESS * phi(load / capacity) per person; 0 for a person without capacity."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(capacity > 0, load / np.where(capacity > 0, capacity, 1.0), 0.0)
    return FAIRNESS * np.interp(share, BAND_EDGES, PHI_AT_EDGES)
