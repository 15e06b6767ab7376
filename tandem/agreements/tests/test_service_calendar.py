"""A service's own calendar overrides its unit's: deadlines, the page, the API, who may change it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tandem.agreements import actions as agreements
from tandem.agreements.models import Calendar
from tandem.agreements.queries import calendar_for_service
from tandem.org.models import Person, Role
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
H = 3600
# An out-of-hours line: evenings 18:00–22:00, every day of the week.
EVENINGS = {"tz": "Europe/London", "weekly": {str(d): [["18:00", "22:00"]] for d in range(7)}, "country": None}
EVENINGS_API = {"weekly": {str(d): [["18:00", "22:00"]] for d in range(7)}}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def submit(cast: Cast, when: datetime) -> ServiceRequest:
    with time_machine.travel(when, tick=False):
        sr = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=when).request
    return ServiceRequest.objects.get(pk=sr.pk)


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_a_request_to_a_service_with_its_own_calendar_gets_its_deadlines_from_it(cast: Cast) -> None:
    agreements.set_calendar(
        cast.payroll_lead, cast.payroll,
        {"tz": "Europe/London", "weekly": {str(d): [["08:00", "16:00"]] for d in range(5)}, "country": "GB"},
    )
    agreements.set_service_calendar(cast.payroll_lead, cast.timesheet, EVENINGS)
    sr = submit(cast, at(23, 15))  # Monday 15:00: the line opens at 18:00
    # Default terms: 2 working days of the service's calendar (4 h each), first response in 1 h.
    assert sr.resolve_seconds == 8 * H
    assert sr.respond_by == at(23, 19) and sr.resolve_by == at(24, 22)
    # Removing it reverts to the unit's calendar: 2 days of 8 h from Monday 15:00.
    assert agreements.remove_service_calendar(cast.payroll_lead, cast.timesheet)
    assert calendar_for_service(cast.timesheet).spec.tz == "Europe/London"
    later = submit(cast, at(23, 15))
    assert later.resolve_seconds == 16 * H and later.resolve_by == at(25, 15)
    assert sr.resolve_by == ServiceRequest.objects.get(pk=sr.pk).resolve_by  # earlier deadlines stay


def test_only_the_providing_units_lead_and_admins_change_a_service_calendar(cast: Cast) -> None:
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    with pytest.raises(Forbidden):
        agreements.set_service_calendar(hr_lead, cast.timesheet, EVENINGS)
    with pytest.raises(Forbidden):
        agreements.set_service_calendar(cast.payroll_agent, cast.timesheet, EVENINGS)
    assert ApiClient(hr_lead).post("/api/calendars/services/timesheet-correction", EVENINGS_API).status_code == 403
    assert ApiClient(hr_lead).delete("/api/calendars/services/timesheet-correction").status_code == 403
    assert client_for(hr_lead).get("/manage/calendars/service/timesheet-correction/").status_code == 403
    assert client_for(hr_lead).post("/manage/calendars/service/timesheet-correction/", {}).status_code == 403
    assert not Calendar.objects.exists()
    response = ApiClient(cast.admin).post("/api/calendars/services/timesheet-correction", EVENINGS_API)
    assert response.status_code == 200 and response.json()["own"] is True
    assert response.json()["weekly"]["6"] == [["18:00", "22:00"]]


def test_the_api_reads_sets_and_removes_a_service_calendar(cast: Cast) -> None:
    api = ApiClient(cast.payroll_lead)
    body = ApiClient(cast.consultant).get("/api/calendars/services/timesheet-correction").json()
    assert body["own"] is False and body["service"]["slug"] == "timesheet-correction" and body["weekly"]["0"]
    assert api.post("/api/calendars/services/timesheet-correction", EVENINGS_API).json()["own"] is True
    assert Calendar.objects.get(service=cast.timesheet).spec["weekly"]["3"] == [["18:00", "22:00"]]
    removed = api.delete("/api/calendars/services/timesheet-correction")
    assert removed.status_code == 200 and removed.json()["own"] is False
    assert removed.json()["weekly"]["0"] == [["09:00", "12:30"], ["13:30", "17:30"]]
    assert ApiClient(cast.consultant).get("/api/calendars/services/nowhere").status_code == 404


def test_bad_input_is_refused_naming_the_field(cast: Cast) -> None:
    with pytest.raises(Invalid) as refused:
        agreements.set_service_calendar(
            cast.payroll_lead, cast.timesheet, {"tz": "Europe/London", "weekly": {"0": [["22:00", "18:00"]]}}
        )
    assert "weekly" in refused.value.errors and "ends before it starts" in refused.value.message
    response = ApiClient(cast.payroll_lead).post(
        "/api/calendars/services/timesheet-correction", {"weekly": {"0": [["09:00", "17:00"]]}, "country": "XX"}
    )
    assert response.status_code == 422 and "country" in response.json()["errors"]
    page = client_for(cast.payroll_lead).post(
        "/manage/calendars/service/timesheet-correction/",
        {"day_0": "22:00-18:00", "country": "", "subdivision": "", "closures": "", "openings": ""},
    )
    text = page.content.decode()
    assert page.status_code == 422 and "ends before it starts" in text and "22:00-18:00" in text
    assert not Calendar.objects.exists()


def test_the_page_shows_saves_and_removes_a_service_calendar(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    assert "Timesheet correction" in client.get("/manage/calendars/").content.decode()
    page = client.get("/manage/calendars/service/timesheet-correction/").content.decode()
    assert "runs on the calendar of" in page
    data = {f"day_{i}": "18:00-22:00" for i in range(7)}
    data |= {"country": "", "subdivision": "", "closures": "", "openings": ""}
    assert client.post("/manage/calendars/service/timesheet-correction/", data).status_code == 302
    assert Calendar.objects.get(service=cast.timesheet).spec["weekly"]["6"] == [["18:00", "22:00"]]
    assert "has its own calendar" in client.get("/manage/calendars/service/timesheet-correction/").content.decode()
    response = client.post("/manage/calendars/service/timesheet-correction/", {"remove": "1"})
    assert response.status_code == 302 and not Calendar.objects.filter(service=cast.timesheet).exists()


def test_a_request_keeps_the_clock_of_the_unit_that_provides_it_after_its_service_moves(cast: Cast) -> None:
    # A service with open requests cannot move (catalogue), but its resolved ones can be
    # reopened afterwards: they come back to the queue they were in, on that unit's clock.
    from tandem.catalogue.actions import update_service
    from tandem.work.clock import calendar as clock_calendar

    weekdays = {str(d): [["08:00", "16:00"]] for d in range(5)}
    agreements.set_calendar(cast.payroll_lead, cast.payroll, {"tz": "Europe/London", "weekly": weekdays, "country": None})
    agreements.set_calendar(cast.admin, cast.hr, {"tz": "America/New_York", "weekly": weekdays, "country": None})
    sr = submit(cast, at(23, 15))
    with time_machine.travel(at(23, 15, 30), tick=False):
        actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
        actions.start_request(cast.payroll_agent, sr.pk)
        actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.")
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    fields = ("name", "slug", "summary", "scope_includes", "scope_excludes", "turnaround_days",
              "confidential", "external_allowed", "active", "last_reviewed_on")
    update_service(cast.admin, cast.timesheet.pk, **{f: getattr(cast.timesheet, f) for f in fields},
                   unit=cast.hr, owner=hr_lead)
    with time_machine.travel(at(24, 9), tick=False):
        actions.reopen_request(cast.consultant, sr.pk, "Still wrong on the payslip.")
    reopened = ServiceRequest.objects.select_related("service", "unit").get(pk=sr.pk)
    assert reopened.unit == cast.payroll and reopened.service.unit_id == cast.hr.pk
    assert clock_calendar(reopened).spec.tz == "Europe/London"
    assert calendar_for_service(reopened.service).spec.tz == "America/New_York"  # new requests: the new unit's
