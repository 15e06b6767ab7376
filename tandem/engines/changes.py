"""The change calendar: how much change each audience absorbs per week, where that collides, and
where each change could land instead.

A back-office change (a policy, a process, a system, a form) lands on its audiences (front-office
units) on its effective date and costs each person in them some minutes to absorb. An audience
may be narrowed to one role of the unit (its leads, say): the change then lands only on the
people of that role. This module takes plain data and answers:

- ``load``: per audience and ISO week (keyed by the week's Monday), the changes landing and the
  load of the **most-loaded person** of the unit: the minutes of the changes for the whole unit
  plus those for the one role whose people absorb the most (a lead absorbs the unit-wide changes
  and the leads' changes; a member only the unit-wide ones);
- ``check``: the audience-weeks over their limit, and the changes landing in a blackout (month
  end, payroll week, a declared busy period) or, for an audience that takes changes only in
  declared change periods, outside one;
- ``free_slots``: the next days a change could land without any collision;
- ``staging``: the same change to its audiences in turn, one week apart or more, each where it fits
  (a staging accepted is a change with ``stages``: each audience reached on its own day; the
  scheduler keeps it where it is);
- ``batch``: several changes moved into one declared change period;
- ``schedule``: a date for every change (where it is when it fits, else the earliest fit from the
  date its owner asked for), such that
  following it leaves no audience-week over its limit (apart from what cannot be helped: changes
  already in effect, or a change that alone exceeds a limit), with every change within
  ``WINDOW_DAYS`` of its requested date where the greedy finds room, and the others named.

The scheduler is a greedy earliest fit in the order of the requested dates (ties by id). It never
places a change where it would push an audience-week over its limit, which is what makes the
zero-over-limit property hold by construction (``tandem/engines/tests/test_changes.py`` checks it
against a brute-force recomputation). It does not promise the fewest late changes: packing minutes
into weeks for several audiences at once is a bin-packing problem, and the plan says which changes
it could not keep within the window.

No Django here: ``tandem.changes`` calls it with plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

#: Minutes per person per week an audience absorbs when no executive set its limit.
DEFAULT_WEEKLY_MINUTES = 60
#: How far after its requested date a change may be moved and still count as on time.
WINDOW_DAYS = 28
#: How far the scheduler looks for room at all.
HORIZON_DAYS = 365


def week_of(day: date) -> date:
    """The Monday of the ISO week holding ``day``: the key of an audience-week."""
    return day - timedelta(days=day.weekday())


def working_days(start: date, end: date) -> Iterable[date]:
    """Monday to Friday from ``start`` to ``end`` inclusive: the days a change may take effect."""
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class Change:
    id: int
    audiences: tuple[int, ...]
    effective: date
    minutes: int
    #: The date its owner asked for; the window is counted from it. None: the effective date.
    requested: date | None = None
    #: Already in effect (or otherwise not to be moved): counted, never moved.
    fixed: bool = False
    #: A staged change: (audience, day) for the audiences it reaches on a day of their own
    #: (the others: ``effective``).
    stages: tuple[tuple[int, date], ...] = ()
    #: (audience, role) for the audiences it reaches only through the people of one role (the
    #: others: everyone of the unit).
    roles: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        # Worked out once per change, not on every landing the calendar counts: each audience
        # with the day it is reached, the week and the role (None: everyone of the unit).
        own = dict(self.stages)
        role_map = dict(self.roles)
        object.__setattr__(self, "_roles", role_map)
        object.__setattr__(self, "_landed", tuple(
            (audience, day, week_of(day), role_map.get(audience))
            for audience in self.audiences for day in (own.get(audience, self.effective),)))

    @property
    def asked(self) -> date:
        return self.requested or self.effective

    def landings(self) -> Iterable[tuple[int, date]]:
        """Each audience and the day the change reaches it."""
        return ((audience, day) for audience, day, _, _ in self._landed)  # type: ignore[attr-defined]

    def role_of(self, audience: int) -> str | None:
        """The one role of ``audience`` the change reaches, or None: everyone of the unit."""
        return self._roles.get(audience) if self.roles else None  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Blackout:
    starts: date
    ends: date
    reason: str
    #: None: every audience.
    audience: int | None = None

    def covers(self, audience: int, day: date) -> bool:
        return self.starts <= day <= self.ends and (self.audience is None or self.audience == audience)


@dataclass(frozen=True)
class Period:
    """A declared change period: the window into which changes are batched."""

    starts: date
    ends: date
    name: str

    def covers(self, day: date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True)
class Rules:
    limits: Mapping[int, int] = field(default_factory=dict)
    default_limit: int = DEFAULT_WEEKLY_MINUTES
    blackouts: tuple[Blackout, ...] = ()
    periods: tuple[Period, ...] = ()
    #: Audiences that take changes only inside a declared change period.
    batching: frozenset[int] = frozenset()
    #: The roles held by the people of each audience. An audience left out may hold any role
    #: (a change for one role counts as landing on someone); one holding none counts only the
    #: changes for the whole unit.
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Day by day, the blackouts that hold (a calendar checks many days for many audiences).
        by_day: dict[date, list[Blackout]] = {}
        for blackout in self.blackouts:
            day = blackout.starts
            while day <= blackout.ends:
                by_day.setdefault(day, []).append(blackout)
                day += timedelta(days=1)
        object.__setattr__(self, "_by_day", by_day)
        object.__setattr__(self, "_in_period", {})

    def limit(self, audience: int) -> int:
        return self.limits.get(audience, self.default_limit)

    def present(self, audience: int) -> frozenset[str] | None:
        """The roles held in ``audience``; None: not known, any may be."""
        return self.roles.get(audience)

    def clash(self, audience: int, day: date) -> str | None:
        """Why ``day`` is no day for a change to land on ``audience``, or None."""
        for blackout in self._by_day.get(day, ()):  # type: ignore[attr-defined]
            if blackout.audience is None or blackout.audience == audience:
                return blackout.reason
        if audience in self.batching:
            known: dict[date, bool] = self._in_period  # type: ignore[attr-defined]
            if day not in known:
                known[day] = any(p.covers(day) for p in self.periods)
            if not known[day]:
                return "outside a change period"
        return None


@dataclass
class Cell:
    """One audience-week: the load of its most-loaded person (how many changes they absorb, and
    their minutes), and every change landing on someone of the unit."""

    count: int = 0
    minutes: int = 0
    changes: list[int] = field(default_factory=list)
    #: Per role (None: the whole unit): the minutes and the changes landing on its people.
    parts: dict[str | None, tuple[int, list[int]]] = field(default_factory=dict)
    #: The role of the most-loaded person when changes for that role weigh on them (None: the
    #: load is the unit-wide changes alone).
    role: str | None = None

    def weigh(self, present: frozenset[str] | None) -> None:
        """Set ``minutes``, ``count`` and ``role`` from the parts: the whole unit's changes plus
        the heaviest role's (among the roles held in the unit), ties to the role with more changes."""
        self.minutes, self.count, self.role = _heaviest(self.parts, present)

    def after(self, minutes: int, role: str | None, present: frozenset[str] | None) -> int:
        """The most-loaded person's minutes once a change of ``minutes`` for ``role`` lands too."""
        if role is None:
            return self.minutes + minutes
        if present is not None and role not in present:
            return self.minutes  # it lands on nobody here
        whole = self.parts.get(None, (0, []))[0]
        own = self.parts.get(role, (0, []))[0]
        return max(self.minutes, whole + own + minutes)

    def people_over(self, limit: int, present: frozenset[str] | None) -> list[int]:
        """The changes landing on the people over ``limit``: the unit-wide ones and those of each
        role whose people are over."""
        whole_minutes, whole = self.parts.get(None, (0, []))
        over_roles = [r for r, (m, _) in self.parts.items()
                      if r is not None and (present is None or r in present) and whole_minutes + m > limit]
        if whole_minutes <= limit and not over_roles:
            return []
        keep = set(whole).union(*(self.parts[r][1] for r in over_roles))
        return [c for c in self.changes if c in keep]


