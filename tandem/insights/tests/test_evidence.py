"""The evidence pages and API over the materialised weekly rows, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.insights.actions import rebuild_flow, refresh_recent_flow
from tandem.insights.models import WeeklyFlow
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # London is on UTC in November


def worked(cast: Cast) -> None:
    """One timesheet correction: queued 1 h, in progress 1 h, waiting on the requester 2 h,
    in progress 1 h more, resolved on Monday at 14:00; one grievance resolved in 4 working days."""
    pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=MONDAY).request.pk
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=MONDAY + timedelta(minutes=30))
    actions.start_request(cast.payroll_agent, pk, now=MONDAY + timedelta(hours=1))
    actions.ask_requester(cast.payroll_agent, pk, "Which week?", now=MONDAY + timedelta(hours=2))
    actions.provide_information(cast.consultant, pk, "The 20th.", now=MONDAY + timedelta(hours=4))
    actions.resolve_request(cast.payroll_agent, pk, "Corrected.", now=MONDAY + timedelta(hours=5))
    g = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}, now=MONDAY).request.pk
    actions.assign_request(cast.hr_agent, g, cast.hr_agent.pk, now=MONDAY)
    actions.start_request(cast.hr_agent, g, now=MONDAY)
    actions.resolve_request(cast.hr_agent, g, "Heard.", now=MONDAY + timedelta(days=3, hours=5))


def test_a_week_is_split_into_where_the_time_went(cast: Cast) -> None:
    worked(cast)
    assert rebuild_flow(MONDAY.date(), MONDAY.date()) == 2
    row = WeeklyFlow.objects.get(service=cast.timesheet)
    assert (row.week, row.resolved, row.requesting_unit_id, row.unit_id) == (
        MONDAY.date(), 1, cast.leeds.pk, cast.payroll.pk)
    hours = [s / 3600 for s in (row.queued_seconds, row.in_progress_seconds, row.waiting_requester_seconds,
                                row.waiting_third_party_seconds)]
    # Working time of the default calendar (09:00-12:30, 13:30-17:30): queued 09:00-10:00, in
    # progress 10:00-11:00 and 13:30-14:00, waiting on the requester 11:00-12:30 (the answer came
    # at 13:00, in the lunch break, and put it back in progress).
    assert hours == [1.0, 1.5, 1.5, 0.0] and row.total_seconds == 4 * 3600
    assert (row.band_3, row.band_6) == (1, 0)
    grievance = WeeklyFlow.objects.get(service=cast.grievance)
    assert grievance.total_seconds > 3 * 7 * 3600 and grievance.band_6 == 1  # 3 days and a bit: 4–6 band
    assert rebuild_flow(MONDAY.date(), MONDAY.date()) == 2  # rebuilding replaces, never doubles
    assert WeeklyFlow.objects.count() == 2


def test_the_page_and_api_show_it_and_keep_confidential_services_to_their_unit(cast: Cast) -> None:
    worked(cast)
    rebuild_flow(MONDAY.date(), MONDAY.date())
    with time_machine.travel(MONDAY + timedelta(days=9), tick=False):
        body = ApiClient(cast.consultant).get("/api/evidence", {"weeks": 12}).json()
        assert [s["service"]["slug"] for s in body["services"]] == [cast.timesheet.slug]  # not the grievance
        [timesheet] = body["services"]
        assert timesheet["resolved"] == 1 and timesheet["bands"]["≤ 3"] == 1
        assert timesheet["phase_hours"] == {"queued": 1.0, "in_progress": 1.5, "waiting_requester": 1.5,
                                            "waiting_third_party": 0.0, "waiting_team": 0.0, "waiting_approval": 0.0}
        [pair] = body["waiting"]
        assert pair == {"requesting_unit": "Leeds branch", "unit": "Payroll", "resolved": 1,
                        "front_waits_on_back_hours": 2.5, "back_waits_on_front_hours": 1.5,
                        "waits_on_third_party_hours": 0.0, "waits_on_other_team_hours": 0.0,
                        "waits_on_approver_hours": 0.0}
        hr = ApiClient(cast.hr_agent).get("/api/evidence", {"weeks": 12}).json()
        assert {s["service"]["slug"] for s in hr["services"]} == {cast.timesheet.slug, cast.grievance.slug}
        exec_view = ApiClient(cast.executive).get("/api/evidence", {"weeks": 12, "unit": "hr"}).json()
        assert [s["service"]["slug"] for s in exec_view["services"]] == [cast.grievance.slug]
        api = ApiClient(cast.consultant)
        assert api.get("/api/evidence", {"weeks": 7}).status_code == 422
        unknown = api.get("/api/evidence", {"unit": "nowhere"})
        assert unknown.status_code == 422 and "GET /api/units" in unknown.json()["detail"]
        assert api.get("/api/evidence", {"unit": "leeds"}).status_code == 422  # not a back-office unit
        assert ApiClient().get("/api/evidence").status_code == 401

        client = Client()
        client.login(username="consultant", password=PASSWORD)
        page = client.get("/evidence/?weeks=12").content.decode()
        table = page.split('data-testid="services"')[1]  # the filter lists every catalogue service
        assert cast.timesheet.name in table and cast.grievance.name not in table and "<svg" in table
        csv = client.get("/evidence/?weeks=12&format=csv&figure=waiting").content.decode()
        assert csv.splitlines()[1].startswith("Leeds branch,Payroll,1,2.500,1.500,0.000,0.000")
        assert "Grievance" not in client.get("/evidence/?weeks=12&format=csv&figure=services").content.decode()
        bad = client.get("/evidence/?weeks=12&unit=nowhere")
        assert bad.status_code == 422 and "Choose from the lists" in bad.content.decode()
        assert client.get("/evidence/?format=csv&figure=secrets").status_code == 422


def test_the_worker_rebuilds_this_week_and_last(cast: Cast) -> None:
    worked(cast)
    assert refresh_recent_flow(now=MONDAY + timedelta(days=8), force=True) == 2
    assert refresh_recent_flow(now=MONDAY + timedelta(days=8)) == 0  # not again within ten minutes
    assert refresh_recent_flow(now=MONDAY + timedelta(days=20), force=True) == 0
    assert WeeklyFlow.objects.count() == 2  # older weeks are left as they were


def test_following_one_request_explains_where_its_time_went(cast: Cast) -> None:
    worked(cast)
    sr = cast.timesheet.requests.get()
    client = Client()
    client.login(username="consultant", password=PASSWORD)
    page = client.get(f"/requests/{sr.pk}/journey/").content.decode()
    # 4 working hours of a 7.5-hour day: 1 queued, 1.5 in progress, 1.5 waiting on the requester
    assert "Resolved after 0.5 working days: most of it (38 %) waiting on you for information." in page
    assert "0.1 queued at Payroll before anyone worked on it" in page and page.count("<rect") == 5
    client.login(username="colleague", password=PASSWORD)
    assert "waiting on Consultant for information" in client.get(f"/requests/{sr.pk}/journey/").content.decode()
    grievance = cast.grievance.requests.get()
    assert client.get(f"/requests/{grievance.pk}/journey/").status_code == 404  # confidential: not theirs


def test_a_services_flow_names_its_steps_and_ping_pong(cast: Cast) -> None:
    worked(cast)
    rebuild_flow(MONDAY.date(), MONDAY.date())  # the worker's job: the weekly rows the page reads
    client = Client()
    client.login(username="consultant", password=PASSWORD)
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        page = client.get(f"/evidence/flow/?service={cast.timesheet.slug}&weeks=4").content.decode()
        # submitted by Leeds, worked by Payroll, asked back to Leeds, answered, resolved by Payroll
        assert "Asked the requester" in page and 'data-testid="bottlenecks"' in page
        assert "ping-pong" in page and "<strong>100 %</strong> of requests" in page
        csv = client.get(f"/evidence/flow/?service={cast.timesheet.slug}&weeks=4&format=csv").content.decode()
        assert csv.splitlines()[0] == "from,to,count,mean_days,total_days" and len(csv.splitlines()) > 3
        assert client.get(f"/evidence/flow/?service={cast.grievance.slug}&weeks=4").status_code == 422
        assert client.get("/evidence/flow/?service=nope").status_code == 422
        client.login(username="hr_agent", password=PASSWORD)
        assert client.get(f"/evidence/flow/?service={cast.grievance.slug}&weeks=4").status_code == 200


def test_the_flow_api(cast: Cast) -> None:
    worked(cast)
    rebuild_flow(MONDAY.date(), MONDAY.date())
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        api = ApiClient(cast.consultant)
        body = api.get("/api/evidence/flow", {"service": cast.timesheet.slug, "weeks": 4}).json()
        assert body["cases"] == 1 and body["ping_pong_rate"] == 1.0 and body["steps"][0]["from"]
        assert api.get("/api/evidence/flow", {"service": cast.grievance.slug}).status_code == 422
        assert api.get("/api/evidence/flow", {"service": cast.timesheet.slug, "weeks": 5}).status_code == 422


def test_the_rebuild_command_rebuilds_every_week(cast: Cast) -> None:
    from io import StringIO

    from django.core.management import call_command

    worked(cast)
    out = StringIO()
    with time_machine.travel(MONDAY + timedelta(days=30), tick=False):
        call_command("insights-rebuild", stdout=out)
    assert out.getvalue().startswith("Rebuilt 2 weekly rows") and WeeklyFlow.objects.count() == 2
