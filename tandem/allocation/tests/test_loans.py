"""Lending: a front-office person works a back-office unit's queue for an agreed window only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tandem.allocation import actions as lending
from tandem.allocation.planning import build_plan
from tandem.allocation.queries import loan_candidates, unit_capacity
from tandem.notifications.models import Notification
from tandem.org.models import Loan, Person, PersonSkill, Role
from tandem.org.queries import work_unit_ids
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast, make_person

from .conftest import MONDAY_10, Skills

pytestmark = pytest.mark.django_db

TUESDAY_9 = MONDAY_10 + timedelta(hours=23)
TUESDAY_17 = TUESDAY_9 + timedelta(hours=8)


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def leeds_lead(cast: Cast) -> Person:
    return make_person("leeds_lead", cast.leeds, Role.LEAD, first="Lena")


@pytest.fixture
def agreed(cast: Cast, skills: Skills, leeds_lead: Person, monday) -> Loan:
    """The consultant (payroll level 2) lent to Payroll for Tuesday 09:00–17:00."""
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=2)
    loan = lending.propose_loan(
        cast.payroll_lead, cast.payroll, cast.consultant.pk, starts_at=TUESDAY_9, ends_at=TUESDAY_17
    )
    return lending.agree_loan(leeds_lead, loan.pk)


def test_a_lent_person_sees_the_queue_within_the_window_and_not_after(cast: Cast, agreed: Loan) -> None:
    # From York: nothing the consultant (Leeds) would see as a colleague of the requester.
    sr = actions.submit_request(cast.other_consultant, cast.timesheet, TIMESHEET_OK).request
    lent = client_for(cast.consultant)
    api = ApiClient(cast.consultant)
    assert work_unit_ids(cast.consultant) == set()
    assert lent.get("/queue/").status_code == 403  # before the window
    assert api.get(f"/api/requests/{sr.pk}").status_code == 404
    with time_machine.travel(TUESDAY_9 + timedelta(hours=1), tick=False):
        assert work_unit_ids(cast.consultant) == {cast.payroll.pk}
        queue = lent.get("/queue/")
        assert queue.status_code == 200 and sr.reference in queue.content.decode()
        assert api.get(f"/api/requests/{sr.pk}").status_code == 200
        # The lead can give them work, and they can do it.
        actions.assign_request(cast.payroll_lead, sr.pk, cast.consultant.pk)
        actions.start_request(cast.consultant, sr.pk)
        # Their time counts for Payroll: the rest of the loan, 10:00–17:00 less lunch.
        rows = {row.person.pk: row for row in unit_capacity(cast.payroll, TUESDAY_9 + timedelta(hours=1), 1).people}
        assert rows[cast.consultant.pk].capacity_hours == 6.0
    with time_machine.travel(TUESDAY_17 + timedelta(minutes=1), tick=False):
        assert work_unit_ids(cast.consultant) == set()
        assert lent.get("/queue/").status_code == 403
        assert lent.get(f"/requests/{sr.pk}/").status_code == 404
        assert api.get(f"/api/requests/{sr.pk}").status_code == 404


def test_a_loan_counts_only_once_both_leads_agreed_and_until_it_is_ended(
    cast: Cast, skills: Skills, leeds_lead: Person, monday
) -> None:
    loan = lending.propose_loan(
        cast.payroll_lead, cast.payroll, cast.consultant.pk, starts_at=MONDAY_10, ends_at=TUESDAY_17
    )
    assert work_unit_ids(cast.consultant) == set()  # proposed, not agreed
    lending.agree_loan(leeds_lead, loan.pk)
    assert work_unit_ids(cast.consultant) == {cast.payroll.pk}
    # The lent person is among the people a plan may give work to, for the loan's window.
    assert cast.consultant in build_plan(cast.payroll, MONDAY_10).people
    lending.end_loan(cast.payroll_lead, loan.pk)
    assert work_unit_ids(cast.consultant) == set()
    with pytest.raises(Conflict):
        lending.end_loan(leeds_lead, loan.pk)


def test_only_the_borrowing_lead_proposes_and_only_the_lending_lead_agrees(
    cast: Cast, skills: Skills, leeds_lead: Person, monday, django_capture_on_commit_callbacks
) -> None:
    window: dict[str, Any] = {"starts_at": TUESDAY_9, "ends_at": TUESDAY_17}
    with pytest.raises(Forbidden):
        lending.propose_loan(cast.payroll_agent, cast.payroll, cast.consultant.pk, **window)
    with pytest.raises(Forbidden):
        lending.propose_loan(cast.payroll_lead, cast.hr, cast.consultant.pk, **window)
    with pytest.raises(Invalid):
        lending.propose_loan(leeds_lead, cast.leeds, cast.colleague.pk, **window)  # not a back-office unit
    with pytest.raises(Invalid) as refused:
        lending.propose_loan(cast.payroll_lead, cast.payroll, cast.hr_agent.pk, **window)  # not front office
    assert "person" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        lending.propose_loan(cast.payroll_lead, cast.payroll, cast.consultant.pk, starts_at=TUESDAY_17,
                             ends_at=TUESDAY_9)
    assert "ends_at" in refused.value.errors
    assert not Loan.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        loan = lending.propose_loan(cast.payroll_lead, cast.payroll, cast.consultant.pk, **window)
    note = Notification.objects.get(recipient=leeds_lead, kind=Notification.Kind.LOAN)
    assert "asks to borrow Consultant" in note.message
    with pytest.raises(Conflict):  # an overlapping window for the same person
        lending.propose_loan(cast.admin, cast.hr, cast.consultant.pk, **window)
    with pytest.raises(Forbidden):  # the borrower cannot agree for the lender
        lending.agree_loan(cast.payroll_lead, loan.pk)
    with pytest.raises(NotFound):  # an outsider does not know of it
        lending.agree_loan(cast.hr_agent, loan.pk)
    lending.agree_loan(leeds_lead, loan.pk)
    with pytest.raises(Conflict):
        lending.agree_loan(leeds_lead, loan.pk)


def test_it_suggests_front_office_people_with_the_needed_skills(cast: Cast, skills: Skills, monday) -> None:
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=3)
    PersonSkill.objects.create(person=cast.colleague, skill=skills.payroll, level=1)  # below the level needed
    PersonSkill.objects.create(person=cast.other_consultant, skill=skills.legal, level=4)  # not a needed skill
    found = loan_candidates(cast.payroll, MONDAY_10)
    assert [c.person for c in found] == [cast.consultant]
    assert found[0].matches == [("Payroll", 3)] and found[0].hours == 36.5
    assert loan_candidates(cast.hr, MONDAY_10) == []  # HR's services need no skill


def test_the_loans_api_and_page(cast: Cast, skills: Skills, leeds_lead: Person, monday) -> None:
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=2)
    lead = ApiClient(cast.payroll_lead)
    candidates = lead.get("/api/units/payroll/loan-candidates").json()
    assert candidates[0]["person"]["id"] == cast.consultant.pk and candidates[0]["skills"] == {"Payroll": 2}
    body = {"person": cast.consultant.pk, "starts_at": TUESDAY_9.isoformat(), "ends_at": TUESDAY_17.isoformat()}
    assert ApiClient(cast.payroll_agent).post("/api/units/payroll/loans", body).status_code == 403
    assert lead.post("/api/units/nope/loans", body).status_code == 404
    assert lead.post("/api/units/payroll/loans", {**body, "person": cast.hr_agent.pk}).status_code == 422
    response = lead.post("/api/units/payroll/loans", body)
    assert response.status_code == 201, response.json()
    loan = response.json()
    assert loan["state"] == "proposed" and loan["agreed_by_lender"] is None
    assert lead.post("/api/units/payroll/loans", body).status_code == 409
    assert lead.post(f"/api/loans/{loan['id']}/agree").status_code == 403
    assert ApiClient(cast.hr_agent).post(f"/api/loans/{loan['id']}/agree").status_code == 404
    response = ApiClient(leeds_lead).post(f"/api/loans/{loan['id']}/agree")
    assert response.status_code == 200 and response.json()["state"] == "agreed"
    assert [item["id"] for item in ApiClient(cast.consultant).get("/api/loans").json()["items"]] == [loan["id"]]
    assert ApiClient(cast.hr_agent).get("/api/loans").json()["items"] == []
    # The page: the borrowing lead sees candidates and the loan; the lending lead can end it.
    text = client_for(cast.payroll_lead).get("/manage/loans/").content.decode()
    assert "Who could help Payroll" in text and "Consultant" in text
    assert client_for(leeds_lead).post(f"/manage/loans/{loan['id']}/end/").status_code == 302
    assert Loan.objects.get().ended_at is not None


def test_the_loans_page_proposes_and_the_lender_agrees(cast: Cast, skills: Skills, leeds_lead: Person, monday) -> None:
    data = {"unit": "payroll", "person": cast.consultant.pk, "starts_at": "2026-11-24T09:00",
            "ends_at": "2026-11-24T17:00", "note": "Month-end"}
    response = client_for(cast.payroll_lead).post("/manage/loans/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    loan = Loan.objects.get()
    assert loan.note == "Month-end" and loan.agreed_by_borrower == cast.payroll_lead
    page = client_for(leeds_lead).get("/manage/loans/").content.decode()
    assert "Waiting for Leeds branch" in page and f"/manage/loans/{loan.pk}/agree/" in page
    assert client_for(cast.payroll_lead).post(f"/manage/loans/{loan.pk}/agree/").status_code == 403
    assert client_for(leeds_lead).post(f"/manage/loans/{loan.pk}/agree/").status_code == 302
    assert Loan.objects.get().agreed_by_lender == leeds_lead
    bad = {**data, "ends_at": "2026-11-24T08:00"}
    response = client_for(cast.payroll_lead).post("/manage/loans/", bad)
    assert response.status_code == 422 and Loan.objects.count() == 1
    assert client_for(cast.payroll_agent).get("/manage/loans/").status_code == 403
