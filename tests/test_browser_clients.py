"""A provider administrator adds a client in a real browser (a refused line first, what was
typed kept), and the client's person then sees only the contracted service in the catalogue."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tandem.org.models import Person
from tests.cast import PASSWORD, build_cast
from tests.test_browser_journey import RESULTS, sign_in, sign_out


@pytest.fixture
def fast_passwords(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_adds_a_client_and_its_person_sees_only_the_contracted_service(
    live_server, page: Page, fast_passwords
) -> None:
    build_cast()
    sign_in(page, live_server.url, "admin")
    page.goto(live_server.url + "/manage/clients/")
    page.get_by_role("link", name="Add a client").click()
    page.get_by_label("Name").fill("Glen Recruitment")
    page.get_by_label("Slug").fill("glen")
    page.get_by_label("Holiday country").fill("GB")
    page.get_by_label("Holiday subdivision").fill("SCT")
    page.get_by_label("Units").fill("Glen branch, glen-branch")
    page.get_by_label("People").fill("gail, Gail, Shaw, gail@glen.test, glen-branch, executive")
    page.get_by_label("Contracts").fill("timesheet-correction, 60, 480, 95\ntimesheet-corection")
    page.get_by_role("button", name="Add the client").click()
    expect(page.get_by_text("Line 2: 'timesheet-corection' is not a published service")).to_be_visible()
    expect(page.get_by_label("People")).to_have_value("gail, Gail, Shaw, gail@glen.test, glen-branch, executive")
    page.get_by_label("Contracts").fill("timesheet-correction, 60, 480, 95")
    page.get_by_role("button", name="Add the client").click()
    expect(page.get_by_role("heading", name="Glen Recruitment")).to_be_visible()
    expect(page.get_by_test_id("contracts")).to_contain_text("resolve in 480 min")
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "client-added.png"), full_page=True)
    sign_out(page)

    gail = Person.objects.get(user__username="gail")
    gail.user.set_password(PASSWORD)
    gail.user.save()
    sign_in(page, live_server.url, "gail")
    page.goto(live_server.url + "/catalogue/")
    expect(page.get_by_text("Timesheet correction").first).to_be_visible()
    expect(page.get_by_text("Grievance")).to_have_count(0)
    answer = page.goto(live_server.url + "/catalogue/grievance/request/")
    assert answer is not None and answer.status == 404
