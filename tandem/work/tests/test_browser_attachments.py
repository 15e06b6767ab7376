"""In a real browser: a requester attaches a file to a comment, a wrong file is refused with
what to do and the comment they typed kept, and the agent downloads the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tandem.work import actions
from tandem.work.models import Attachment
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def test_a_requester_attaches_a_file_and_the_agent_downloads_it(
    live_server, page: Page, cast: Cast, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "files")}}}
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    program = tmp_path / "sheet.pdf"
    program.write_bytes(b"MZ\x90\x00 not a pdf")
    sheet = tmp_path / "signed sheet.pdf"
    sheet.write_bytes(b"%PDF-1.4\n%%EOF\n")

    sign_in(page, live_server.url, "consultant")
    page.goto(f"{live_server.url}/requests/{sr.pk}/")
    form = page.locator("form.form--comment")
    form.get_by_label("Comment").fill("Here is the signed sheet.")
    form.get_by_label("Files").set_input_files(str(program))
    form.get_by_role("button", name="Add comment").click()
    expect(page.get_by_text("sheet.pdf is a program, not a .pdf file").first).to_be_visible()
    expect(page.locator("form.form--comment").get_by_label("Comment")).to_have_value("Here is the signed sheet.")
    assert not Attachment.objects.exists()

    form = page.locator("form.form--comment")
    form.get_by_label("Files").set_input_files(str(sheet))
    form.get_by_role("button", name="Add comment").click()
    expect(page.get_by_test_id("files").get_by_role("link", name="signed sheet.pdf")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, live_server.url, "payroll_agent")
    page.goto(f"{live_server.url}/requests/{sr.pk}/")
    with page.expect_download() as download:
        page.get_by_test_id("files").get_by_role("link", name="signed sheet.pdf").click()
    assert download.value.suggested_filename == "signed sheet.pdf"
    assert Path(download.value.path()).read_bytes() == b"%PDF-1.4\n%%EOF\n"
