"""A person's calendar: their unit's hours met with their working pattern, minus their absences."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tandem.agreements import actions as agreements
from tandem.agreements.queries import calendar_for_person
from tandem.org.models import Absence
from tandem.refusal import Invalid
from tests.cast import Cast

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
H = 3600


def week_of(year: int, month: int, day: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, day, tzinfo=LONDON)
    return start, start.replace(day=day + 7)


def test_a_part_timers_hours_and_absence_days_are_excluded(cast: Cast) -> None:
    agent = cast.payroll_agent
    # Monday, Tuesday and Thursday mornings; the unit works 09:00–12:30 and 13:30–17:30.
    agent.working_pattern = {"0": [["08:00", "13:00"]], "1": [["09:00", "13:00"]], "3": [["10:00", "12:00"]]}
    agent.save()
    monday, next_monday = week_of(2026, 11, 23)
    # 3 h 30 m (09:00–12:30) + 3 h 30 m + 2 h; nothing on Wednesday or Friday.
    assert calendar_for_person(agent).between(monday, next_monday) == 9 * H
    Absence.objects.create(person=agent, starts_on=date(2026, 11, 24), ends_on=date(2026, 11, 24))
    assert calendar_for_person(agent).between(monday, next_monday) == int(5.5 * H)
    Absence.objects.create(person=agent, starts_on=date(2026, 11, 20), ends_on=date(2026, 11, 23))  # into Monday
    assert calendar_for_person(agent).between(monday, next_monday) == 2 * H
    # A full-timer on the default pattern works the unit's 37 h 30 m.
    assert calendar_for_person(cast.payroll_agent2).between(monday, next_monday) == int(37.5 * H)
    # The unit's calendar is the base: a unit closed on Mondays closes the person's Monday too
    # (4 days of 09:00–17:00 met with 09:00–12:30 and 13:30–17:30: 7 h each).
    agreements.set_calendar(
        cast.payroll_lead, cast.payroll,
        {"tz": "Europe/London", "weekly": {str(d): [["09:00", "17:00"]] for d in range(1, 5)}},
    )
    assert calendar_for_person(cast.payroll_agent2).between(monday, next_monday) == 4 * 7 * H


def test_a_person_without_working_time_gets_a_clear_refusal(cast: Cast) -> None:
    agent = cast.payroll_agent
    agent.working_pattern = {"5": [["10:00", "14:00"]]}  # Saturdays only; the unit is closed then
    agent.save()
    with pytest.raises(Invalid) as refused:
        calendar_for_person(agent)
    assert "working_pattern" in refused.value.errors and "no working time" in refused.value.message
    agent.working_pattern = {}
    agent.save()
    with pytest.raises(Invalid):
        calendar_for_person(agent)


def test_the_manage_person_page_shows_the_working_time_this_week(cast: Cast, client) -> None:
    agent = cast.payroll_agent
    agent.working_pattern = {"0": [["08:00", "13:00"]], "1": [["09:00", "13:00"]], "3": [["10:00", "12:00"]]}
    agent.save()
    client.force_login(cast.admin.user)
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=LONDON), tick=False):
        page = client.get(f"/manage/people/{agent.pk}/").content.decode()
        assert "Working time this week: 9 h" in page
        agent.working_pattern = {}
        agent.save()
        assert "has no working time" in client.get(f"/manage/people/{agent.pk}/").content.decode()
