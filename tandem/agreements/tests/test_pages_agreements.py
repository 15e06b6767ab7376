"""Calendar, agreement and customer-agreement pages through the HTTP client: who may see and
change what, bad input refused naming the field with what was typed kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from tandem.agreements import actions as agreements
from tandem.agreements.models import Agreement, Calendar, CustomerAgreement
from tandem.org.models import Person, Role
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def week(**overrides: str) -> dict[str, str]:
    data = {f"day_{i}": "09:00-12:30, 13:30-17:30" for i in range(5)}
    data |= {"day_5": "", "day_6": "", "country": "GB", "subdivision": "SCT", "closures": "", "openings": ""}
    return data | overrides


# --- calendars -----------------------------------------------------------------------------------


# Before Saint Andrew's Day (30 November), so that it is among the next holidays shown.
@time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False)
def test_the_lead_sees_the_calendar_with_its_next_holidays_and_changes_it(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    page = client.get("/manage/calendars/payroll/")
    assert page.status_code == 200
    assert "Monday: 09:00–12:30, 13:30–17:30" in page.content.decode()
    assert page.content.decode().count("<time datetime=") == 10  # the next 10 public holidays
    assert "Payroll" in client.get("/manage/calendars/").content.decode()
    data = week(day_4="09:00-13:00", closures="2026-12-24 09:00-12:30\n2026-12-31", openings="2026-12-27 10:00-14:00")
    response = client.post("/manage/calendars/payroll/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    spec = Calendar.objects.get(unit=cast.payroll).spec
    assert spec["weekly"]["4"] == [["09:00", "13:00"]] and spec["subdivision"] == "SCT"
    assert spec["closures"] == {"2026-12-24": [["09:00", "12:30"]], "2026-12-31": []}
    assert spec["openings"] == {"2026-12-27": [["10:00", "14:00"]]}
    again = client.get("/manage/calendars/payroll/").content.decode()
    assert "2026-12-24 09:00-12:30" in again and "Saint Andrew" in again  # Scottish holidays now


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"day_0": "12:00-09:00"}, "day_0", "Monday: 12:00–09:00 ends before it starts"),
        ({"day_1": "09:00-12:00, 11:00-13:00"}, "day_1", "overlaps"),
        ({"day_2": "nine to five"}, "day_2", "is not an interval"),
        ({"country": "XX"}, "country", "unknown country code"),
        ({"subdivision": "ZZZ"}, "subdivision", "is not a subdivision of GB"),
        ({f"day_{i}": "" for i in range(5)}, "__all__", "no working time"),
        ({"closures": "24/12/2026"}, "closures", "start the line with a date"),
        ({"openings": "2026-12-27"}, "openings", "an opening needs its hours"),
    ],
)
def test_it_refuses_a_bad_calendar_naming_the_field_and_keeping_the_input(
    cast: Cast, overrides: dict[str, str], field: str, words: str
) -> None:
    response = client_for(cast.payroll_lead).post("/manage/calendars/payroll/", week(**overrides))
    assert response.status_code == 422
    form = response.context["form"]
    assert words in " ".join(form.errors[field]), form.errors
    for name, value in overrides.items():
        assert form[name].value() == value  # what was typed stays
    assert not Calendar.objects.exists()


def test_only_the_units_lead_and_admins_see_and_change_a_calendar(cast: Cast) -> None:
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    assert client_for(hr_lead).get("/manage/calendars/payroll/").status_code == 403
    assert client_for(hr_lead).post("/manage/calendars/payroll/", week()).status_code == 403
    assert client_for(cast.consultant).get("/manage/calendars/payroll/").status_code == 403
    assert client_for(cast.admin).post("/manage/calendars/payroll/", week()).status_code == 302
    assert client_for(cast.admin).get("/manage/calendars/").content.decode().count("/manage/calendars/") >= 4


# --- agreements --------------------------------------------------------------------------------


def agreement_data(cast: Cast, **overrides: str) -> dict[str, str]:
    data = {
        "service": str(cast.timesheet.pk),
        "name": "Leeds",
        "requesting_unit": str(cast.leeds.pk),
        "channel": "external",
        "first_response_minutes": "4h",
        "resolution_minutes": "1d 4h",
        "target_percent": "95",
        "pause_third_party": "on",
        "active": "on",
    }
    return data | overrides


def test_a_lead_creates_and_edits_an_agreement_in_working_hours_and_days(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    assert client.get("/manage/agreements/new/").status_code == 200
    response = client.post("/manage/agreements/new/", agreement_data(cast))
    assert response.status_code == 302, response.content.decode()[:3000]
    a = Agreement.objects.get()
    assert (a.first_response_minutes, a.resolution_minutes, float(a.target_percent)) == (240, 450 + 240, 95.0)
    assert a.pause_statuses == ["waiting_requester", "waiting_third_party"] and a.channel == "external"
    listing = client.get("/manage/agreements/").content.decode()
    assert "Leeds" in listing and "11 h 30 m of working time" in listing
    form = client.get(f"/manage/agreements/{a.pk}/").context["form"]
    assert form["resolution_minutes"].value() == "1d 4h"
    edited = client.post(f"/manage/agreements/{a.pk}/", agreement_data(cast, resolution_minutes="3d", active=""))
    assert edited.status_code == 302
    a.refresh_from_db()
    assert (a.resolution_minutes, a.active, a.pause_statuses) == (
        3 * 450,
        False,
        ["waiting_requester", "waiting_third_party"],
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("resolution_minutes", "0", "is zero"),
        ("resolution_minutes", "-2h", "is negative"),
        ("first_response_minutes", "soon", "is not a duration"),
        ("target_percent", "150", "at most 100"),
    ],
)
def test_it_refuses_bad_targets_naming_the_field(cast: Cast, field: str, value: str, words: str) -> None:
    response = client_for(cast.payroll_lead).post("/manage/agreements/new/", agreement_data(cast, **{field: value}))
    assert response.status_code == 422
    form = response.context["form"]
    assert words in " ".join(form.errors[field]) and form[field].value() == value
    assert not Agreement.objects.exists()


def test_agreement_pages_access(cast: Cast) -> None:
    a = agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="General", first_response_minutes=60, resolution_minutes=900
    )
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    assert client_for(hr_lead).get(f"/manage/agreements/{a.pk}/").status_code == 403
    assert "General" not in client_for(hr_lead).get("/manage/agreements/").content.decode()
    assert client_for(hr_lead).post("/manage/agreements/new/", agreement_data(cast)).status_code == 422  # not theirs
    assert client_for(cast.payroll_agent).get("/manage/agreements/").status_code == 403
    executive = client_for(cast.executive).get("/manage/agreements/")
    assert executive.status_code == 200 and "General" in executive.content.decode()
    assert f"/manage/agreements/{a.pk}/" not in executive.content.decode()  # read-only
    assert client_for(cast.executive).get(f"/manage/agreements/{a.pk}/").status_code == 403
    assert client_for(cast.admin).get(f"/manage/agreements/{a.pk}/").status_code == 200


# --- customer agreements -----------------------------------------------------------------------


def customer_data(cast: Cast, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "unit": str(cast.leeds.pk),
        "name": "Payslip fix",
        "resolution_minutes": "3d",
        "margin_minutes": "2h",
        "services": [str(cast.timesheet.pk)],
        "active": "on",
    }
    return data | overrides


def test_a_front_office_lead_defines_a_customer_agreement_and_sees_its_coverage(cast: Cast) -> None:
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    client = client_for(leeds_lead)
    assert client.get("/manage/customer-agreements/new/").status_code == 200
    response = client.post("/manage/customer-agreements/new/", customer_data(cast, resolution_minutes="2d"))
    assert response.status_code == 302, response.content.decode()[:3000]
    ca = CustomerAgreement.objects.get()
    assert (ca.resolution_minutes, ca.margin_minutes) == (900, 120)
    listing = client.get("/manage/customer-agreements/").content.decode()
    # Timesheet correction has no agreement: its leg is the 2-day published turnaround.
    assert "Warning" in listing and "Timesheet correction 2 d + margin 2 h = 2 d 2 h: 2 h short." in listing
    client.post(f"/manage/customer-agreements/{ca.pk}/", customer_data(cast, resolution_minutes="3d"))
    page = client.get(f"/manage/customer-agreements/{ca.pk}/").content.decode()
    assert "Covered: Timesheet correction 2 d + margin 2 h = 2 d 2 h" in page


def test_customer_agreement_access_and_bad_input(cast: Cast) -> None:
    ca = agreements.define_customer_agreement(
        cast.admin, cast.leeds, name="Leeds", resolution_minutes=900, margin_minutes=0, services=[cast.timesheet]
    )
    york_lead = make_person("york_lead", cast.york, Role.LEAD)
    assert client_for(york_lead).get(f"/manage/customer-agreements/{ca.pk}/").status_code == 403
    assert client_for(cast.consultant).get("/manage/customer-agreements/").status_code == 403
    assert (
        client_for(cast.payroll_lead).post("/manage/customer-agreements/new/", customer_data(cast)).status_code == 422
    )
    admin = client_for(cast.admin)
    assert admin.get(f"/manage/customer-agreements/{ca.pk}/").status_code == 200
    bad = admin.post("/manage/customer-agreements/new/", customer_data(cast, margin_minutes="lots", services=[]))
    assert bad.status_code == 422
    assert "is not a duration" in " ".join(bad.context["form"].errors["margin_minutes"])
    assert "services" in bad.context["form"].errors
    assert CustomerAgreement.objects.count() == 1