def _heavier(minutes: int, count: int, role: str, than: tuple[int, int, str | None]) -> bool:
    """Whether a role's (minutes, changes) weighs more than the best so far: more minutes, then
    more changes, then (a tie) the role first in alphabetical order."""
    return (minutes, count) > than[:2] or (
        (minutes, count) == than[:2] and than[2] is not None and role < than[2])


def _heaviest(parts: dict[str | None, tuple[int, list[int]]],
              present: frozenset[str] | None) -> tuple[int, int, str | None]:
    whole_minutes, whole = parts.get(None, (0, []))
    best: tuple[int, int, str | None] = (0, 0, None)
    for role, (minutes, changes) in parts.items():
        if role is not None and (present is None or role in present) and _heavier(minutes, len(changes), role, best):
            best = (minutes, len(changes), role)
    return whole_minutes + best[0], len(whole) + best[1], best[2]


def _put(cell: Cell, change: Change, role: str | None, present: frozenset[str] | None) -> None:
    """Add ``change`` (reaching ``role`` of the unit, None: everyone) to ``cell`` (in place).

    The most-loaded person is kept up to date without weighing every role again: adding to one
    part only makes that part heavier, so the heaviest role is either the one it was or this one."""
    part = cell.parts.get(role)
    if part is None:
        ids = [change.id]
        cell.parts[role] = (change.minutes, ids)
    else:
        ids = part[1]
        ids.append(change.id)
        cell.parts[role] = (part[0] + change.minutes, ids)
    cell.changes.append(change.id)
    if role is None:
        cell.minutes += change.minutes
        cell.count += 1
    elif present is None or role in present:
        whole_minutes, whole = cell.parts.get(None, (0, []))
        best_role = cell.role
        best = cell.parts[best_role] if best_role is not None else (0, [])
        minutes = cell.parts[role][0]
        if best_role == role or _heavier(minutes, len(ids), role, (best[0], len(best[1]), best_role)):
            cell.minutes, cell.count, cell.role = whole_minutes + minutes, len(whole) + len(ids), role


