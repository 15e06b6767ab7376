"""Audiences by role: a change for the leads of some units (or every front-office lead) counts on
the calendar as the load of each unit's most-loaded person, and its notice, acknowledgement,
reminder and announcements reach only the people of that role. Every figure is recounted here
from the people themselves, in plain Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.changes import actions, notices
from tandem.changes.models import AudienceLimit, Change, ChangeAudience, ChangeReceipt, Status
from tandem.changes.queries import calendar
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role, Side, Unit
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2027, 3, 3, 9, tzinfo=UTC)  # a Wednesday
BODY = {"unit": "payroll", "title": "Rota sign-off", "summary": "Leads sign the rota off by Friday.",
        "why": "The audit found unsigned rotas.", "kind": "process", "effective_on": "2027-03-15", "minutes": 20}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def leads(cast: Cast) -> dict[str, Person]:
    return {"leeds": make_person("leeds_lead", cast.leeds, Role.LEAD),
            "york": make_person("york_lead", cast.york, Role.LEAD)}


def client_for(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


def draft(cast: Cast, title: str, day: date, minutes: int, audiences: list[tuple[str, str]]) -> Change:
    return actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}: what changes.", why="Because.", kind="policy", effective_on=day,
        minutes=minutes, audiences=[actions.AudienceIn(unit, role=role) for unit, role in audiences]))


def test_a_change_for_the_leads_of_some_units_or_every_lead_and_an_unknown_role_refused(cast: Cast) -> None:
    api = ApiClient(cast.payroll_lead)
    created = api.post("/api/changes", {**BODY, "audiences": [{"unit": "leeds", "role": "lead"}, {"unit": "york"}]})
    assert created.status_code == 201, created.json()
    assert [(a["unit"], a["role"]) for a in created.json()["audiences"]] == [("leeds", "lead"), ("york", "")]

    # One click: every front-office lead.
    every = api.post("/api/changes", {**BODY, "everyone": True, "role": "lead"})
    assert every.status_code == 201, every.json()
    front = sorted(Unit.objects.filter(side=Side.FRONT).values_list("slug", flat=True))
    assert sorted((a["unit"], a["role"]) for a in every.json()["audiences"]) == [(s, "lead") for s in front]

    before = (Change.objects.count(), ChangeAudience.objects.count())
    for body, said in (({**BODY, "audiences": [{"unit": "leeds"}], "role": "boss"}, "'boss'"),
                       ({**BODY, "audiences": [{"unit": "leeds", "role": "Lead"}]}, "'Lead' (audience 'leeds')"),
                       ({**BODY, "everyone": True, "role": "consultant"}, "'consultant'")):
        response = api.post("/api/changes", body)
        assert response.status_code == 422, response.json()
        assert said in response.json()["errors"]["role"][0] and "lead" in response.json()["errors"]["role"][0]
    # Editing is checked the same way.
    pk = created.json()["id"]
    response = api.put(f"/api/changes/{pk}", {**BODY, "audiences": [{"unit": "york", "role": "chief"}]})
    assert response.status_code == 422 and "role" in response.json()["errors"]
    assert (Change.objects.count(), ChangeAudience.objects.count()) == before
    assert list(Change.objects.get(pk=pk).audiences.values_list("unit__slug", "role")) == [("leeds", "lead"),
                                                                                            ("york", "")]

    # The page: "every front-office lead" in one click; an unknown role refused keeping what was typed.
    owner = client_for(cast.payroll_lead)
    form = {**BODY, "unit": str(cast.payroll.pk), "minutes": "20", "must_do": "Sign the rota", "by_when": ""}
    refused = owner.post("/changes/new/", {**form, "audiences": ["leeds"], "role": "boss"})
    page = refused.content.decode()
    assert refused.status_code == 422 and "<strong>role</strong>" in page and "No role is called" in page
    assert 'value="Rota sign-off"' in page and 'value="Sign the rota"' in page
    assert Change.objects.count() == before[0]
    done = owner.post("/changes/new/", {**form, "every_lead": "on"})
    assert done.status_code == 302
    change = Change.objects.latest("pk")
    assert change.everyone and sorted(change.audiences.values_list("unit__slug", "role")) == [(s, "lead") for s in front]
    page = owner.get(f"/changes/{change.pk}/").content.decode()
    assert "Leeds branch: leads" in page and 'name="every_lead" data-testid="every-lead" checked' in page
    members = owner.post("/changes/new/", {**form, "audiences": ["york"], "role": "member"})
    assert members.status_code == 302
    assert list(Change.objects.latest("pk").audiences.values_list("unit__slug", "role")) == [("york", "member")]


def plain_cells(changes: list[Change], units: list[Unit]) -> dict[tuple[str, date], tuple[int, int]]:
    """Per unit and week: the most-loaded active person's (minutes, changes), from the people."""
    out: dict[tuple[str, date], tuple[int, int]] = {}
    for unit in units:
        people = list(Person.objects.filter(unit=unit, user__is_active=True))
        weeks: dict[date, list[ChangeAudience]] = defaultdict(list)
        for change in changes:
            for a in change.audiences.filter(unit=unit):
                weeks[a.lands_on - timedelta(days=a.lands_on.weekday())].append(a)
        for week, landing in weeks.items():
            loads = [(sum(a.change.minutes for a in landing if a.role in ("", p.role)),
                      sum(1 for a in landing if a.role in ("", p.role))) for p in people]
            out[(unit.slug, week)] = max(loads, default=(0, 0))
    return out


