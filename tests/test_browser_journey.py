"""The whole journey in a real Chromium: a consultant asks, Payroll works it, the consultant accepts.

Screenshots of the key steps land in test-results/journey-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tandem.work.models import ServiceRequest, Status
from tests.cast import build_cast

RESULTS = Path("test-results")


@pytest.fixture
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def shot(page: Page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"journey-{name}.png"), full_page=True)


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(name))


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_takes_a_request_from_the_front_office_to_acceptance(
    live_server, page: Page, fast_passwords
) -> None:
    build_cast()
    base = live_server.url

    # The consultant reads the catalogue and asks for a timesheet correction.
    sign_in(page, base, "consultant")
    expect(page).to_have_url(base + "/requests/")
    nav(page, "Catalogue").click()
    expect(page.get_by_role("heading", name="Payroll")).to_be_visible()
    page.get_by_role("link", name="Timesheet correction").click()
    expect(page.get_by_text("Rate changes (ask for a pay rate change).")).to_be_visible()
    page.get_by_role("link", name="Request this").click()

    # First without the worker's name: refused, and everything typed is still there.
    page.get_by_label("Corrected hours").fill("37.5")
    page.get_by_label("Week ending").fill("2026-11-20")
    page.get_by_label("Reason").select_option("Overtime")
    page.get_by_label("Notes").fill("Approved by Jo at Acme.")
    page.get_by_label("Title").fill("Ann Smith: overtime week 47")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("Some details are missing or wrong")
    expect(page.locator(".field--invalid")).to_contain_text("This field is required.")
    expect(page.get_by_label("Corrected hours")).to_have_value("37.5")
    expect(page.get_by_label("Week ending")).to_have_value("2026-11-20")
    expect(page.get_by_label("Reason")).to_have_value("Overtime")
    expect(page.get_by_label("Notes")).to_have_value("Approved by Jo at Acme.")
    expect(page.get_by_label("Title")).to_have_value("Ann Smith: overtime week 47")
    assert ServiceRequest.objects.count() == 0
    shot(page, "refused")

    page.get_by_label("Worker name").fill("Ann Smith")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Sent to Payroll as")).to_be_visible()
    sr = ServiceRequest.objects.get()
    ref = sr.reference
    expect(page.get_by_role("heading", name="Ann Smith: overtime week 47")).to_be_visible()
    shot(page, "submitted")
    sign_out(page)

    # A payroll agent finds it in the team queue, picks it, starts it and asks a question.
    sign_in(page, base, "payroll_agent")
    expect(page).to_have_url(base + "/queue/")
    row = page.locator("tbody tr", has_text=ref)
    expect(row).to_contain_text("Payroll queue")
    shot(page, "queue")
    row.get_by_role("button", name=f"Pick {ref}").click()
    expect(page.get_by_text("You picked it.")).to_be_visible()
    expect(page.locator("tbody tr", has_text=ref)).to_contain_text("Assigned")
    page.get_by_role("link", name=ref).click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".request-head")).to_contain_text("In progress")
    page.locator("summary", has_text="Ask the requester").click()
    page.get_by_label("Question for the requester").fill("Which client approved the overtime?")
    page.get_by_role("button", name="Send question").click()
    expect(page.locator(".request-head")).to_contain_text("Waiting on Consultant")
    shot(page, "asked")
    sign_out(page)

    # The consultant sees it is their move and answers.
    sign_in(page, base, "consultant")
    expect(nav(page, "Notifications")).to_contain_text("1")
    nav(page, "Notifications").click()
    page.get_by_role("link", name=f"Payroll needs information from you on {ref}").click()
    expect(page.get_by_text("Which client approved the overtime?").first).to_be_visible()
    page.get_by_label("Your answer").fill("Acme Ltd, approved by Jo on Monday.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".request-head")).to_contain_text("In progress")
    sign_out(page)

    # The agent resolves it with a note.
    sign_in(page, base, "payroll_agent")
    page.goto(f"{base}/requests/{sr.pk}/")
    page.locator("summary", has_text="Resolve it").click()
    page.get_by_label("Resolution note").fill("Hours corrected to 37.5 in this week's payroll.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".request-head")).to_contain_text("Resolved")
    sign_out(page)

    # The consultant reads the whole timeline and accepts.
    sign_in(page, base, "consultant")
    page.goto(f"{base}/requests/{sr.pk}/")
    timeline = page.locator(".timeline")
    for step in (
        "Submitted",
        "Assigned",
        "Started",
        "Asked the requester",
        "Information provided",
        "Resolved",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Hours corrected to 37.5 in this week's payroll.")
    shot(page, "timeline")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Accepted and closed.")).to_be_visible()
    expect(page.locator(".request-head")).to_contain_text("Closed")
    expect(timeline).to_contain_text("Accepted")
    shot(page, "accepted")
    assert ServiceRequest.objects.get().status == Status.CLOSED
