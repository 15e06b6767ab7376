"""Seeded synthetic allocation problems for benchmarks and tests (not a model of any real unit).

``generate(n_items, n_people, seed)``: 20 skills (the first few far more common, as in a real
back office); each person holds 2–4 of them at levels 1–5 and has 0–40 h of free capacity (a
few have none); items ask for one skill at level 1–4, take 0.25–8 h (log-uniform), are due
between a day ago and two weeks ahead, have priorities weighted towards 3, and a third are
held by someone already. Total effort is about 1.3× total capacity, so capacity is scarce and
the objective decides who gets served.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from tandem.engines.allocation.model import Item, Person, Problem

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def generate(n_items: int, n_people: int, seed: int = 0, *, n_skills: int = 20, load: float = 1.3) -> Problem:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_skills + 1) ** 0.8
    popularity /= popularity.sum()
    skills = [f"skill-{k:02d}" for k in range(n_skills)]
    people: list[Person] = []
    for i in range(n_people):
        holds = rng.choice(n_skills, size=int(rng.integers(2, 5)), replace=False, p=popularity)
        capacity = 0.0 if rng.random() < 0.03 else float(np.round(rng.uniform(4, 40), 1))
        people.append(Person(f"p{i}", {skills[k]: int(rng.integers(1, 6)) for k in holds}, capacity))
    total_capacity = sum(p.capacity_hours for p in people)
    effort = np.exp(rng.uniform(np.log(0.25), np.log(8.0), size=n_items))
    effort *= load * total_capacity / effort.sum()
    effort = np.clip(np.round(effort, 2), 0.05, None)
    skill = rng.choice(n_skills, size=n_items, p=popularity)
    min_level = rng.integers(1, 5, size=n_items)
    due_hours = rng.uniform(-24, 14 * 24, size=n_items)
    priority = rng.choice(5, size=n_items, p=[0.05, 0.15, 0.5, 0.2, 0.1]) + 1
    held = rng.random(n_items) < 1 / 3
    holder = rng.integers(0, n_people, size=n_items)
    items = [
        Item(
            id=f"r{j}",
            skill=skills[skill[j]],
            min_level=int(min_level[j]),
            effort_hours=float(effort[j]),
            due=NOW + timedelta(hours=float(due_hours[j])),
            priority=int(priority[j]),
            current_assignee=f"p{holder[j]}" if held[j] else None,
        )
        for j in range(n_items)
    ]
    return Problem(now=NOW, people=people, items=items)