Cells = dict[tuple[int, date], Cell]


def load(changes: Iterable[Change], rules: Rules | None = None) -> Cells:
    """Per audience and week, the changes landing and the load of the most-loaded person
    (``rules``: the roles held in each audience; without them, any role may be held)."""
    rules = rules or Rules()
    cells: Cells = {}
    for change in changes:
        _add_landed(cells, change, rules, shared=False)
    return cells


@dataclass(frozen=True)
class Overload:
    audience: int
    week: date
    minutes: int
    limit: int
    changes: tuple[int, ...]


@dataclass(frozen=True)
class Clash:
    change: int
    audience: int
    day: date
    reason: str


@dataclass
class Check:
    cells: Cells
    overloads: list[Overload]
    clashes: list[Clash]

    def colliding(self) -> set[int]:
        """The changes in an overloaded audience-week or landing in a blackout."""
        out = {c.change for c in self.clashes}
        for overload in self.overloads:
            out.update(overload.changes)
        return out


def check(changes: Iterable[Change], rules: Rules, *, cells: Cells | None = None) -> Check:
    """The audience-weeks over their limit and the landings that clash (``cells``: the load of
    exactly these changes, when the caller has it already)."""
    changes = list(changes)
    if cells is None:
        cells = load(changes, rules)
    limits, default = rules.limits, rules.default_limit
    over = sorted(key for key, cell in cells.items() if cell.minutes > limits.get(key[0], default))
    overloads = []
    for audience, week in over:
        cell, limit = cells[(audience, week)], limits.get(audience, default)
        overloads.append(Overload(audience, week, cell.minutes, limit,
                                  tuple(cell.people_over(limit, rules.present(audience)))))
    clashes = []
    for change in changes:
        for audience, day, _week, _role in change._landed:  # type: ignore[attr-defined]
            reason = rules.clash(audience, day)
            if reason is not None:
                clashes.append(Clash(change.id, audience, day, reason))
    return Check(cells, overloads, clashes)


def over_limit(cells: Cells, rules: Rules) -> int:
    """How many audience-weeks of ``cells`` are over their limit."""
    return sum(1 for (audience, _), cell in cells.items()
               if cell.minutes > rules.limits.get(audience, rules.default_limit))


def _fits(change: Change, day: date, cells: Cells, rules: Rules, *, audiences: Iterable[int] | None = None) -> bool:
    """Whether ``change`` may land on ``day``: no clash, and no audience-week over its limit.
    ``cells`` must not hold the change itself."""
    return _misfit(change, day, cells, rules, audiences) is None


def _misfit(change: Change, day: date, cells: Cells, rules: Rules, audiences: Iterable[int] | None) -> str | None:
    """None when it fits; "week" when some audience's week is full (no other day of that week
    will do); "day" when only the day clashes."""
    targets = change.audiences if audiences is None else tuple(audiences)
    if not _week_fits(change.minutes, _reach(change, rules, targets), week_of(day), cells):
        return "week"
    if not _day_clear(day, rules, targets):
        return "day"
    return None


Reach = list[tuple[int, str | None, frozenset[str] | None, int]]


def _reach(change: Change, rules: Rules, targets: tuple[int, ...]) -> Reach:
    """For each audience of ``targets``: the role the change reaches there (None: everyone), the
    roles held there (None: not known) and its limit; worked out once for all the weeks tried."""
    limits, default, held = rules.limits, rules.default_limit, rules.roles
    return [(audience, role := change.role_of(audience), held.get(audience) if role is not None else None,
             limits.get(audience, default)) for audience in targets]


