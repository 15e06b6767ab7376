"""Effort per service from history, each person's capacity, the capacity page and API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from tandem.allocation.queries import unit_capacity
from tandem.org.models import Absence, Person
from tandem.work import actions
from tandem.work.effort import DEFAULT_EFFORT_SECONDS, service_efforts
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

from .conftest import MONDAY_10, Skills

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def give(cast: Cast, agent: Person, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
        actions.assign_request(cast.payroll_lead, sr.pk, agent.pk)
        ids.append(sr.pk)
    return ids


def test_it_learns_effort_from_history_and_falls_back_to_one_hour(cast: Cast, monday) -> None:
    efforts = service_efforts(cast.payroll, MONDAY_10)
    assert efforts[cast.timesheet.pk].seconds == DEFAULT_EFFORT_SECONDS
    assert not efforts[cast.timesheet.pk].learned
    # Last week: three requests worked for 2 h, 2 h and 4 h of working time (median 2 h).
    last_monday = MONDAY_10 - timedelta(days=7)
    for hours in (2, 2, 4):
        submitted = last_monday.replace(hour=9)
        sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=submitted).request
        actions.start_request(cast.payroll_agent, sr.pk, now=last_monday)
        # 10:00 + 2 h = 12:00; + 4 h crosses lunch (12:30–13:30) and ends at 15:00.
        end = last_monday + timedelta(hours=hours if hours < 3 else hours + 1)
        actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.", now=end)
    efforts = service_efforts(cast.payroll, MONDAY_10)
    assert efforts[cast.timesheet.pk].learned and efforts[cast.timesheet.pk].hours == 2.0


def test_it_counts_capacity_less_committed_work_and_absences(cast: Cast, skills: Skills, monday) -> None:
    give(cast, cast.payroll_agent, 3)
    Absence.objects.create(person=cast.payroll_agent2, starts_on=date(2026, 11, 24), ends_on=date(2026, 11, 24))
    cap = unit_capacity(cast.payroll, MONDAY_10, days=5)
    rows = {row.person.pk: row for row in cap.people}
    # Five working days from Monday 10:00: the week's 37.5 h less Monday's first hour.
    agent = rows[cast.payroll_agent.pk]
    assert agent.capacity_hours == 36.5
    assert (agent.committed_hours, agent.committed_count, agent.free_hours) == (3.0, 3, 33.5)
    assert agent.skills == {"Payroll": 3}
    # Tuesday away: a 7.5 h day less.
    assert rows[cast.payroll_agent2.pk].capacity_hours == 29.0
    assert rows[cast.payroll_agent2.pk].committed_hours == 0.0
    # One working day: the rest of Monday, 10:00–12:30 and 13:30–17:30.
    assert unit_capacity(cast.payroll, MONDAY_10, days=1).people[0].capacity_hours == 6.5
    # The matrix: people × the skills the unit's services need or its people hold.
    assert cap.skill_names == ["Payroll"]
    assert dict((p.pk, levels) for p, levels in cap.matrix())[cast.payroll_lead.pk] == [None]


def test_the_capacity_api_is_for_the_units_lead_and_administrators(cast: Cast, skills: Skills, monday) -> None:
    give(cast, cast.payroll_agent, 2)
    response = ApiClient(cast.payroll_lead).get("/api/units/payroll/capacity", {"days": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    agent = next(p for p in body["people"] if p["person"]["id"] == cast.payroll_agent.pk)
    assert agent == {
        "person": {"id": cast.payroll_agent.pk, "name": "Payroll Agent"},
        "skills": {"Payroll": 3},
        "capacity_hours": 6.5,
        "committed_hours": 2.0,
        "committed_requests": 2,
        "free_hours": 4.5,
    }
    assert body["efforts"][0]["estimated"] is True and body["efforts"][0]["effort_hours"] == 1.0
    assert ApiClient(cast.admin).get("/api/units/hr/capacity").status_code == 200


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("payroll_lead", "/api/units/nope/capacity", 404),
        ("payroll_lead", "/api/units/leeds/capacity", 422),  # a front-office unit
        ("payroll_lead", "/api/units/hr/capacity", 403),  # not their unit
        ("payroll_agent", "/api/units/payroll/capacity", 403),  # not a lead
        ("payroll_lead", "/api/units/payroll/capacity?days=0", 422),
        ("payroll_lead", "/api/units/payroll/capacity?days=31", 422),
    ],
)
def test_the_capacity_api_refuses_clearly(cast: Cast, who: str, url: str, status: int) -> None:
    response = ApiClient(getattr(cast, who)).get(url)
    assert response.status_code == status, response.json()
    assert response.json()["detail"]


def test_the_capacity_page_shows_people_matrix_and_estimated_effort(cast: Cast, skills: Skills, monday) -> None:
    give(cast, cast.payroll_agent, 1)
    Absence.objects.create(
        person=cast.payroll_agent2, kind="sick", starts_on=date(2026, 11, 24), ends_on=date(2026, 11, 24)
    )
    response = client_for(cast.payroll_lead).get("/manage/capacity/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Capacity of Payroll" in text and "Payroll Agent" in text
    assert "Skills matrix" in text and "estimated" in text
    assert "Away Tue 24 Nov (sickness)" in text  # the absence that explains the lower capacity
    assert 'width="3"' in text  # the agent's bar: 1 h of 36.5 h committed (3 %), an SVG attribute (strict CSP)
    assert client_for(cast.admin).get("/manage/capacity/?unit=hr").status_code == 200
    assert client_for(cast.payroll_lead).get("/manage/capacity/?unit=hr").status_code == 403
    assert client_for(cast.payroll_lead).get("/manage/capacity/?unit=nope").status_code == 404
    assert client_for(cast.payroll_agent).get("/manage/capacity/").status_code == 403
