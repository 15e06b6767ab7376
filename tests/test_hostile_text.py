"""Hostile text through the submit page and the API: megabyte strings, control characters,
right-to-left marks, HTML and script payloads, template syntax, NUL, lone surrogates.

Whatever arrives, the answer is never a 5xx: either the text is accepted and stored verbatim
(after the trimming of surrounding whitespace every text field does), or it is refused with a 4xx
that says why, and the page shows the form again with everything as it was typed.

Lone surrogates cannot be UTF-8, so on the page they are sent as the bytes a hostile client
would send (``surrogatepass``): Django reads them as U+FFFD, and that is what must be stored.
"""

from __future__ import annotations

import json
import uuid
from html import escape
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tandem.work.models import Comment, ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db

SUBMIT = "/catalogue/timesheet-correction/request/"

PIECES = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=2">',
    "</textarea><svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{ request.user.password }}{% debug %}",
    "' OR 1=1; DROP TABLE work_event; --",
    "\u202egnp.exe",  # right-to-left override
    "\u200f\u200e\u061c\u2066\u2069",  # RTL/LTR marks and isolates
    "שלום עולם مرحبا",
    "\x00",
    "\x1b[31m\x07\x08\x7f",
    "\r\n\t\x0b\x0c",
    "\u2028\u2029\ufeff\u200b",
    "\ud800",
    "\udfff\ud83d",
    "𝕏🧨e\u0301",
    "&amp;&lt;&#x27;",
    "%s%n%x",
    "\\u0000",
    " ",
]
SMALL = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(st.characters(exclude_categories=()), max_size=12)), max_size=6
).map("".join)
# A megabyte of one hostile piece: past every length limit and, urlencoded, past the upload limit.
MEGABYTE = st.sampled_from(PIECES).map(lambda piece: (piece * (1_000_000 // len(piece) + 1))[:1_000_000])
# One value in six a megabyte: enough of them to matter, few enough that most examples get past
# the upload limit to the form and the action.
HOSTILE = st.integers(0, 5).flatmap(lambda n: MEGABYTE if n == 0 else SMALL)

HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the cast is made once; each example adds its own rows
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


def received(text: str) -> str:
    """What the server reads from a form body carrying ``text`` (lone surrogates become U+FFFD)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def stored_form(text: str) -> str:
    return received(text).strip()


@HYPOTHESIS
@given(title=HOSTILE, worker=HOSTILE, notes=HOSTILE)
@example(title=PIECES[0] + PIECES[1], worker=PIECES[6] + "Ann", notes=PIECES[4] + PIECES[7])
def test_the_submit_page_stores_hostile_text_verbatim_or_refuses_it_keeping_the_form(
    cast: Cast, title: str, worker: str, notes: str
) -> None:
    client = Client()
    client.force_login(cast.consultant.user)
    fields = {
        "title": title,
        "intake-worker": worker,
        "intake-hours": "37.5",
        "intake-week_ending": "2026-11-20",
        "intake-reason": "Overtime",
        "intake-notes": notes,
        "channel": "internal",
        "token": uuid.uuid4().hex,
    }
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass")
    before = ServiceRequest.objects.count()
    response = client.generic("POST", SUBMIT, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, response.content[:500]
    event(f"page answered {response.status_code}, body over the limit: {len(body) > 2_621_440}")

    if response.status_code == 302:
        sr = ServiceRequest.objects.latest("id")
        assert response["Location"] == f"/requests/{sr.pk}/"
        assert sr.title == (stored_form(title) or "Timesheet correction")
        assert sr.intake["worker"] == stored_form(worker)
        assert sr.intake.get("notes", "") == stored_form(notes)
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert escape(sr.title) in page.content.decode()
        return

    assert 400 <= response.status_code < 500
    assert ServiceRequest.objects.count() == before  # refused means nothing stored
    content = response.content.decode(errors="replace")
    assert content.strip(), "a refusal must say why"
    if response.status_code == 400 and not response.context:
        return  # the body was over the upload limit: refused before any form was read
    assert "Some details are missing or wrong" in content or "role=\"alert\"" in content, content[:2000]
    # The form comes back with what was typed, escaped, in each field.
    meta, intake = response.context["meta"], response.context["intake"]
    event(f"page refused: {sorted({**meta.errors, **intake.errors})}")
    assert meta["title"].value() == received(title)
    assert intake["worker"].value() == received(worker)
    assert intake["notes"].value() == received(notes)
    for typed in (title, worker, notes):
        assert escape(received(typed)) in content


def _detail(response) -> str:
    answer = response.json()
    return answer.get("detail", "") if isinstance(answer, dict) else ""


@HYPOTHESIS
@given(title=HOSTILE, notes=HOSTILE, comment=HOSTILE)
@example(title=PIECES[0], notes=PIECES[7] + PIECES[8], comment=PIECES[1] + PIECES[2])
def test_the_api_stores_hostile_text_verbatim_or_refuses_it_with_a_message(
    cast: Cast, title: str, notes: str, comment: str
) -> None:
    api = ApiClient(cast.consultant)
    # ensure_ascii: lone surrogates travel as \\ud800 escapes, which is valid JSON text.
    body = json.dumps({"service": "timesheet-correction", "title": title, "intake": {**TIMESHEET_OK, "notes": notes}})
    before = ServiceRequest.objects.count()
    response = api.raw("POST", "/api/requests", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code < 500, response.content[:500]
    event(f"submission answered {response.status_code}")
    if response.status_code != 201:
        assert 400 <= response.status_code < 500 and _detail(response), response.content[:500]
        event(f"submission refused: {_detail(response)[:60]}")
        assert ServiceRequest.objects.count() == before
        return
    created = response.json()
    assert created["title"] == (title.strip() or "Timesheet correction")
    assert created["intake"].get("notes", "") == notes.strip()
    sr = ServiceRequest.objects.get(pk=created["id"])
    assert sr.title == created["title"] and sr.intake == created["intake"]

    said = api.raw("POST", f"/api/requests/{sr.pk}/comments", json.dumps({"body": comment}))
    assert said.status_code < 500, said.content[:500]
    event(f"comment answered {said.status_code}")
    if said.status_code == 201:
        assert said.json()["body"] == comment.strip()
        assert Comment.objects.get(pk=said.json()["id"]).body == comment.strip()
        listed = api.get(f"/api/requests/{sr.pk}/comments").json()["items"]
        assert [c["body"] for c in listed] == [comment.strip()]
    else:
        assert 400 <= said.status_code < 500 and _detail(said), said.content[:500]
        assert not Comment.objects.filter(request=sr).exists()


def test_markup_and_direction_marks_are_accepted_not_just_survived(cast: Cast) -> None:
    """The property tests allow refusals; ordinary hostile-looking text must not be refused."""
    api = ApiClient(cast.consultant)
    title = PIECES[0] + PIECES[6][:50]
    notes = "\n".join(PIECES[:9])
    response = api.post("/api/requests", {"service": "timesheet-correction", "title": title,
                                          "intake": {**TIMESHEET_OK, "notes": notes}})
    assert response.status_code == 201, response.json()
    assert response.json()["title"] == title and response.json()["intake"]["notes"] == notes


# --- in a real browser -------------------------------------------------------------------------

SCRIPT_PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
RTL_PAYLOAD = "\u202eevil.exe</b><i>not italic</i> שלום \u200f<u>x</u>"
COMMENT_PAYLOAD = '</p><script>window.__pwned=3</script>"><svg onload="window.__pwned=4"> \u202eevil'


def _is_inert(page) -> None:
    """No payload ran, and none became an element: it is all text."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)  # an injected <img onerror> would have fired by now
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__pwned'))") is False
    assert page.locator("img[src='x'], svg[onload], i:text('not italic')").count() == 0


def _sign_in(page, base: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_script_and_rtl_payloads_render_as_inert_text_in_a_real_browser(live_server, page, settings) -> None:
    from playwright.sync_api import expect

    from tests.cast import build_cast

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    build_cast()
    base = live_server.url

    # The consultant asks with a script for a title and markup with direction marks for notes.
    _sign_in(page, base, "consultant")
    page.goto(base + SUBMIT)
    page.get_by_label("Worker name").fill("Ann Smith")
    page.get_by_label("Corrected hours").fill("37.5")
    page.get_by_label("Week ending").fill("2026-11-20")
    page.get_by_label("Reason").select_option("Overtime")
    page.get_by_label("Notes").fill(RTL_PAYLOAD)
    page.get_by_label("Title").fill(SCRIPT_PAYLOAD)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("h1")).to_have_text(SCRIPT_PAYLOAD)
    expect(page.get_by_text(RTL_PAYLOAD, exact=True).first).to_be_visible()
    _is_inert(page)
    sr = ServiceRequest.objects.get()
    assert sr.title == SCRIPT_PAYLOAD and sr.intake["notes"] == RTL_PAYLOAD

    # ... and comments with more of the same.
    page.get_by_label("Comment", exact=True).fill(COMMENT_PAYLOAD)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".comment__body").last).to_have_text(COMMENT_PAYLOAD)
    _is_inert(page)
    assert Comment.objects.get(request=sr).body == COMMENT_PAYLOAD

    page.goto(base + "/requests/")
    expect(page.get_by_text(SCRIPT_PAYLOAD, exact=True).first).to_be_visible()
    _is_inert(page)

    # The back office sees the same text, as text, in its queue and on the request.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, base, "payroll_agent")
    page.goto(base + "/queue/")
    expect(page.locator(".row-title", has_text="<script>")).to_have_text(SCRIPT_PAYLOAD)
    _is_inert(page)
    page.goto(f"{base}/requests/{sr.pk}/")
    expect(page.locator("h1")).to_have_text(SCRIPT_PAYLOAD)
    expect(page.locator(".comment__body").last).to_have_text(COMMENT_PAYLOAD)
    expect(page.get_by_text(RTL_PAYLOAD, exact=True).first).to_be_visible()
    _is_inert(page)
