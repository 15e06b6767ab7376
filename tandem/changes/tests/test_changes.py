"""The change calendar through its pages, its API and its actions, on a real database."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tandem.changes import actions
from tandem.changes.models import AudienceLimit, Blackout, Change, Status
from tandem.org.models import Absence
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2027, 3, 3)  # a Wednesday
NOW = datetime(2027, 3, 3, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


def client_for(person) -> Client:
    client = Client()
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


def draft(cast: Cast, title: str, effective_on: date, minutes: int, audiences: list[str], owner=None) -> Change:
    return actions.draft_change(owner or cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}: what changes.", why="Because the law changed.", kind="policy",
        effective_on=effective_on, minutes=minutes, audiences=[actions.AudienceIn(a) for a in audiences],
    ))


FORM = {
    "title": "New expense limits", "summary": "Claims over 50 need a receipt.", "why": "Audit finding.",
    "kind": "policy", "effective_on": "2027-03-15", "minutes": "20", "audiences": ["leeds"],
    "must_do": "Read the new limits", "by_when": "2027-03-19",
}


def test_the_calendar_shows_what_a_plain_recomputation_of_its_changes_gives(cast: Cast) -> None:
    scripted = [
        ("Timesheet deadline", date(2027, 3, 8), 30, ["leeds", "york"]),
        ("New payslip layout", date(2027, 3, 10), 20, ["leeds"]),
        ("Overtime approval", date(2027, 3, 12), 25, ["leeds"]),  # Leeds: 75 of 60 that week
        ("Holiday carry-over", date(2027, 3, 17), 15, ["york"]),
        ("Expenses app", date(2027, 3, 29), 40, ["leeds", "york"]),
    ]
    for title, day, minutes, audiences in scripted:
        draft(cast, title, day, minutes, audiences)
    cancelled = draft(cast, "Withdrawn", date(2027, 3, 9), 50, ["york"])
    actions.cancel_change(cast.payroll_lead, cancelled.pk)
    AudienceLimit.objects.create(unit=cast.york, minutes_per_week=40)
    Absence.objects.create(person=cast.consultant, starts_on=date(2027, 3, 9), ends_on=date(2027, 3, 15))

    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for _, day, minutes, audiences in scripted:
        monday = day - timedelta(days=day.weekday())
        for a in audiences:
            expected[(a, monday.isoformat())][0] += 1
            expected[(a, monday.isoformat())][1] += minutes
    limits = {"leeds": 60, "york": 40}
    over = {k for k, (_, m) in expected.items() if m > limits[k[0]]}

    page = client_for(cast.executive).get("/changes/?start=2027-03-01&weeks=6").content.decode()
    shown = {}
    for row in re.findall(r'<tr data-audience="([^"]+)">(.*?)</tr>', page, re.S):
        for week, count, minutes in re.findall(r'data-week="([^"]+)" data-count="(\d+)" data-minutes="(\d+)"', row[1]):
            if int(count):
                shown[(row[0], week)] = [int(count), int(minutes)]
    assert shown == dict(expected)
    assert found(r'data-testid="over-count">(\d+)<', page) == str(len(over))
    assert 'data-testid="over-after">0<' in page
    assert "4 d leave" in page and "1 d leave" in page  # Leeds: Tue 9 to Fri 12 March, then Mon 15
    body = ApiClient(cast.executive).get("/api/change-calendar", {"start": "2027-03-01", "weeks": 6}).json()
    api = {(c["audience"], c["week"]): [c["count"], c["minutes"]] for c in body["cells"] if c["count"]}
    assert api == dict(expected)
    assert {(c["audience"], c["week"]) for c in body["cells"] if c["over"]} == over
    assert body["over"] == len(over) and body["over_after_proposals"] == 0
    leave = {(c["audience"], c["week"]): c["leave_days"] for c in body["cells"] if c["leave_days"]}
    assert leave == {("leeds", "2027-03-08"): 4, ("leeds", "2027-03-15"): 1}


def test_accepting_the_proposed_slot_moves_the_change_and_clears_the_collision(cast: Cast) -> None:
    draft(cast, "First", date(2027, 3, 8), 40, ["leeds"])
    second = draft(cast, "Second", date(2027, 3, 9), 40, ["leeds"])
    Blackout.objects.create(starts_on=date(2027, 3, 15), ends_on=date(2027, 3, 19), reason="Payroll week",
                            kind=Blackout.Kind.PAYROLL)
    owner = client_for(cast.payroll_lead)
    page = owner.get(f"/changes/{second.pk}/").content.decode()
    assert "It collides" in page and "Leeds branch: 80 of 60 min" in page
    proposed = found(r'name="effective_on" value="([\d-]+)"><button class="button" type="submit" '
                     r'data-testid="accept"', page)
    assert proposed == "2027-03-22"  # the week after is a payroll week: a blackout for everyone
    assert owner.post(f"/changes/{second.pk}/move/", {"effective_on": proposed}).status_code == 302
    second.refresh_from_db()
    assert second.effective_on == date(2027, 3, 22) and second.requested_on == date(2027, 3, 9)
    assert 'data-testid="over-count">0<' in owner.get("/changes/").content.decode()


def test_it_refuses_every_bad_input_naming_the_field_and_keeps_what_was_typed(cast: Cast) -> None:
    owner = client_for(cast.payroll_lead)
    bad: dict[str, tuple[dict[str, Any], str]] = {
        "effective_on": ({"effective_on": "2027-03-01"}, "cannot take effect in the past"),
        "summary": ({"summary": "x" * 312}, "The summary is 312 characters"),
        "audiences": ({"audiences": ["atlantis"]}, "No front-office unit is called"),
        "minutes": ({"minutes": "-5"}, "positive whole number"),
    }
    for field, (change, message) in bad.items():
        typed: dict[str, Any] = {**FORM, "unit": str(cast.payroll.pk), **change}
        response = owner.post("/changes/new/", typed)
        page = response.content.decode()
        assert response.status_code == 422, field
        assert message in page and f"<strong>{field}</strong>" in page
        assert 'value="New expense limits"' in page and 'value="Read the new limits"' in page
        assert typed["summary"] in page and 'value="2027-03-19"' in page
    for minutes in ("abc", "0", "1.5", ""):
        assert owner.post("/changes/new/", {**FORM, "unit": str(cast.payroll.pk), "minutes": minutes}).status_code == 422
    assert Change.objects.count() == 0

    api = ApiClient(cast.payroll_lead)
    body = {**FORM, "unit": "payroll", "minutes": 20, "audiences": [{"unit": "leeds"}]}
    del body["must_do"], body["by_when"]
    for change, field in (({"summary": "y" * 281}, "summary"), ({"minutes": 0}, "minutes"),
                          ({"audiences": [{"unit": "nowhere"}]}, "audiences"), ({"effective_on": "2026-01-01"},
                                                                                 "effective_on")):
        response = api.post("/api/changes", {**body, **change})
        assert response.status_code == 422 and field in response.json()["errors"], response.json()
    assert Change.objects.count() == 0
    created = api.post("/api/changes", body)
    assert created.status_code == 201
    pk = created.json()["id"]
    late = api.post(f"/api/changes/{pk}/consultation", {"ends_on": "2027-03-20"})
    assert late.status_code == 422 and "consultation_ends_on" in late.json()["errors"]
    assert "after the effective date" in late.json()["errors"]["consultation_ends_on"][0]
    assert Change.objects.get(pk=pk).status == Status.DRAFT
    assert api.post(f"/api/changes/{pk}/consultation", {"ends_on": "2027-03-10"}).json()["status"] == "consultation"
    assert api.post(f"/api/changes/{pk}/publish").json()["status"] == "published"
    assert api.post(f"/api/changes/{pk}/move", {"effective_on": "2027-03-09"}).status_code == 422  # before consultation end
    assert api.post(f"/api/changes/{pk}/move", {"effective_on": "2027-03-22"}).json()["effective_on"] == "2027-03-22"
    assert api.post(f"/api/changes/{pk}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/changes/{pk}/cancel").status_code == 409


def test_only_owners_of_the_units_services_and_admins_draft_and_executives_see_everything(cast: Cast) -> None:
    body = {**FORM, "unit": "payroll", "minutes": 20, "audiences": [{"unit": "leeds"}]}
    del body["must_do"], body["by_when"]
    for person in (cast.consultant, cast.payroll_agent, cast.executive, cast.hr_agent):
        assert ApiClient(person).post("/api/changes", body).status_code == 403, person
        assert client_for(person).post("/changes/new/", {**FORM, "unit": str(cast.payroll.pk)}).status_code == 403
    assert ApiClient(cast.hr_agent).post("/api/changes", {**body, "unit": "hr"}).status_code == 201
    assert ApiClient(cast.admin).post("/api/changes", body).status_code == 201
    payroll_draft = ApiClient(cast.payroll_lead).post("/api/changes", body).json()["id"]
    hr_draft = Change.objects.get(unit=cast.hr).pk
    assert ApiClient(cast.hr_agent).post(f"/api/changes/{payroll_draft}/publish").status_code == 404  # a draft: unseen
    assert ApiClient(cast.payroll_agent).post(f"/api/changes/{payroll_draft}/publish").status_code == 403
    seen = {p: {c["id"] for c in ApiClient(p).get("/api/changes").json()}
            for p in (cast.executive, cast.consultant, cast.payroll_agent, cast.hr_agent)}
    assert {payroll_draft, hr_draft} <= seen[cast.executive]
    assert payroll_draft not in seen[cast.consultant] and hr_draft not in seen[cast.consultant]
    assert payroll_draft in seen[cast.payroll_agent] and hr_draft not in seen[cast.payroll_agent]
    actions.publish_change(cast.payroll_lead, payroll_draft)
    assert payroll_draft in {c["id"] for c in ApiClient(cast.consultant).get("/api/changes").json()}
    # The executives' rules.
    exec_page = client_for(cast.executive)
    assert exec_page.post("/changes/rules/", {"form": "limit", "unit": "york", "minutes_per_week": "45"}).status_code == 302
    assert AudienceLimit.objects.get(unit=cast.york).minutes_per_week == 45
    assert client_for(cast.payroll_lead).post(
        "/changes/rules/", {"form": "limit", "unit": "york", "minutes_per_week": "500"}).status_code == 403
    assert exec_page.post("/changes/rules/", {"form": "period", "name": "Spring change week",
                                              "starts_on": "2027-04-12", "ends_on": "2027-04-09"}).status_code == 422
    assert client_for(cast.consultant).get("/changes/").status_code == 200
    assert Client().get("/changes/").status_code == 302
    assert ApiClient().get("/api/change-calendar").status_code == 401


def test_the_page_shows_thirty_audiences_at_a_time_and_the_check_covers_them_all(cast: Cast) -> None:
    from tandem.org.models import Side, Unit

    Unit.objects.bulk_create([Unit(name=f"Zeta branch {i:02d}", slug=f"zeta-{i:02d}", side=Side.FRONT)
                              for i in range(30)])
    draft(cast, "Far down the list", date(2027, 3, 8), 70, ["zeta-29"])
    executive = client_for(cast.executive)
    first = executive.get("/changes/?start=2027-03-01").content.decode()
    assert 'data-audience="zeta-29"' not in first and 'data-testid="over-count">1<' in first
    second = executive.get("/changes/?start=2027-03-01&page=2").content.decode()
    assert 'data-audience="zeta-29"' in second and 'data-minutes="70"' in second
    assert executive.get("/changes/?page=x").status_code == 200
