"""Pull mode in a real Chromium under the content security policy: the lead switches the team to
pull on the plan page, then an agent takes the next request from the queue page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tandem.org.models import Unit
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, build_cast
from tests.test_browser_security import sign_in, watch


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_turns_on_pull_mode_and_an_agent_takes_the_next_request(live_server, page: Page) -> None:
    cast = build_cast()
    customer = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, channel="external").request
    internal = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    violations = watch(page)
    sign_in(page, live_server.url, "payroll_lead")
    page.goto(live_server.url + "/manage/plan/")
    expect(page.get_by_role("heading", name="How Payroll's work is allocated")).to_be_visible()
    page.get_by_label("Pull: people take the next request from the queue").check()
    page.get_by_role("button", name="Use this mode").click()
    expect(page.get_by_text("Payroll now works in “Pull: people take the next request from the queue” mode.")).to_be_visible()
    assert Unit.objects.get(pk=cast.payroll.pk).allocation_mode == "pull"

    page.context.clear_cookies()
    sign_in(page, live_server.url, "payroll_agent")
    page.goto(live_server.url + "/queue/")
    expect(page.get_by_role("heading", name="Next for you")).to_be_visible()
    page.get_by_role("button", name="Take next").click()
    expect(page.get_by_text(f"{customer.reference} is yours")).to_be_visible()
    assert ServiceRequest.objects.get(pk=customer.pk).assignee_id == cast.payroll_agent.pk
    assert ServiceRequest.objects.get(pk=internal.pk).assignee_id is None
    assert violations == []