def _week_fits(minutes: int, reach: Reach, week: date, cells: Cells) -> bool:
    """Whether a change of ``minutes`` landing in ``week`` keeps every audience of ``reach``
    within its limit."""
    get = cells.get
    for audience, role, present, limit in reach:
        cell = get((audience, week))
        if role is None:  # the common case: everyone of the unit
            if (cell.minutes if cell is not None else 0) + minutes > limit:
                return False
        elif cell is None:
            if (present is None or role in present) and minutes > limit:
                return False
        elif cell.after(minutes, role, present) > limit:
            return False
    return True


def _day_clear(day: date, rules: Rules, targets: tuple[int, ...]) -> bool:
    """Whether no audience of ``targets`` has a blackout on ``day`` (or needs a change period)."""
    if not rules.batching and day not in rules._by_day:  # type: ignore[attr-defined]
        return True
    return all(rules.clash(audience, day) is None for audience in targets)


def _fitting_days(change: Change, start: date, end: date, cells: Cells, rules: Rules,
                  audiences: Iterable[int] | None = None) -> Iterable[date]:
    """The working days from ``start`` to ``end`` on which ``change`` fits: each week's load is
    weighed once (a full week is skipped whole), then its days are checked for blackouts.
    ``cells`` must not change while the days are read."""
    targets = change.audiences if audiences is None else tuple(audiences)
    reach, minutes = _reach(change, rules, targets), change.minutes
    day = start
    one, seven = timedelta(days=1), timedelta(days=7)
    while day <= end:
        week = week_of(day)
        following = week + seven
        if _week_fits(minutes, reach, week, cells):
            while day <= end and day < following:
                if day.weekday() < 5 and _day_clear(day, rules, targets):
                    yield day
                day += one
        day = following


def _without(cells: Cells, change: Change, rules: Rules) -> Cells:
    """``cells`` as if ``change`` did not land (a copy of the cells it touches)."""
    out = dict(cells)
    for audience, day in change.landings():
        week = week_of(day)
        cell = cells.get((audience, week))
        if cell is not None and change.id in cell.changes:
            parts = {role: (m - change.minutes, [c for c in ids if c != change.id]) if change.id in ids else (m, ids)
                     for role, (m, ids) in cell.parts.items()}
            fresh = Cell(changes=[c for c in cell.changes if c != change.id],
                         parts={role: part for role, part in parts.items() if part[1]})
            fresh.weigh(rules.present(audience))
            out[(audience, week)] = fresh
    return out


def _add(cells: Cells, change: Change, day: date, rules: Rules, audiences: Iterable[int] | None = None, *,
         shared: bool = True) -> None:
    """Add ``change`` landing on ``day`` (in place). ``shared``: ``cells`` is a shallow copy of
    the caller's, so a cell it touches is copied first and the caller's cells never change."""
    week = week_of(day)
    for audience in change.audiences if audiences is None else audiences:
        _add_to(cells, change, audience, week, change.role_of(audience), rules, shared)


def _add_to(cells: Cells, change: Change, audience: int, week: date, role: str | None, rules: Rules,
            shared: bool) -> None:
    cell = cells.get((audience, week))
    if cell is None:
        cell = cells[(audience, week)] = Cell()
    elif shared:
        parts = {r: (minutes, list(ids)) for r, (minutes, ids) in cell.parts.items()}
        cell = cells[(audience, week)] = Cell(cell.count, cell.minutes, list(cell.changes), parts, cell.role)
    _put(cell, change, role, rules.roles.get(audience) if role is not None else None)


def _add_landed(cells: Cells, change: Change, rules: Rules, *, shared: bool = True) -> None:
    """Add ``change`` where it lands now (each audience on its own day when staged)."""
    for audience, _day, week, role in change._landed:  # type: ignore[attr-defined]
        _add_to(cells, change, audience, week, role, rules, shared)


def free_slots(
    change: Change, cells: Cells, rules: Rules, *, earliest: date, count: int = 3, horizon_days: int = HORIZON_DAYS
) -> list[date]:
    """The first day in each of the next ``count`` weeks (from the later of its requested date and
    ``earliest``) on which ``change`` lands with no collision, given the others in ``cells``."""
    others = _without(cells, change, rules)
    start = max(change.asked, earliest)
    slots: list[date] = []
    for day in _fitting_days(change, start, start + timedelta(days=horizon_days), others, rules):
        if slots and week_of(slots[-1]) == week_of(day):
            continue
        slots.append(day)
        if len(slots) == count:
            break
    return slots


@dataclass(frozen=True)
class Stage:
    audience: int
    day: date


