"""A Payroll lead, in a real Chromium under the content security policy, sees loans proposed on
the four-week plan (loaded into the page by htmx) and asks for one."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.catalogue.models import ServiceSkill
from tandem.demand.actions import refresh_arrival_forecasts
from tandem.org.models import Absence, Loan, PersonSkill, Skill
from tandem.work import actions
from tests.cast import TIMESHEET_OK, build_cast
from tests.test_browser_security import sign_in, watch


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_asks_for_a_loan_the_plan_proposes(live_server, page: Page) -> None:
    cast = build_cast()
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    for d in range(70, 0, -1):  # ten weeks of two requests a working day
        day = today - timedelta(days=d)
        if day.weekday() < 5:
            for k in range(2):
                at = datetime.combine(day, time(10, k), tzinfo=zone)
                actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=at)
    for person in (cast.payroll_agent, cast.payroll_agent2, cast.payroll_lead):  # all away: every week is short
        Absence.objects.create(person=person, starts_on=today, ends_on=today + timedelta(days=40))
    skill = Skill.objects.create(name="Payroll system", slug="payroll-system")
    ServiceSkill.objects.create(service=cast.timesheet, skill=skill, min_level=2)
    PersonSkill.objects.create(person=cast.colleague, skill=skill, level=2)
    refresh_arrival_forecasts(today)
    violations = watch(page)
    sign_in(page, live_server.url, "payroll_lead")
    page.goto(live_server.url + "/manage/demand/?unit=payroll")
    first = page.locator("[data-testid^='week-loans-']").first
    expect(first.get_by_role("heading", name="Loans proposed for the week of")).to_be_visible(timeout=60_000)
    expect(first.get_by_role("cell", name=re.compile(r"^Colleague Leeds branch"))).to_be_visible()
    first.get_by_role("button", name="Ask to borrow Colleague").click()
    expect(page.get_by_text("Asked to borrow Colleague for the week of")).to_be_visible()
    # Every week's simulation must have answered before the test's database is emptied: a
    # request still reading in the live server holds SQLite's table lock against the flush.
    expect(page.get_by_text("Simulating")).to_have_count(0, timeout=120_000)
    loan = Loan.objects.get()
    assert (loan.person, loan.unit) == (cast.colleague, cast.payroll)
    assert loan.note.startswith("Four-week plan: week of ")
    assert violations == []
