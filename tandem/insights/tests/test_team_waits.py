"""Waiting on another back-office team: the move, its refusals, and how the evidence counts it
(who waits on whom, the journey), on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.insights.actions import rebuild_flow
from tandem.insights.models import WeeklyFlow, WeeklyTeamWait
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # London is on UTC in November


def started(cast: Cast, at: datetime = MONDAY) -> int:
    pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=at).request.pk
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=at)
    actions.start_request(cast.payroll_agent, pk, now=at + timedelta(hours=1))
    return pk


def test_a_request_waits_on_another_team_and_resumes(cast: Cast) -> None:
    pk = started(cast)
    sr = actions.wait_on_team(cast.payroll_agent, pk, cast.hr.pk, "Need the contract end date.",
                              now=MONDAY + timedelta(hours=2))
    sr.refresh_from_db()
    assert (sr.status, sr.waiting_on, sr.waiting_on_unit_id) == (Status.WAITING_TEAM, "HR", cast.hr.pk)
    assert sr.holder == "HR" and sr.resolve_by is not None  # the agreement clock keeps running
    event = Event.objects.filter(request_id=pk).order_by("-seq").first()
    assert event is not None and event.kind == "waiting_team"
    assert event.data == {"unit": cast.hr.pk, "team": "HR", "note": "Need the contract end date."}
    actions.resume_request(cast.payroll_agent, pk, now=MONDAY + timedelta(hours=4))
    sr.refresh_from_db()
    assert (sr.status, sr.waiting_on, sr.waiting_on_unit_id) == (Status.IN_PROGRESS, "", None)


def test_it_refuses_a_bad_team_and_changes_nothing(cast: Cast) -> None:
    pk = started(cast)
    before = ServiceRequest.objects.get(pk=pk).last_event_seq
    with pytest.raises(NotFound, match="back-office team"):
        actions.wait_on_team(cast.payroll_agent, pk, cast.leeds.pk)  # a branch, not a back-office team
    with pytest.raises(NotFound):
        actions.wait_on_team(cast.payroll_agent, pk, 999_999)
    with pytest.raises(Invalid, match="already with Payroll"):
        actions.wait_on_team(cast.payroll_agent, pk, cast.payroll.pk)
    with pytest.raises(NotFound):
        actions.wait_on_team(cast.hr_agent, pk, cast.hr.pk)  # another unit's request: not even seen
    with pytest.raises(Forbidden):
        actions.wait_on_team(cast.consultant, pk, cast.hr.pk)  # the requester does not work it
    with pytest.raises(Invalid, match="Note"):
        actions.wait_on_team(cast.payroll_agent, pk, cast.hr.pk, "x" * 2_000_000)
    fresh = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
    with pytest.raises(Conflict):
        actions.wait_on_team(cast.payroll_agent, fresh, cast.hr.pk)  # not started yet
    sr = ServiceRequest.objects.get(pk=pk)
    assert sr.last_event_seq == before and sr.status == Status.IN_PROGRESS and sr.waiting_on_unit_id is None


def test_the_api_and_the_page_offer_the_move(cast: Cast) -> None:
    pk = started(cast)
    api = ApiClient(cast.payroll_agent)
    unknown = api.post(f"/api/requests/{pk}/wait-team", {"unit": "nowhere"})
    assert unknown.status_code == 422 and "GET /api/units" in unknown.json()["detail"]
    own = api.post(f"/api/requests/{pk}/wait-team", {"unit": "payroll"})
    assert own.status_code == 422 and own.json()["errors"]["unit"]
    ok = api.post(f"/api/requests/{pk}/wait-team", {"unit": "hr", "note": "Contract end date?"})
    assert ok.status_code == 200, ok.content
    assert (ok.json()["status"], ok.json()["waiting_on_unit"], ok.json()["holder"]) == ("waiting_team", "hr", "HR")
    again = api.post(f"/api/requests/{pk}/wait-team", {"unit": "hr"})
    assert again.status_code == 409 and "Resume it first" in again.json()["detail"]
    assert api.post(f"/api/requests/{pk}/resume").json()["status"] == "in_progress"

    client = Client()
    client.login(username=cast.payroll_agent.user.username, password=PASSWORD)
    page = client.get(f"/requests/{pk}/").content.decode()
    assert "Wait on another team" in page and '<option value="' + str(cast.hr.pk) + '">HR</option>' in page
    refused = client.post(f"/requests/{pk}/wait_team/", {"wait_team-unit": "", "wait_team-note": "kept text"})
    assert refused.status_code == 422 and "kept text" in refused.content.decode()
    done = client.post(f"/requests/{pk}/wait_team/", {"wait_team-unit": cast.hr.pk, "wait_team-note": ""})
    assert done.status_code == 302
    assert "another back-office team; the agreement clock keeps running" in client.get(f"/requests/{pk}/").content.decode()


def test_the_evidence_counts_the_wait_against_the_team_waited_on(cast: Cast) -> None:
    pk = started(cast)  # queued 09:00-10:00, in progress 10:00-11:00 and 14:00-15:00
    actions.wait_on_team(cast.payroll_agent, pk, cast.hr.pk, now=MONDAY + timedelta(hours=2))
    actions.resume_request(cast.payroll_agent, pk, now=MONDAY + timedelta(hours=5))  # waits 11:00-12:30, 13:30-14:00
    actions.resolve_request(cast.payroll_agent, pk, "Corrected.", now=MONDAY + timedelta(hours=6))
    assert rebuild_flow(MONDAY.date(), MONDAY.date()) == 1
    row = WeeklyFlow.objects.get()
    assert (row.queued_seconds, row.in_progress_seconds, row.waiting_team_seconds) == (3600, 7200, 7200)
    wait = WeeklyTeamWait.objects.get()
    assert (wait.unit_id, wait.waited_on_id, wait.requests, wait.seconds) == (cast.payroll.pk, cast.hr.pk, 1, 7200)
    assert rebuild_flow(MONDAY.date(), MONDAY.date()) == 1 and WeeklyTeamWait.objects.count() == 1
    with time_machine.travel(MONDAY + timedelta(days=9), tick=False):
        body = ApiClient(cast.consultant).get("/api/evidence", {"weeks": 12}).json()
        assert body["team_waits"] == [{"unit": "Payroll", "waited_on": "HR", "requests": 1, "hours": 2.0}]
        assert body["waiting"][0]["waits_on_other_team_hours"] == 2.0
        assert body["services"][0]["phase_hours"]["waiting_team"] == 2.0
        client = Client()
        client.login(username="consultant", password=PASSWORD)
        page = client.get("/evidence/?weeks=12").content.decode()
        assert "Back office waiting on back office" in page and 'data-testid="team-waits"' in page
        csv = client.get("/evidence/?weeks=12&format=csv&figure=team_waits").content.decode()
        assert csv.splitlines() == ["unit,waited_on,requests,hours", "Payroll,HR,1,2.000"]
        journey = client.get(f"/requests/{pk}/journey/").content.decode()
        assert "waiting on HR" in journey and "journey__waiting_team" in journey
