"""Loans proposed on the four-week plan, in a scene whose answers are known: Payroll's people are
all away for two weeks (nothing is resolved without a loan), a Leeds colleague holds the payroll
skill and works two hours a morning, every request takes half an hour, and the open work is
already overdue, so the lent colleague clears it oldest first at two requests an hour."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.allocation.plan_loans import ask_for_week_loan, week_proposals_for
from tandem.catalogue.models import ServiceSkill
from tandem.demand.actions import refresh_arrival_forecasts
from tandem.org.models import Absence, Loan, PersonSkill, Role, Skill
from tandem.refusal import Conflict, Invalid
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import Cast, make_person
from tests.history import DAYS, EFFORT_HOURS, LONDON, PATTERN, TODAY, WORKED

NOW = datetime.combine(TODAY, time(10), tzinfo=LONDON)
EFFORT = EFFORT_HOURS  # hours: the 30 minutes logged on each of the worked ones
OPEN = DAYS // 7 * sum(PATTERN) - WORKED  # ten weeks of ten, less the five resolved


@pytest.fixture
def scene(cast: Cast, history: list[ServiceRequest]) -> Cast:
    """The shared history (tests/history.py), with Payroll's people all away for two weeks and a
    Leeds colleague holding the skill."""
    for person in (cast.payroll_agent, cast.payroll_agent2, cast.payroll_lead):
        Absence.objects.create(person=person, starts_on=TODAY, ends_on=TODAY + timedelta(days=11))
    skill = Skill.objects.create(name="Payroll system", slug="payroll-system")
    ServiceSkill.objects.create(service=cast.timesheet, skill=skill, min_level=2)
    PersonSkill.objects.create(person=cast.colleague, skill=skill, level=2)
    cast.colleague.working_pattern = {str(d): [["10:00", "12:00"]] for d in range(5)}
    cast.colleague.save()
    refresh_arrival_forecasts(TODAY)
    return cast


def steps_of_week() -> list[datetime]:
    """The simulation's clock, recomputed: hourly steps from NOW to Saturday 00:00 in which
    Payroll's calendar (Monday to Friday, 09:00–17:30) is open."""
    out = []
    at = NOW
    while at < datetime.combine(TODAY + timedelta(days=5), time(), tzinfo=LONDON):
        if at.weekday() < 5 and time(9) <= at.time() < time(17, 30):
            out.append(at)
        at += timedelta(hours=1)
    return out


def test_a_short_week_proposes_the_colleague_with_the_effect_recomputed(scene: Cast) -> None:
    with time_machine.travel(NOW, tick=False):
        p = week_proposals_for(scene.payroll_lead.user, "payroll", TODAY.isoformat(), NOW)
    assert p.week.capacity_hours == 0 and p.week.gap_hours == pytest.approx(10 * EFFORT)
    assert (p.starts_at, p.ends_at) == (NOW, datetime(2026, 11, 21, tzinfo=LONDON))
    expected = sum(PATTERN)  # the stored forecast, one week at the pattern
    assert (p.backlog_items, p.expected_items) == (OPEN, expected)
    # Without a loan nobody works: nothing is resolved; every open request is late by Saturday.
    total = OPEN + expected
    assert (p.without.resolved, p.without.backlog_items) == (0, total)
    assert p.without.backlog_hours == pytest.approx(total * EFFORT)
    assert OPEN <= p.without.breaches <= total
    [loan] = p.proposals
    assert loan.person == scene.colleague and loan.matches == [("Payroll system", 2)]
    # Two hours a morning for five mornings, nothing held: ten hours, twenty requests.
    assert (loan.hours, loan.spare_hours) == (10.0, 10.0)
    worked = 10.0
    resolved = int(worked / EFFORT)
    assert loan.outcome.resolved == resolved
    assert loan.outcome.backlog_items == total - resolved
    assert loan.outcome.backlog_hours == pytest.approx((total - resolved) * EFFORT)
    # The twenty are all overdue already (oldest first): the loan shortens the wait, not the breaches.
    assert loan.outcome.breaches == p.without.breaches
    # Each hour she is there (10:00 and 11:00 on the clock) two requests finish, at its half and its end.
    steps = steps_of_week()
    present = [k for k, at in enumerate(steps) if at.time() in (time(10), time(11))]
    done = [k + half for k in present for half in (0.5, 1.0)]
    assert loan.outcome.mean_hours == pytest.approx(round(sum(done) / len(done), 1))


def test_the_plan_page_loads_the_proposals_and_asking_goes_to_the_loan_flow(client: Client, scene: Cast) -> None:
    client.force_login(scene.payroll_lead.user)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/manage/demand/?unit=payroll").content.decode()
        week = TODAY.isoformat()
        assert f'hx-get="/manage/demand/loans/?unit=payroll&amp;week={week}"' in html
        part = client.get(f"/manage/demand/loans/?unit=payroll&week={week}", HTTP_HX_REQUEST="true")
        assert part.status_code == 200 and "<html" not in part.content.decode()
        text = part.content.decode()
        assert f'data-testid="proposal-{scene.colleague.pk}"' in text
        assert f"{OPEN + 10 - 20} <span class=\"sub\">{OPEN + 10} without</span>" in text
        full = client.get(f"/manage/demand/loans/?unit=payroll&week={week}")
        assert full.status_code == 200 and "<html" in full.content.decode()
        response = client.post("/manage/demand/loans/ask/", {"unit": "payroll", "week": week,
                                                              "person": scene.colleague.pk})
    assert response.status_code == 302
    loan = Loan.objects.get()
    assert (loan.person, loan.unit, loan.starts_at, loan.ends_at) == (
        scene.colleague, scene.payroll, NOW, datetime(2026, 11, 21, tzinfo=LONDON))
    assert loan.note == "Four-week plan: week of 16 Nov is 5 h short"
    assert loan.agreed_by_borrower == scene.payroll_lead and loan.agreed_by_lender is None  # her lead agrees


