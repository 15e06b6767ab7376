"""The rules on intake values, through the submit page and `POST /api/requests`, on the demo's own
services: what a lead reads in a request is a value the form let through."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from tandem.catalogue.models import IntakeField, Service
from tandem.demo.catalogue.payroll import PAYROLL
from tandem.demo.catalogue.timesheets import TIMESHEETS
from tandem.demo.load import intake_field
from tandem.demo.services import DemoService
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import Cast

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # the server's today is Monday 7 December 2026

PAY_RATE_OK = {
    "worker": "Ann Smith", "worker_id": "W104233", "client": "Brightside Foods", "new_rate": "12.6",
    "effective_from": "2026-12-01", "rate_type": "Nights",
}
TIMESHEET_OK = {
    "worker": "Ann Smith", "client": "Brightside Foods", "week_ending": "2026-12-06", "hours": "37.5",
    "reason": "Overtime",
}
GOOD = {"pay-rate-change": PAY_RATE_OK, "timesheet-correction": TIMESHEET_OK}
REFUSED = "Some details are missing or wrong. {label}: {told} Correct them and submit again."

# (service, field, what was typed, the field's label, what the requester is told)
BAD = [
    ("pay-rate-change", "new_rate", "-5", "New hourly pay rate (£)", "Enter a number from 5 to 150."),
    ("timesheet-correction", "hours", "99999", "Correct total hours", "Enter a number from 0 to 100."),
    ("pay-rate-change", "effective_from", "2020-12-07", "Effective from",
     "Give a date from 6 Sep 2026 on: at most 92 days ago."),
    ("timesheet-correction", "week_ending", "2026-12-04", "Week ending",
     "Give a Sunday: 4 Dec 2026 is a Friday."),
    ("pay-rate-change", "worker_id", "104233", "Worker number", "W and six digits, like W104233."),
]


def demo_service(cast: Cast, slug: str) -> Service:
    """The demo's service of that slug, published by the cast's Payroll with the demo's own
    intake form (built as `tandem demo` builds it)."""
    demo: DemoService = next(s for s in (*PAYROLL, *TIMESHEETS) if s.slug == slug)
    Service.objects.filter(slug=slug).delete()  # the cast has its own timesheet correction
    service = Service.objects.create(
        unit=cast.payroll, name=demo.name, slug=demo.slug, summary=demo.summary,
        scope_includes=demo.includes, owner=cast.payroll_lead, turnaround_days=demo.turnaround,
    )
    IntakeField.objects.bulk_create([intake_field(service, i, f) for i, f in enumerate(demo.fields, 1)])
    return service


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


def page_post(values: dict[str, str]) -> dict[str, str]:
    return {
        **{f"intake-{key}": value for key, value in values.items()},
        "title": "", "channel": "internal", "case": "", "token": "t-1",
    }


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.mark.parametrize("slug, key, typed, label, told", BAD)
def test_the_page_refuses_a_value_its_rule_forbids_and_keeps_what_was_typed(
    cast: Cast, monday, slug: str, key: str, typed: str, label: str, told: str
) -> None:
    demo_service(cast, slug)
    values = {**GOOD[slug], key: typed}
    response = signed_in(cast.consultant).post(f"/catalogue/{slug}/request/", page_post(values))
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    # At the top, the field by its label and what to fix; beside the field, what to fix.
    assert f"<p>{REFUSED.format(label=label, told=told)}</p>" in body
    assert f'<ul class="errorlist" id="id_intake-{key}_error"><li>{told}</li></ul>' in body
    for value in values.values():
        assert f'value="{value}"' in body or f'"{value}" selected' in body, value
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize("slug, key, typed, label, told", BAD)
def test_the_api_refuses_a_value_its_rule_forbids_naming_the_label(
    cast: Cast, monday, slug: str, key: str, typed: str, label: str, told: str
) -> None:
    demo_service(cast, slug)
    response = ApiClient(cast.consultant).post(
        "/api/requests", {"service": slug, "intake": {**GOOD[slug], key: typed}}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == REFUSED.format(label=label, told=told)
    assert body["errors"] == {f"intake.{key}": [told]}
    assert ServiceRequest.objects.count() == 0


def test_the_api_takes_json_numbers_to_the_same_rules(cast: Cast, monday) -> None:
    demo_service(cast, "pay-rate-change")
    api = ApiClient(cast.consultant)
    response = api.post("/api/requests", {"service": "pay-rate-change", "intake": {**PAY_RATE_OK, "new_rate": -5}})
    assert response.status_code == 422 and response.json()["errors"] == {
        "intake.new_rate": ["Enter a number from 5 to 150."]
    }
    response = api.post("/api/requests", {"service": "pay-rate-change", "intake": {**PAY_RATE_OK, "new_rate": 150}})
    assert response.status_code == 201 and response.json()["intake"]["new_rate"] == "150"


@pytest.mark.parametrize("slug", ["pay-rate-change", "timesheet-correction"])
def test_good_values_pass_the_page_and_the_api(cast: Cast, monday, slug: str) -> None:
    demo_service(cast, slug)
    response = signed_in(cast.consultant).post(f"/catalogue/{slug}/request/", page_post(GOOD[slug]))
    assert response.status_code == 302
    response = ApiClient(cast.colleague).post("/api/requests", {"service": slug, "intake": GOOD[slug]})
    assert response.status_code == 201, response.json()
    assert [sr.intake for sr in ServiceRequest.objects.order_by("pk")] == [GOOD[slug], GOOD[slug]]


def test_the_limits_themselves_pass(cast: Cast, monday) -> None:
    demo_service(cast, "timesheet-correction")
    api = ApiClient(cast.consultant)
    # This week's Sunday is six days ahead; the earliest Sunday 91 days back is 7 September.
    for hours, week_ending in (("0", "2026-12-13"), ("100", "2026-09-13")):
        intake = {**TIMESHEET_OK, "hours": hours, "week_ending": week_ending}
        assert api.post("/api/requests", {"service": "timesheet-correction", "intake": intake}).status_code == 201
    intake = {**TIMESHEET_OK, "week_ending": "2026-12-20"}
    response = api.post("/api/requests", {"service": "timesheet-correction", "intake": intake})
    assert response.json()["errors"] == {"intake.week_ending": ["Give a date up to 13 Dec 2026: at most 6 days ahead."]}


def test_the_window_counts_from_the_servers_today_whatever_the_requesters_zone(cast: Cast) -> None:
    """At noon UTC on Sunday 6 December it is already Monday the 7th on Kiritimati (UTC+14): a
    week ending on the 13th is seven days ahead of the server's today, and refused on the page
    as in the API, although it would be six days ahead of the requester's."""
    demo_service(cast, "timesheet-correction")
    cast.consultant.time_zone = "Pacific/Kiritimati"
    cast.consultant.save()
    intake = {**TIMESHEET_OK, "week_ending": "2026-12-13"}
    with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), tick=False):
        page = signed_in(cast.consultant).post("/catalogue/timesheet-correction/request/", page_post(intake))
        api = ApiClient(cast.consultant).post("/api/requests", {"service": "timesheet-correction", "intake": intake})
    told = "Give a date up to 12 Dec 2026: at most 6 days ahead."
    assert page.status_code == 422 and told in html.unescape(page.content.decode())
    assert api.status_code == 422 and api.json()["errors"] == {"intake.week_ending": [told]}
    assert ServiceRequest.objects.count() == 0


def test_the_form_says_the_rules_before_anyone_types(cast: Cast, monday) -> None:
    demo_service(cast, "timesheet-correction")
    body = html.unescape(signed_in(cast.consultant).get("/catalogue/timesheet-correction/request/").content.decode())
    assert "The Sunday that ends the pay week. A Sunday, at most 91 days ago, at most 6 days ahead." in body
    assert 'min="2026-09-07" max="2026-12-13"' in body
    assert 'min="0.0000" max="100.0000"' in body
    fields = ApiClient(cast.consultant).get("/api/services/timesheet-correction").json()["fields"]
    hours = next(f for f in fields if f["key"] == "hours")
    week = next(f for f in fields if f["key"] == "week_ending")
    assert (hours["min_value"], hours["max_value"], hours["rules"]) == ("0", "100", "From 0 to 100.")
    assert (week["weekday"], week["days_past"], week["days_ahead"], week["min_value"]) == (6, 91, 6, None)