def staging(
    change: Change, cells: Cells, rules: Rules, *, earliest: date, horizon_days: int = HORIZON_DAYS
) -> list[Stage] | None:
    """The same change to its audiences in turn, in the order given, each at least a week after
    the previous one and on the first day it fits; None when it has one audience or some
    audience finds no room within the horizon."""
    if len(change.audiences) < 2:
        return None
    others = _without(cells, change, rules)
    stages: list[Stage] = []
    start = max(change.asked, earliest)
    for audience in change.audiences:
        day = next(iter(_fitting_days(change, start, start + timedelta(days=horizon_days), others, rules,
                                      (audience,))), None)
        if day is None:
            return None
        stages.append(Stage(audience, day))
        _add(others, change, day, rules, (audience,))
        start = week_of(day) + timedelta(days=7)
    return stages


@dataclass
class Batch:
    period: Period
    moves: dict[int, date]
    #: Changes that would bring an audience-week over its limit or clash inside the period.
    left_out: list[int]


def batch(changes: Iterable[Change], period: Period, cells: Cells, rules: Rules, *, earliest: date) -> Batch:
    """Move each movable change of ``changes`` into ``period`` (the earliest day there it fits,
    in the order of their requested dates); those that find no room stay where they are."""
    todo = sorted((c for c in changes if not c.fixed and not c.stages), key=lambda c: (c.asked, c.id))
    state = dict(cells)
    for change in todo:
        state = _without(state, change, rules)
    moves: dict[int, date] = {}
    left_out: list[int] = []
    for change in todo:
        day = next(iter(_fitting_days(change, max(period.starts, earliest), period.ends, state, rules)), None)
        if day is None:
            left_out.append(change.id)
            _add_landed(state, change, rules)
        else:
            moves[change.id] = day
            _add(state, change, day, rules)
    return Batch(period, moves, left_out)


@dataclass
class Plan:
    #: Every change's proposed effective date.
    dates: dict[int, date]
    #: Changes placed more than ``window_days`` after their requested date.
    late: list[int]
    #: Changes for which no day within the horizon fits (kept where they are): a change that
    #: alone exceeds an audience's limit, or whose audiences are never free together.
    unplaceable: list[int]
    #: The load once the plan is followed (as ``load`` of the moved changes would count it).
    cells: Cells = field(default_factory=dict)

    def moves(self, changes: Iterable[Change]) -> dict[int, date]:
        """The changes the plan moves, and where to."""
        return {c.id: self.dates[c.id] for c in changes if self.dates[c.id] != c.effective}


def schedule(
    changes: Iterable[Change], rules: Rules, *, earliest: date,
    window_days: int = WINDOW_DAYS, horizon_days: int = HORIZON_DAYS,
) -> Plan:
    """A date for each change such that no audience-week goes over its limit and no change lands
    in a blackout: fixed changes (and those effective before ``earliest``) stay; the others, in
    the order of their requested dates, stay where they are when they fit there, and otherwise
    land on the first working day from the later of their requested date and ``earliest`` where
    they fit."""
    changes = list(changes)
    cells: Cells = {}
    dates: dict[int, date] = {}
    movable: list[Change] = []
    for change in changes:
        if change.fixed or change.stages or change.effective < earliest:
            _add_landed(cells, change, rules, shared=False)
            dates[change.id] = change.effective
        else:
            movable.append(change)
    # First keep every change that fits where it is, so that following the plan moves only
    # what collides; then place the others, each at the first day from its requested date.
    to_place: list[Change] = []
    for change in sorted(movable, key=lambda c: (c.asked, c.id)):
        if change.effective.weekday() < 5 and _fits(change, change.effective, cells, rules):
            dates[change.id] = change.effective
            _add(cells, change, change.effective, rules, shared=False)
        else:
            to_place.append(change)
    late = [c.id for c in movable if c.id in dates and (c.effective - c.asked).days > window_days]
    unplaceable: list[int] = []
    for change in to_place:
        start = max(change.asked, earliest)
        day = next(iter(_fitting_days(change, start, start + timedelta(days=horizon_days), cells, rules)), None)
        if day is None:
            unplaceable.append(change.id)
            day = change.effective
        elif (day - change.asked).days > window_days:
            late.append(change.id)
        dates[change.id] = day
        _add(cells, change, day, rules, shared=False)
    return Plan(dates, late, unplaceable, cells)


def moved(changes: Iterable[Change], dates: Mapping[int, date]) -> list[Change]:
    """The changes with the effective dates of a plan (or of any mapping of moves)."""
    return [c if c.id not in dates or dates[c.id] == c.effective
            else replace(c, effective=dates[c.id], stages=())
            for c in changes]
