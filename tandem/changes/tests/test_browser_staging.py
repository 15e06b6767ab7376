"""An owner sees a change to two branches collide, stages it from the calendar in one click, and
sees each branch's own day on the change's page; the calendar is then clear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.changes import actions
from tandem.changes.models import Change, ChangeAudience
from tests.cast import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def draft(cast: Cast, title: str, day, audiences: list[str], minutes: int) -> Change:  # type: ignore[no-untyped-def]
    return actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}.", why="Because.", kind="process", effective_on=day, minutes=minutes,
        audiences=[actions.AudienceIn(a) for a in audiences]))


def test_an_owner_accepts_a_staging_in_one_click(live_server, page: Page, cast: Cast) -> None:
    today = timezone.localdate()
    monday = today + timedelta(days=14 - today.weekday())
    draft(cast, "Leeds rota", monday, ["leeds"], 50)
    draft(cast, "York rota", monday, ["york"], 50)
    both = draft(cast, "New timesheet form", monday + timedelta(days=1), ["leeds", "york"], 20)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("payroll_lead")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Changes").click()
    row = page.locator(f"[data-testid=proposals] tr[data-change='{both.pk}']")
    expect(row).to_contain_text("Leeds branch")
    row.get_by_test_id("accept-staging").click()

    expect(page.get_by_text("Staged: each audience now has its own day.")).to_be_visible()
    expect(page.get_by_test_id("over-count")).to_have_text("0")
    days = dict(ChangeAudience.objects.filter(change=both).values_list("unit__slug", "effective_on"))
    assert days["leeds"] is not None and days["york"] is not None
    assert days["york"] >= days["leeds"] + timedelta(days=7)
    page.goto(live_server.url + f"/changes/{both.pk}/")
    expect(page.locator("[data-audience=york] [data-testid=stage]")).to_have_text(f"from {days['york']:%a %-d %b}")
    page.screenshot(path="/tmp/h18_staged_change.png", full_page=True)
