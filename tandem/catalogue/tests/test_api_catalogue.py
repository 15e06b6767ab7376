"""The catalogue and the units through the API."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.catalogue.models import CutOff, ServiceSkill
from tandem.org.models import Skill
from tests.apiclient import ApiClient
from tests.cast import Cast

pytestmark = pytest.mark.django_db


def test_it_lists_the_catalogue_in_a_stable_order(cast: Cast) -> None:
    page = ApiClient(cast.consultant).get("/api/services").json()
    assert [s["slug"] for s in page["items"]] == ["timesheet-correction", "grievance"]
    assert page["next_after"] is None
    first = page["items"][0]
    assert (
        first["unit"]["slug"] == "payroll"
        and first["turnaround_days"] == 2
        and first["active"] is True
    )


def test_it_filters_services_by_unit_and_refuses_an_unknown_unit(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    assert [s["slug"] for s in api.get("/api/services", {"unit": "hr"}).json()["items"]] == [
        "grievance"
    ]
    response = api.get("/api/services", {"unit": "nowhere"})
    assert response.status_code == 422 and response.json()["errors"] == {"unit": ["Unknown unit."]}


def test_it_hides_an_unpublished_service_from_other_units(cast: Cast) -> None:
    cast.timesheet.active = False
    cast.timesheet.save()
    assert [s["slug"] for s in ApiClient(cast.consultant).get("/api/services").json()["items"]] == [
        "grievance"
    ]
    assert ApiClient(cast.consultant).get("/api/services/timesheet-correction").status_code == 404
    assert (
        ApiClient(cast.payroll_lead).get("/api/services/timesheet-correction").json()["active"]
        is False
    )
    # Nobody can submit to it, not even its own unit.
    response = ApiClient(cast.payroll_lead).post(
        "/api/requests", {"service": "timesheet-correction", "intake": {}}
    )
    assert response.status_code == 422 and list(response.json()["errors"]) == ["service"]


def test_it_shows_everything_to_know_before_asking(cast: Cast) -> None:
    CutOff.objects.create(
        service=cast.timesheet, weekday=1, time=dt.time(12, 0), description="Friday's payroll",
        run_weekday=4, run_name="payroll",
    )
    skill = Skill.objects.create(name="Payroll systems", slug="payroll-systems")
    ServiceSkill.objects.create(service=cast.timesheet, skill=skill, min_level=3)
    body = ApiClient(cast.consultant).get("/api/services/timesheet-correction").json()
    assert (
        body["scope_excludes"].startswith("Rate changes")
        and body["owner"]["id"] == cast.payroll_lead.pk
    )
    assert [f["key"] for f in body["fields"]] == [
        "worker",
        "hours",
        "week_ending",
        "reason",
        "notes",
    ]
    reason = body["fields"][3]
    assert reason["kind"] == "choice" and reason["choices"] == [
        "Missed shift",
        "Overtime",
        "Wrong client",
    ]
    assert body["fields"][4]["required"] is False
    assert body["cutoffs"] == [
        {
            "weekday": 1,
            "weekday_name": "Tuesday",
            "time": "12:00",
            "time_zone": "Europe/London",
            "description": "Friday's payroll",
            "run_weekday": 4,
            "run_name": "payroll",
        }
    ]
    assert [s["text"] for s in body["steps"]] == [
        "Check the client's approval.",
        "Correct the hours in the payroll system.",
    ]
    assert body["skills"] == [
        {"slug": "payroll-systems", "name": "Payroll systems", "min_level": 3}
    ]


def test_it_pages_through_the_units_exactly_once(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    seen, after = [], None
    while True:
        page = api.get("/api/units", {"limit": 3, **({"after": after} if after else {})}).json()
        seen += [u["slug"] for u in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == ["leeds", "york", "payroll", "hr"]
