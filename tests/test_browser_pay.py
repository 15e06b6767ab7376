"""HR imports payroll's file in a real browser, and the report shows the hand-worked figures
(tandem/pay/tests/test_report.py works them out); an executive then reads the same report."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.pay import actions
from tandem.pay.tests.scene import snapshot_csv, staff
from tests.cast import build_cast
from tests.test_browser_journey import RESULTS, sign_in, sign_out


@pytest.fixture
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hr_imports_a_snapshot_and_the_report_shows_the_figures(live_server, page: Page, fast_passwords, tmp_path) -> None:
    cast = build_cast()
    staff(cast)
    actions.grant_hr_role(cast.admin, cast.hr_agent)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(snapshot_csv().replace(b"f3,C1,25,28,2400.00", b"f3,C1,25,28,-2400.00"))
    good = tmp_path / "april.csv"
    good.write_bytes(snapshot_csv())

    sign_in(page, live_server.url, "hr_agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pay parity").click()
    page.get_by_role("link", name="Import a snapshot").click()
    page.get_by_label("Snapshot date").fill("2026-04-30")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-errors")).to_contain_text("Row 4, ordinary_pay")
    page.get_by_label("Snapshot date").fill("2026-04-30")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 26 rows")).to_be_visible()
    expect(page.get_by_test_id("mean-gap")).to_have_text("8.6 %")
    expect(page.get_by_test_id("median-gap")).to_have_text("3.3 %")
    expect(page.locator('tr[data-grade="C3"]')).to_contain_text("gap to review")
    expect(page.locator('tr[data-grade="C2"]')).to_contain_text("Not shown")
    expect(page.locator('tr[data-trend-grade="C3"]')).to_contain_text("Apr 2026: 5.0 % (6.1 %)")
    sign_out(page)

    sign_in(page, live_server.url, "executive")
    page.goto(live_server.url + "/pay/")
    expect(page.get_by_test_id("mean-gap")).to_have_text("8.6 %")
    expect(page.get_by_test_id("hr-links")).to_have_count(0)
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "pay-report.png"), full_page=True)
    assert re.search(r"£31\.08", page.content())
