"""A front-office person sees the day's notice of a change in a real browser and acknowledges it
with one click; the owner then sees it counted."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.changes import actions, notices
from tandem.changes.models import ChangeReceipt
from tandem.changes.tests.pages import sign_in
from tests.cast import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_front_office_person_sees_the_notice_and_acknowledges_it(live_server, page: Page, cast: Cast) -> None:
    today = timezone.localdate()
    change = actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title="Timesheets close on Thursdays", summary="Submit timesheets by Thursday noon from now on.",
        why="Payroll runs a day earlier.", kind="process", effective_on=today, minutes=10,
        audiences=[actions.AudienceIn("york")],
    ))
    actions.publish_change(cast.payroll_lead, change.pk)
    assert notices.send_change_notices(today) == 1

    sign_in(page, live_server.url, "other_consultant")
    page.goto(live_server.url + "/notifications/")
    expect(page.get_by_text("Taking effect today: “Timesheets close on Thursdays”")).to_be_visible()
    page.goto(live_server.url + "/changes/")
    for_you = page.get_by_test_id("for-you")
    expect(for_you).to_contain_text("Submit timesheets by Thursday noon")
    for_you.get_by_role("link", name="Timesheets close on Thursdays").click()
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("ack")).to_contain_text("Acknowledged")
    assert ChangeReceipt.objects.get(change=change).acknowledged_at is not None

    page.context.clear_cookies()
    sign_in(page, live_server.url, "payroll_lead")
    page.goto(live_server.url + f"/changes/{change.pk}/")
    expect(page.locator('[data-unit="york"]')).to_contain_text("1 / 1")
