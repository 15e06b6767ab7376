"""In a real browser: the approver opens a request waiting for them, sees why it needs their
approval, tries to decline without a reason (refused, nothing changes), then approves it, and
the request goes to the providing unit's queue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tandem.catalogue import actions as catalogue
from tandem.work import actions
from tandem.work.models import ServiceRequest, Status
from tests.cast import TIMESHEET_OK, Cast, make_person
from tests.test_browser_journey import RESULTS

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def waiting_request(cast: Cast) -> ServiceRequest:
    """A timesheet of 45 hours, waiting for Alice Manager, who approves those above 40."""
    approver = make_person("account_manager", cast.leeds, first="Alice", last="Manager")
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, approver.pk, "hours", Decimal("40"))
    cast.timesheet.refresh_from_db()
    return actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, "hours": "45"}).request


def test_the_approver_approves_from_the_request_page(live_server, page: Page, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    sr = waiting_request(cast)

    sign_in(page, live_server.url, "account_manager")
    page.goto(f"{live_server.url}/requests/{sr.pk}/")
    approval = page.get_by_test_id("approval")
    expect(approval).to_contain_text("Your approval is asked")
    expect(approval).to_contain_text("Corrected hours 45 is above 40")
    expect(page.locator(".request-head__status")).to_contain_text("Waiting on Alice Manager")

    page.get_by_text("Decline it").click()
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check what you entered")
    expect(page.locator("details.move--danger[open]").first).to_contain_text("This field is required")
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.WAITING_APPROVAL

    page.get_by_test_id("approval").get_by_label("Note (optional)").fill("Agreed with the client.")
    page.get_by_test_id("approval").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: it goes to the providing unit's queue.")).to_be_visible()
    expect(page.locator(".request-head__status")).to_contain_text("New")
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.NEW


def test_the_approver_finds_what_waits_for_them_and_the_list_empties_as_they_decide(  # type: ignore[no-untyped-def]
    live_server, page: Page, cast: Cast
) -> None:
    sr = waiting_request(cast)

    sign_in(page, live_server.url, "account_manager")
    page.goto(f"{live_server.url}/requests/")
    page.get_by_test_id("approvals-waiting").get_by_role("link", name="1 request waiting for your approval").click()
    table = page.locator("#approvals")
    expect(table).to_contain_text(sr.reference)
    expect(table).to_contain_text("Corrected hours 45 is above 40")
    page.screenshot(path=str(RESULTS / "my-approvals.png"), full_page=True)
    table.get_by_role("link", name=sr.reference).click()
    page.get_by_test_id("approval").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: it goes to the providing unit's queue.")).to_be_visible()
    page.goto(f"{live_server.url}/my-approvals/")
    expect(page.get_by_text("Nothing is waiting for your approval.")).to_be_visible()


def test_the_requester_names_the_approver_on_the_form_and_a_wrong_address_is_refused_beside_it(  # type: ignore[no-untyped-def]
    live_server, page: Page, cast: Cast
) -> None:
    from tandem.catalogue.models import IntakeField

    manager = make_person("alice", cast.york, first="Alice", last="Manager")
    IntakeField.objects.create(service=cast.timesheet, position=9, key="approver", label="Who approves",
                               kind=IntakeField.Kind.EMAIL)
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, None, by="field", approver_field="approver")

    sign_in(page, live_server.url, "consultant")
    page.goto(f"{live_server.url}/catalogue/{cast.timesheet.slug}/request/")
    page.get_by_label("Worker name").fill("Priya Shah")
    page.get_by_label("Corrected hours").fill("45")
    page.get_by_label("Week ending").fill("2026-11-20")
    page.get_by_label("Reason").select_option("Overtime")
    page.get_by_label("Who approves").fill("nobody@example.test")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("nobody active in Tandem has the address nobody@example.test")
    expect(page.get_by_label("Who approves")).to_have_value("nobody@example.test")
    expect(page.get_by_label("Worker name")).to_have_value("Priya Shah")
    page.screenshot(path=str(RESULTS / "approver-named-on-the-form-refused.png"), full_page=True)
    assert ServiceRequest.objects.count() == 0

    page.get_by_label("Who approves").fill("alice@example.test")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".request-head__status")).to_contain_text("Waiting on Alice Manager")
    sr = ServiceRequest.objects.get()
    assert sr.approver == manager and sr.status == Status.WAITING_APPROVAL
