"""Cut-offs at submission: late requests are marked, and both sides see it on the request page."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from tandem.catalogue.models import CutOff
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

LONDON = ZoneInfo("Europe/London")


def cutoff(cast: Cast) -> CutOff:
    return CutOff.objects.create(
        service=cast.timesheet, weekday=1, time=time(12), description="Timesheets by Tuesday 12:00 for Friday's payroll"
    )


def submit(cast: Cast, now: datetime) -> ServiceRequest:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=now).request
    return ServiceRequest.objects.get(pk=sr.pk)


def test_it_marks_a_request_after_the_weeks_cutoff_late(cast: Cast) -> None:
    cutoff(cast)
    late = submit(cast, datetime(2026, 11, 24, 12, 30, tzinfo=LONDON))
    assert late.late_for_cutoff == "Timesheets by Tuesday 12:00 for Friday's payroll"
    assert late.enters_processing_at == datetime(2026, 12, 1, 12, tzinfo=LONDON)


def test_it_leaves_a_request_in_time_unmarked(cast: Cast) -> None:
    cutoff(cast)
    for now in (datetime(2026, 11, 24, 11, 59, tzinfo=LONDON), datetime(2026, 11, 30, 9, tzinfo=LONDON)):
        sr = submit(cast, now)
        assert sr.late_for_cutoff == "" and sr.enters_processing_at is None


def test_a_service_without_cutoffs_is_never_late(cast: Cast) -> None:
    sr = submit(cast, datetime(2026, 11, 24, 12, 30, tzinfo=LONDON))
    assert sr.late_for_cutoff == "" and sr.enters_processing_at is None


def test_cutoffs_follow_the_providing_units_time_zone(cast: Cast) -> None:
    cast.payroll.time_zone = "America/New_York"
    cast.payroll.save()
    cutoff(cast)
    # 12:30 in London is 07:30 in New York: in time for New York's Tuesday 12:00.
    sr = submit(cast, datetime(2026, 11, 24, 12, 30, tzinfo=LONDON))
    assert sr.late_for_cutoff == ""


def test_the_request_page_says_it_is_late_and_when_it_enters_processing(client: Client, cast: Cast) -> None:
    cutoff(cast)
    with time_machine.travel(datetime(2026, 11, 24, 15, tzinfo=LONDON), tick=False):
        sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
        for who in (cast.consultant, cast.payroll_agent):
            client.force_login(who.user)
            html = client.get(f"/requests/{sr.pk}/").content.decode()
            assert "Late for cut-off: Timesheets by Tuesday 12:00 for Friday&#x27;s payroll" in html
            assert "enters processing" in html and "1 Dec 2026, 12:00" in html


def test_the_request_page_is_quiet_when_in_time(client: Client, cast: Cast) -> None:
    cutoff(cast)
    sr = submit(cast, datetime(2026, 11, 23, 10, tzinfo=LONDON))
    client.force_login(cast.consultant.user)
    assert "Late for cut-off" not in client.get(f"/requests/{sr.pk}/").content.decode()
