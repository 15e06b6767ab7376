"""What the browser tests of the change calendar do the same way: signing in, and filling the
draft form."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def open_draft_form(page: Page, url: str, username: str) -> None:
    """Signed in as ``username``, from the menu to *Draft a change*."""
    sign_in(page, url, username)
    page.get_by_role("link", name="Changes").click()
    page.get_by_role("link", name="Draft a change").click()


def fill_draft(page: Page, *, title: str, summary: str, why: str, kind: str, day: date, minutes: int) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill(summary)
    page.get_by_label("Why it exists").fill(why)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Takes effect on").fill(day.isoformat())
    page.get_by_label("Minutes each person needs").fill(str(minutes))