def test_the_calendar_counts_the_most_loaded_person_and_the_proposals_leave_no_one_over(
        cast: Cast, leads: dict[str, Person]) -> None:
    # Leeds holds members, an executive and a lead; York a member and a lead.
    scripted = [
        ("For everyone", date(2027, 3, 8), 30, [("leeds", ""), ("york", "")]),
        ("For the leads", date(2027, 3, 9), 25, [("leeds", "lead"), ("york", "lead")]),  # leads: 55
        ("For the members", date(2027, 3, 10), 20, [("leeds", "member")]),  # Leeds members: 50
        ("More for the leads", date(2027, 3, 11), 15, [("york", "lead")]),  # York's lead: 70 of 60
        ("Executives only", date(2027, 3, 17), 40, [("leeds", "executive")]),
        ("For a role nobody holds", date(2027, 3, 17), 45, [("york", "admin")]),
    ]
    changes = [draft(cast, title, day, minutes, audiences) for title, day, minutes, audiences in scripted]
    AudienceLimit.objects.create(unit=cast.leeds, minutes_per_week=50)
    units = [cast.leeds, cast.york]
    expected = plain_cells(changes, units)

    cal = calendar(cast.admin.user, start=date(2027, 3, 8), weeks=3)
    shown = {(row.unit.slug, c["week"]): (c["minutes"], c["count"]) for row in cal.rows for c in row.cells if c["count"]}
    assert shown == {k: v for k, v in expected.items() if v[1]}
    assert expected[("leeds", date(2027, 3, 8))] == (55, 2) and expected[("york", date(2027, 3, 8))] == (70, 3)
    assert expected[("york", date(2027, 3, 15))] == (0, 0)  # nobody in York is an administrator
    limits = {"leeds": 50, "york": 60}
    over = {k for k, (m, _) in expected.items() if m > limits[k[0]]}
    assert cal.over == len(over) == 2

    # Which changes collide: those landing on the people over the limit (not the members' one).
    colliding = {p.change.title for p in cal.proposals}
    assert colliding == {"For everyone", "For the leads", "More for the leads"}

    # The API says the same, and names the role of the most-loaded person.
    body = ApiClient(cast.admin).get("/api/change-calendar?start=2027-03-08&weeks=3").json()
    heaviest = {("leeds", date(2027, 3, 8)): "lead", ("york", date(2027, 3, 8)): "lead",
                ("leeds", date(2027, 3, 15)): "executive"}
    assert {(c["audience"], c["week"]): (c["minutes"], c["count"], c["role"]) for c in body["cells"] if c["count"]} \
        == {(slug, week.isoformat()): (*expected[(slug, week)], role) for (slug, week), role in heaviest.items()}
    page = client_for(cast.executive).get("/changes/?start=2027-03-08&weeks=3").content.decode()
    assert "(its leads)" in page and 'For the leads</a> <span class="small muted">(leads)</span>' in page

    # Following every proposal leaves nobody over the limit, recounted from the people.
    assert body["over_after_proposals"] == 0
    for p in body["proposals"]:
        if p["proposed_on"]:
            actions.move_change(cast.payroll_lead, p["change"], date.fromisoformat(p["proposed_on"]))
    after = plain_cells(list(Change.objects.exclude(status=Status.CANCELLED)), units)
    assert not {k for k, (m, _) in after.items() if m > limits[k[0]]}


