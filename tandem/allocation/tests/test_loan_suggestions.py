"""Lending suggestions: when a back-office unit's forecast exceeds its capacity, front-office
people with the needed skill and spare time, with the simulated effect of lending them."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from tandem.allocation.forecast import Clock, loan_suggestions
from tandem.org.models import Absence, Person, PersonSkill, Role
from tandem.refusal import Forbidden, Invalid, NotFound, Refused
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast, make_person

from .conftest import MONDAY_10, Skills

pytestmark = pytest.mark.django_db

WEEK = (date(2026, 11, 23), date(2026, 11, 27))


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def submit(cast: Cast, n: int) -> None:
    for _ in range(n):
        actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)


@pytest.fixture
def short(cast: Cast, skills: Skills, monday) -> None:
    """Payroll's only qualified agent and its lead are away all week; payroll_agent2 (level 1)
    cannot do timesheet corrections; 25 of them are waiting (one hour each, due Wednesday).
    The consultant (Leeds, front office) holds payroll at level 2."""
    for person in (cast.payroll_agent, cast.payroll_lead):
        Absence.objects.create(person=person, starts_on=WEEK[0], ends_on=WEEK[1])
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=2)
    submit(cast, 25)


def test_suggestion_appears_when_the_backlog_exceeds_capacity(cast: Cast, short: None) -> None:
    f = loan_suggestions(cast.payroll_lead.user, "payroll", MONDAY_10, days=3)
    assert f.backlog_items == 25 and f.backlog_hours == 25.0
    assert f.expected_items > 0  # the recent weekly rate includes this week's 25
    assert f.capacity_hours < f.demand_hours and f.short
    # Nobody qualified is working: nothing is done, and every open request (all due Wednesday)
    # breaches without a loan, with the expected arrivals due by the end of the window.
    assert f.without.backlog_items == 25 + f.expected_items
    assert 25 <= f.without.breaches <= 25 + f.expected_items
    [s] = f.suggestions
    assert s.person == cast.consultant and s.matches == [("Payroll", 2)]
    assert 0 < s.spare_hours <= s.hours
    assert s.starts_at == MONDAY_10 and s.ends_at == f.until
    # With the loan: fewer breaches and less backlog, and the figures agree with each other.
    assert s.without == f.without
    assert s.outcome.breaches < f.without.breaches
    assert s.outcome.backlog_hours < f.without.backlog_hours
    assert s.avoided == f.without.breaches - s.outcome.breaches > 0
    # The lent person can do at most their spare hours of one-hour requests.
    done = f.without.backlog_items - s.outcome.backlog_items
    assert done <= s.spare_hours + 1e-9


def test_no_suggestion_when_the_capacity_covers_the_backlog(cast: Cast, skills: Skills, monday) -> None:
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=2)
    submit(cast, 3)
    f = loan_suggestions(cast.payroll_lead.user, cast.payroll, MONDAY_10, days=5)
    assert not f.short and f.suggestions == []
    assert f.backlog_items == 3 and f.demand_hours <= f.capacity_hours
    assert f.without.breaches == 0 and f.without.backlog_items == 0  # payroll_agent does them
    assert sum(hours for _, hours, _ in f.daily) == pytest.approx(f.capacity_hours, abs=8.0)


def test_a_candidate_already_lent_or_away_is_not_suggested(cast: Cast, skills: Skills, short: None) -> None:
    Absence.objects.create(person=cast.consultant, starts_on=WEEK[0], ends_on=WEEK[1])
    f = loan_suggestions(cast.payroll_lead.user, "payroll", MONDAY_10, days=3)
    assert f.short and f.suggestions == []


def test_who_may_ask_and_bad_days(cast: Cast, short: None) -> None:
    with pytest.raises(NotFound, match="no unit 'nope'"):
        loan_suggestions(cast.payroll_lead.user, "nope", MONDAY_10)
    with pytest.raises(Forbidden):
        loan_suggestions(cast.payroll_agent.user, "payroll", MONDAY_10)
    with pytest.raises(Forbidden):
        loan_suggestions(cast.hr_agent.user, "payroll", MONDAY_10)
    with pytest.raises(Invalid):
        loan_suggestions(cast.payroll_lead.user, "leeds", MONDAY_10)
    for days in (0, 21, -1):
        with pytest.raises(Refused, match="from 1 to 20") as caught:
            loan_suggestions(cast.payroll_lead.user, "payroll", MONDAY_10, days=days)
        assert caught.value.status == 400


def test_the_clock_counts_working_hours_only(cast: Cast, monday) -> None:
    clock = Clock(cast.payroll, MONDAY_10, MONDAY_10.replace(day=24, hour=12))
    # Monday 10:00 to the end of the working day, then Tuesday from opening to 12:00.
    assert 8 <= clock.steps <= 12
    assert clock.position(MONDAY_10) == 0.0
    assert clock.position(MONDAY_10.replace(hour=11, minute=30)) == 1.5
    night = clock.position(MONDAY_10.replace(hour=23))
    assert night == float(int(night))  # a gap maps to the next working step
    assert clock.position(MONDAY_10.replace(day=25)) == clock.steps
    hours = clock.presence(cast.payroll_agent)
    assert len(hours) == clock.steps and all(0 <= h <= 1 for h in hours) and sum(hours) > 6


def test_the_api(cast: Cast, short: None) -> None:
    lead = ApiClient(cast.payroll_lead)
    response = lead.get("/api/units/payroll/loan-suggestions?days=3")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["short"] is True and body["backlog_requests"] == 25
    assert body["without_loan"]["breaches"] >= 25
    [s] = body["suggestions"]
    assert s["person"]["id"] == cast.consultant.pk and s["skills"] == {"Payroll": 2}
    assert s["with_loan"]["breaches"] < body["without_loan"]["breaches"]
    assert s["breaches_avoided"] == body["without_loan"]["breaches"] - s["with_loan"]["breaches"]
    # Bad inputs: nothing is changed by a read, each answers with a message.
    for days in ("0", "21"):
        response = lead.get(f"/api/units/payroll/loan-suggestions?days={days}")
        assert response.status_code == 400 and "from 1 to 20" in response.json()["detail"]
    assert lead.get("/api/units/payroll/loan-suggestions?days=many").status_code == 422
    assert lead.get("/api/units/nope/loan-suggestions").status_code == 404
    assert lead.get("/api/units/leeds/loan-suggestions").status_code == 422
    assert ApiClient(cast.payroll_agent).get("/api/units/payroll/loan-suggestions").status_code == 403
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD, first="Lena")
    assert ApiClient(leeds_lead).get("/api/units/payroll/loan-suggestions").status_code == 403


def test_the_loans_page_shows_suggestions_and_fills_in_the_form(cast: Cast, short: None) -> None:
    page = client_for(cast.payroll_lead).get("/manage/loans/?unit=payroll&days=3")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Suggested loans" in text and "Fill in the form" in text and "Consultant" in text
    assert f'name="person" value="{cast.consultant.pk}"' in text
    # The button's GET fills in the propose form: the person is chosen, the window written.
    filled = client_for(cast.payroll_lead).get(
        f"/manage/loans/?unit=payroll&person={cast.consultant.pk}&starts_at=2026-11-23T10:00"
        "&ends_at=2026-11-25T17:30&note=Suggested"
    ).content.decode()
    assert f'<option value="{cast.consultant.pk}" selected>' in filled
    assert 'value="2026-11-23T10:00"' in filled and 'value="Suggested"' in filled
    # Not a lead of a back-office unit: no suggestions (a front-office lead leads none).
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD, first="Lena")
    assert "Suggested loans" not in client_for(leeds_lead).get("/manage/loans/").content.decode()
    assert client_for(cast.payroll_agent).get("/manage/loans/").status_code == 403
    assert client_for(cast.payroll_lead).get("/manage/loans/?unit=nope").status_code == 404


def test_the_page_says_when_no_loan_is_needed(cast: Cast, skills: Skills, monday) -> None:
    submit(cast, 2)
    text = client_for(cast.payroll_lead).get("/manage/loans/?unit=payroll").content.decode()
    assert "Suggested loans" in text and "no loan is suggested" in text
