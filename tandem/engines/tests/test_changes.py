"""The change calendar's engine against a plain recomputation, on small generated calendars."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.engines.changes import (
    WINDOW_DAYS,
    Blackout,
    Change,
    Period,
    Rules,
    batch,
    check,
    free_slots,
    load,
    moved,
    over_limit,
    schedule,
    staging,
    week_of,
)

MONDAY = date(2026, 3, 2)
AUDIENCES = (1, 2, 3)
#: Every role a person may hold (an audience whose roles are not given may hold any).
ROLES = ("member", "lead", "executive", "admin")


def people(rules: Rules, audience: int) -> list[str | None]:
    """One stand-in person per role held in the audience, and one who holds none of the roles a
    change names (so that a unit with nobody still counts its unit-wide changes)."""
    return [None, *rules.roles.get(audience, ROLES)]


def reaches(c: Change, audience: int, role: str | None) -> bool:
    """Whether the change lands on a person of ``role`` in ``audience``."""
    wanted = dict(c.roles).get(audience)
    return wanted is None or wanted == role


def brute_person_loads(changes: list[Change], rules: Rules) -> dict[tuple[int, tuple[int, int]], list[tuple[int, list[int]]]]:
    """Per audience and ISO (year, week): each stand-in person's minutes and changes, counted the
    plain way."""
    weeks = {(a, iso(day_of(c, a))) for c in changes for a in c.audiences}
    out = {}
    for a, week in weeks:
        landing = [c for c in changes if a in c.audiences and iso(day_of(c, a)) == week]
        out[(a, week)] = [(sum(c.minutes for c in landing if reaches(c, a, r)),
                           [c.id for c in landing if reaches(c, a, r)]) for r in people(rules, a)]
    return out


def brute_minutes(changes: list[Change], rules: Rules | None = None) -> dict[tuple[int, tuple[int, int]], int]:
    """The most-loaded person's minutes per audience and ISO (year, week)."""
    return {k: max(m for m, _ in loads) for k, loads in brute_person_loads(changes, rules or Rules()).items()}


def day_of(c: Change, audience: int) -> date:
    """The day the change reaches the audience: its own stage's day, else the effective date."""
    for a, day in c.stages:
        if a == audience:
            return day
    return c.effective


def brute_over(changes: list[Change], rules: Rules) -> set[tuple[int, tuple[int, int]]]:
    return {k for k, m in brute_minutes(changes, rules).items() if m > rules.limit(k[0])}


def iso(day: date) -> tuple[int, int]:
    y, w, _ = day.isocalendar()
    return (y, w)


@st.composite
def calendars(draw: st.DrawFn) -> tuple[list[Change], Rules]:
    n = draw(st.integers(0, 8))
    changes = []
    for i in range(n):
        audiences = tuple(sorted(draw(st.sets(st.sampled_from(AUDIENCES), min_size=1, max_size=3))))
        requested = MONDAY + timedelta(days=draw(st.integers(0, 40)))
        effective = requested + timedelta(days=draw(st.integers(0, 10)))
        # Some are staged: each audience reached on its own day (a staging accepted).
        stages: tuple[tuple[int, date], ...] = ()
        if len(audiences) > 1 and draw(st.integers(0, 4)) == 0:
            stages = tuple((a, effective + timedelta(days=7 * n + draw(st.integers(0, 4))))
                           for n, a in enumerate(audiences))
        # Some reach only one role of some of their audiences (every lead of a unit, say).
        roles = tuple((a, draw(st.sampled_from(("lead", "member", "executive")))) for a in audiences
                      if draw(st.integers(0, 2)) == 0)
        changes.append(Change(i + 1, audiences, effective, draw(st.integers(5, 70)), requested,
                              fixed=draw(st.booleans()) and draw(st.booleans()), stages=stages, roles=roles))
    limits = {a: draw(st.integers(20, 90)) for a in AUDIENCES if draw(st.booleans())}
    # The roles held in some audiences (the others may hold any); a unit may hold none.
    held = {a: frozenset(draw(st.sets(st.sampled_from(ROLES), max_size=3))) for a in AUDIENCES if draw(st.booleans())}
    blackouts = []
    for _ in range(draw(st.integers(0, 2))):
        start = MONDAY + timedelta(days=draw(st.integers(0, 60)))
        blackouts.append(Blackout(start, start + timedelta(days=draw(st.integers(0, 6))), "busy",
                                  draw(st.sampled_from((None, *AUDIENCES)))))
    periods: tuple[Period, ...] = ()
    batching: frozenset[int] = frozenset()
    if draw(st.booleans()):
        start = MONDAY + timedelta(days=draw(st.integers(0, 50)))
        periods = (Period(start, start + timedelta(days=draw(st.integers(4, 20))), "change period"),)
        batching = frozenset(draw(st.sets(st.sampled_from(AUDIENCES), max_size=2)))
    return changes, Rules(limits, 60, tuple(blackouts), periods, batching, held)


