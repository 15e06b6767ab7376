"""An owner drafts a change for every front-office lead in one click in a real browser; the
calendar weighs each unit by its most-loaded person and says it is its leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.changes import actions
from tandem.changes.models import Change
from tandem.org.models import Role
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_drafts_a_change_for_every_lead_and_the_calendar_counts_the_leads(
    live_server, page: Page, cast: Cast
) -> None:
    make_person("leeds_lead", cast.leeds, Role.LEAD)
    today = timezone.localdate()
    monday = today + timedelta(days=14 - today.weekday())
    actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title="New payslip portal", summary="Payslips move to the portal.", why="Security.", kind="system",
        effective_on=monday, minutes=30, audiences=[actions.AudienceIn("leeds")],
    ))
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("payroll_lead")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Changes").click()
    page.get_by_role("link", name="Draft a change").click()
    page.get_by_label("Title").fill("Leads approve overtime")
    page.get_by_label("Summary").fill("Overtime is approved by the branch lead in Tandem before the shift.")
    page.get_by_label("Why it exists").fill("Unapproved overtime doubled this quarter.")
    page.get_by_label("Kind").select_option("process")
    page.get_by_label("Takes effect on").fill((monday + timedelta(days=1)).isoformat())
    page.get_by_label("Minutes each person needs").fill("20")
    page.get_by_test_id("every-lead").check()
    page.get_by_role("button", name="Save the draft").click()

    expect(page.get_by_text("Leeds branch: leads")).to_be_visible()
    expect(page.get_by_text("York branch: leads")).to_be_visible()
    change = Change.objects.get(title="Leads approve overtime")
    assert sorted(change.audiences.values_list("unit__slug", "role")) == [("leeds", "lead"), ("york", "lead")]

    page.get_by_role("link", name="The calendar").first.click()
    cell = page.locator(f'tr[data-audience="leeds"] td[data-week="{monday.isoformat()}"]')
    # Leeds's lead absorbs both (50 min); its members only the portal (30).
    expect(cell).to_have_attribute("data-minutes", "50")
    expect(cell).to_have_attribute("data-role", "lead")
    expect(cell.get_by_test_id("for-role")).to_have_text("(its leads)")
    york = page.locator(f'tr[data-audience="york"] td[data-week="{monday.isoformat()}"]')
    expect(york).to_have_attribute("data-minutes", "0")  # York has no lead: it lands on nobody there
    page.screenshot(path="/tmp/tandem-audience-roles.png", full_page=True)
