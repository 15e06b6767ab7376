"""The API for calendars, agreements and customer agreements: the same actions as the pages,
4xx JSON naming the field for bad input."""

from __future__ import annotations

import pytest

from tandem.agreements.models import Agreement, Calendar
from tandem.org.models import Role
from tests.apiclient import ApiClient
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db

WEEK = {str(d): [["09:00", "17:00"]] for d in range(5)}


def test_it_gets_and_sets_a_units_calendar(cast: Cast) -> None:
    body = ApiClient(cast.consultant).get("/api/calendars/payroll").json()
    assert body["own"] is False and body["country"] == "GB" and len(body["upcoming_holidays"]) == 10
    api = ApiClient(cast.payroll_lead)
    response = api.post(
        "/api/calendars/payroll",
        {"weekly": WEEK, "country": "GB", "subdivision": "SCT", "closures": {"2026-12-24": []}},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["own"] is True and response.json()["closures"] == {"2026-12-24": []}
    assert Calendar.objects.get().spec["weekly"]["0"] == [["09:00", "17:00"]]
    assert ApiClient(cast.consultant).get("/api/calendars/nowhere").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weekly": {"0": [["17:00", "09:00"]]}}, "weekly"),
        ({"weekly": {"0": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "weekly"),
        ({"weekly": WEEK, "country": "XX"}, "country"),
        ({"weekly": WEEK, "country": "GB", "subdivision": "Atlantis"}, "subdivision"),
        ({"weekly": {}}, "weekly"),
    ],
)
def test_it_refuses_a_bad_calendar_naming_the_field(cast: Cast, body: dict, field: str) -> None:
    response = ApiClient(cast.payroll_lead).post("/api/calendars/payroll", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.json()
    assert not Calendar.objects.exists()


def test_only_the_lead_or_an_admin_sets_a_calendar(cast: Cast) -> None:
    assert ApiClient(cast.hr_agent).post("/api/calendars/payroll", {"weekly": WEEK}).status_code == 403
    assert (
        ApiClient(make_person("hr_lead", cast.hr, Role.LEAD))
        .post("/api/calendars/payroll", {"weekly": WEEK})
        .status_code
        == 403
    )
    assert ApiClient(cast.admin).post("/api/calendars/payroll", {"weekly": WEEK}).status_code == 200


def agreement_body(**overrides: object) -> dict:
    body = {
        "service": "timesheet-correction",
        "name": "Leeds",
        "requesting_unit": "leeds",
        "channel": "external",
        "first_response_minutes": 60,
        "resolution_minutes": 900,
        "target_percent": 95,
        "pause_statuses": ["waiting_requester", "waiting_third_party"],
    }
    return body | overrides


def test_it_creates_and_updates_an_agreement(cast: Cast) -> None:
    api = ApiClient(cast.payroll_lead)
    created = api.post("/api/agreements", agreement_body())
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["requesting_unit"]["slug"] == "leeds"
    updated = api.put(f"/api/agreements/{pk}", agreement_body(resolution_minutes=450, active=False))
    assert updated.status_code == 200 and updated.json()["resolution_minutes"] == 450
    assert not Agreement.objects.get(pk=pk).active
    assert ApiClient(cast.consultant).get(f"/api/agreements/{pk}").json()["name"] == "Leeds"
    assert ApiClient(cast.hr_agent).put(f"/api/agreements/{pk}", agreement_body()).status_code == 403
    assert api.put("/api/agreements/999", agreement_body()).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"resolution_minutes": 0}, "resolution_minutes"),
        ({"first_response_minutes": -5}, "first_response_minutes"),
        ({"resolution_minutes": 2**70}, "resolution_minutes"),
        ({"target_percent": 0}, "target_percent"),
        ({"pause_statuses": ["resolved"]}, "pause_statuses"),
        ({"service": "nothing"}, "service"),
        ({"requesting_unit": "nowhere"}, "requesting_unit"),
    ],
)
def test_it_refuses_bad_agreements_naming_the_field(cast: Cast, overrides: dict, field: str) -> None:
    response = ApiClient(cast.payroll_lead).post("/api/agreements", agreement_body(**overrides))
    assert response.status_code == 422 and field in response.json()["errors"], response.json()
    assert not Agreement.objects.exists()


def test_customer_agreements_carry_their_coverage_check(cast: Cast) -> None:
    ApiClient(cast.payroll_lead).post("/api/agreements", agreement_body(resolution_minutes=900))
    body = {
        "unit": "leeds",
        "name": "Payslip fix",
        "resolution_minutes": 900,
        "margin_minutes": 60,
        "services": ["timesheet-correction"],
    }
    assert ApiClient(cast.consultant).post("/api/customer-agreements", body).status_code == 403
    assert ApiClient(cast.payroll_lead).post("/api/customer-agreements", body).status_code == 403
    created = ApiClient(cast.admin).post("/api/customer-agreements", body)
    assert created.status_code == 201, created.json()
    cover = created.json()["coverage"]
    assert cover["ok"] is False and cover["legs"] == [{"service": "Timesheet correction", "target_minutes": 900}]
    assert (cover["total_minutes"], cover["shortfall_minutes"]) == (960, 60)
    assert cover["message"].endswith("= 2 d 1 h: 1 h short.")
    pk = created.json()["id"]
    got = ApiClient(cast.consultant).get(f"/api/customer-agreements/{pk}").json()
    assert got["coverage"] == cover
    assert ApiClient(cast.consultant).get("/api/customer-agreements").json()["items"][0]["id"] == pk
    fixed = ApiClient(cast.admin).put(f"/api/customer-agreements/{pk}", body | {"resolution_minutes": 1350})
    assert fixed.status_code == 200 and fixed.json()["coverage"]["ok"] is True
    for wrong, field in (
        ({"unit": "payroll"}, "unit"),
        ({"services": ["grievance-x"]}, "services"),
        ({"resolution_minutes": 0}, "resolution_minutes"),
        ({"margin_minutes": -1}, "margin_minutes"),
    ):
        response = ApiClient(cast.admin).post("/api/customer-agreements", body | wrong)
        assert response.status_code == 422 and field in response.json()["errors"], (wrong, response.json())