def test_notices_acknowledgements_reminders_and_moves_reach_only_the_role(
        cast: Cast, leads: dict[str, Person]) -> None:
    change = draft(cast, "Rota sign-off", date(2027, 3, 3), 20, [("leeds", "lead"), ("york", "")])
    actions.publish_change(cast.payroll_lead, change.pk)
    notices.send_change_notices(date(2027, 3, 3))
    york = set(Person.objects.filter(unit=cast.york).values_list("pk", flat=True))
    told = set(ChangeReceipt.objects.filter(change=change).values_list("person_id", flat=True))
    assert told == {leads["leeds"].pk} | york  # not Leeds's members nor its executive
    note = Notification.objects.get(kind=Notification.Kind.CHANGE_NOTICE, recipient=leads["leeds"])
    assert "Taking effect today" in note.message

    # Only the people of the audience acknowledge; the owner sees people in the audience per unit.
    assert ApiClient(cast.consultant).post(f"/api/changes/{change.pk}/acknowledge").status_code == 403
    assert ApiClient(leads["leeds"]).post(f"/api/changes/{change.pk}/acknowledge").status_code == 200
    acks = ApiClient(cast.payroll_lead).get(f"/api/changes/{change.pk}/acknowledgements").json()
    assert [(a["audience"], a["role"], a["acknowledged"], a["people"], a["noticed"]) for a in acks] == [
        ("leeds", "lead", 1, 1, 1), ("york", "", 0, len(york), len(york))]
    page = client_for(cast.payroll_lead).get(f"/changes/{change.pk}/").content.decode()
    assert "Leeds branch: leads" in page
    # Changes for you: the lead's own list, not a member's.
    assert 'data-testid="for-you"' not in client_for(cast.consultant).get("/changes/").content.decode()
    assert 'data-testid="for-you"' in client_for(cast.other_consultant).get("/changes/").content.decode()

    # The reminder goes to those of the audience who have not acknowledged: York, not Leeds's members.
    reminded = ApiClient(cast.payroll_lead).post(f"/api/changes/{change.pk}/remind").json()["reminded"]
    assert reminded == len(york)
    assert set(Notification.objects.filter(kind=Notification.Kind.CHANGE_REMINDER).values_list(
        "recipient_id", flat=True)) == york

    # Moving it tells its audience once: the lead and York, nobody else.
    later = draft(cast, "Later rota", date(2027, 3, 10), 10, [("leeds", "lead")])
    actions.publish_change(cast.payroll_lead, later.pk)
    actions.move_change(cast.payroll_lead, later.pk, date(2027, 3, 17))
    moved = list(Notification.objects.filter(kind=Notification.Kind.CHANGE_MOVED).values_list("recipient_id", flat=True))
    assert moved == [leads["leeds"].pk]


def test_the_leads_of_the_audience_units_are_consulted_whatever_the_role(
        cast: Cast, leads: dict[str, Person]) -> None:
    change = draft(cast, "Members' rota", date(2027, 3, 15), 10, [("leeds", "member")])
    actions.open_consultation(cast.payroll_lead, change.pk, date(2027, 3, 10))
    url = f"/api/changes/{change.pk}/comments"
    assert ApiClient(leads["leeds"]).post(url, {"text": "Can we pilot it first?"}).status_code == 201
    assert ApiClient(leads["york"]).post(url, {"text": "Not my unit"}).status_code == 403
    assert ApiClient(cast.consultant).post(url, {"text": "Not a lead"}).status_code == 403


def test_a_later_stage_is_noticed_with_its_own_day(cast: Cast) -> None:
    change = draft(cast, "New rota", date(2027, 3, 8), 10, [("leeds", ""), ("york", "")])
    change.audiences.filter(unit=cast.leeds).update(effective_on=date(2027, 3, 8))
    change.audiences.filter(unit=cast.york).update(effective_on=date(2027, 3, 15))
    actions.publish_change(cast.payroll_lead, change.pk)
    with time_machine.travel(datetime(2027, 3, 8, 9, tzinfo=UTC), tick=False):
        notices.send_change_notices(date(2027, 3, 8))
    # The worker was down on York's day and catches up the next day: the notice names 15 Mar.
    with time_machine.travel(datetime(2027, 3, 16, 9, tzinfo=UTC), tick=False):
        notices.send_change_notices(date(2027, 3, 16))
    messages = {n.recipient.unit_id: n.message
                for n in Notification.objects.filter(kind=Notification.Kind.CHANGE_NOTICE).select_related("recipient")}
    assert messages[cast.leeds.pk].startswith("Taking effect today")
    assert messages[cast.york.pk].startswith("Taking effect 15 Mar") and "8 Mar" not in messages[cast.york.pk]
    # A reminder names each audience's own day too.
    with time_machine.travel(datetime(2027, 3, 16, 9, tzinfo=UTC), tick=False):
        notices.remind_audience(cast.payroll_lead, change.pk)
    reminders = {n.recipient.unit_id: n.message for n in Notification.objects.filter(
        kind=Notification.Kind.CHANGE_REMINDER).select_related("recipient")}
    assert "in effect since 8 Mar" in reminders[cast.leeds.pk] and "in effect since 15 Mar" in reminders[cast.york.pk]
