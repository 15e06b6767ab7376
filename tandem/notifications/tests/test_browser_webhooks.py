"""In a real browser: an administrator refused a private address, adds a subscriber (its secret
shown once), finds it failing with its log, replays the delivery once the receiver is mended,
and rotates the secret."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tandem.notifications.models import Subscriber
from tandem.notifications.sending import send_due
from tandem.notifications.tests.webhook_receiver import Receiver
from tandem.work import actions
from tandem.work.tests.test_browser_approvals import sign_in
from tests.cast import TIMESHEET_OK, Cast
from tests.test_browser_journey import RESULTS

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_administrator_runs_webhooks_from_the_page(  # type: ignore[no-untyped-def]
    live_server, page: Page, cast: Cast, receiver: Receiver, settings: Any
) -> None:
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = False
    receiver.status = 500
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/manage/")
    page.get_by_role("navigation", name="Management").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("No subscribers yet.")).to_be_visible()
    page.get_by_label("Name").fill("CRM")
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_label("submitted: A request was created").check()
    page.get_by_role("button", name="Add subscriber").click()
    expect(page.locator(".field--invalid")).to_contain_text("127.0.0.1 is a loopback address (this machine)")
    expect(page.get_by_label("Address")).to_have_value(receiver.url)
    page.screenshot(path=str(RESULTS / "webhooks-private-refused.png"), full_page=True)
    assert not Subscriber.objects.exists()

    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = True  # the operator's setting, for a receiver on this machine
    page.get_by_role("button", name="Add subscriber").click()
    expect(page.get_by_role("heading", name="CRM was added.")).to_be_visible()
    first = Subscriber.objects.get().secret
    expect(page.locator("#secret-value")).to_have_text(first)
    page.screenshot(path=str(RESULTS / "webhooks-secret-once.png"), full_page=True)

    actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK))
    assert send_due() == (0, 1)
    page.goto(f"{live_server.url}/manage/webhooks/")
    row = page.locator("#subscribers tbody tr")
    expect(row).to_contain_text("Failing")
    expect(row).to_contain_text("1 in a row")
    page.screenshot(path=str(RESULTS / "webhooks-list.png"), full_page=True)
    row.get_by_role("link", name="CRM").click()
    expect(page.locator("#log")).to_contain_text("answered 500")
    page.screenshot(path=str(RESULTS / "webhooks-log.png"), full_page=True)

    receiver.status = 200
    page.locator("#log").get_by_role("button", name="Replay").click()
    expect(page.get_by_text("Replayed: it is sent again")).to_be_visible()
    assert send_due() == (1, 0)
    page.reload()
    expect(page.locator("#log")).to_contain_text("Delivered")

    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", name="CRM has a new secret")).to_be_visible()
    second = Subscriber.objects.get().secret
    assert second != first
    expect(page.locator("#secret-value")).to_have_text(second)
