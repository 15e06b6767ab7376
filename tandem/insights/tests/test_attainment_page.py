"""Agreement attainment on a page, in the API and as CSV, against a week worked out by hand; and
a clock replayed from a request's trail equals the one the actions kept step by step."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.agreements.actions import define_agreement
from tandem.work import actions, clock
from tandem.work.clock_replay import rebuild_clocks
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # London is on UTC in November; 09:00–12:30, 13:30–17:30
FRIDAY = MONDAY + timedelta(days=4, hours=12)
DETERMINISTIC = ("agreement_id", "respond_seconds", "resolve_seconds", "respond_by", "resolve_by", "warn_at",
                 "paused_seconds", "clock_paused_at", "first_response_at")


def t(day: int, hh: int, mm: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hh, minutes=mm)


@pytest.fixture
def week(cast: Cast) -> dict[str, int]:
    """Resolution target: one working day (7 h 30 min), 90 % to be met. By hand:
    R1 Mon 09:00 → due Mon 17:30, resolved Mon 15:00: met.
    R2 Mon 09:00 → due Mon 17:30, resolved Tue 10:00: breached.
    R3 Mon 09:00, waits on the requester Mon 10:00 – Tue 10:00 (7 h 30 min of working time, taken
       off the clock) → due Tue 17:30, resolved Tue 12:00: met.
    R4 (York) Tue 09:00 → due Tue 17:30, resolved Wed 12:00: breached."""
    define_agreement(cast.payroll_lead, cast.timesheet, name="Corrections in a day", first_response_minutes=60,
                     resolution_minutes=450, target_percent=90)
    agent = cast.payroll_agent

    def run(requester, submitted: datetime, resolved: datetime, ask: tuple[datetime, datetime] | None = None) -> int:  # type: ignore[no-untyped-def]
        pk = actions.submit_request(requester, cast.timesheet, TIMESHEET_OK, now=submitted).request.pk
        actions.start_request(agent, pk, now=submitted + timedelta(minutes=30))
        if ask:
            actions.ask_requester(agent, pk, "Which week?", now=ask[0])
            actions.provide_information(requester, pk, "Week 46.", now=ask[1])
        actions.resolve_request(agent, pk, "Corrected.", now=resolved)
        return pk

    return {
        "r1": run(cast.consultant, t(0, 9), t(0, 15)),
        "r2": run(cast.consultant, t(0, 9), t(1, 10)),
        "r3": run(cast.consultant, t(0, 9), t(1, 12), ask=(t(0, 10), t(1, 10))),
        "r4": run(cast.other_consultant, t(1, 9), t(2, 12)),
    }


def test_the_page_api_and_csv_count_what_was_met(cast: Cast, week: dict[str, int]) -> None:
    client = Client()
    client.force_login(cast.consultant.user)
    with time_machine.travel(FRIDAY, tick=False):
        page = client.get("/evidence/attainment/?unit=payroll&weeks=4").content.decode()
        api = ApiClient(cast.payroll_lead).get("/api/attainment", {"unit": "payroll", "weeks": "4"}).json()
        csv_text = client.get("/evidence/attainment/?unit=payroll&weeks=4&format=csv").content.decode()
    assert "2 of 4 met (50 %); 2 breached." in page
    assert api["overall"] == {"label": "All", "resolved": 4, "met": 2, "breached": 2, "attainment": 0.5,
                              "target_percent": None, "meets_target": None}
    assert api["agreements"] == [{"label": "Timesheet correction · Corrections in a day", "resolved": 4, "met": 2,
                                  "breached": 2, "attainment": 0.5, "target_percent": 90.0, "meets_target": False}]
    assert [(u["label"], u["resolved"], u["met"]) for u in api["requesting_units"]] == [
        ("Leeds branch", 3, 2), ("York branch", 1, 0)]
    this_week = api["weeks"][-1]
    assert (this_week["week"], this_week["complete"], this_week["resolved"], this_week["met"]) == (
        "2026-11-16", False, 4, 2)
    assert all(w["resolved"] == 0 for w in api["weeks"][:-1])
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["requesting_unit"], r["resolved"], r["met"], r["breached"], r["complete"]) for r in rows] == [
        ("Leeds branch", "3", "2", "1", "False"), ("York branch", "1", "0", "1", "False")]


def test_bad_choices_are_named(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.consultant.user)
    weeks = client.get("/evidence/attainment/?weeks=5")
    assert weeks.status_code == 422 and "choose 4, 12 or 26" in weeks.content.decode()
    unit = client.get("/evidence/attainment/?unit=nowhere")
    assert unit.status_code == 422 and "no back-office unit" in unit.content.decode()
    api = ApiClient(cast.consultant).get("/api/attainment", {"unit": "leeds"})
    assert api.status_code == 422 and "no back-office unit 'leeds'" in api.json()["detail"]


def test_a_replayed_clock_equals_the_one_the_actions_kept(cast: Cast, week: dict[str, int]) -> None:
    # One request still open and paused, to replay a clock stopped mid-way.
    pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=t(2, 9)).request.pk
    actions.start_request(cast.payroll_agent, pk, now=t(2, 11))
    actions.ask_requester(cast.payroll_agent, pk, "Which week?", now=t(2, 14))
    kept = {sr.pk: {f: getattr(sr, f) for f in DETERMINISTIC} for sr in ServiceRequest.objects.all()}
    ServiceRequest.objects.update(**{f: None for f in DETERMINISTIC if f not in ("paused_seconds",)}, paused_seconds=0)
    assert rebuild_clocks(FRIDAY, FRIDAY) == 5
    for sr in ServiceRequest.objects.all():
        assert {f: getattr(sr, f) for f in DETERMINISTIC} == kept[sr.pk], sr.pk
    assert clock.has_clock(ServiceRequest.objects.get(pk=week["r2"]))
    r2 = ServiceRequest.objects.get(pk=week["r2"])
    assert r2.breached_at == r2.resolve_by == t(0, 17, 30)  # sent before FRIDAY: marked as sent
