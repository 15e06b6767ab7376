"""The procedure checklist of a request: marking steps done through the action, the page and the
API, who sees it, and every refusal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from tandem.catalogue.models import ProcedureStep
from tandem.refusal import Conflict, Forbidden, NotFound
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tandem.work.queries import steps_done
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def submit(cast: Cast) -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request


def steps(cast: Cast) -> list[ProcedureStep]:
    return list(ProcedureStep.objects.filter(service=cast.timesheet))


def marks(sr: ServiceRequest) -> list[tuple[str, dict]]:
    kinds = (Event.Kind.STEP_DONE, Event.Kind.STEP_UNDONE)
    return [(e.kind, e.data) for e in Event.objects.filter(request=sr, kind__in=kinds).order_by("seq")]


def snapshot(sr: ServiceRequest) -> tuple:
    fresh = ServiceRequest.objects.get(pk=sr.pk)
    return fresh.status, fresh.last_event_seq, Event.objects.filter(request=sr).count()


# --- the action ----------------------------------------------------------------------------------


def test_it_marks_and_unmarks_steps_without_moving_the_request(cast: Cast) -> None:
    sr = submit(cast)
    first, second = steps(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.mark_step(cast.payroll_agent, sr.pk, first.pk, True)
    actions.mark_step(cast.payroll_agent2, sr.pk, second.pk, True)
    actions.mark_step(cast.payroll_agent, sr.pk, second.pk, False)
    assert status_after(sr) == Status.IN_PROGRESS
    assert marks(sr) == [
        ("step_done", {"step": first.pk, "position": 1, "text": first.text}),
        ("step_done", {"step": second.pk, "position": 2, "text": second.text}),
        ("step_undone", {"step": second.pk, "position": 2, "text": second.text}),
    ]
    done = steps_done(ServiceRequest.objects.get(pk=sr.pk))
    assert set(done) == {first.pk} and done[first.pk].actor == cast.payroll_agent
    # Marked again: the later mark is the one that stands.
    actions.mark_step(cast.payroll_lead, sr.pk, second.pk, True)
    done = steps_done(ServiceRequest.objects.get(pk=sr.pk))
    assert set(done) == {first.pk, second.pk} and done[second.pk].actor == cast.payroll_lead


def test_a_resolved_request_can_still_be_ticked_off(cast: Cast) -> None:
    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.")
    actions.mark_step(cast.payroll_agent, sr.pk, steps(cast)[0].pk, True)
    assert status_after(sr) == Status.RESOLVED and len(marks(sr)) == 1


def status_after(sr: ServiceRequest) -> str:
    return ServiceRequest.objects.get(pk=sr.pk).status


def test_it_refuses_every_bad_mark_and_changes_nothing(cast: Cast) -> None:
    sr = submit(cast)
    first, second = steps(cast)
    other = ProcedureStep.objects.create(service=cast.grievance, position=1, text="Acknowledge.")
    actions.mark_step(cast.payroll_agent, sr.pk, first.pk, True)
    before = snapshot(sr)
    refusals = [
        (cast.consultant, first.pk, False, Forbidden, "Only Payroll can work"),  # the requester
        (cast.hr_agent, first.pk, True, NotFound, "no service request"),  # cannot even see it
        (cast.payroll_agent, 999_999, True, NotFound, "has no procedure step 999999"),
        (cast.payroll_agent, other.pk, True, NotFound, f"has no procedure step {other.pk}"),
        (cast.payroll_agent, first.pk, True, Conflict, "already marked done"),
        (cast.payroll_agent, second.pk, False, Conflict, "not marked done"),
    ]
    for person, step_id, done, error, message in refusals:
        with pytest.raises(error, match=message):
            actions.mark_step(person, sr.pk, step_id, done)
    with pytest.raises(NotFound):
        actions.mark_step(cast.payroll_agent, 999_999, first.pk, True)
    assert snapshot(sr) == before


@pytest.mark.parametrize("ending", ["closed", "cancelled"])
def test_a_finished_request_keeps_its_checklist(cast: Cast, ending: str) -> None:
    sr = submit(cast)
    if ending == "closed":
        actions.start_request(cast.payroll_agent, sr.pk)
        actions.resolve_request(cast.payroll_agent, sr.pk, "Corrected.")
        actions.accept_resolution(cast.consultant, sr.pk)
    else:
        actions.cancel_request(cast.consultant, sr.pk, "Not needed.")
    before = snapshot(sr)
    with pytest.raises(Conflict, match=f"is {ending}; its procedure checklist can no longer change"):
        actions.mark_step(cast.payroll_agent, sr.pk, steps(cast)[0].pk, True)
    assert snapshot(sr) == before


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_checklist_and_ticks_a_step(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    first = steps(cast)[0]
    client.force_login(cast.payroll_agent.user)
    page = client.get(f"/requests/{sr.pk}/").content.decode()
    assert 'id="procedure"' in page and escape(first.text) in page and f"/requests/{sr.pk}/steps/{first.pk}/" in page
    response = client.post(f"/requests/{sr.pk}/steps/{first.pk}/", {"done": "1"})
    assert response.status_code == 302 and response["Location"] == f"/requests/{sr.pk}/#procedure"
    page = client.get(f"/requests/{sr.pk}/").content.decode()
    assert "Step marked done." in page and f"done by {cast.payroll_agent.display_name}" in page
    assert "Unmark" in page
    # The timeline says which step.
    assert "Procedure step done" in page

    # Twice: 409 with the reason, nothing written; a bad value: 422.
    again = client.post(f"/requests/{sr.pk}/steps/{first.pk}/", {"done": "1"})
    assert again.status_code == 409 and "already marked done" in again.content.decode()
    bad = client.post(f"/requests/{sr.pk}/steps/{first.pk}/", {"done": "yes"})
    assert bad.status_code == 422 and "done=1" in bad.content.decode()
    assert len(marks(sr)) == 1
    assert client.get(f"/requests/{sr.pk}/steps/{first.pk}/").status_code == 405


def test_the_requester_sees_the_checklist_read_only_and_cannot_tick(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    first = steps(cast)[0]
    actions.mark_step(cast.payroll_agent, sr.pk, first.pk, True)
    for person in (cast.consultant, cast.colleague):
        client.force_login(person.user)
        page = client.get(f"/requests/{sr.pk}/").content.decode()
        assert escape(first.text) in page and f"done by {cast.payroll_agent.display_name}" in page
        assert f"/steps/{first.pk}/" not in page
    refused = client.post(f"/requests/{sr.pk}/steps/{first.pk}/", {"done": "0"})
    assert refused.status_code == 403 and len(marks(sr)) == 1
    client.force_login(cast.hr_agent.user)
    assert client.post(f"/requests/{sr.pk}/steps/{first.pk}/", {"done": "0"}).status_code == 404


def test_a_confidential_checklist_is_for_the_circle_only(client: Client, cast: Cast) -> None:
    step = ProcedureStep.objects.create(service=cast.grievance, position=1, text="Acknowledge within two days.")
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": "x"}).request
    actions.mark_step(cast.hr_agent, sr.pk, step.pk, True)
    for person, sees in ((cast.consultant, True), (cast.hr_agent, True), (cast.admin, True), (cast.executive, False)):
        client.force_login(person.user)
        page = client.get(f"/requests/{sr.pk}/").content.decode()
        assert (step.text in page) is sees, person
        assert ('id="procedure"' in page) is sees, person
    api = ApiClient(cast.executive)
    assert api.get(f"/api/requests/{sr.pk}/steps").status_code == 403
    assert ApiClient(cast.colleague).get(f"/api/requests/{sr.pk}/steps").status_code == 404


# --- the API -------------------------------------------------------------------------------------


def test_the_api_lists_and_marks_steps(cast: Cast) -> None:
    sr = submit(cast)
    first, second = steps(cast)
    agent = ApiClient(cast.payroll_agent)
    listed = agent.get(f"/api/requests/{sr.pk}/steps")
    assert listed.status_code == 200
    assert [(s["id"], s["position"], s["done"], s["done_by"]) for s in listed.json()] == [
        (first.pk, 1, False, None), (second.pk, 2, False, None),
    ]
    marked = agent.post(f"/api/requests/{sr.pk}/steps/{second.pk}", {"done": True})
    assert marked.status_code == 200, marked.content
    body = marked.json()
    assert body[1]["done"] and body[1]["done_by"] == {"id": cast.payroll_agent.pk, "name": cast.payroll_agent.display_name}
    assert body[1]["done_at"].endswith("Z") and not body[0]["done"]
    assert ApiClient(cast.consultant).get(f"/api/requests/{sr.pk}/steps").json() == body


def test_the_api_refuses_bad_marks_with_reasons(cast: Cast) -> None:
    sr = submit(cast)
    first = steps(cast)[0]
    agent = ApiClient(cast.payroll_agent)
    cases = [
        (agent, f"/api/requests/{sr.pk}/steps/{first.pk}", {"done": False}, 409),
        (agent, f"/api/requests/{sr.pk}/steps/999999", {"done": True}, 404),
        (agent, f"/api/requests/999999/steps/{first.pk}", {"done": True}, 404),
        (agent, f"/api/requests/{sr.pk}/steps/{first.pk}", {}, 422),
        (agent, f"/api/requests/{sr.pk}/steps/{first.pk}", {"done": True, "extra": 1}, 422),
        (ApiClient(cast.consultant), f"/api/requests/{sr.pk}/steps/{first.pk}", {"done": True}, 403),
        (ApiClient(cast.hr_agent), f"/api/requests/{sr.pk}/steps/{first.pk}", {"done": True}, 404),
    ]
    for client, path, body, status in cases:
        response = client.post(path, body)
        assert response.status_code == status, (path, body, response.content)
        assert response.json()["detail"]
    assert marks(sr) == []