@settings(max_examples=300, deadline=None)
@given(calendars())
def test_it_finds_every_audience_week_over_its_limit(calendar: tuple[list[Change], Rules]) -> None:
    changes, rules = calendar
    result = check(changes, rules)
    loads = brute_person_loads(changes, rules)
    # The cell is the most-loaded person: their minutes, and (ties: the one with more) their count.
    assert {(a, week): (cell.minutes, cell.count) for (a, week), cell in result.cells.items()} == {
        (a, date.fromisocalendar(y, w, 1)): max((m, len(ids)) for m, ids in person)
        for (a, (y, w)), person in loads.items()
    }
    assert {(o.audience, iso(o.week)) for o in result.overloads} == brute_over(changes, rules)
    # The changes named in an overload are those landing on someone over the limit.
    for o in result.overloads:
        limit = rules.limit(o.audience)
        assert set(o.changes) == {i for m, ids in loads[(o.audience, iso(o.week))] if m > limit for i in ids}
    expected_clashes = {
        (c.id, a) for c in changes for a in c.audiences
        if any(b.starts <= day_of(c, a) <= b.ends and b.audience in (None, a) for b in rules.blackouts)
        or (a in rules.batching and not any(p.starts <= day_of(c, a) <= p.ends for p in rules.periods))
    }
    assert {(x.change, x.audience) for x in result.clashes} == expected_clashes


@settings(max_examples=300, deadline=None)
@given(calendars(), st.integers(0, 20))
def test_following_the_schedule_leaves_no_audience_week_over_its_limit(
    calendar: tuple[list[Change], Rules], offset: int
) -> None:
    changes, rules = calendar
    earliest = MONDAY + timedelta(days=offset)
    plan = schedule(changes, rules, earliest=earliest)
    after = moved(changes, plan.dates)
    stays = {c.id for c in changes if c.fixed or c.stages or c.effective < earliest}
    assert [c.roles for c in after] == [c.roles for c in changes]  # moving keeps whom it reaches
    # Only what cannot be helped is over: weeks the fixed changes alone overload, or a change
    # for which no day fits at all (which the plan names).
    fixed_over = brute_over([c for c in after if c.id in stays], rules)
    for key in brute_over(after, rules):
        in_cell = [c for c in after if key[0] in c.audiences and iso(day_of(c, key[0])) == key[1]]
        assert key in fixed_over or any(c.id in plan.unplaceable for c in in_cell), (key, plan)
    for c in after:
        if c.id in stays:
            assert c.effective == next(o.effective for o in changes if o.id == c.id)
            continue
        if c.id in plan.unplaceable:
            continue
        assert c.effective >= max(c.asked, earliest) and c.effective.weekday() < 5
        assert all(rules.clash(a, c.effective) is None for a in c.audiences)
        assert ((c.effective - c.asked).days > WINDOW_DAYS) == (c.id in plan.late)


@settings(max_examples=200, deadline=None)
@given(calendars())
def test_a_calendar_with_room_at_the_requested_dates_is_left_alone(calendar: tuple[list[Change], Rules]) -> None:
    changes, rules = calendar
    asked = [Change(c.id, c.audiences, c.asked, c.minutes, c.asked, roles=c.roles) for c in changes
             if c.asked.weekday() < 5]
    result = check(asked, rules)
    if result.overloads or result.clashes:
        return
    plan = schedule(asked, rules, earliest=MONDAY)
    assert plan.moves(asked) == {} and plan.late == [] and plan.unplaceable == []


@settings(max_examples=200, deadline=None)
@given(calendars())
def test_each_free_slot_and_stage_fits_beside_the_others(calendar: tuple[list[Change], Rules]) -> None:
    changes, rules = calendar
    cells = load(changes, rules)
    for change in changes:
        others = [c for c in changes if c.id != change.id]
        for day in free_slots(change, cells, rules, earliest=MONDAY):
            assert day >= change.asked
            landed = replace(change, effective=day, stages=())
            for a in change.audiences:
                assert brute_minutes([*others, landed], rules)[(a, iso(day))] <= rules.limit(a)
                assert rules.clash(a, day) is None
        stages = staging(change, cells, rules, earliest=MONDAY)
        if stages is None:
            continue
        assert [s.audience for s in stages] == list(change.audiences)
        for first, second in pairwise(stages):
            assert week_of(second.day) > week_of(first.day)
        staged = replace(change, stages=tuple((s.audience, s.day) for s in stages))
        after = brute_minutes([*others, staged], rules)
        for s in stages:
            assert after[(s.audience, iso(s.day))] <= rules.limit(s.audience)


