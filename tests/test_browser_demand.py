"""A front-office lead declares the demand ahead in a real browser, a bad number is refused
with what was typed kept, and the back-office lead's four-week plan shows the declaration."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from tandem.demand.models import DeclaredDemand
from tandem.org.models import Role
from tandem.work import actions
from tests.cast import TIMESHEET_OK, build_cast, make_person
from tests.test_browser_journey import RESULTS, sign_in, sign_out

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_declares_the_demand_ahead_and_the_back_office_plans_with_it(
    live_server, page: Page, fast_passwords
) -> None:
    with time_machine.travel(datetime(2026, 11, 18, 10, tzinfo=LONDON), tick=True):  # a Wednesday
        cast = build_cast()
        lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
        lead.user.set_password("pw")
        lead.user.save()
        actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))

        sign_in(page, live_server.url, "leeds_lead")
        page.goto(live_server.url + "/demand/declare/")
        expect(page.get_by_role("heading", name="Leeds branch: the help you will need")).to_be_visible()
        page.get_by_label("Timesheet correction, week of 30 Nov").fill("12")
        page.get_by_label("Timesheet correction, week of 7 Dec").fill("-3")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("0 to 100,000 requests, not -3")
        expect(page.get_by_label("Timesheet correction, week of 30 Nov")).to_have_value("12")
        expect(page.get_by_label("Timesheet correction, week of 7 Dec")).to_have_value("-3")
        assert not DeclaredDemand.objects.exists()
        page.get_by_label("Timesheet correction, week of 7 Dec").fill("")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved 1 week of demand for Leeds branch.")).to_be_visible()
        expect(page.get_by_label("Timesheet correction, week of 30 Nov")).to_have_value("12")
        sign_out(page)

        sign_in(page, live_server.url, "payroll_lead")
        page.goto(live_server.url + "/manage/demand/")
        week = page.get_by_test_id("plan-services-2")  # the week of 30 November
        expect(week).to_contain_text("12 by 1 unit")
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / "demand-plan.png"), full_page=True)
