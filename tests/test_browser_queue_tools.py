"""In a real Chromium: a lead ticks requests in the team queue and assigns them at once; the
header's search box finds a request by a word of its comments."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.cast import TIMESHEET_OK, build_cast
from tests.test_browser_security import fast_passwords, sign_in

__all__ = ["fast_passwords"]  # the fixture, used by name


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_ticks_two_requests_and_assigns_them(live_server, page: Page, fast_passwords) -> None:
    cast = build_cast()
    made = [actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title=f"Rota {n}").request
            for n in range(3)]
    actions.cancel_request(cast.consultant, made[2].pk, "Sent twice")
    sign_in(page, live_server.url, "payroll_lead")
    page.goto(live_server.url + "/queue/?status=all")
    for sr in made:
        page.get_by_label(f"Tick {sr.reference}").check()
    page.get_by_label("With the ticked requests").select_option("assign")
    page.get_by_label("Assign them to").select_option(label="Payroll Agent2")
    page.get_by_role("button", name="Apply to ticked").click()
    results = page.get_by_test_id("bulk-results")
    expect(page.get_by_role("heading", name="2 done, 1 refused")).to_be_visible()
    expect(results).to_contain_text(f"{made[2].reference} refused")
    for sr in made[:2]:
        sr.refresh_from_db()
        assert (sr.status, sr.assignee_id) == (Status.ASSIGNED, cast.payroll_agent2.pk)
        assert sr.events.filter(kind=Event.Kind.ASSIGNED).count() == 1
    assert ServiceRequest.objects.get(pk=made[2].pk).status == Status.CANCELLED
    page.get_by_role("link", name="Back to the queue").click()
    expect(page.get_by_role("row", name=made[0].reference).get_by_text("Payroll Agent2").first).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_header_box_finds_a_request_by_a_word_of_its_comment(live_server, page: Page, fast_passwords) -> None:
    cast = build_cast()
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Overtime").request
    actions.add_comment(cast.payroll_agent, sr.pk, "The client's supervisor is Ms Featherstonehaugh.")
    sign_in(page, live_server.url, "payroll_agent")
    page.get_by_role("searchbox", name="Search requests").fill("featherstonehaugh")
    page.keyboard.press("Enter")
    hits = page.get_by_test_id("search-results")
    expect(hits).to_contain_text(sr.reference)
    expect(hits.locator("mark")).to_have_text("Featherstonehaugh")
    page.get_by_role("searchbox", name="Search requests").first.fill("*** (((")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("punctuation")
