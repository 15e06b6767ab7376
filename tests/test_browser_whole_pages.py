"""Pages stay whole: one unbroken word as long as Tandem accepts (a 20,000-character intake value,
comment or resolution; a title, a third party's name or a person's name at its limit) wraps
inside its box instead of making the page wider than the screen, on a desktop and on a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tandem.catalogue.intake import SHORT_TEXT_LIMIT
from tandem.work import actions
from tests.cast import TIMESHEET_OK, build_cast

WORD = "W" * 20_000  # W: the widest letter, and no place to break it
SHOTS = Path("test-results")  # what each page looked like, to look at (not kept in git)
VIEWPORTS = {"desktop": (1280, 900), "tablet": (1024, 768), "phone": (390, 844)}
# The innermost elements that stick out past the right edge, to say what to mend.
STICKING_OUT = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : ""))"""


def _long_history() -> dict[str, str]:
    """Requests whose every typed text is one word at its limit; answers the pages to open."""
    cast = build_cast()
    cast.consultant.user.last_name = WORD[:150]  # the longest name Django's user keeps
    cast.consultant.user.save()
    case = actions.create_case(cast.consultant, customer_reference=WORD[:80], title=WORD[:200])
    intake = {**TIMESHEET_OK, "worker": WORD[:SHORT_TEXT_LIMIT], "notes": WORD}
    waiting = actions.submit_request(cast.consultant, cast.timesheet, intake, title=WORD[:200], case_id=case.pk).request
    actions.add_comment(cast.consultant, waiting.pk, WORD)
    actions.start_request(cast.payroll_agent, waiting.pk)
    actions.wait_third_party(cast.payroll_agent, waiting.pk, WORD[:200], WORD)
    resolved = actions.submit_request(cast.consultant, cast.timesheet, intake, title=WORD[:200]).request
    actions.start_request(cast.payroll_agent, resolved.pk)
    actions.resolve_request(cast.payroll_agent, resolved.pk, WORD)
    return {
        "consultant": f"/requests/ /requests/?whose=unit /requests/{waiting.pk}/ /requests/{resolved.pk}/ "
        f"/cases/?whose=unit /cases/{case.pk}/",
        "payroll_agent": f"/requests/{waiting.pk}/ /requests/{resolved.pk}/ /queue/?status=all /queue/",
    }


def _sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_is_wider_than_the_screen_whatever_was_typed(live_server, page, settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    pages = _long_history()
    too_wide = []
    for username, paths in pages.items():
        _sign_in(page, live_server.url, username)
        for path in paths.split():
            for name, (width, height) in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, (username, path)
                assert WORD[:200] in page.content(), (username, path)  # the long text is on the page
                SHOTS.mkdir(exist_ok=True)
                shot = "-".join(["whole", username, *re.findall(r"\w+", path), name]) + ".png"
                page.screenshot(path=str(SHOTS / shot))
                scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                if scroll > inner:
                    culprits = ", ".join(page.evaluate(STICKING_OUT))
                    too_wide.append(f"{username} {path} {name}: {scroll} px wide in {inner} px ({culprits})")
    assert not too_wide, "\n".join(too_wide)
