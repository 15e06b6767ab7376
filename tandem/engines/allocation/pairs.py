"""The allocation problem as sparse arrays: eligible pairs, values, the plan's objective and the bound.

Only eligible (item, person) pairs become variables: the person holds the item's skill at
``min_level`` or above and has at least the item's effort in capacity. Pairs are built per
skill with numpy (no Python loop over pairs), grouped by item, so that the per-item steps
(the bound, the repair) work on contiguous slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tandem.engines.allocation.model import (
    BAND_EDGES,
    FAIRNESS,
    PHI_AT_EDGES,
    STAY_BONUS,
    Problem,
    fairness_penalty,
    urgency,
)
from tandem.engines.durations import hours_text

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
EPS = 1e-9


@dataclass
class Model:
    """The problem as arrays. Pairs ``p`` are grouped by item: item j owns
    ``pair_item[start[j]:start[j] + count[j]]``."""

    capacity: Floats  # per person
    effort: Floats  # per item
    weight: Floats  # placement reward per item
    current: Ints  # person index of the current holder, -1 if none (or not among the people)
    pair_item: Ints
    pair_person: Ints
    pair_value: Floats  # weight[item] + STAY_BONUS if the person is the current holder
    start: Ints
    count: Ints
    reasons: dict[int, str]  # items without any eligible pair, with the reason
    # items asking for the same skill and level form a class; its qualified people (before the
    # capacity filter) are the same for all of them: the dual method works per class
    item_class: Ints  # -1 when nobody holds the skill
    class_people: list[Ints]


def build(problem: Problem) -> Model:
    people, items = problem.people, problem.items
    n_items = len(items)
    person_index = {p.id: i for i, p in enumerate(people)}
    capacity = np.array([p.capacity_hours for p in people], dtype=np.float64)
    effort = np.array([it.effort_hours for it in items], dtype=np.float64)
    hours_left = np.array([(it.due - problem.now).total_seconds() / 3600.0 for it in items], dtype=np.float64)
    priority = np.array([it.priority for it in items], dtype=np.int64)
    weight = urgency(hours_left, priority)
    current = np.array(
        [person_index.get(it.current_assignee, -1) if it.current_assignee is not None else -1 for it in items],
        dtype=np.int64,
    )
    min_level = np.array([it.min_level for it in items], dtype=np.float64)

    holders: dict[str, list[tuple[int, float]]] = {}
    for i, p in enumerate(people):
        for name, grade in p.skills.items():
            holders.setdefault(name, []).append((i, float(grade)))

    skill_names, skill_of_item = np.unique(np.array([it.skill for it in items], dtype=object), return_inverse=True)
    item_order = np.argsort(skill_of_item, kind="stable")
    bounds = np.searchsorted(skill_of_item[item_order], np.arange(len(skill_names) + 1))
    chunks_item: list[Ints] = []
    chunks_person: list[Ints] = []
    reasons: dict[int, str] = {}
    item_class = np.full(n_items, -1, dtype=np.int64)
    class_people: list[Ints] = []
    for k, skill in enumerate(skill_names):
        block = item_order[bounds[k]:bounds[k + 1]]
        have = holders.get(skill, [])
        if not have:
            reasons.update((int(j), f"no person has skill {skill!r}") for j in block)
            continue
        who = np.array([h[0] for h in have], dtype=np.int64)
        level = np.array([h[1] for h in have], dtype=np.float64)
        by_level = np.argsort(-level, kind="stable")
        who, level = who[by_level], level[by_level]
        # people at or above min_level form a prefix of the level-descending list
        n_qualified = np.searchsorted(-level, -min_level[block], side="right")
        sizes, which = np.unique(n_qualified, return_inverse=True)
        item_class[block] = len(class_people) + which
        class_people += [who[:n] for n in sizes.tolist()]
        total = int(n_qualified.sum())
        rep_item = np.repeat(block, n_qualified)
        offsets = np.arange(total) - np.repeat(np.cumsum(n_qualified) - n_qualified, n_qualified)
        rep_person = who[offsets]
        fits = effort[rep_item] <= capacity[rep_person] + EPS
        chunks_item.append(rep_item[fits])
        chunks_person.append(rep_person[fits])
        # reasons for items left without any pair, vectorised over the block
        no_level = n_qualified == 0
        best_room = np.maximum.accumulate(capacity[who])[np.maximum(n_qualified - 1, 0)]
        no_room = ~no_level & (effort[block] > best_room + EPS)
        for j in block[no_level].tolist():
            reasons[j] = (f"nobody has skill {skill!r} at level {_num(min_level[j])} or above "
                          f"(highest: {_num(level[0])})")
        for j, nq in zip(block[no_room].tolist(), n_qualified[no_room].tolist(), strict=True):
            reasons[j] = (f"the {nq} {'person' if nq == 1 else 'people'} with skill {skill!r} at level "
                          f"{_num(min_level[j])} or above {'has' if nq == 1 else 'have'} less than "
                          f"{hours_text(effort[j])} of capacity")

    pair_item = np.concatenate(chunks_item) if chunks_item else np.zeros(0, dtype=np.int64)
    pair_person = np.concatenate(chunks_person) if chunks_person else np.zeros(0, dtype=np.int64)
    count = np.bincount(pair_item, minlength=n_items).astype(np.int64)
    # each item's pairs are contiguous and items appear in item_order
    start = np.zeros(n_items, dtype=np.int64)
    ordered_counts = count[item_order]
    start[item_order] = np.cumsum(ordered_counts) - ordered_counts
    pair_value = weight[pair_item] + STAY_BONUS * (current[pair_item] == pair_person)
    return Model(capacity, effort, weight, current, pair_item, pair_person, pair_value, start, count, reasons,
                 item_class, class_people)


def _num(x: float) -> str:
    return f"{float(x):g}"


def objective_of(model: Model, item_person: Ints) -> float:
    """The objective of an integral plan (``item_person[j]`` = person index or -1)."""
    placed = item_person >= 0
    j = np.flatnonzero(placed)
    i = item_person[placed]
    value = model.weight[j].sum() + STAY_BONUS * np.count_nonzero(model.current[j] == i)
    load = np.bincount(i, weights=model.effort[j], minlength=len(model.capacity)).astype(np.float64)
    return float(value - fairness_penalty(load, model.capacity).sum())


def lagrangian_bound(model: Model, price: Floats) -> float:
    """An upper bound on the optimum for any prices >= 0 (per hour of each person's capacity).

    Dualising each person's load constraint leaves a problem that splits: every item takes its
    best pair at the price (or nothing), every person sells hours up to capacity where the
    price beats the fairness penalty. By weak duality the sum bounds the relaxation's optimum,
    which bounds every plan. At the LP's optimal duals it equals the LP optimum.
    """
    price = np.maximum(price, 0.0)
    total = 0.0
    if len(model.pair_item):
        reduced = model.pair_value - price[model.pair_person] * model.effort[model.pair_item]
        has = model.count > 0
        starts = np.sort(model.start[has])
        total += float(np.maximum(np.maximum.reduceat(reduced, starts), 0.0).sum())
    hours = model.capacity[:, None] * BAND_EDGES[None, :]
    total += float(np.max(price[:, None] * hours - FAIRNESS * PHI_AT_EDGES[None, :], axis=1).sum())
    return total


def capacity_reason(model: Model, j: int) -> str:
    n = int(model.count[j])
    return (f"the capacity of the {n} qualified {'person' if n == 1 else 'people'} with room for "
            f"{hours_text(model.effort[j])} went to more urgent or more important items")


def place_rest(model: Model, item_person: Ints, rest: Ints) -> Ints:
    """Offer each item of ``rest``, in that order, to the eligible person with room whose pair
    value minus the rise in fairness penalty is highest; ``item_person`` is filled in place."""
    cap = model.capacity
    placed = item_person >= 0
    load = np.bincount(item_person[placed], weights=model.effort[placed], minlength=len(cap))
    room = cap - load
    for j in rest.tolist():
        s, n = int(model.start[j]), int(model.count[j])
        who = model.pair_person[s:s + n]
        e = model.effort[j]
        ok = room[who] >= e - EPS
        if not ok.any():
            continue
        who = who[ok]
        rise = fairness_penalty(load[who] + e, cap[who]) - fairness_penalty(load[who], cap[who])
        i = int(who[int(np.argmax(model.pair_value[s:s + n][ok] - rise))])
        item_person[j] = i
        load[i] += e
        room[i] -= e
    return item_person
