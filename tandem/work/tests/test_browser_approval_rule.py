"""In a real browser: Payroll's lead sets the timesheet's approval rule on the service editor (a
bad amount is refused beside its field and keeps what was typed), then a consultant's form says
who approves and the request they send waits for that approver."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tandem.catalogue.models import Service
from tandem.work.models import ServiceRequest, Status
from tandem.work.tests.test_browser_approvals import sign_in
from tests.cast import Cast, make_person
from tests.test_browser_journey import RESULTS

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_lead_sets_the_rule_and_the_next_request_waits_for_that_approver(  # type: ignore[no-untyped-def]
    live_server, page: Page, cast: Cast
) -> None:
    dana = make_person("dana", cast.york, first="Dana", last="Reyes")

    sign_in(page, live_server.url, "payroll_lead")
    page.goto(f"{live_server.url}/manage/services/{cast.timesheet.pk}/")
    rule = page.get_by_test_id("approval-rule")
    expect(rule).to_contain_text("Nobody: requests go straight to the team's queue.")
    rule.get_by_label("A named person").check()
    rule.get_by_label("The named person").select_option(label="Dana Reyes — York branch")
    rule.get_by_label("Only when this number field").select_option(label="Corrected hours")
    rule.get_by_label("is above").fill("40")
    rule.get_by_label("Remind the approver after (working days)").fill("31")
    rule.get_by_role("button", name="Save approval").click()
    rule = page.get_by_test_id("approval-rule")
    expect(rule.locator(".field--invalid")).to_contain_text("Remind after 0 (never) to 30 working days.")
    expect(rule.get_by_label("is above")).to_have_value("40")
    expect(rule.get_by_label("Remind the approver after (working days)")).to_have_value("31")
    assert not Service.objects.get(pk=cast.timesheet.pk).requires_approval

    rule.get_by_label("Remind the approver after (working days)").fill("3")
    rule.get_by_role("button", name="Save approval").click()
    expect(page.get_by_text("Saved who approves Timesheet correction's requests.")).to_be_visible()
    expect(page.get_by_test_id("approval-rule")).to_contain_text(
        "Dana Reyes approves only above 40 in Corrected hours; reminded after 3 working days.")
    page.get_by_test_id("approval-rule").screenshot(path=str(RESULTS / "approval-rule.png"))
    service = Service.objects.get(pk=cast.timesheet.pk)
    assert (service.approver, service.approval_field, service.approval_above, service.approval_remind_days) == (
        dana, "hours", Decimal("40"), 3)

    page.context.clear_cookies()
    sign_in(page, live_server.url, "consultant")
    page.goto(f"{live_server.url}/catalogue/{cast.timesheet.slug}/request/")
    expect(page.get_by_test_id("approval-notice")).to_contain_text(
        "Needs approval by Dana Reyes only above 40 in Corrected hours.")
    page.get_by_label("Worker name").fill("Priya Shah")
    page.get_by_label("Corrected hours").fill("45")
    page.get_by_label("Week ending").fill("2026-11-20")
    page.get_by_label("Reason").select_option("Overtime")
    page.screenshot(path=str(RESULTS / "submit-says-who-approves.png"), full_page=True)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".request-head__status")).to_contain_text("Waiting on Dana Reyes")
    sr = ServiceRequest.objects.get()
    assert sr.approver == dana and sr.status == Status.WAITING_APPROVAL
