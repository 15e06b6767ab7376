"""Procedure conformance: did the work follow the service's documented steps?

Plain data in, plain data out (no Django). A service's procedure is its ordered list of step
ids; each resolved request brings the marks its agents made on the checklist, in the order they
were made (``(step, done, after_resolution)``), and the instant it was resolved.

Definitions (docs/evidence.md, "Procedure conformance"):

- A step's **completion** is the done mark that stands: the last ``done`` mark of the step,
  when no ``undone`` mark came after it. An undone mark is a correction, so a mark made by
  mistake and taken back does not count, neither as done nor for the order.
- A request **follows** the procedure when it has no deviation:

  - ``skipped: <step>``: a step of the procedure has no completion;
  - ``out of order: <b> before <a>``: ``a`` is documented before ``b`` (the nearest completed
    step documented before ``b``), yet ``b`` was completed first;
  - ``marked after resolution: <step>``: the step's completion came after the request was
    resolved (the checklist was filled in afterwards, not followed).

- Marks of steps no longer in the procedure are ignored.

Linear in the number of marks: one pass per request, no pair-wise comparisons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

SKIPPED = "skipped"
OUT_OF_ORDER = "out of order"
AFTER_RESOLUTION = "marked after resolution"
KINDS = (SKIPPED, OUT_OF_ORDER, AFTER_RESOLUTION)


@dataclass(frozen=True)
class RequestMarks:
    """One resolved request: when it was resolved, and its checklist marks in the order made:
    (step id, done (True) or undone (False), made after the resolution)."""

    resolved: datetime
    marks: Sequence[tuple[int, bool, bool]] = ()


@dataclass(frozen=True)
class Deviation:
    kind: str  # one of KINDS
    steps: tuple[int, ...]  # (step,) or, out of order, (step done first, step documented first)
    label: str  # "skipped: Chase the referee", "out of order: Resolve before Check"
    count: int  # requests showing it


@dataclass(frozen=True)
class WeekShare:
    week: date  # the Monday of the ISO week the requests were resolved in
    checked: int
    following: int

    @property
    def share(self) -> float:
        return self.following / self.checked if self.checked else 0.0


@dataclass(frozen=True)
class Conformance:
    checked: int  # resolved requests measured
    following: int  # of which followed the procedure
    deviations: list[Deviation] = field(default_factory=list)  # most frequent first
    weeks: list[WeekShare] = field(default_factory=list)  # oldest first, weeks with requests only
    steps: int = 0  # in the procedure

    @property
    def share(self) -> float | None:
        return self.following / self.checked if self.checked else None


def deviations_of(
    procedure: Sequence[int], request: RequestMarks, position: Mapping[int, int] | None = None
) -> list[tuple[str, tuple[int, ...]]]:
    """The deviations of one request, as (kind, steps); empty when it follows the procedure.
    ``position``: step id -> index in the procedure, when the caller has it already."""
    if position is None:
        position = {step: i for i, step in enumerate(procedure)}
    standing: dict[int, tuple[int, bool]] = {}  # step -> (index of its completing mark, late)
    for index, (step, done, late) in enumerate(request.marks):
        if step not in position:
            continue
        if done:
            standing[step] = (index, late)
        else:
            standing.pop(step, None)
    found: list[tuple[str, tuple[int, ...]]] = []
    previous: int | None = None  # the nearest completed step documented before this one
    for step in procedure:
        completion = standing.get(step)
        if completion is None:
            found.append((SKIPPED, (step,)))
            continue
        if previous is not None and completion[0] < standing[previous][0]:
            found.append((OUT_OF_ORDER, (step, previous)))
        if completion[1]:
            found.append((AFTER_RESOLUTION, (step,)))
        previous = step
    return found


def _label(kind: str, steps: tuple[int, ...], names: Mapping[int, str]) -> str:
    text = [names.get(s, f"step {s}") for s in steps]
    if kind == OUT_OF_ORDER:
        return f"{kind}: {text[0]} before {text[1]}"
    return f"{kind}: {text[0]}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _by_week(per_day: dict[date, list[int]]) -> list[WeekShare]:
    weeks: dict[date, list[int]] = {}
    for day, (checked, following) in per_day.items():
        cell = weeks.setdefault(monday_of(day), [0, 0])
        cell[0] += checked
        cell[1] += following
    return [WeekShare(week, c, f) for week, (c, f) in sorted(weeks.items())]


def conformance(
    procedure: Sequence[int],
    requests: Iterable[RequestMarks],
    *,
    names: Mapping[int, str] | None = None,
) -> Conformance:
    """How a service's resolved requests followed its procedure: the share following, the
    deviations ranked by how many requests show them, and the share per ISO week of resolution
    (in the time zone of the ``resolved`` instants given).

    A service without a procedure has nothing to check: nothing is counted."""
    names = names or {}
    if not procedure:
        return Conformance(checked=0, following=0)
    tally: Counter[tuple[str, tuple[int, ...]]] = Counter()
    position = {step: i for i, step in enumerate(procedure)}
    per_week: dict[date, list[int]] = {}  # by day of resolution, then summed by week
    checked = following = 0
    for request in requests:
        found = deviations_of(procedure, request, position)
        checked += 1
        day = request.resolved.date()
        cell = per_week.get(day)
        if cell is None:
            cell = per_week[day] = [0, 0]
        cell[0] += 1
        if not found:
            following += 1
            cell[1] += 1
        else:
            tally.update(found)  # each deviation at most once per request, by construction
    return assemble(procedure, checked, following, tally, _by_week(per_week), names=names)


def assemble(
    procedure: Sequence[int],
    checked: int,
    following: int,
    tally: Mapping[tuple[str, tuple[int, ...]], int],
    weeks: list[WeekShare],
    *,
    names: Mapping[int, str] | None = None,
) -> Conformance:
    """A service's result from its counts: what ``conformance`` computes from the marks, and
    what the evidence page sums from the weekly rows the worker keeps (tandem.insights). A
    service without a procedure (any more) has nothing to check: nothing is counted."""
    if not procedure:
        return Conformance(checked=0, following=0)
    names = names or {}
    order = {step: i for i, step in enumerate(procedure)}
    last = len(order)
    ranked = sorted(
        ((key, n) for key, n in tally.items() if n),
        key=lambda item: (-item[1], KINDS.index(item[0][0]), [order.get(s, last) for s in item[0][1]]),
    )
    return Conformance(
        checked=checked,
        following=following,
        steps=len(procedure),
        deviations=[Deviation(kind, steps, _label(kind, steps, names), n) for (kind, steps), n in ranked],
        weeks=weeks,
    )
