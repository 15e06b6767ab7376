"""An owner drafts a change in a real browser, sees it collide on the calendar, and accepts the
proposed slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.changes import actions
from tandem.changes.models import Change
from tandem.changes.tests.pages import fill_draft, open_draft_form
from tests.cast import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_drafts_a_change_sees_the_collision_and_accepts_the_proposal(
    live_server, page: Page, cast: Cast
) -> None:
    today = timezone.localdate()
    monday = today + timedelta(days=14 - today.weekday())
    actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title="New payslip portal", summary="Payslips move to the portal.", why="Security.", kind="system",
        effective_on=monday, minutes=45, audiences=[actions.AudienceIn("leeds")],
    ))
    open_draft_form(page, live_server.url, "payroll_lead")
    fill_draft(page, title="Holiday pay shown per shift",
               summary="Holiday pay now accrues per shift and shows on each payslip.",
               why="The rolled-up holiday pay ruling.", kind="process", day=monday + timedelta(days=2), minutes=30)
    page.get_by_label("Leeds branch").check()
    page.get_by_role("button", name="Save the draft").click()

    expect(page.get_by_text("It collides")).to_be_visible()
    expect(page.get_by_text("Leeds branch: 75 of 60 min")).to_be_visible()
    accept = page.get_by_test_id("accept")
    expect(accept).to_contain_text("Move to")
    accept.click()
    expect(page.get_by_test_id("no-collision")).to_be_visible()
    moved = Change.objects.get(title="Holiday pay shown per shift")
    assert moved.effective_on >= monday + timedelta(days=7)
    page.get_by_role("link", name="The calendar").first.click()
    expect(page.get_by_test_id("over-count")).to_have_text("0")
