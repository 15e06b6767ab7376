"""An owner drafts a change for every front-office lead in one click in a real browser; the
calendar weighs each unit by its most-loaded person and says it is its leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.changes import actions
from tandem.changes.models import Change
from tandem.changes.tests.pages import fill_draft, open_draft_form
from tandem.org.models import Role
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_drafts_a_change_for_every_lead_and_the_calendar_counts_the_leads(
    live_server, page: Page, cast: Cast
) -> None:
    today = timezone.localdate()
    monday = today + timedelta(days=14 - today.weekday())
    # Leeds has a lead (and members) and already takes a 30-minute change for everyone that week.
    make_person("leeds_lead", cast.leeds, Role.LEAD)
    portal = actions.Draft(title="New payslip portal", summary="Payslips move to the portal.", why="Security.",
                           kind="system", effective_on=monday, minutes=30, audiences=[actions.AudienceIn("leeds")])
    actions.draft_change(cast.payroll_lead, cast.payroll.pk, portal)
    open_draft_form(page, live_server.url, "payroll_lead")
    fill_draft(page, title="Leads approve overtime",
               summary="Overtime is approved by the branch lead in Tandem before the shift.",
               why="Unapproved overtime doubled this quarter.", kind="process", day=monday + timedelta(days=1),
               minutes=20)
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
