"""Screenshots of the main pages with a realistic handful of requests.

Always saved under test-results/; with TANDEM_SCREENSHOT_DIR=docs the team queue is also saved
as docs/screenshot-queue.png (the README shows it).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tandem.catalogue.models import CutOff, IntakeField, ProcedureStep, Service
from tandem.work import actions
from tandem.work.models import Channel
from tests.cast import Cast, build_cast

RESULTS = Path("test-results")

NAMES = {
    "consultant": ("Amira", "Haddad"),
    "colleague": ("Tom", "Okafor"),
    "other_consultant": ("Sophie", "Lambert"),
    "payroll_agent": ("Priya", "Shah"),
    "payroll_agent2": ("Daniel", "Reyes"),
    "payroll_lead": ("Grace", "Whitfield"),
    "hr_agent": ("Marcus", "Bell"),
}


def _rename(cast: Cast) -> None:
    for attr, (first, last) in NAMES.items():
        user = getattr(cast, attr).user
        user.first_name, user.last_name = first, last
        user.save()
        getattr(cast, attr).user = user


def _service(cast: Cast, slug: str, name: str, summary: str, days: int, **extra) -> Service:
    service = Service.objects.create(
        unit=cast.payroll,
        slug=slug,
        name=name,
        summary=summary,
        turnaround_days=days,
        scope_includes=summary,
        owner=cast.payroll_lead,
        **extra,
    )
    IntakeField.objects.create(service=service, position=1, key="worker", label="Worker name")
    IntakeField.objects.create(
        service=service,
        position=2,
        key="details",
        label="Details",
        kind="long_text",
        required=False,
    )
    return service


def _history(cast: Cast) -> int:
    """A morning in Payroll: requests in every state, some waiting, one overdue."""
    now = timezone.now()
    rate = _service(cast, "pay-rate-change", "Pay rate change", "Change a worker's pay rate.", 3)
    holiday = _service(
        cast, "holiday-pay-query", "Holiday pay query", "Explain or correct accrued holiday pay.", 5
    )
    p45 = _service(cast, "p45-request", "P45 request", "Issue a P45 to a leaver.", 2)
    CutOff.objects.create(
        service=cast.timesheet,
        weekday=1,
        time="12:00",
        description="Timesheets by Tuesday 12:00 for Friday's payroll",
    )
    ProcedureStep.objects.create(
        service=cast.timesheet, position=3, text="Tell the worker what changed."
    )
    ts = {"hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}

    def ago(days: float) -> timezone.datetime:
        return now - timedelta(days=days)

    def ask(who, service, intake, title, days, channel=Channel.INTERNAL):
        return actions.submit_request(
            who, service, intake, title=title, channel=channel, now=ago(days)
        ).request

    a = ask(
        cast.consultant,
        cast.timesheet,
        {**ts, "worker": "Ann Smith"},
        "Ann Smith: missed Saturday shift",
        6,
    )
    actions.assign_request(cast.payroll_lead, a.pk, cast.payroll_agent.pk, now=ago(5.5))
    actions.start_request(cast.payroll_agent, a.pk, now=ago(5))
    actions.ask_requester(
        cast.payroll_agent, a.pk, "Which client approved the Saturday shift?", now=ago(3)
    )
    b = ask(cast.colleague, rate, {"worker": "Jon Ode"}, "Jon Ode: new rate from 1 December", 4.2)
    actions.start_request(cast.payroll_agent2, b.pk, now=ago(4))
    actions.wait_third_party(cast.payroll_agent2, b.pk, "Acme Ltd accounts", now=ago(2))
    c = ask(
        cast.other_consultant,
        holiday,
        {"worker": "Lea Marsh"},
        "Lea Marsh: holiday accrual looks low",
        3.1,
    )
    d = ask(cast.consultant, p45, {"worker": "Raj Patel"}, "Raj Patel: leaver on Friday", 2.4)
    actions.assign_request(cast.payroll_lead, d.pk, cast.payroll_agent2.pk, now=ago(2.2))
    e = ask(
        cast.colleague,
        cast.timesheet,
        {**ts, "worker": "Mia Chen"},
        "Mia Chen: overtime week 46",
        1.8,
    )
    actions.start_request(cast.payroll_agent, e.pk, now=ago(1.5))
    f = ask(
        cast.other_consultant, rate, {"worker": "Sam Hale"}, "Sam Hale: rate for night shifts", 1.2
    )
    g = ask(
        cast.consultant,
        cast.timesheet,
        {**ts, "worker": "Eve Long"},
        "Eve Long: wrong client on timesheet",
        0.9,
    )
    actions.start_request(cast.payroll_agent, g.pk, now=ago(0.8))
    actions.resolve_request(
        cast.payroll_agent, g.pk, "Moved 16 hours to Brightside Care.", now=ago(0.2)
    )
    h = ask(
        cast.colleague, holiday, {"worker": "Kai Moss"}, "Kai Moss: holiday pay on leaving", 0.3
    )
    ask(cast.consultant, p45, {"worker": "Ola Nowak"}, "Ola Nowak: duplicate P45 needed", 0.05)
    ask(
        cast.consultant,
        cast.timesheet,
        {**ts, "worker": "Ivy Burke"},
        "Ivy Burke: agency hours for client",
        1.0,
        channel=Channel.EXTERNAL,
    )
    assert c.pk and f.pk and h.pk
    return a.pk


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def _shot(page, name: str, *, full_page: bool = True) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"pages-{name}.png"), full_page=full_page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, reset_sequences=True)  # SR-000001 onwards in docs
def test_it_screenshots_the_main_pages(live_server, page) -> None:
    cast = build_cast()
    _rename(cast)
    first = _history(cast)
    _sign_in(page, live_server.url, "payroll_agent")
    page.goto(live_server.url + "/queue/")
    assert page.locator("tbody tr:has(td)").count() == 9  # requests, not section headings
    _shot(page, "queue")
    target = os.environ.get("TANDEM_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 760})
        page.screenshot(path=str(Path(target) / "screenshot-queue.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
    # With JavaScript, changing a filter swaps the results in place (htmx) and keeps the address.
    page.get_by_label("Assignee").select_option("none")
    expect(page.locator("tbody tr:has(td)")).to_have_count(4)
    expect(page).to_have_url(re.compile(r"assignee=none"))
    expect(page.get_by_role("link", name="External (customers)")).to_have_attribute(
        "href", re.compile(r"assignee=none")
    )
    page.goto(live_server.url + "/queue/")
    page.get_by_role("link", name="Ann Smith: missed Saturday shift").click()
    _shot(page, "request-agent")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/queue/")
    _shot(page, "queue-phone", full_page=False)
    page.goto(f"{live_server.url}/requests/{first}/")
    _shot(page, "request-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.clear_cookies()
    _sign_in(page, live_server.url, "consultant")
    page.goto(live_server.url + "/catalogue/")
    _shot(page, "catalogue")
    page.goto(live_server.url + "/catalogue/timesheet-correction/")
    _shot(page, "service")
    page.goto(live_server.url + "/catalogue/timesheet-correction/request/")
    _shot(page, "submit")
    page.goto(live_server.url + "/requests/")
    _shot(page, "my-requests")
    page.goto(f"{live_server.url}/requests/{first}/")
    _shot(page, "request-requester")
    page.goto(live_server.url + "/notifications/")
    _shot(page, "notifications")