def test_stale_or_taken_proposals_are_refused_and_nothing_is_asked(client: Client, scene: Cast) -> None:
    client.force_login(scene.payroll_lead.user)
    ask = "/manage/demand/loans/ask/"
    with time_machine.travel(NOW, tick=False):
        for week, status, words in [
            ("2026-11-09", 409, "is no longer one of Payroll"),
            ("2026-11-30", 409, "no longer short"),  # everyone is back
            ("next week", 422, "YYYY-MM-DD"),
        ]:
            response = client.post(ask, {"unit": "payroll", "week": week, "person": scene.colleague.pk})
            assert response.status_code == status and words in response.content.decode()
        response = client.post(ask, {"unit": "payroll", "week": TODAY.isoformat(), "person": scene.consultant.pk})
        assert response.status_code == 409 and "no longer holds a skill" in response.content.decode()
        assert not Loan.objects.exists()
        ask_for_week_loan(scene.payroll_lead, "payroll", TODAY.isoformat(), scene.colleague.pk, NOW)
        with pytest.raises(Conflict, match="already lent"):
            ask_for_week_loan(scene.payroll_lead, "payroll", TODAY.isoformat(), scene.colleague.pk, NOW)
        with pytest.raises(Invalid):
            ask_for_week_loan(scene.payroll_lead, "payroll", "2026-13-01", scene.colleague.pk, NOW)
    assert Loan.objects.count() == 1


def test_only_the_units_leads_are_proposed_loans(client: Client, scene: Cast) -> None:
    executive = make_person("exec2", scene.leeds, Role.EXECUTIVE)
    client.force_login(executive.user)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/manage/demand/?unit=payroll").content.decode()
        assert "hx-get" not in html.split("plan-chart", 1)[1] and 'data-testid="borrow-1"' not in html
        assert client.get(f"/manage/demand/loans/?unit=payroll&week={TODAY}").status_code == 403
        assert client.post("/manage/demand/loans/ask/", {"unit": "payroll", "week": TODAY.isoformat(),
                                                          "person": scene.colleague.pk}).status_code == 403
    assert not ServiceRequest.objects.filter(unit=scene.payroll, status="resolved").count() > 5
    assert not Loan.objects.exists()


def test_the_plan_api_names_each_short_weeks_proposals_and_asks_through_the_loan_flow(scene: Cast) -> None:
    api = ApiClient(scene.payroll_lead)
    with time_machine.travel(NOW, tick=False):
        plan = api.get("/api/units/payroll/demand-plan")
        assert plan.status_code == 200
        # Everyone is away to Friday 27 Nov: the first two weeks are short, the last two are not.
        paths = [(w["week"], w["loan_proposals"]) for w in plan.json()["weeks"]]
        base = "/api/units/payroll/demand-plan"
        assert paths == [("2026-11-16", f"{base}/2026-11-16/loan-proposals"),
                         ("2026-11-23", f"{base}/2026-11-23/loan-proposals"), ("2026-11-30", None),
                         ("2026-12-07", None)]
        body = api.get(paths[0][1]).json()
        total = OPEN + sum(PATTERN)
        assert (body["week"], body["backlog_requests"], body["expected_requests"]) == ("2026-11-16", OPEN, 10)
        assert body["gap_hours"] == pytest.approx(10 * EFFORT)
        assert (body["without_loan"]["resolved"], body["without_loan"]["backlog_requests"]) == (0, total)
        [proposal] = body["proposals"]
        assert proposal["person"]["id"] == scene.colleague.pk and proposal["skills"] == {"Payroll system": 2}
        assert (proposal["spare_hours"], proposal["with_loan"]["resolved"]) == (10.0, int(10.0 / EFFORT))
        assert proposal["with_loan"]["backlog_requests"] == total - 20
        # Bad or stale weeks, and someone who is not the unit's lead: refused, nothing asked.
        assert api.get(f"{base}/next-week/loan-proposals").status_code == 422
        assert api.get(f"{base}/2026-11-09/loan-proposals").status_code == 409
        stale = api.post(f"{base}/2026-11-30/loan-proposals", {"person": scene.colleague.pk})
        assert stale.status_code == 409 and "no longer short" in stale.json()["detail"]
        assert api.post(f"{paths[0][1]}", {"person": "her"}).status_code in (400, 422)
        assert ApiClient(scene.payroll_agent).get(paths[0][1]).status_code == 403
        assert not Loan.objects.exists()
        asked = api.post(paths[0][1], {"person": scene.colleague.pk})
    assert asked.status_code == 201 and asked.json()["state"] == "proposed"
    loan = Loan.objects.get()
    assert (loan.person, loan.starts_at, loan.ends_at) == (scene.colleague, NOW, datetime(2026, 11, 21, tzinfo=LONDON))
    assert loan.note == "Four-week plan: week of 16 Nov is 5 h short"
