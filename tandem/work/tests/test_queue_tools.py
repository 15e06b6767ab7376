"""The team queue's saved views and bulk moves: a lead names filters for the team; agents tick
requests and each becomes the same single action with its own event; a refused one is left as
it was."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import Comment, Event, SavedView, ServiceRequest, Status
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


def ask(cast: Cast, title: str = "Timesheet") -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title=title).request


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def snapshot(sr: ServiceRequest) -> tuple:
    sr.refresh_from_db()
    return (sr.status, sr.assignee_id, sr.last_event_seq, sr.events.count(), sr.comments.count())


# --- saved views ---------------------------------------------------------------------------------


def test_a_lead_saves_the_queues_filter_and_agents_of_the_team_use_it(cast: Cast) -> None:
    waiting = ask(cast, "Waiting one")
    actions.start_request(cast.payroll_agent, waiting.pk)
    actions.ask_requester(cast.payroll_agent, waiting.pk, "Which week?")
    ask(cast, "Fresh one")
    lead = signed_in("payroll_lead")
    response = lead.post("/queue/views/", {"unit": cast.payroll.pk, "name": "Waiting on people",
                                           "query": "status=waiting_requester&sort=oldest"})
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert view.unit == cast.payroll and "status=waiting_requester" in view.query
    page = signed_in("payroll_agent").get("/queue/").content.decode()
    assert "Waiting on people" in page and f'href="?{view.query}"'.replace("&", "&amp;") in page
    assert "Rename or delete" not in page and "Save view" not in page  # agents use, leads manage
    shown = signed_in("payroll_agent").get("/queue/?" + view.query).content.decode()
    assert re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', shown) == [waiting.reference]
    assert "Waiting on people" not in signed_in("hr_agent").get("/queue/").content.decode()  # another team


def test_a_lead_renames_and_deletes_and_nobody_else_may(cast: Cast) -> None:
    view = actions.save_view(cast.payroll_lead, cast.payroll.pk, "Mine", "assignee=me")
    for who in (cast.payroll_agent, cast.hr_agent):
        with pytest.raises(Forbidden):
            actions.rename_view(who, view.pk, "Theirs")
        with pytest.raises(Forbidden):
            actions.delete_view(who, view.pk)
    assert signed_in("payroll_agent").post(f"/queue/views/{view.pk}/delete/").status_code == 403
    lead = signed_in("payroll_lead")
    assert lead.post(f"/queue/views/{view.pk}/rename/", {"name": "Held by me"}).status_code == 302
    assert SavedView.objects.get().name == "Held by me"
    assert lead.post(f"/queue/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(("name", "query", "field"), [
    ("", "status=new", "name"),
    ("   ", "status=new", "name"),
    ("x" * 61, "status=new", "name"),
    ("taken", "status=new", "name"),
    ("TAKEN", "status=new", "name"),
    ("Fine", "status=bogus", "query"),
    ("Fine", "age=-3", "query"),
    ("Fine", "service=999999", "query"),
    ("Fine", "colour=red", "query"),
])
def test_bad_names_and_filters_are_refused_and_nothing_is_saved(cast: Cast, name: str, query: str, field: str) -> None:
    actions.save_view(cast.payroll_lead, cast.payroll.pk, "Taken", "status=new")
    with pytest.raises(Invalid) as refusal:
        actions.save_view(cast.payroll_lead, cast.payroll.pk, name, query)
    assert field in refusal.value.errors
    response = signed_in("payroll_lead").post("/queue/views/", {"unit": cast.payroll.pk, "name": name,
                                                                "query": query})
    assert response.status_code == 422
    body = response.content.decode()
    assert refusal.value.message.split(";")[0][:30] in body.replace("&#x27;", "'").replace("&quot;", '"') \
        or "already has a view" in body or "characters" in body
    if name.strip() and len(name) < 61:
        assert f'value="{name}"' in body  # what was typed is kept
    assert SavedView.objects.count() == 1
    rename = actions.save_view(cast.payroll_lead, cast.payroll.pk, "Other", "status=new")
    with pytest.raises(Invalid):
        actions.rename_view(cast.payroll_lead, rename.pk, "taken")


def test_a_view_of_another_unit_is_refused(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        actions.save_view(cast.payroll_lead, cast.hr.pk, "HR's", "status=new")
    with pytest.raises(Invalid):
        actions.save_view(cast.payroll_lead, cast.payroll.pk, "Sneaky", f"unit={cast.hr.pk}")


# --- bulk moves ----------------------------------------------------------------------------------


def test_bulk_assign_is_one_assignment_with_its_event_per_request(cast: Cast) -> None:
    made = [ask(cast, f"Bulk {n}") for n in range(3)]
    outcomes = actions.bulk_move(cast.payroll_lead, "assign", [sr.pk for sr in made], assignee=cast.payroll_agent.pk)
    assert [o.done for o in outcomes] == [True, True, True]
    for sr in made:
        sr.refresh_from_db()
        assert (sr.status, sr.assignee_id) == (Status.ASSIGNED, cast.payroll_agent.pk)
        last = sr.events.order_by("-seq").first()
        assert last is not None
        assert last.kind == Event.Kind.ASSIGNED and last.actor_id == cast.payroll_lead.pk
        assert last.data["assignee"] == cast.payroll_agent.pk


def test_a_refused_request_is_left_as_it_was_and_the_others_are_moved(cast: Cast) -> None:
    fine = ask(cast, "Fine")
    closed = ask(cast, "Cancelled already")
    actions.cancel_request(cast.consultant, closed.pk, "Not needed")
    secret = actions.submit_request(cast.consultant, cast.grievance, {"details": "x"}).request
    before = {sr.pk: snapshot(sr) for sr in (closed, secret)}
    outcomes = actions.bulk_move(cast.payroll_agent, "note", [fine.pk, closed.pk, secret.pk], note="Checked the rota")
    assert [(o.request_id, o.done) for o in outcomes] == [(fine.pk, True), (closed.pk, False), (secret.pk, False)]
    assert "cancelled" in outcomes[1].message and outcomes[2].message
    assert {sr.pk: snapshot(sr) for sr in (closed, secret)} == before
    note = Comment.objects.get(request=fine)
    assert note.internal and note.body == "Checked the rota"
    assert fine.events.filter(kind=Event.Kind.NOTE_ADDED, internal=True).count() == 1


def test_bulk_hand_back_returns_each_to_the_queue_and_refuses_what_is_not_yours(cast: Cast) -> None:
    mine, theirs = ask(cast, "Mine"), ask(cast, "Theirs")
    actions.assign_request(cast.payroll_agent, mine.pk, cast.payroll_agent.pk)
    actions.assign_request(cast.payroll_agent2, theirs.pk, cast.payroll_agent2.pk)
    before = snapshot(theirs)
    outcomes = actions.bulk_move(cast.payroll_agent, "unassign", [mine.pk, theirs.pk])
    assert [o.done for o in outcomes] == [True, False]
    mine.refresh_from_db()
    assert (mine.status, mine.assignee_id) == (Status.NEW, None)
    assert mine.events.order_by("-seq").values_list("kind", flat=True)[0] == Event.Kind.UNASSIGNED
    assert snapshot(theirs) == before


@pytest.mark.parametrize(("verb", "ids", "values"), [
    ("explode", [1], {}),
    ("assign", [], {"assignee": 1}),
    ("assign", [1], {}),
    ("note", [1], {"note": "   "}),
    ("assign", [1, *range(10_000_000, 10_000_100)], {"assignee": 1}),  # 101 distinct
])
def test_a_bulk_move_that_cannot_apply_changes_nothing(cast: Cast, verb: str, ids: list[int], values: dict) -> None:
    sr = ask(cast)
    before = snapshot(sr)
    with pytest.raises(Invalid):
        actions.bulk_move(cast.payroll_lead, verb, [sr.pk if i == 1 else i for i in ids], **values)
    assert snapshot(sr) == before


def test_the_bulk_page_lists_what_was_done_and_each_refusal(cast: Cast) -> None:
    fine, done_already = ask(cast, "Fine"), ask(cast, "Cancelled")
    actions.cancel_request(cast.consultant, done_already.pk, "Not needed")
    agent = signed_in("payroll_agent")
    page = agent.post("/queue/bulk/", {"verb": "assign", "assignee": "me", "requests": [fine.pk, done_already.pk],
                                       "next": "/queue/"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "1 done, 1 refused" in body and f"{done_already.reference} refused" in body
    nothing = agent.post("/queue/bulk/", {"verb": "note", "note": "", "requests": [fine.pk]})
    assert nothing.status_code == 422 and "Nothing was done" in nothing.content.decode()
    assert agent.post("/queue/bulk/", {"verb": "assign", "assignee": "me"}).status_code == 422
    queue = agent.get("/queue/").content.decode()
    assert f'name="requests" value="{fine.pk}"' in queue
