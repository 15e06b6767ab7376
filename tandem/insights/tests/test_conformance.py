"""Procedure conformance on the evidence page, its CSV, its API and the process review's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from tandem.catalogue.models import ProcedureStep
from tandem.insights.actions import rebuild_flow
from tandem.insights.conformance import service_conformance
from tandem.insights.queries import Filters
from tandem.voice.queries import service_figures
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # London is on UTC in November
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def resolved_with(cast: Cast, order: list[int], *, week: int = 0, confidential: bool = False) -> int:
    """A request resolved in the week ``week`` weeks after MONDAY, its steps ticked in ``order``
    (positions, 1-based)."""
    start = MONDAY + timedelta(weeks=week)
    service, agent = (cast.grievance, cast.hr_agent) if confidential else (cast.timesheet, cast.payroll_agent)
    intake = {"details": "private"} if confidential else TIMESHEET_OK
    pk = actions.submit_request(cast.consultant, service, intake, now=start).request.pk
    actions.start_request(agent, pk, now=start + timedelta(minutes=5))
    steps = list(ProcedureStep.objects.filter(service=service))
    for i, position in enumerate(order):
        actions.mark_step(agent, pk, steps[position - 1].pk, True, now=start + timedelta(minutes=10 + i))
    actions.resolve_request(agent, pk, "Done.", now=start + timedelta(hours=1))
    return pk


@pytest.fixture
def history(cast: Cast) -> Cast:
    ProcedureStep.objects.create(service=cast.grievance, position=1, text="Acknowledge within two days.")
    resolved_with(cast, [1, 2])
    resolved_with(cast, [1, 2])
    resolved_with(cast, [1])  # skips step 2
    resolved_with(cast, [2, 1], week=1)  # out of order
    resolved_with(cast, [1, 2], week=1)
    resolved_with(cast, [1], confidential=True)
    rebuild_flow(MONDAY.date(), NOW.date())  # the worker's job: the weekly rows the page reads
    return cast


def test_it_measures_each_service_with_its_deviations_and_weekly_trend(history: Cast) -> None:
    cast = history
    data = service_conformance(cast.admin.user, Filters(weeks=12), now=NOW)
    rows = {r["service"].slug: r for r in data["services"]}
    assert set(rows) == {"timesheet-correction", "grievance"}
    timesheet = rows["timesheet-correction"]
    assert (timesheet["checked"], timesheet["following"], timesheet["share"]) == (5, 3, 0.6)
    assert [(d.label, d.count) for d in timesheet["deviations"]] == [
        ("skipped: 2. Correct the hours in the payroll system.", 1),
        ("out of order: 2. Correct the hours in the payroll system. before 1. Check the client's approval.", 1),
    ]
    assert [(w.week, w.checked, w.following) for w in timesheet["weeks"]] == [
        (date(2026, 11, 2), 3, 2), (date(2026, 11, 9), 2, 1),
    ]
    assert timesheet["series"][-4:-2] == [2 / 3, 0.5] and len(timesheet["series"]) == 12
    assert rows["grievance"]["share"] == 1.0


def test_a_confidential_service_counts_only_for_its_unit_and_the_top(history: Cast) -> None:
    cast = history
    for person, sees in ((cast.hr_agent, True), (cast.executive, True), (cast.consultant, False),
                         (cast.payroll_agent, False)):
        slugs = {r["service"].slug for r in service_conformance(person.user, Filters(), now=NOW)["services"]}
        assert ("grievance" in slugs) is sees, person
        assert "timesheet-correction" in slugs


def test_filters_narrow_the_requests_checked(history: Cast) -> None:
    cast = history
    assert service_conformance(cast.admin.user, Filters(channel="external"), now=NOW)["services"] == []
    only = service_conformance(cast.admin.user, Filters(service=cast.timesheet, requesting_unit=cast.leeds), now=NOW)
    assert [r["checked"] for r in only["services"]] == [5]
    assert service_conformance(cast.admin.user, Filters(requesting_unit=cast.york), now=NOW)["services"] == []


def test_the_dashboard_shows_it_and_downloads_it(client: Client, history: Cast) -> None:
    cast = history
    client.force_login(cast.payroll_agent.user)
    page = client.get("/evidence/").content.decode()
    assert 'data-testid="conformance"' in page and "Timesheet correction" in page and "60 %" in page
    assert "Skipped: 2. Correct the hours" in page and "Acknowledge within two days" not in page
    csv = client.get("/evidence/?format=csv&figure=conformance")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "unit,service,row,week,deviation,requests,following,share"
    assert "Payroll,Timesheet correction,total,,,5,3,0.600" in lines
    assert "Payroll,Timesheet correction,week,2026-11-09,,2,1,0.500" in lines
    assert not any("Grievance" in line for line in lines)


def test_the_api_gives_the_same_figures(history: Cast) -> None:
    cast = history
    response = ApiClient(cast.admin).get("/api/evidence/conformance", {"service": "timesheet-correction"})
    assert response.status_code == 200, response.content
    [row] = response.json()["services"]
    assert (row["checked"], row["following"], row["share"], row["steps"]) == (5, 3, 0.6, 2)
    assert [d["kind"] for d in row["deviations"]] == ["skipped", "out of order"]
    steps = list(ProcedureStep.objects.filter(service=cast.timesheet).values_list("pk", flat=True))
    assert row["deviations"][1]["steps"] == [steps[1], steps[0]]
    assert row["weeks"][0] == {"week": "2026-11-02", "checked": 3, "following": 2, "share": 2 / 3}
    consultant = ApiClient(cast.consultant)
    # The consultant may ask for a grievance, but not learn how HR's are handled.
    hidden = consultant.get("/api/evidence/conformance", {"service": "grievance"})
    assert hidden.status_code == 200 and hidden.json() == {"services": []}
    assert consultant.get("/api/evidence/conformance", {"service": "no-such"}).status_code == 422
    assert consultant.get("/api/evidence/conformance", {"weeks": 5}).status_code == 422
    assert consultant.get("/api/evidence/conformance", {"unit": "nowhere"}).status_code == 422


def test_the_process_review_freezes_the_share(history: Cast) -> None:
    cast = history
    figures = service_figures(cast.timesheet.pk, now=NOW)
    assert figures["procedure_conformance"] == 0.6
    ProcedureStep.objects.filter(service=cast.grievance).delete()
    assert service_figures(cast.grievance.pk, now=NOW)["procedure_conformance"] is None


def test_a_changed_procedure_judges_the_weeks_rebuilt_after_it(history: Cast) -> None:
    cast = history

    def timesheet() -> dict:
        rows = service_conformance(cast.admin.user, Filters(service=cast.timesheet), now=NOW)["services"]
        return rows[0]

    assert timesheet()["share"] == 0.6
    ProcedureStep.objects.create(service=cast.timesheet, position=3, text="Tell the requester.")
    assert timesheet()["share"] == 0.6  # a week is judged by the procedure in force when it was built
    rebuild_flow(MONDAY.date(), NOW.date())
    changed = timesheet()
    assert changed["share"] == 0.0 and changed["steps"] == 3
    assert (changed["top"][0].label, changed["top"][0].count) == ("skipped: 3. Tell the requester.", 5)


def test_the_review_page_shows_the_frozen_share(client: Client, history: Cast) -> None:
    from django.utils import timezone

    from tandem.catalogue import actions as catalogue_actions

    cast = history
    catalogue_actions.record_review(
        cast.payroll_lead, cast.timesheet.pk, reviewer_id=cast.payroll_lead.pk, reviewed_on=timezone.localdate(),
        findings="Steps mostly followed.", figures=service_figures(cast.timesheet.pk, now=NOW),
    )
    client.force_login(cast.payroll_lead.user)
    page = client.get(f"/manage/services/{cast.timesheet.pk}/reviews/").content.decode()
    assert "60 % followed the procedure" in page
