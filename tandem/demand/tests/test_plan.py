"""The four-week plan against a scripted history whose answers are known, recomputed here in
plain Python: a steady weekly pattern, logged hands-on time, three people, a declaration."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.demand.actions import backfill_week_forecasts, declare_demand, refresh_arrival_forecasts
from tandem.demand.models import ArrivalForecast, DeclaredDemand, DemandAsk, WeekForecast
from tandem.demand.queries import forecast_accuracy
from tandem.engines.durations import hours_text
from tandem.org.models import Role
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast, make_person
from tests.history import FIRST, LONDON, PATTERN, TODAY


def poisson_quantile(mean: float, q: float) -> int:
    """The smallest k with P(X <= k) >= q, by summing the Poisson pmf."""
    k, term = 0, math.exp(-mean)
    total = term
    while total < q:
        k += 1
        term *= mean / k
        total += term
    return k


def erlang_people(rate: float, effort: float, wait: float, share: float) -> int:
    """The fewest c with 1 - C(c, a) e^{-(c-a) wait/effort} >= share, C from the closed form."""
    a = rate * effort
    c = math.floor(a) + 1
    while True:
        top = a**c / math.factorial(c) * c / (c - a)
        waiting = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
        if 1 - waiting * math.exp(-(c - a) * wait / effort) >= share:
            return c
        c += 1


def test_the_worker_forecasts_each_day_at_the_weekly_pattern(cast: Cast, history: list[ServiceRequest]) -> None:
    assert refresh_arrival_forecasts(TODAY) == 1
    assert refresh_arrival_forecasts(TODAY) == 0  # once a day
    rows = list(ArrivalForecast.objects.filter(service=cast.timesheet).order_by("day"))
    assert len(rows) == 35 and rows[0].day == TODAY and rows[0].made_on == TODAY
    for row in rows:
        assert row.expected == pytest.approx(PATTERN[row.day.weekday()])
        rate = PATTERN[row.day.weekday()]
        assert row.p50 == (poisson_quantile(rate, 0.5) if rate else 0)
    # The week snapshots kept for accuracy: the five whole weeks ahead, 10 requests each.
    assert [w.expected for w in WeekForecast.objects.filter(service=cast.timesheet)] == pytest.approx([10.0] * 5)


def test_the_plan_adds_up(client: Client, cast: Cast, history: list[ServiceRequest]) -> None:
    refresh_arrival_forecasts(TODAY)
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    declare_demand(lead, cast.leeds.pk, cast.timesheet.pk, TODAY + timedelta(days=7), 30, "A new client starts",
                   today=TODAY)
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=LONDON), tick=False):
        client.force_login(cast.payroll_lead.user)
        body = client.get("/api/units/payroll/demand-plan").json()
        html = client.get("/manage/demand/?unit=payroll").content.decode()
    weeks = body["weeks"]
    assert [w["week"] for w in weeks] == [(TODAY + timedelta(days=7 * k)).isoformat() for k in range(4)]
    capacity = 3 * 5 * 7.5  # three people, Monday to Friday, 09:00-12:30 and 13:30-17:30
    leeds_share = 3 / 4  # three of every four requests came from Leeds
    target = 2 * 7.5  # no agreement: the published turnaround of two working days
    for k, week in enumerate(weeks):
        planned = 10 - leeds_share * 10 + 30 if k == 1 else 10
        (row,) = week["services"]
        assert row["expected"] == pytest.approx(10)
        assert row["p10"] == poisson_quantile(10, 0.1) and row["p90"] == poisson_quantile(10, 0.9)
        assert row["declared"] == (30 if k == 1 else None)
        assert row["planned"] == pytest.approx(planned)
        assert row["effort_hours"] == pytest.approx(0.5)
        assert week["hours"] == pytest.approx(planned * 0.5)
        assert week["capacity_hours"] == pytest.approx(capacity)
        assert week["gap_hours"] == pytest.approx(planned * 0.5 - capacity)
        assert week["working_hours"] == pytest.approx(37.5)
        assert week["available_people"] == pytest.approx(3.0)
        assert week["required_people"] == erlang_people(planned / 37.5, 0.5, target - 0.5, 0.9)
        assert f"{hours_text(planned * 0.5)} of work, {hours_text(capacity)} of capacity" in html
    assert "A new client" not in html  # notes stay with the declaring unit
    assert "<td class=\"num\">33</td>" in html  # week 2: 10 - 7.5 + 30 = 32.5 planned, shown rounded half up


def test_only_the_units_lead_executives_and_admins_read_the_plan(client: Client, cast: Cast) -> None:
    for who, code in ((cast.payroll_agent, 403), (cast.consultant, 403), (cast.hr_agent, 403),
                      (cast.executive, 200), (cast.admin, 200), (cast.payroll_lead, 200)):
        client.force_login(who.user)
        assert client.get("/api/units/payroll/demand-plan").status_code == code, who
        assert client.get("/manage/demand/?unit=payroll").status_code == code, who
    client.force_login(cast.admin.user)
    assert client.get("/api/units/nowhere/demand-plan").status_code == 404
    assert client.get("/api/units/leeds/demand-plan").status_code == 422


@pytest.mark.parametrize(
    ("week", "count", "field", "message"),
    [
        ("2026-11-23", -5, "count", "0 to 100,000"),
        ("2026-11-23", "abc", "count", "is not a whole number"),
        ("2026-11-23", 100_001, "count", "0 to 100,000"),
        ("2026-11-16", 5, "week", "has begun or passed"),
        ("2026-11-09", 5, "week", "has begun or passed"),
        ("2026-11-25", 5, "week", "is not a Monday"),
        ("next week", 5, "week", "is not a date"),
    ],
)
def test_bad_declarations_are_refused_and_change_nothing(
    cast: Cast, week: str, count: object, field: str, message: str
) -> None:
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    with pytest.raises(Invalid) as refused:
        declare_demand(lead, cast.leeds.pk, cast.timesheet.pk, week, count, today=TODAY)
    assert field in refused.value.errors and message in refused.value.message
    assert not DeclaredDemand.objects.exists()


def test_declaring_needs_a_front_office_lead_and_an_active_service(cast: Cast) -> None:
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    for who, unit in ((cast.consultant, cast.leeds), (cast.payroll_lead, cast.payroll), (lead, cast.york)):
        with pytest.raises(Forbidden):
            declare_demand(who, unit.pk, cast.timesheet.pk, "2026-11-23", 5, today=TODAY)
    cast.grievance.active = False
    cast.grievance.save()
    with pytest.raises(Invalid, match="cannot ask"):
        declare_demand(lead, cast.leeds.pk, cast.grievance.pk, "2026-11-23", 5, today=TODAY)
    assert not DeclaredDemand.objects.exists()
    # A second declaration for the same week replaces the first.
    declare_demand(lead, cast.leeds.pk, cast.timesheet.pk, "2026-11-23", 5, today=TODAY)
    declare_demand(lead, cast.leeds.pk, cast.timesheet.pk, "2026-11-23", 8, today=TODAY)
    assert list(DeclaredDemand.objects.values_list("count", flat=True)) == [8]


def test_the_declare_page_keeps_what_was_typed_and_says_what_to_fix(
    client: Client, cast: Cast, history: list[ServiceRequest]
) -> None:
    refresh_arrival_forecasts(TODAY)
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    client.force_login(lead.user)
    sid = cast.timesheet.pk
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=LONDON), tick=False):
        page = client.get("/demand/declare/").content.decode()
        # Leeds's own forecast: three quarters of the service's 10 a week.
        assert "forecast 8" in page
        bad = client.post("/demand/declare/", {f"n-{sid}-2026-11-23": "12", f"n-{sid}-2026-11-30": "-3"})
        assert bad.status_code == 422
        text = bad.content.decode()
        assert 'value="-3"' in text and 'value="12"' in text and "0 to 100,000 requests, not -3" in text
        assert not DeclaredDemand.objects.exists()  # one bad box: nothing of the form is saved
        good = client.post("/demand/declare/", {f"n-{sid}-2026-11-23": "12", f"n-{sid}-2026-11-30": ""})
        assert good.status_code == 302
    assert list(DeclaredDemand.objects.values_list("week", "count")) == [(date(2026, 11, 23), 12)]


def test_a_service_too_new_for_its_own_forecast_takes_its_units_pattern(
    cast: Cast, history: list[ServiceRequest]
) -> None:
    from tandem.catalogue.models import Service
    from tandem.engines.forecast.arrivals import forecast

    newer = Service.objects.create(unit=cast.payroll, name="Pay query", slug="pay-query", summary="s",
                                   scope_includes="s", owner=cast.payroll_lead, turnaround_days=2)
    mondays = [TODAY - timedelta(days=14), TODAY - timedelta(days=7)]
    for monday in mondays:  # two weeks only: five requests on each Monday
        for k in range(5):
            actions.submit_request(cast.consultant, newer, {}, now=datetime.combine(monday, time(11, k), tzinfo=LONDON))
    assert refresh_arrival_forecasts(TODAY) == 2
    rows = list(ArrivalForecast.objects.filter(service=newer).order_by("day"))
    assert len(rows) == 35 and all("too little history of its own" in r.basis for r in rows)
    # The unit's series, day by day: the timesheets' pattern, and the newcomer's fives.
    unit = [PATTERN[(FIRST + timedelta(days=d)).weekday()] for d in range(70)]
    for monday in mondays:
        unit[(monday - FIRST).days] += 5
    whole = forecast(FIRST, unit, 35, holidays=lambda d: False)
    # Its share of the unit's arrivals since its first: 10 of 30 (two weeks of 10 timesheets, and its own 10).
    for row, day in zip(rows, whole.days, strict=True):
        assert row.day == day.day and row.expected == pytest.approx(day.expected * 10 / 30)


def test_last_weeks_forecasts_are_held_against_what_came(
    client: Client, cast: Cast, history: list[ServiceRequest]
) -> None:
    wednesday = datetime.combine(date(2026, 11, 11), time(15), tzinfo=LONDON)
    for k in range(3):  # a busier week than the pattern: 13 instead of 10
        actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=wednesday + timedelta(minutes=k))
    assert backfill_week_forecasts(TODAY, 2) == 2 * 5  # on 2 and 9 November, five whole weeks each
    accuracy = forecast_accuracy(cast.payroll, TODAY)
    assert [a.monday for a in accuracy] == [date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]
    assert [a.services for a in accuracy] == [0, 0, 1, 1]  # nothing was kept before 2 November
    assert [(a.forecast, a.actual) for a in accuracy[2:]] == [(pytest.approx(10), 10), (pytest.approx(10), 13)]
    # 13 lies within Poisson(10)'s 10th to 90th percentiles.
    assert poisson_quantile(10, 0.1) <= 13 <= poisson_quantile(10, 0.9) and accuracy[3].within == 1
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=LONDON), tick=False):
        client.force_login(cast.executive.user)
        (hr, payroll) = sorted(client.get("/api/demand/overview").json(), key=lambda u: u["unit"]["slug"])
        html = client.get("/demand/").content.decode()
        assert payroll["error_share"] == pytest.approx(3 / 23) and hr["error_share"] is None
        assert "off by 13 % over the four weeks" in html
        client.force_login(cast.payroll_lead.user)
        assert [u["unit"]["slug"] for u in client.get("/api/demand/overview").json()] == ["payroll"]
        client.force_login(cast.consultant.user)
        assert client.get("/api/demand/overview").status_code == 403
        assert client.get("/demand/").status_code == 403


def test_a_short_week_points_to_the_loans_that_would_cover_it(
    client: Client, cast: Cast, history: list[ServiceRequest]
) -> None:
    refresh_arrival_forecasts(TODAY)
    lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    declare_demand(lead, cast.leeds.pk, cast.timesheet.pk, "2026-11-23", 1000, today=TODAY)
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=LONDON), tick=False):
        client.force_login(cast.payroll_lead.user)
        html = client.get("/manage/demand/?unit=payroll").content.decode()
    # Week 2 needs (10 − 7.5 + 1000) × 0.5 h = 501.25 h against 112.5 h: short; the others are not.
    assert 'data-testid="borrow-2"' in html and 'data-testid="borrow-1"' not in html
    link = html.split('data-testid="borrow-2" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link == "/manage/demand/loans/?unit=payroll&week=2026-11-23"
    # The proposals for that week load into the page (the simulation: tandem/allocation/tests/test_plan_loans.py).
    assert 'id="loans-2026-11-23" hx-get="/manage/demand/loans/?unit=payroll&amp;week=2026-11-23"' in html
    assert "389 h short" in html.split('id="loans-2026-11-23"', 1)[1]  # 501.25 − 112.5 = 388.75, rounded


def test_the_lending_forecast_places_the_stored_forecast_day_by_day(cast: Cast, history: list[ServiceRequest]) -> None:
    from tandem.allocation.forecast import Clock, expected_arrivals
    from tandem.allocation.order import QueueOrder
    from tandem.work.effort import service_efforts

    refresh_arrival_forecasts(TODAY)
    start = datetime.combine(TODAY, time(9), tzinfo=LONDON)
    clock = Clock(cast.payroll, start, start + timedelta(days=5))  # Monday 09:00 to Saturday 09:00
    now = start - timedelta(minutes=1)
    arrivals = expected_arrivals(cast.payroll, now, clock, service_efforts(cast.payroll, now),
                                 QueueOrder.of(cast.payroll))
    per_day: dict[date, int] = {}
    for a in arrivals:
        day = datetime.fromtimestamp(int(clock.starts[int(a.at)]), LONDON).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {TODAY + timedelta(days=k): PATTERN[k] for k in range(5)}


def test_front_office_leads_are_asked_once_a_month(cast: Cast, history: list[ServiceRequest]) -> None:
    from tandem.demand.actions import ask_for_demand
    from tandem.notifications.models import Notification

    refresh_arrival_forecasts(TODAY)
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    york_lead = make_person("york_lead", cast.york, Role.LEAD)
    with time_machine.travel(datetime.combine(TODAY, time(10), tzinfo=LONDON), tick=False):
        assert ask_for_demand(TODAY) == 2
        assert ask_for_demand(TODAY + timedelta(days=3)) == 0  # the same month
        # The month's claim, not the notifications, says who was asked: a second worker asks nobody.
        assert DemandAsk.objects.filter(month=date(2026, 11, 1)).count() == 2
    asks = {n.recipient_id: n.message for n in Notification.objects.filter(kind=Notification.Kind.DEMAND_ASK)}
    assert set(asks) == {leeds_lead.pk, york_lead.pk}  # leads only: not the consultants, not the back office
    # Leeds's four weeks from Monday 23 November: three quarters of 10 a week, four weeks.
    assert "in the four weeks from Mon 23 Nov? Tandem expects about 30 requests" in asks[leeds_lead.pk]
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=LONDON), tick=False):
        assert ask_for_demand(date(2026, 12, 1)) == 2  # a new month


def test_the_plan_reads_what_the_worker_stored_not_the_units_events(cast: Cast, history: list[ServiceRequest]) -> None:
    """The learned effort and the requesting units' shares are worked out by the worker with the
    day's forecast (PlanInputs); a page view reads them. A service the worker has not reached
    yet has them worked out on the view, the same figures."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tandem.demand.models import PlanInputs
    from tandem.demand.queries import four_week_plan

    refresh_arrival_forecasts(TODAY)
    stored = PlanInputs.objects.get(service=cast.timesheet)
    assert (stored.made_on, stored.effort_seconds, stored.effort_learned) == (TODAY, 30 * 60, True)
    assert stored.shares == {str(cast.leeds.pk): 0.75, str(cast.york.pk): 0.25}  # three of every four from Leeds
    now = datetime.combine(TODAY, time(10), tzinfo=LONDON)
    with time_machine.travel(now, tick=False):
        with CaptureQueriesContext(connection) as read:
            weeks = four_week_plan(cast.payroll, TODAY, now=now)
        assert not [q for q in read.captured_queries if "work_event" in q["sql"] or "work_timeentry" in q["sql"]]
        assert [w.services[0].effort_hours for w in weeks] == [0.5] * 4
        PlanInputs.objects.all().delete()
        with CaptureQueriesContext(connection) as read:
            again = four_week_plan(cast.payroll, TODAY, now=now)
        assert [q for q in read.captured_queries if "work_event" in q["sql"]]  # worked out on the view
    assert [(w.hours, w.planned) for w in again] == [(w.hours, w.planned) for w in weeks]
