"""Proves the browser harness: live server, Debian's Chromium, screenshots."""

import pytest


@pytest.mark.browser
def test_it_serves_the_login_page_to_a_real_browser(live_server, page):
    response = page.goto(live_server.url + "/accounts/login/")

    assert response is not None and response.status == 200
    assert page.locator("input[type=password]").count() == 1
