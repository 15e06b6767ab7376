"""Hands-on effort, time entries and the productivity figures built on them, checked against a
small scripted week whose answers are worked out here in plain Python (a one-minute grid), not
by the code under test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.allocation.productivity import unit_productivity
from tandem.allocation.queries import unit_capacity
from tandem.org.models import Person
from tandem.work import actions
from tandem.work.effort import service_efforts
from tandem.work.models import TimeEntry
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # London is on UTC in November
WEDNESDAY_NOON = MONDAY + timedelta(days=2, hours=12)
WORKING = [(9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)]  # the cast's calendar, minutes of the day


def t(hh: int, mm: int = 0) -> datetime:
    return MONDAY.replace(hour=hh, minute=mm)


def working_minutes(a: datetime, b: datetime) -> set[int]:
    """Minutes (since MONDAY) of working time in [a, b), on a one-minute grid."""
    lo, hi = int((a - MONDAY).total_seconds() // 60), int((b - MONDAY).total_seconds() // 60)
    return {m for m in range(lo, hi) if (m // 1440) % 7 < 5 and any(s <= m % 1440 < e for s, e in WORKING)}


def serial_shares(spans: dict[str, tuple[datetime, datetime]]) -> dict[str, int]:
    """Each working minute goes to the open span that ends first."""
    minutes: dict[str, int] = dict.fromkeys(spans, 0)
    for m in sorted(set().union(*(working_minutes(a, b) for a, b in spans.values()))):
        at = MONDAY + timedelta(minutes=m)
        open_now = [k for k, (a, b) in spans.items() if a <= at < b]
        minutes[min(open_now, key=lambda k: spans[k][1])] += 1
    return minutes


@pytest.fixture
def week(cast: Cast) -> dict[str, int]:
    """The agent gives half their time to requests; works R1 09:00–11:00 and R2 10:00–14:30."""
    Person.objects.filter(pk=cast.payroll_agent.pk).update(request_share=0.5)
    r1 = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=t(8, 50)).request.pk
    r2 = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=t(8, 55)).request.pk
    actions.start_request(cast.payroll_agent, r1, now=t(9))
    actions.start_request(cast.payroll_agent, r2, now=t(10))
    actions.resolve_request(cast.payroll_agent, r1, "Corrected.", now=t(11))
    actions.resolve_request(cast.payroll_agent, r2, "Corrected.", now=t(14, 30))
    return {"r1": r1, "r2": r2}


def test_effort_splits_the_persons_time_between_what_they_held(cast: Cast, week: dict[str, int]) -> None:
    minutes = serial_shares({"r1": (t(9), t(11)), "r2": (t(10), t(14, 30))})
    assert minutes == {"r1": 120, "r2": 150}  # 09–11; 11–12:30 and 13:30–14:30
    expected = sorted(0.5 * 60 * m for m in minutes.values())
    efforts = service_efforts(cast.payroll, WEDNESDAY_NOON)
    assert efforts[cast.timesheet.pk].learned
    assert efforts[cast.timesheet.pk].seconds == pytest.approx((expected[0] + expected[1]) / 2)  # median of two

    # Logged time replaces the estimate of that request only.
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        answer = ApiClient(cast.payroll_agent).post(f"/api/requests/{week['r2']}/time",
                                                    {"duration": "50 min", "worked_on": "2026-11-16"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["minutes"] == 50
    efforts = service_efforts(cast.payroll, WEDNESDAY_NOON)
    assert efforts[cast.timesheet.pk].seconds == pytest.approx((0.5 * 60 * 120 + 50 * 60) / 2)


def test_productivity_weeks_are_true(cast: Cast, week: dict[str, int]) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        data = unit_productivity(cast.payroll)
        api = ApiClient(cast.payroll_lead).get("/api/units/payroll/productivity")
    this = data["weeks"][-1]
    busy_minutes = len(working_minutes(t(9), t(14, 30)))  # holding at least one request
    people = {p.pk: p.request_share for p in Person.objects.filter(unit=cast.payroll, user__is_active=True)}
    capacity_minutes = sum(share * len(working_minutes(MONDAY, WEDNESDAY_NOON)) for share in people.values())
    assert this["week"] == date(2026, 11, 16) and not this["complete"]
    assert this["resolved"] == 2 and this["arrivals"] == 2
    assert this["hands_on_hours"] == pytest.approx(0.5 * busy_minutes / 60)
    assert this["hands_on_hours_per_request"] == pytest.approx(0.5 * (120 + 150) / 2 / 60)
    assert this["capacity_hours"] == pytest.approx(capacity_minutes / 60)
    assert this["utilisation"] == pytest.approx(0.5 * busy_minutes / capacity_minutes)
    assert 0 <= this["utilisation"] <= 1
    assert all(w["utilisation"] in (None, 0) for w in data["weeks"][:-1])
    # The API gives the page's figures.
    assert api.status_code == 200
    weeks = api.json()["weeks"]
    assert weeks[-1]["utilisation"] == pytest.approx(this["utilisation"])
    assert weeks[-1]["hands_on_hours"] == pytest.approx(this["hands_on_hours"])
    assert api.json()["services"] == [{"service": cast.timesheet.name, "resolved": 2,
                                       "hands_on_hours_per_request": pytest.approx(0.5 * 135 / 60),
                                       "median_hands_on_hours": pytest.approx(0.5 * 135 / 60)}]
    # Not for another unit's people; a unit that is not there is named.
    assert ApiClient(cast.hr_agent).get("/api/units/payroll/productivity").status_code == 403
    missing = ApiClient(cast.payroll_lead).get("/api/units/nowhere/productivity")
    assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]


def test_committed_hours_are_the_held_requests_efforts(cast: Cast, week: dict[str, int]) -> None:
    efforts = service_efforts(cast.payroll, WEDNESDAY_NOON)
    for _ in range(3):
        pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=WEDNESDAY_NOON).request.pk
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent2.pk, now=WEDNESDAY_NOON)
    cap = unit_capacity(cast.payroll, WEDNESDAY_NOON)
    row = next(r for r in cap.people if r.person.pk == cast.payroll_agent2.pk)
    assert row.committed_count == 3
    assert row.committed_hours == pytest.approx(3 * efforts[cast.timesheet.pk].hours)
    # The agent who gives half their time has half their calendar as capacity.
    half = next(r for r in cap.people if r.person.pk == cast.payroll_agent.pk)
    assert half.capacity_hours == pytest.approx(row.capacity_hours / 2)


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"duration": "a while"}, 422, "not a duration"),
    ({"duration": "0"}, 422, "at least 1 minute"),
    ({"duration": 0.2}, 422, "at least 1 minute"),
    ({"duration": "13 h"}, 422, "at most 12 hours"),
    ({"duration": -5}, 422, "at least 1 minute"),
    ({"duration": 1.7e308}, 422, "at most 12 hours"),  # times 60 overflows to infinity: never a 500
    ({"duration": 10**30}, 422, "at most 12 hours"),
    ({"duration": "35 min", "worked_on": "2026-11-19"}, 422, "not come yet"),
    ({"duration": "35 min", "worked_on": "2026-10-01"}, 422, "last 31 days"),
    ({"duration": "35 min", "note": "x" * 201}, 422, "200"),
])
def test_bad_time_entries_are_refused_and_change_nothing(cast: Cast, week: dict[str, int], body: dict,
                                                         status: int, says: str) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        answer = ApiClient(cast.payroll_agent).post(f"/api/requests/{week['r1']}/time", body)
    assert answer.status_code == status, answer.content
    assert says.lower() in answer.content.decode().lower()
    assert TimeEntry.objects.count() == 0


def test_only_the_people_who_work_a_request_log_time_on_it(cast: Cast, week: dict[str, int]) -> None:
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        requester = ApiClient(cast.consultant).post(f"/api/requests/{week['r1']}/time", {"duration": "10"})
        other_unit = ApiClient(cast.hr_agent).post(f"/api/requests/{week['r1']}/time", {"duration": "10"})
        listed = ApiClient(cast.consultant).get(f"/api/requests/{week['r1']}/time")
    assert requester.status_code == 403 and "Payroll" in requester.json()["detail"]
    assert other_unit.status_code in (403, 404)
    assert TimeEntry.objects.count() == 0
    assert listed.status_code == 200 and listed.json() == {"items": [], "total_minutes": 0}


def test_the_request_page_logs_time_and_keeps_what_was_typed(cast: Cast, week: dict[str, int]) -> None:
    client = Client()
    client.force_login(cast.payroll_agent.user)
    url = f"/requests/{week['r1']}/log_time/"
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        refused = client.post(url, {"log_time-duration": "an hour or so", "log_time-note": "checking the rota"})
        assert refused.status_code == 422
        page = refused.content.decode()
        assert "an hour or so" in page and "checking the rota" in page and "not a duration" in page
        assert TimeEntry.objects.count() == 0
        done = client.post(url, {"log_time-duration": "1 h 20 min", "log_time-note": "checking the rota"})
        assert done.status_code == 302
        page = client.get(f"/requests/{week['r1']}/").content.decode()
    entry = TimeEntry.objects.get()
    assert (entry.seconds, entry.worked_on, entry.person_id) == (80 * 60, date(2026, 11, 18), cast.payroll_agent.pk)
    assert "Time spent: 1 h 20 min" in page
