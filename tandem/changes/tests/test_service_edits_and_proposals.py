"""The rest of the change calendar: linked services changing on the effective date (scheduled,
applied once by the worker, recorded as a service event), accepting a staging or a batch in one
action (refused when stale), and the owner and the lead told of comments and answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tandem.catalogue.models import IntakeField, ServiceEvent
from tandem.changes import actions, notices, proposals
from tandem.changes.models import Change, ChangeAudience, ChangePeriod, ChangeReceipt, ServiceEdit
from tandem.changes.queries import batch_proposal, calendar, staging_proposal
from tandem.changes.service_edits import apply_due_service_edits
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role
from tandem.refusal import Conflict
from tests.apiclient import ApiClient
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2027, 3, 3, 9, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def draft(cast: Cast, title: str, effective_on: date, audiences: list[str], minutes: int = 10,
          services: list[str] | None = None) -> Change:
    return actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}: what changes.", why="Because the law changed.", kind="process",
        effective_on=effective_on, minutes=minutes, audiences=[actions.AudienceIn(a) for a in audiences],
        services=services,
    ))


def notes(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("id"))


# --- linked services change with the change ------------------------------------------------------


def test_a_linked_services_edit_is_checked_as_the_editor_checks_it_and_applied_once_on_the_day(cast: Cast) -> None:
    change = draft(cast, "Timesheets by Friday noon", date(2027, 3, 10), ["leeds"], services=["timesheet-correction"])
    api = ApiClient(cast.payroll_lead)
    url = f"/api/changes/{change.pk}/services/timesheet-correction"
    before_fields = list(cast.timesheet.fields.values_list("key", flat=True))

    refusals = [
        ({"turnaround_days": 0}, 422, "The turnaround is at least 1 working day."),
        ({"add_fields": [{"label": "Hours", "key": "hours"}]}, 422, "already has a field with the key 'hours'"),
        ({"add_fields": [{"label": "Site", "kind": "choice"}]}, 422, "A choice field needs its choices"),
        ({"remove_fields": ["nope"]}, 422, "has no intake field 'nope'"),
        ({"procedure": ["", "  "]}, 422, "at least one step"),
        ({"procedure": ["x" * 401]}, 422, "Step 1"),
        ({}, 422, "Say what changes"),
        ({"turnaround_days": "two"}, 422, ""),
        ({"turnaround_days": 1, "colour": "red"}, 422, ""),
    ]
    for body, status, says in refusals:
        response = api.put(url, body)
        assert response.status_code == status, (body, response.json())
        assert says in str(response.json()), (body, response.json())
    assert not ServiceEdit.objects.exists()
    # Not a linked service; not an owner.
    assert api.put(f"/api/changes/{change.pk}/services/grievance", {"turnaround_days": 3}).status_code == 422
    assert ApiClient(cast.payroll_agent).put(url, {"turnaround_days": 1}).status_code in (403, 404)

    body = {"turnaround_days": 1, "procedure": ["Check the approval.", "Correct the hours.", "Tell the branch."],
            "add_fields": [{"label": "Client site", "kind": "choice", "choices": ["Leeds", "York"]}],
            "remove_fields": ["notes"]}
    response = api.put(url, body)
    assert response.status_code == 200, response.json()
    shown = response.json()["service_edits"]
    assert [(e["service"], e["state"]) for e in shown] == [("timesheet-correction", "scheduled")]
    assert "turnaround 2 → 1 working days" in shown[0]["describe"]

    # Nothing happens before the day, nor while the change is unpublished.
    assert apply_due_service_edits(date(2027, 3, 10)) == 0
    actions.publish_change(cast.payroll_lead, change.pk)
    assert apply_due_service_edits(date(2027, 3, 9)) == 0
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.turnaround_days == 2

    # Moving the change moves the edit.
    actions.move_change(cast.payroll_lead, change.pk, date(2027, 3, 12))
    assert apply_due_service_edits(date(2027, 3, 10)) == 0
    assert apply_due_service_edits(date(2027, 3, 12)) == 1
    assert apply_due_service_edits(date(2027, 3, 12)) == 0  # once
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.turnaround_days == 1
    keys = list(cast.timesheet.fields.order_by("position").values_list("key", flat=True))
    assert keys == [k for k in before_fields if k != "notes"] + ["client_site"]
    assert list(cast.timesheet.fields.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    assert list(cast.timesheet.steps.order_by("position").values_list("text", flat=True)) == body["procedure"]
    event = ServiceEvent.objects.get(service=cast.timesheet, kind=ServiceEvent.Kind.CHANGED)
    assert event.data["change"] == change.pk and event.data["turnaround_days"] == [2, 1]
    assert event.data["added_fields"] == ["client_site"] and event.data["removed_fields"] == ["notes"]
    assert len(notes(Notification.Kind.SERVICE_CHANGED)) == 1
    # Applied: no second edit of it through the change.
    assert api.put(url, {"turnaround_days": 3}).status_code == 409


def test_an_edit_the_service_no_longer_takes_is_marked_not_applied_and_a_cancelled_change_drops_it(
        cast: Cast) -> None:
    one = draft(cast, "New field", date(2027, 3, 10), ["leeds"], services=["timesheet-correction"])
    two = draft(cast, "Faster", date(2027, 3, 10), ["york"], services=["timesheet-correction"])
    api = ApiClient(cast.payroll_lead)
    assert api.put(f"/api/changes/{one.pk}/services/timesheet-correction",
                   {"add_fields": [{"label": "Site", "key": "site"}]}).status_code == 200
    assert api.put(f"/api/changes/{two.pk}/services/timesheet-correction", {"turnaround_days": 1}).status_code == 200
    for c in (one, two):
        actions.publish_change(cast.payroll_lead, c.pk)
    # Meanwhile someone adds a field with the same key in the editor.
    IntakeField.objects.create(service=cast.timesheet, position=9, key="site", label="Site", kind="text")
    actions.cancel_change(cast.payroll_lead, two.pk)
    assert apply_due_service_edits(date(2027, 3, 10)) == 0
    states = dict(ServiceEdit.objects.values_list("change_id", "state"))
    assert states == {one.pk: "failed", two.pk: "dropped"}
    assert "already has a field with the key 'site'" in ServiceEdit.objects.get(change=one).problem
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.turnaround_days == 2
    assert not ServiceEvent.objects.filter(kind=ServiceEvent.Kind.CHANGED).exists()
    # Unlinking the service in a draft forgets its edit.
    three = draft(cast, "Later", date(2027, 3, 20), ["leeds"], services=["timesheet-correction"])
    assert api.put(f"/api/changes/{three.pk}/services/timesheet-correction",
                   {"turnaround_days": 3}).status_code == 200
    actions.edit_change(cast.payroll_lead, three.pk, actions.Draft(
        title="Later", summary="s", why="w", kind="process", effective_on=date(2027, 3, 20), minutes=10,
        audiences=[actions.AudienceIn("leeds")], services=[]))
    assert not ServiceEdit.objects.filter(change=three).exists()


def test_the_service_page_and_the_change_page_show_the_scheduled_edit(cast: Cast) -> None:
    change = draft(cast, "Timesheets by Friday noon", date(2027, 3, 10), ["leeds"], services=["timesheet-correction"])
    assert ApiClient(cast.payroll_lead).put(f"/api/changes/{change.pk}/services/timesheet-correction",
                                            {"turnaround_days": 1}).status_code == 200
    from tandem.changes.tests.test_consultation_and_notices import client_for
    page = client_for(cast.payroll_lead).get("/catalogue/timesheet-correction/").content.decode()
    assert "Changes on 10 Mar with" in page and "Timesheets by Friday noon" in page and "turnaround 2 → 1" in page
    page = client_for(cast.payroll_lead).get(f"/changes/{change.pk}/").content.decode()
    assert "turnaround 2 → 1 working days" in page


# --- staging and batch in one action --------------------------------------------------------------


def crowded(cast: Cast) -> tuple[Change, Change]:
    """Leeds and York both at 50 of 60 minutes in the week of 8 Mar; a 20-minute change to both
    that week collides and is proposed a staging."""
    draft(cast, "Leeds busy", date(2027, 3, 8), ["leeds"], minutes=50)
    york_busy = draft(cast, "York busy", date(2027, 3, 9), ["york"], minutes=50)
    both = draft(cast, "New rota", date(2027, 3, 10), ["leeds", "york"], minutes=20)
    return both, york_busy


def test_accepting_a_staging_lands_each_audience_on_its_day_and_notices_follow_each_day(cast: Cast) -> None:
    both, _york_busy = crowded(cast)
    stages = staging_proposal(both.pk)
    assert stages is not None and len(stages) == 2
    api = ApiClient(cast.payroll_lead)
    slug = {cast.leeds.pk: "leeds", cast.york.pk: "york"}
    body = {"stages": [{"audience": slug[u], "effective_on": d.isoformat()} for u, d in stages]}
    # Bad input: an unknown audience, a stale staging.
    assert api.post(f"/api/changes/{both.pk}/staging", {"stages": [{"audience": "nowhere",
                                                                    "effective_on": "2027-03-15"}]}).status_code == 422
    stale = {"stages": [{"audience": "leeds", "effective_on": "2027-03-15"},
                        {"audience": "york", "effective_on": "2027-03-16"}]}
    response = api.post(f"/api/changes/{both.pk}/staging", stale)
    assert response.status_code == 409 and "changed since" in response.json()["detail"]
    assert not ChangeAudience.objects.filter(effective_on__isnull=False).exists()

    actions.publish_change(cast.payroll_lead, both.pk)
    response = api.post(f"/api/changes/{both.pk}/staging", body)
    assert response.status_code == 200, response.json()
    days = {a["unit"]: a["effective_on"] for a in response.json()["audiences"]}
    assert days == {slug[u]: d.isoformat() for u, d in stages}
    both.refresh_from_db()
    assert both.effective_on == min(d for _, d in stages)
    moved = notes(Notification.Kind.CHANGE_MOVED)
    people = set(Person.objects.filter(unit__slug__in=["leeds", "york"]).values_list("pk", flat=True))
    assert sorted(n.recipient_id for n in moved) == sorted(people)  # one to each person
    assert all("Staged" in n.message for n in moved)
    days_told = {n.recipient.unit_id: n.message for n in moved}
    for unit_id, day in stages:
        assert f"{day:%a %-d %b %Y}" in days_told[unit_id]
    # The calendar counts each audience in its own week, with no overload left.
    cal = calendar(cast.admin.user, start=date(2027, 3, 8), weeks=4)
    assert cal.over == 0
    # A second acceptance is stale (nothing proposed now).
    assert api.post(f"/api/changes/{both.pk}/staging", body).status_code == 409

    # Notices follow each audience's day.
    first, second = sorted(stages, key=lambda s: s[1])
    notices.send_change_notices(first[1])
    told = set(ChangeReceipt.objects.filter(change=both).values_list("person__unit_id", flat=True))
    assert told == {first[0]}
    notices.send_change_notices(second[1])
    told = set(ChangeReceipt.objects.filter(change=both).values_list("person__unit_id", flat=True))
    assert told == {first[0], second[0]}


def test_accepting_a_batch_moves_every_change_into_the_period_once(cast: Cast) -> None:
    period = ChangePeriod.objects.create(name="April window", starts_on=date(2027, 4, 5), ends_on=date(2027, 4, 9))
    a = draft(cast, "Form A", date(2027, 3, 22), ["leeds"], minutes=15)
    b = draft(cast, "Form B", date(2027, 3, 29), ["leeds", "york"], minutes=15)
    actions.publish_change(cast.payroll_lead, b.pk)
    proposal = batch_proposal(cast.payroll_lead.user, period)
    assert set(proposal.moves) == {a.pk, b.pk}
    body = {"moves": [{"change": i, "effective_on": d.isoformat()} for i, d in proposal.moves.items()]}
    api = ApiClient(cast.payroll_lead)
    # Someone who manages none of them and is no executive; a period that does not exist; stale.
    assert ApiClient(cast.consultant).post(f"/api/change-periods/{period.pk}/batch", body).status_code == 403
    assert api.post("/api/change-periods/9999/batch", body).status_code == 404
    stale = {"moves": body["moves"][:1]}
    response = api.post(f"/api/change-periods/{period.pk}/batch", stale)
    assert response.status_code == 409 and "changed since" in response.json()["detail"]
    assert Change.objects.get(pk=a.pk).effective_on == date(2027, 3, 22)

    response = api.post(f"/api/change-periods/{period.pk}/batch", body)
    assert response.status_code == 200, response.json()
    for change in Change.objects.filter(pk__in=[a.pk, b.pk]):
        assert period.starts_on <= change.effective_on <= period.ends_on
    # The published one told its audience once (two people in Leeds and York each: 4 + exec).
    moved = notes(Notification.Kind.CHANGE_MOVED)
    people = set(n.recipient_id for n in moved)
    assert len(moved) == len(people) > 0
    with pytest.raises(Conflict):
        proposals.accept_batch(cast.payroll_lead, period.pk, {a.pk: date(2027, 4, 5)})


# --- told of comments and answers -----------------------------------------------------------------


def test_the_owner_is_told_of_a_comment_and_the_lead_of_the_answer(cast: Cast) -> None:
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    change = draft(cast, "New expense limits", date(2027, 3, 15), ["leeds"])
    actions.open_consultation(cast.payroll_lead, change.pk, date(2027, 3, 10))
    response = ApiClient(lead).post(f"/api/changes/{change.pk}/comments", {"text": "Could it wait for April?"})
    assert response.status_code == 201
    told = notes(Notification.Kind.CHANGE_COMMENT)
    assert [n.recipient_id for n in told] == [cast.payroll_lead.pk]
    assert "commented on “New expense limits”: Could it wait for April?" in told[0].message
    comment_id = response.json()["id"]
    assert ApiClient(cast.payroll_lead).post(f"/api/changes/{change.pk}/comments/{comment_id}/answer",
                                             {"text": "Yes: moved to 5 April."}).status_code == 200
    answered = notes(Notification.Kind.CHANGE_ANSWER)
    assert [n.recipient_id for n in answered] == [lead.pk] and "Yes: moved to 5 April." in answered[0].message
    # A refused comment tells nobody.
    assert ApiClient(lead).post(f"/api/changes/{change.pk}/comments", {"text": ""}).status_code == 422
    assert len(notes(Notification.Kind.CHANGE_COMMENT)) == 1
    assert timedelta(0) == timedelta(0)
