"""The content security policy in a real Chromium: the pages and the API docs work under it,
and the browser reports no violation (a violation is what a broken page under CSP looks like)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tandem.work import actions
from tests.cast import TIMESHEET_OK, build_cast


@pytest.fixture
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def watch(page: Page) -> list[str]:
    """Every console message and page error that mentions the content security policy."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_loads_the_team_queue_with_no_csp_violation(live_server, page: Page, fast_passwords) -> None:
    cast = build_cast()
    actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)
    violations = watch(page)
    sign_in(page, live_server.url, "payroll_agent")
    response = page.goto(live_server.url + "/queue/")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("link", name="Timesheet correction").first).to_be_visible()
    # htmx (a script from /static/) still works under the policy: a filter change swaps the results.
    with page.expect_response(lambda r: "/queue/" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Sort").select_option(index=1)
    page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_renders_the_api_docs_under_their_policy(live_server, page: Page, fast_passwords) -> None:
    build_cast()
    violations = watch(page)
    sign_in(page, live_server.url, "consultant")
    response = page.goto(live_server.url + "/api/docs")
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_runs_the_admin_forms_scripts_under_their_policy(live_server, page: Page, fast_passwords) -> None:
    cast = build_cast()
    cast.admin.user.is_staff = cast.admin.user.is_superuser = True
    cast.admin.user.save()
    violations = watch(page)
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/org/unit/add/")
    # The admin's own script (prepopulated fields) runs: typing a name fills in the slug.
    page.locator("#id_name").press_sequentially("Accounts Payable")
    expect(page.locator("#id_slug")).to_have_value("accounts-payable")
    page.goto(live_server.url + "/admin/org/person/")
    page.wait_for_load_state("networkidle")
    assert violations == []
