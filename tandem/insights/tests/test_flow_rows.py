"""The flow page's weekly rows, summed, against the engine of ``tandem analyse`` run on the
event log of the same requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tandem.engines.eventlog import analyse
from tandem.insights.actions import rebuild_all, rebuild_flow
from tandem.insights.flow import flow
from tandem.insights.logs import database_log
from tandem.insights.models import WeeklyProcess, WeeklyVariant
from tandem.work import actions
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # London is on UTC in November
FIRST = MONDAY - timedelta(days=7)  # the week before
NOW = MONDAY + timedelta(days=6)


def timesheet(cast: Cast, at: datetime, path: str) -> int:
    """A timesheet correction submitted at ``at`` and worked along ``path``."""
    pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=at).request.pk
    agent, t = cast.payroll_agent, at
    if path == "open":
        return pk

    def later(minutes: int) -> datetime:
        nonlocal t
        t += timedelta(minutes=minutes)
        return t

    actions.assign_request(cast.payroll_lead, pk, agent.pk, now=later(30))
    actions.start_request(agent, pk, now=later(40))
    if path in ("ask", "ask twice"):
        actions.ask_requester(agent, pk, "Which week?", now=later(60))
        actions.provide_information(cast.consultant, pk, "The 20th.", now=later(90))
    if path == "ask twice":
        actions.ask_requester(agent, pk, "Which day?", now=later(20))
        actions.provide_information(cast.consultant, pk, "Tuesday.", now=later(15))
    if path == "third party":
        actions.wait_third_party(agent, pk, "The client", now=later(50))
        actions.resume_request(agent, pk, now=later(600))
    actions.add_comment(agent, pk, "Corrected in the ledger.", internal=True, now=later(5))
    actions.resolve_request(agent, pk, "Corrected.", now=later(45))
    if path == "reopened":
        actions.reopen_request(cast.consultant, pk, "Still wrong.", now=later(60))
        actions.start_request(agent, pk, now=later(30))
        actions.resolve_request(agent, pk, "Corrected again.", now=later(120))
    return pk


@pytest.fixture
def history(cast: Cast) -> Cast:
    timesheet(cast, FIRST - timedelta(weeks=8), "plain")  # resolved 9 weeks ago: not in the last 4
    for day, path in enumerate(("plain", "ask", "ask twice", "third party", "plain", "reopened", "ask")):
        timesheet(cast, FIRST + timedelta(days=2 * day), path)  # resolved last week and this one
    timesheet(cast, FIRST + timedelta(days=13), "open")  # not resolved: not counted
    g = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}, now=FIRST).request.pk
    actions.assign_request(cast.hr_agent, g, cast.hr_agent.pk, now=FIRST)
    actions.start_request(cast.hr_agent, g, now=FIRST)
    actions.resolve_request(cast.hr_agent, g, "Heard.", now=FIRST + timedelta(hours=3))
    rebuild_flow(FIRST.date() - timedelta(weeks=10), MONDAY.date())
    return cast


def test_the_summed_rows_are_the_analysis_of_the_same_requests_log(history: Cast) -> None:
    cast = history
    assert WeeklyProcess.objects.filter(service=cast.timesheet).count() == 3  # three weeks with resolutions
    with time_machine.travel(NOW, tick=False):
        data = flow(cast.timesheet, weeks=4)
    # Independently: the log of the requests submitted in the same days (they are exactly the
    # ones resolved in the last four weeks), through the engine of `tandem analyse`.
    log = database_log(since=FIRST.date(), until=FIRST.date() + timedelta(days=12), services=[cast.timesheet.pk])
    expected = analyse(log, group_attribute="org:group")
    assert expected["cases"] == data["cases"] == 7
    assert (data["events"], data["variants"]) == (expected["events"], expected["variants"])
    assert data["handovers_per_case"] == pytest.approx(expected["handovers_per_case"])
    assert data["ping_pong_rate"] == pytest.approx(expected["ping_pong_rate"]) and 0 < data["ping_pong_rate"] < 1
    assert data["case_duration_days"]["mean"] == pytest.approx(expected["case_duration_days"]["mean"], abs=1e-5)
    steps = expected["directly_follows"]
    assert 5 < len(steps) <= 20
    assert [(s["from"], s["to"], s["count"]) for s in data["steps"]] == [(s["from"], s["to"], s["count"]) for s in steps]
    assert [s["mean_days"] for s in data["steps"]] == pytest.approx([s["mean_days"] for s in steps])
    slowest = sorted(steps, key=lambda s: -s["mean_days"] * s["count"])[:5]
    assert [s["total_days"] for s in data["bottlenecks"]] == pytest.approx([s["mean_days"] * s["count"] for s in slowest])
    assert "Asked the requester" in {s["from"] for s in data["steps"]}


def test_the_period_counts_the_requests_resolved_in_it(history: Cast) -> None:
    cast = history
    with time_machine.travel(NOW, tick=False):
        assert flow(cast.timesheet, weeks=12)["cases"] == 8  # the one of nine weeks ago too
        assert flow(cast.grievance, weeks=4)["cases"] == 1  # each service its own rows
    with time_machine.travel(MONDAY + timedelta(weeks=30), tick=False):
        empty = flow(cast.timesheet, weeks=4)
    assert (empty["cases"], empty["variants"], empty["steps"], empty["ping_pong_rate"]) == (0, 0, [], 0.0)
    # Variants keep their path; rebuilding replaces the rows, never adds to them.
    variants = WeeklyVariant.objects.filter(service=cast.timesheet).count()
    plain = WeeklyVariant.objects.filter(service=cast.timesheet, activities__startswith="Submitted\nAssigned").first()
    assert plain is not None and len(plain.key) == 40 and plain.activities.endswith("Resolved")
    with time_machine.travel(NOW, tick=False):
        rebuild_all()
    assert WeeklyVariant.objects.filter(service=cast.timesheet).count() == variants
    assert WeeklyProcess.objects.filter(service=cast.timesheet).count() == 3
