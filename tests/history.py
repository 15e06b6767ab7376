"""A scripted history whose answers are known, shared by the four-week plan's tests and its loan
proposals' tests: ten weeks of timesheet corrections to Payroll at a steady weekly pattern, three
from Leeds for each one from York, the five oldest worked and resolved with 30 minutes logged
each. The ``history`` fixture (tandem/conftest.py) makes it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tandem.work import actions
from tandem.work.actions.time import log_time
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

LONDON = ZoneInfo("Europe/London")
FIRST = date(2026, 9, 7)  # a Monday; no English bank holiday from here to Christmas
TODAY = date(2026, 11, 16)  # a Monday: ten weeks of history behind it
DAYS = (TODAY - FIRST).days
PATTERN = [3, 2, 2, 2, 1, 0, 0]  # requests per weekday, Monday first: 10 a week
WORKED = 5  # the oldest, resolved
EFFORT_HOURS = 0.5  # logged on each of them


def steady_history(cast: Cast) -> list[ServiceRequest]:
    made = []
    n = 0
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        for k in range(PATTERN[day.weekday()]):
            who = cast.other_consultant if n % 4 == 3 else cast.consultant
            at = datetime.combine(day, time(9, 30 + k), tzinfo=LONDON)
            made.append(actions.submit_request(who, cast.timesheet, dict(TIMESHEET_OK), now=at).request)
            n += 1
    for sr in made[:WORKED]:
        at = sr.submitted_at + timedelta(hours=1)
        actions.start_request(cast.payroll_agent, sr.pk, now=at)
        log_time(cast.payroll_agent, sr.pk, "30 min", now=at + timedelta(minutes=30))
        actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.", now=at + timedelta(minutes=40))
    return made
