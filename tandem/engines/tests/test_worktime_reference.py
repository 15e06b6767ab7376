"""The engine against the minute-by-minute reference, on random calendars around DST changes,
holidays and year ends (whole-minute intervals and instants, so the reference is exact)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.engines.tests.worktime_reference import Hours, MinuteReference, hours_function
from tandem.engines.worktime import CalendarSpec, WorkingCalendar


@dataclass(frozen=True)
class Window:
    tz: str
    first: date
    last: date
    regions: tuple[tuple[str | None, str | None], ...] = ((None, None),)


WINDOWS = [
    # spring forward (31 Mar, 01:00 GMT) + Good Friday and Easter Monday
    Window(
        "Europe/London",
        date(2024, 3, 24),
        date(2024, 4, 7),
        ((None, None), ("GB", "ENG"), ("GB", "SCT")),
    ),
    # fall back (27 Oct, 02:00 BST)
    Window("Europe/London", date(2024, 10, 20), date(2024, 11, 3), ((None, None), ("GB", "ENG"))),
    # Christmas, Boxing Day, year end; 2 January is a holiday in Scotland only
    Window(
        "Europe/London",
        date(2024, 12, 21),
        date(2025, 1, 5),
        ((None, None), ("GB", "ENG"), ("GB", "SCT")),
    ),
    Window("America/New_York", date(2024, 3, 6), date(2024, 3, 16), ((None, None), ("US", None))),
    Window(
        "America/New_York", date(2024, 10, 28), date(2024, 11, 12), ((None, None), ("US", "NY"))
    ),
    Window(
        "America/New_York", date(2021, 12, 26), date(2022, 1, 5), (("US", None),)
    ),  # observed 31 Dec
    # half-hour DST: ends 7 Apr 2024 02:00, starts 6 Oct 2024 02:00
    Window("Australia/Lord_Howe", date(2024, 4, 1), date(2024, 4, 12)),
    Window("Australia/Lord_Howe", date(2024, 10, 1), date(2024, 10, 12)),
    # Samoa skipped Friday 30 December 2011 altogether
    Window("Pacific/Apia", date(2011, 12, 25), date(2012, 1, 5)),
    Window("Asia/Kolkata", date(2024, 12, 26), date(2025, 1, 4)),
]

# Boundaries on quarter hours, with extra weight on the night hours where clocks change.
NIGHT = [0, 30, 60, 75, 90, 105, 120, 150, 180, 210, 240]
boundary = st.one_of(st.sampled_from(NIGHT), st.integers(0, 96).map(lambda q: q * 15))


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def day_hours(draw: st.DrawFn, max_intervals: int = 3, min_intervals: int = 0) -> Hours:
    cuts = sorted(draw(st.sets(boundary, min_size=2 * min_intervals, max_size=2 * max_intervals)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return [(clock(a), clock(b)) for a, b in zip(cuts[0::2], cuts[1::2], strict=True)]


@st.composite
def scenario(draw: st.DrawFn) -> tuple[Window, dict, dict]:
    window = draw(st.sampled_from(WINDOWS))
    country, subdivision = draw(st.sampled_from(window.regions))
    weekly = {d: h for d in range(7) if (h := draw(day_hours()))}
    if not weekly:
        weekly = {6: [("01:00", "03:00")]}
    days = [window.first + timedelta(days=i) for i in range((window.last - window.first).days + 1)]
    closed = draw(st.lists(st.sampled_from(days), max_size=3, unique=True))
    closures = {d: draw(st.one_of(st.just([]), day_hours(2))) for d in closed}
    opened = draw(
        st.lists(st.sampled_from([d for d in days if d not in closures]), max_size=2, unique=True)
    )
    openings = {d: draw(day_hours(2, min_intervals=1)) for d in opened}
    person = draw(
        st.one_of(
            st.none(),
            st.just({d: [("00:00", "24:00")] for d in range(5)}),
            st.builds(
                lambda w: {d: h for d, h in enumerate(w)},
                st.lists(day_hours(2), min_size=7, max_size=7),
            ),
        )
    )
    absences = set(draw(st.lists(st.sampled_from(days), max_size=2)))
    spec_args: dict[str, Any] = dict(
        tz=window.tz,
        weekly=weekly,
        country=country,
        subdivision=subdivision,
        closures=closures,
        openings=openings,
    )
    ref_args = dict(
        weekly=weekly,
        country=country,
        subdivision=subdivision,
        closures=closures,
        openings=openings,
        person=person,
        absences=absences,
    )
    if person is not None or absences:
        spec_args["person"] = person
        spec_args["absences"] = absences
    return window, spec_args, ref_args


def build(spec_args: dict) -> CalendarSpec | None:
    args = dict(spec_args)
    if "person" not in args:
        return CalendarSpec.create(**args)
    person, absences = args.pop("person"), args.pop("absences")
    spec = CalendarSpec.create(**args)
    try:
        if person is not None and not any(
            a and b
            for a, b in zip(
                spec.weekly, CalendarSpec.create(tz=spec.tz, weekly=person).weekly, strict=True
            )
        ):
            return None  # the person never meets the unit: refused, tested elsewhere
        return spec.for_person(weekly=person, absences=absences)
    except ValueError:
        return None  # a person with no working time at all: refused, tested elsewhere


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.data())
def test_engine_matches_the_minute_reference(case, data) -> None:
    window, spec_args, ref_args = case
    spec = build(spec_args)
    if spec is None:
        return
    ref = MinuteReference(window.tz, hours_function(**ref_args), window.first, window.last)
    cal = WorkingCalendar(spec)
    minutes = (ref.hi - ref.lo) // 60
    instant = st.integers(0, minutes - 1).map(lambda m: ref.lo + 60 * m)
    a_list = data.draw(st.lists(instant, min_size=12, max_size=12))
    b_list = data.draw(st.lists(instant, min_size=12, max_size=12))
    d_list = data.draw(
        st.lists(st.integers(0, 3 * 24 * 60).map(lambda m: 60 * m), min_size=12, max_size=12)
    )
    for a, b, d in zip(a_list, b_list, d_list, strict=True):
        assert cal.between(a, b) == ref.between(a, b), (a, b)
        assert cal.is_open(a) == ref.is_open(a), a
        expected = ref.add(a, d)
        if expected is not None:
            assert cal.add(a, d) == expected, (a, d)
        after = ref.next_open(a)
        if after is not None:
            assert cal.next_open(a) == after, a
    a_arr, b_arr, d_arr = (np.array(x, dtype=np.int64) for x in (a_list, b_list, d_list))
    assert cal.between_many(a_arr, b_arr).tolist() == [
        ref.between(a, b) for a, b in zip(a_list, b_list, strict=True)
    ]
    assert cal.add_many(a_arr, d_arr).tolist() == [
        cal.add(a, d) for a, d in zip(a_list, d_list, strict=True)
    ]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(WINDOWS), st.data())
def test_a_fixed_office_calendar_matches_the_reference_around_every_edge(window, data) -> None:
    """Lunch breaks, a night shift over midnight and Sunday night hours across the DST hour."""
    weekly = {d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)}
    weekly[4] = [("09:00", "12:30"), ("13:30", "17:30"), ("22:00", "24:00")]
    weekly[5] = [("00:00", "06:00")]
    weekly[6] = [("00:30", "01:15"), ("01:30", "03:00")]
    country, subdivision = window.regions[-1]
    spec = CalendarSpec.create(
        tz=window.tz, weekly=weekly, country=country, subdivision=subdivision
    )
    ref = MinuteReference(
        window.tz, hours_function(weekly, country, subdivision), window.first, window.last
    )
    cal = WorkingCalendar(spec)
    minutes = (ref.hi - ref.lo) // 60
    for _ in range(10):
        a = ref.lo + 60 * data.draw(st.integers(0, minutes - 1))
        b = ref.lo + 60 * data.draw(st.integers(0, minutes))
        d = 60 * data.draw(st.integers(0, 2 * 24 * 60))
        assert cal.between(a, b) == ref.between(a, b)
        expected = ref.add(a, d)
        if expected is not None:
            assert cal.add(a, d) == expected
