"""The JSON format of ``tandem allocate``: read (with messages naming field and index) and write.

Input: ``{"now": ISO-8601, "people": [{"id", "skills": {skill: level}, "capacity_hours"}],
"items": [{"id", "skill", "min_level", "effort_hours", "due", "priority", "current_assignee"}]}``.
Ids are strings or integers and come back as given. Times without a zone are read as UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from tandem.engines.allocation.model import AllocationInputError, Id, Item, Person, Plan, Problem


def _where(kind: str, index: int, record: Any) -> str:
    if isinstance(record, dict) and isinstance(record.get("id"), str | int) and not isinstance(record["id"], bool):
        return f"{kind}[{index}] (id {record['id']!r})"
    return f"{kind}[{index}]"


def _field(record: dict[str, Any], name: str, where: str) -> Any:
    if name not in record:
        raise AllocationInputError(f"{where}: missing field {name!r}")
    return record[name]


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AllocationInputError(f"{where}: {name!r} must be a number, not {value!r}")
    return float(value)


def _id(value: Any, name: str, where: str) -> Id:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AllocationInputError(f"{where}: {name!r} must be a string or an integer, not {value!r}")
    return value


def _instant(value: Any, name: str, where: str) -> datetime:
    if not isinstance(value, str):
        raise AllocationInputError(f"{where}: {name!r} must be an ISO-8601 date-time string, not {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise AllocationInputError(f"{where}: {name!r} is not an ISO-8601 date-time: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def problem_from_json(data: Any) -> Problem:
    """A ``Problem`` from parsed JSON, or ``AllocationInputError`` naming the field and index.

    Refused: missing fields, wrong types, effort <= 0, negative capacity, priority outside 1–5,
    duplicate ids. Accepted: due times in the past, skills nobody has, capacity 0, a current
    assignee who is not among the people (the item is then simply not held by anyone present).
    """
    if not isinstance(data, dict):
        raise AllocationInputError("the input must be a JSON object with 'now', 'people' and 'items'")
    now = _instant(_field(data, "now", "input"), "now", "input")
    people_raw, items_raw = _field(data, "people", "input"), _field(data, "items", "input")
    if not isinstance(people_raw, list):
        raise AllocationInputError("input: 'people' must be a list")
    if not isinstance(items_raw, list):
        raise AllocationInputError("input: 'items' must be a list")

    people: list[Person] = []
    seen: set[Id] = set()
    for index, record in enumerate(people_raw):
        where = _where("people", index, record)
        if not isinstance(record, dict):
            raise AllocationInputError(f"{where}: must be an object")
        pid = _id(_field(record, "id", where), "id", where)
        if pid in seen:
            raise AllocationInputError(f"{where}: duplicate person id {pid!r}")
        seen.add(pid)
        skills = _field(record, "skills", where)
        if not isinstance(skills, dict):
            raise AllocationInputError(f"{where}: 'skills' must be an object of skill: level")
        levels = {str(name): _number(level, f"skills.{name}", where) for name, level in skills.items()}
        capacity = _number(_field(record, "capacity_hours", where), "capacity_hours", where)
        if capacity < 0:
            raise AllocationInputError(f"{where}: 'capacity_hours' must be 0 or more, not {capacity:g}")
        people.append(Person(pid, levels, capacity))

    items: list[Item] = []
    seen = set()
    for index, record in enumerate(items_raw):
        where = _where("items", index, record)
        if not isinstance(record, dict):
            raise AllocationInputError(f"{where}: must be an object")
        iid = _id(_field(record, "id", where), "id", where)
        if iid in seen:
            raise AllocationInputError(f"{where}: duplicate item id {iid!r}")
        seen.add(iid)
        skill = _field(record, "skill", where)
        if not isinstance(skill, str):
            raise AllocationInputError(f"{where}: 'skill' must be a string, not {skill!r}")
        min_level = _number(_field(record, "min_level", where), "min_level", where)
        effort = _number(_field(record, "effort_hours", where), "effort_hours", where)
        if effort <= 0:
            raise AllocationInputError(f"{where}: 'effort_hours' must be more than 0, not {effort:g}")
        due = _instant(_field(record, "due", where), "due", where)
        priority = _field(record, "priority", where)
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5:
            raise AllocationInputError(f"{where}: 'priority' must be an integer from 1 to 5, not {priority!r}")
        holder = _field(record, "current_assignee", where)
        if holder is not None:
            holder = _id(holder, "current_assignee", where)
        items.append(Item(iid, skill, min_level, effort, due, priority, holder))
    return Problem(now=now, people=people, items=items)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "assignments": [{"item": item, "person": person} for item, person in plan.assignments],
        "unassigned": [{"item": u.item, "reason": u.reason} for u in plan.unassigned],
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "solve_seconds": plan.seconds,
        "method": plan.method,
        "solver_status": plan.solver_status,
    }
