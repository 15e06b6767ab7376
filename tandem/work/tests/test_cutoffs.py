"""The times on a request: the run its service's cut-offs place it in (late only for the run it
asked for), and the published turnaround counted on the service's calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from tandem.catalogue.models import CutOff
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

LONDON = ZoneInfo("Europe/London")


def payroll_cutoff(cast: Cast, *, asks_for_run: bool = True) -> CutOff:
    if asks_for_run:
        cast.timesheet.run_field = "week_ending"
        cast.timesheet.save()
    return CutOff.objects.create(
        service=cast.timesheet, weekday=1, time=time(12), description="Timesheets by Tuesday 12:00 for Friday's payroll",
        run_weekday=4, run_name="payroll",
    )


def submit(cast: Cast, now: datetime, week_ending: str) -> ServiceRequest:
    intake = {**TIMESHEET_OK, "week_ending": week_ending}
    sr = actions.submit_request(cast.consultant, cast.timesheet, intake, now=now).request
    return ServiceRequest.objects.get(pk=sr.pk)


def test_a_timesheet_sent_on_sunday_evening_is_in_time_for_fridays_payroll(client: Client, cast: Cast) -> None:
    payroll_cutoff(cast)
    sunday = datetime(2026, 12, 13, 21, tzinfo=LONDON)
    with time_machine.travel(sunday, tick=False):
        sr = submit(cast, sunday, "2026-12-13")
        assert sr.late_for_cutoff == "" and sr.run_on == date(2026, 12, 18) and sr.run_name == "payroll"
        assert sr.run_cutoff_at == datetime(2026, 12, 15, 12, tzinfo=LONDON)
        for who in (cast.consultant, cast.payroll_agent):
            client.force_login(who.user)
            html = client.get(f"/requests/{sr.pk}/").content.decode()
            assert "In time for Fri 18 Dec&#x27;s payroll" in html and "Missed" not in html
            run = client.get(f"/api/requests/{sr.pk}").json()["run"]
            assert run == {
                "on": "2026-12-18", "name": "payroll", "cutoff_at": "2026-12-15T12:00:00Z", "late": False,
                "missed": "", "summary": "In time for Fri 18 Dec's payroll",
            }


def test_a_timesheet_after_its_weeks_cutoff_missed_that_run_and_is_in_the_next(client: Client, cast: Cast) -> None:
    payroll_cutoff(cast)
    wednesday = datetime(2026, 11, 25, 9, tzinfo=LONDON)
    with time_machine.travel(wednesday, tick=False):
        late = submit(cast, wednesday, "2026-11-22")  # asks for Friday 27 Nov's payroll, closed Tuesday 24
        assert late.late_for_cutoff == "Fri 27 Nov's payroll (cut-off Tue 24 Nov, 12:00)"
        assert late.run_on == date(2026, 12, 4) and late.run_cutoff_at == datetime(2026, 12, 1, 12, tzinfo=LONDON)
        for who in (cast.consultant, cast.payroll_agent):
            client.force_login(who.user)
            html = client.get(f"/requests/{late.pk}/").content.decode()
            assert "Missed Fri 27 Nov&#x27;s payroll (cut-off Tue 24 Nov, 12:00)</span>; in Fri 4 Dec&#x27;s payroll" in html
        assert client.get(f"/api/requests/{late.pk}").json()["run"]["late"] is True
    # The same day's timesheet for the week that ends next Sunday is in time for its own run.
    early = submit(cast, wednesday, "2026-11-29")
    assert early.late_for_cutoff == "" and early.run_on == date(2026, 12, 4)


def test_exactly_at_the_cutoff_is_in_time(cast: Cast) -> None:
    payroll_cutoff(cast)
    sr = submit(cast, datetime(2026, 11, 24, 12, tzinfo=LONDON), "2026-11-22")
    assert sr.late_for_cutoff == "" and sr.run_on == date(2026, 11, 27)


def test_a_service_whose_requests_ask_for_no_run_is_never_late(cast: Cast) -> None:
    payroll_cutoff(cast, asks_for_run=False)
    sr = submit(cast, datetime(2026, 11, 25, 9, tzinfo=LONDON), "2026-11-01")
    assert sr.late_for_cutoff == "" and sr.run_on == date(2026, 12, 4)


def test_a_service_without_cutoffs_has_no_run(client: Client, cast: Cast) -> None:
    sr = submit(cast, datetime(2026, 11, 24, 12, 30, tzinfo=LONDON), "2026-11-22")
    assert sr.late_for_cutoff == "" and sr.run_on is None and sr.run_cutoff_at is None
    client.force_login(cast.consultant.user)
    assert client.get(f"/api/requests/{sr.pk}").json()["run"] is None
    assert 'data-testid="run"' not in client.get(f"/requests/{sr.pk}/").content.decode()


def test_cutoffs_follow_the_providing_units_time_zone(cast: Cast) -> None:
    cast.payroll.time_zone = "America/New_York"
    cast.payroll.save()
    payroll_cutoff(cast)
    # 12:30 in London is 07:30 in New York: in time for New York's Tuesday 12:00.
    sr = submit(cast, datetime(2026, 11, 24, 12, 30, tzinfo=LONDON), "2026-11-22")
    assert sr.late_for_cutoff == "" and sr.run_cutoff_at == datetime(2026, 11, 24, 12, tzinfo=ZoneInfo("America/New_York"))


def test_the_published_turnaround_skips_the_calendars_holidays(cast: Cast) -> None:
    cast.timesheet.turnaround_days = 2
    cast.timesheet.save()
    submitted = datetime(2026, 12, 24, 10, tzinfo=LONDON)
    sr = submit(cast, submitted, "2026-12-20")
    # Working hours 09:00-12:30 and 13:30-17:30 (7.5 h a day); England's Christmas Day (Fri 25) and the
    # Boxing Day holiday (Mon 28, for Saturday 26) are not working days. Two days are 15 h: Thursday
    # gives 6.5 h, Tuesday 29 7.5 h, and the last hour ends on Wednesday 30 at 10:00.
    hours = {date(2026, 12, 24): 6.5, date(2026, 12, 29): 7.5}
    remaining = 15 - sum(hours.values())
    expected = datetime(2026, 12, 30, 9, tzinfo=LONDON) + timedelta(hours=remaining)
    assert sr.due_at == expected == datetime(2026, 12, 30, 10, tzinfo=LONDON)
    # The default terms' clock runs to the same instant.
    assert sr.agreement_id is None and sr.resolve_by == sr.due_at
