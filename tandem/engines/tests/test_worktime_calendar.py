"""Worked examples: holidays by region, DST days, year end, half days, openings, people."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tandem.engines.agreements.workdays import add_working_days
from tandem.engines.worktime import CalendarError, CalendarSpec, WorkingCalendar, local_to_utc

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)}
HOUR = 3600


def at(zone: ZoneInfo, *fields: int, fold: int = 0) -> datetime:
    return datetime(*fields[:3], *fields[3:], tzinfo=zone, fold=fold)  # type: ignore[arg-type, misc]


def office(tz: str = "Europe/London", **kwargs) -> WorkingCalendar:
    return WorkingCalendar(CalendarSpec.create(tz=tz, weekly=OFFICE, **kwargs))


def worked_on(cal: WorkingCalendar, zone: ZoneInfo, day: date) -> int:
    start = datetime.combine(day, time(), tzinfo=zone)
    return cal.between(start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))


# --- public holidays -------------------------------------------------------------------------


def test_christmas_and_boxing_day_are_closed_in_every_uk_nation() -> None:
    for region in ("ENG", "SCT", "WLS", "NIR"):
        cal = office(country="GB", subdivision=region)
        assert worked_on(cal, LONDON, date(2024, 12, 25)) == 0
        assert worked_on(cal, LONDON, date(2024, 12, 26)) == 0
        assert worked_on(cal, LONDON, date(2024, 12, 27)) == 7.5 * HOUR


def test_easter_monday_is_a_holiday_in_england_but_not_in_scotland() -> None:
    england, scotland = (
        office(country="GB", subdivision="ENG"),
        office(country="GB", subdivision="SCT"),
    )
    easter_monday = date(2024, 4, 1)
    assert worked_on(england, LONDON, easter_monday) == 0
    assert worked_on(scotland, LONDON, easter_monday) == 7.5 * HOUR
    # ... and Scotland's own: 2 January, St Andrew's Day observed on Monday 2 December 2024
    for day in (date(2024, 1, 2), date(2024, 12, 2)):
        assert worked_on(scotland, LONDON, day) == 0
        assert worked_on(england, LONDON, day) == 7.5 * HOUR
    assert office(country="gb", subdivision="Scotland").spec == scotland.spec  # codes and aliases
    # Good Friday is everywhere
    assert (
        worked_on(england, LONDON, date(2024, 3, 29))
        == worked_on(scotland, LONDON, date(2024, 3, 29))
        == 0
    )


def test_the_clock_runs_over_the_year_end_and_its_holidays() -> None:
    cal = office(country="GB", subdivision="ENG")
    # Tue 31 Dec 2024 16:00: 1.5 h left that day; 1 January is a holiday; then 09:00 Thursday
    assert cal.add(at(LONDON, 2024, 12, 31, 16), 3 * HOUR) == at(LONDON, 2025, 1, 2, 10, 30)
    assert cal.between(at(LONDON, 2024, 12, 31, 16), at(LONDON, 2025, 1, 2, 10, 30)) == 3 * HOUR
    assert cal.next_open(at(LONDON, 2024, 12, 31, 18)) == at(LONDON, 2025, 1, 2, 9)
    scotland = office(country="GB", subdivision="SCT")
    assert scotland.next_open(at(LONDON, 2024, 12, 31, 18)) == at(LONDON, 2025, 1, 3, 9)


# --- closures, half days, openings -----------------------------------------------------------


def test_half_day_closures_keep_only_the_hours_they_leave_open() -> None:
    cal = office(
        country="GB",
        subdivision="ENG",
        closures={date(2024, 12, 24): [("00:00", "13:00")], date(2024, 12, 23): None},
    )
    assert worked_on(cal, LONDON, date(2024, 12, 24)) == 3.5 * HOUR  # 09:00-12:30, lunch kept
    assert worked_on(cal, LONDON, date(2024, 12, 23)) == 0
    assert cal.add(at(LONDON, 2024, 12, 24, 12), HOUR) == at(LONDON, 2024, 12, 27, 9, 30)
    assert not cal.is_open(at(LONDON, 2024, 12, 24, 14))


def test_one_off_openings_open_weekends_and_holidays_with_their_own_hours() -> None:
    cal = office(
        country="GB",
        subdivision="ENG",
        openings={"2024-12-28": [("10:00", "14:00")], "2024-12-26": [("09:00", "11:00")]},
    )
    assert worked_on(cal, LONDON, date(2024, 12, 28)) == 4 * HOUR  # a Saturday
    assert worked_on(cal, LONDON, date(2024, 12, 26)) == 2 * HOUR  # Boxing Day
    # 24 Dec 17:00-17:30, Boxing Day 09:00-11:00, then Friday 27 Dec from 09:00
    assert cal.add(at(LONDON, 2024, 12, 24, 17), 3 * HOUR) == at(LONDON, 2024, 12, 27, 9, 30)
    assert cal.add(at(LONDON, 2024, 12, 27, 17), 3 * HOUR) == at(LONDON, 2024, 12, 28, 12, 30)


def test_a_night_shift_over_midnight_is_one_interval() -> None:
    spec = CalendarSpec.create(
        tz="Europe/London", weekly={4: [("22:00", "24:00")], 5: [("00:00", "06:00")]}
    )
    cal = WorkingCalendar(spec)
    assert cal.add(at(LONDON, 2024, 6, 7, 23), 2 * HOUR) == at(LONDON, 2024, 6, 8, 1)
    assert cal.is_open(at(LONDON, 2024, 6, 8, 0))
    assert cal.working_intervals(at(LONDON, 2024, 6, 7, 12), at(LONDON, 2024, 6, 9)) == [
        (int(at(LONDON, 2024, 6, 7, 22).timestamp()), int(at(LONDON, 2024, 6, 8, 6).timestamp()))
    ]


# --- DST ---------------------------------------------------------------------------------------


def night_calendar(tz: str, hours: list[tuple[str, str]]) -> WorkingCalendar:
    return WorkingCalendar(CalendarSpec.create(tz=tz, weekly={6: hours}))


@pytest.mark.parametrize(
    ("tz", "spring", "autumn", "ordinary"),
    [
        ("Europe/London", date(2024, 3, 31), date(2024, 10, 27), date(2024, 6, 2)),
        ("America/New_York", date(2024, 3, 10), date(2024, 11, 3), date(2024, 6, 2)),
    ],
)
def test_a_shift_from_one_to_three_over_the_clock_change(tz, spring, autumn, ordinary) -> None:
    cal, zone = night_calendar(tz, [("01:00", "03:00")]), ZoneInfo(tz)
    assert worked_on(cal, zone, ordinary) == 2 * HOUR
    assert worked_on(cal, zone, spring) == 1 * HOUR  # an hour of wall clock never happened
    assert worked_on(cal, zone, autumn) == 3 * HOUR  # 01:00-02:00 happened twice


def test_an_interval_at_half_past_one_on_the_fall_back_day_is_the_first_one() -> None:
    cal = night_calendar("Europe/London", [("01:30", "01:45")])
    first = at(LONDON, 2024, 10, 27, 1, 35, fold=0)  # 00:35 UTC, still BST
    second = at(LONDON, 2024, 10, 27, 1, 35, fold=1)  # 01:35 UTC, GMT
    assert cal.is_open(first)
    assert not cal.is_open(second)
    assert worked_on(cal, LONDON, date(2024, 10, 27)) == 15 * 60
    assert cal.next_open(at(LONDON, 2024, 10, 27, 0)) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_intervals_in_the_spring_forward_gap_start_at_the_transition() -> None:
    # London skips 01:00-02:00 on 31 March 2024 (01:00 GMT → 02:00 BST, 01:00 UTC).
    inside = night_calendar("Europe/London", [("01:15", "01:45")])
    assert worked_on(inside, LONDON, date(2024, 3, 31)) == 0
    across = night_calendar("Europe/London", [("01:30", "02:30")])
    assert worked_on(across, LONDON, date(2024, 3, 31)) == 30 * 60
    assert across.next_open(at(LONDON, 2024, 3, 31, 0)) == datetime(2024, 3, 31, 1, tzinfo=UTC)
    zone = ZoneInfo("Europe/London")
    assert local_to_utc(zone, date(2024, 3, 31), 90 * 60) == int(
        datetime(2024, 3, 31, 1, tzinfo=UTC).timestamp()
    )


def test_a_day_that_a_time_zone_skipped_has_no_working_time() -> None:
    # Samoa moved across the date line: Friday 30 December 2011 did not happen in Apia.
    cal = office("Pacific/Apia")
    apia = ZoneInfo("Pacific/Apia")
    assert worked_on(cal, apia, date(2011, 12, 29)) == 7.5 * HOUR
    assert cal.between(at(apia, 2011, 12, 29, 17, 30), at(apia, 2011, 12, 31)) == 0
    assert cal.next_open(at(apia, 2011, 12, 29, 18)) == at(apia, 2012, 1, 2, 9)


def test_office_hours_keep_their_local_times_across_dst() -> None:
    cal = office(country="GB", subdivision="ENG")
    # Friday 17:00 BST before the autumn change + 1 h → Monday 09:30 GMT
    assert cal.add(at(LONDON, 2024, 10, 25, 17), HOUR) == at(LONDON, 2024, 10, 28, 9, 30)
    # Thursday before Easter, 17:00 GMT + 1 h: Good Friday and Easter Monday closed → Tue 09:30 BST
    assert cal.add(at(LONDON, 2024, 3, 28, 17), HOUR) == at(LONDON, 2024, 4, 2, 9, 30)


# --- personal calendars ------------------------------------------------------------------------


def test_a_personal_calendar_is_the_unit_within_the_persons_pattern_minus_absences() -> None:
    unit = CalendarSpec.create(tz="Europe/London", weekly=OFFICE, country="GB", subdivision="ENG")
    person = unit.for_person(
        weekly={0: [("08:00", "13:00")], 2: [("12:00", "18:00")]}, absences=[date(2024, 6, 5)]
    )
    cal = WorkingCalendar(person)
    assert worked_on(cal, LONDON, date(2024, 6, 3)) == 3.5 * HOUR  # Mon 09:00-12:30
    assert worked_on(cal, LONDON, date(2024, 6, 4)) == 0  # Tuesday: not their day
    assert worked_on(cal, LONDON, date(2024, 6, 5)) == 0  # absent
    assert worked_on(cal, LONDON, date(2024, 6, 12)) == 4.5 * HOUR  # Wed 12:00-12:30, 13:30-17:30
    assert worked_on(cal, LONDON, date(2024, 8, 26)) == 0  # bank holiday still applies
    again = person.for_person(weekly={0: [("12:00", "24:00")]}, absences=["2024-06-10"])
    assert again.absences == (date(2024, 6, 5), date(2024, 6, 10))
    assert worked_on(WorkingCalendar(again), LONDON, date(2024, 6, 17)) == 0.5 * HOUR
    with pytest.raises(CalendarError, match=r"^person_weekly: "):
        unit.for_person(weekly={5: [("09:00", "17:00")]})


# --- the spec as data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekly": {2: [("13:00", "12:00")]}}, "weekly[2]: 13:00-12:00 ends before it starts"),
        (
            {"weekly": {0: [("09:00", "12:00"), ("11:30", "13:00")]}},
            "weekly[0]: 11:30-13:00 overlaps 09:00-12:00",
        ),
        ({"weekly": {1: [("09:00", "09:00")]}}, "weekly[1]: 09:00-09:00 is empty"),
        ({"weekly": {0: [("24:30", "25:00")]}}, "weekly[0]: '24:30' is not a time of day"),
        ({"weekly": {0: [("9h", "10:00")]}}, "weekly[0]: '9h' is not a time of day"),
        ({"weekly": {0: [("09:60", "10:00")]}}, "weekly[0]: '09:60' is not a time of day"),
        ({"weekly": {7: [("09:00", "10:00")]}}, "weekly: 7 is not a weekday"),
        ({"weekly": {}}, "weekly: no working time on any day of the week"),
        (
            {"weekly": {0: []}, "openings": {"2024-01-06": [("09:00", "10:00")]}},
            "weekly: no working time",
        ),
        ({"tz": "Europe/Londres"}, "tz: unknown time zone 'Europe/Londres'"),
        ({"country": "XX"}, "country: unknown country code 'XX'"),
        ({"country": "GB", "subdivision": "XYZ"}, "subdivision: 'XYZ' is not a subdivision of GB"),
        ({"subdivision": "ENG"}, "subdivision: a subdivision needs a country"),
        (
            {"closures": {"2024-12-24": [("14:00", "13:00")]}},
            "closures[2024-12-24]: 14:00-13:00 ends before",
        ),
        ({"closures": ["24/12/2024"]}, "closures: '24/12/2024' is not a date"),
        ({"openings": ["2024-12-28"]}, "openings: give a mapping date → hours"),
        ({"openings": {"2024-12-28": []}}, "openings[2024-12-28]: an opening needs hours"),
        (
            {"openings": {"2024-12-28": [("10:00", "12:00")]}, "closures": ["2024-12-28"]},
            "closures[2024-12-28]: the same date is an opening",
        ),
    ],
)
def test_bad_calendars_are_refused_naming_the_field(kwargs, message) -> None:
    args = {"tz": "Europe/London", "weekly": OFFICE, **kwargs}
    with pytest.raises(CalendarError) as caught:
        CalendarSpec.create(**args)
    assert str(caught.value).replace("\u2013", "-").startswith(message)
    assert isinstance(caught.value, ValueError)


def test_a_spec_built_directly_from_fields_is_checked_too() -> None:
    good = CalendarSpec.create(tz="UTC", weekly=OFFICE)
    with pytest.raises(CalendarError, match=r"^weekly\[0\]: "):
        CalendarSpec(tz="UTC", weekly=(((3600, 60),), *good.weekly[1:]))  # type: ignore[arg-type]


def test_a_spec_round_trips_through_json_and_is_a_cache_key() -> None:
    spec = CalendarSpec.create(
        tz="Europe/London",
        weekly={**OFFICE, 5: [(time(10), time(13, 30, 15))]},  # type: ignore[arg-type]
        country="gb",
        subdivision="sct",
        closures={date(2024, 12, 24): [("09:00", "12:30")], date(2024, 12, 31): []},
        openings={date(2024, 12, 28): [("10:00", "14:00")]},
    ).for_person(weekly=OFFICE, absences=[date(2024, 7, 1)])
    data = json.loads(json.dumps(spec.to_data()))
    assert data["weekly"]["5"] == [["10:00", "13:30:15"]]
    again = CalendarSpec.from_data(data)
    assert again == spec
    assert hash(again) == hash(spec)
    assert WorkingCalendar.of(again) is WorkingCalendar.of(spec)
    assert "Saturday: closed" in spec.describe()  # the person does not work Saturdays
    with pytest.raises(CalendarError, match=r"^colour: not a calendar field"):
        CalendarSpec.from_data({**data, "colour": "red"})


def test_the_existing_working_day_helper_is_unchanged() -> None:
    start = datetime(2024, 6, 7, 15, 0, tzinfo=LONDON)  # a Friday
    assert add_working_days(start, 1) == datetime(2024, 6, 10, 15, 0, tzinfo=LONDON)