def test_a_batch_fills_the_change_period_up_to_the_limits() -> None:
    period = Period(date(2026, 4, 6), date(2026, 4, 10), "April change week")
    changes = [Change(i, (1,), date(2026, 3, 2) + timedelta(days=7 * i), 25, date(2026, 3, 2)) for i in range(4)]
    result = batch(changes, period, load(changes), Rules(), earliest=MONDAY)
    assert sorted(result.moves) == [0, 1] and result.left_out == [2, 3]
    assert all(period.covers(day) for day in result.moves.values())


def test_a_change_alone_over_the_limit_is_named_not_hidden() -> None:
    big = Change(1, (1,), date(2026, 3, 4), 90)
    plan = schedule([big], Rules(), earliest=MONDAY)
    assert plan.unplaceable == [1] and plan.dates[1] == big.effective


def test_the_schedule_moves_only_what_collides() -> None:
    # The later-asked change already sits in its week; the earlier-asked one that collides moves.
    settled = Change(1, (1,), date(2026, 3, 16), 40, date(2026, 3, 2))
    crowded = [Change(2, (1,), date(2026, 3, 17), 30, date(2026, 3, 17)), Change(3, (2,), date(2026, 3, 4), 10)]
    plan = schedule([settled, *crowded], Rules(), earliest=MONDAY)
    assert plan.moves([settled, *crowded]) == {2: date(2026, 3, 23)}


def test_a_lead_absorbs_the_unit_wide_changes_and_the_leads_changes() -> None:
    everyone = Change(1, (1,), date(2026, 3, 3), 30)
    leads = Change(2, (1,), date(2026, 3, 4), 25, roles=((1, "lead"),))
    members = Change(3, (1,), date(2026, 3, 5), 10, roles=((1, "member"),))
    rules = Rules(roles={1: frozenset({"member", "lead"})})
    cell = load([everyone, leads, members], rules)[(1, MONDAY)]
    assert (cell.minutes, cell.count, cell.role, cell.changes) == (55, 2, "lead", [1, 2, 3])
    # A unit with no lead: the leads' change lands on nobody there.
    cell = load([everyone, leads, members], Rules(roles={1: frozenset({"member"})}))[(1, MONDAY)]
    assert (cell.minutes, cell.count, cell.role) == (40, 2, "member")
    # Over 50: only the changes landing on the leads collide; the members' change does not.
    result = check([everyone, leads, members], Rules(limits={1: 50}, roles={1: frozenset({"member", "lead"})}))
    assert [(o.minutes, o.changes) for o in result.overloads] == [(55, (1, 2))]
    # The leads' change fits beside a members' change of any size, not beside another leads' one.
    rules = Rules(roles={1: frozenset({"member", "lead"})})
    cells = load([Change(4, (1,), date(2026, 3, 3), 50, roles=((1, "member"),)),
                  Change(5, (1,), date(2026, 3, 3), 40, roles=((1, "lead"),))], rules)
    assert free_slots(leads, cells, rules, earliest=MONDAY)[0] == date(2026, 3, 9)
    assert free_slots(replace(leads, minutes=20), cells, rules, earliest=MONDAY)[0] == date(2026, 3, 4)


@settings(max_examples=100, deadline=None)
@given(calendars())
def test_proposals_leave_the_cells_they_are_given_as_they_were(calendar: tuple[list[Change], Rules]) -> None:
    # The calendar computes many proposals from one set of cells: one must not leak into the next.
    changes, rules = calendar
    cells = load(changes, rules)
    before = {k: (c.minutes, c.count, list(c.changes)) for k, c in cells.items()}
    for change in changes:
        staging(change, cells, rules, earliest=MONDAY)
        free_slots(change, cells, rules, earliest=MONDAY)
    batch(changes, Period(MONDAY + timedelta(days=14), MONDAY + timedelta(days=18), "p"), cells, rules,
          earliest=MONDAY)
    assert {k: (c.minutes, c.count, list(c.changes)) for k, c in cells.items()} == before


@settings(max_examples=200, deadline=None)
@given(calendars())
def test_it_keeps_the_load_after_the_plan_as_a_recount_of_the_moved_changes(
        calendar: tuple[list[Change], Rules]) -> None:
    # The calendar counts the audience-weeks left over the limit from the plan's own cells rather
    # than loading every change again: they must be what a fresh count of the moved changes says.
    changes, rules = calendar
    plan = schedule(changes, rules, earliest=MONDAY + timedelta(days=7))
    after = moved(changes, plan.dates)
    assert {k: c.minutes for k, c in plan.cells.items() if c.changes} == {
        k: c.minutes for k, c in load(after, rules).items()}
    assert over_limit(plan.cells, rules) == len(check(after, rules).overloads)
    assert {(a, iso(w)): c.minutes for (a, w), c in plan.cells.items() if c.changes} == brute_minutes(after, rules)
