"""Agreement clocks on service requests, with frozen time, against a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tandem.agreements import actions as agreements
from tandem.agreements.models import Agreement
from tandem.notifications.models import Notification
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast
from tests.race import twice_at_once

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
H = 3600
DAY = int(7.5 * H)


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def submit(cast: Cast, when: datetime) -> ServiceRequest:
    with time_machine.travel(when, tick=False):
        return actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), now=when).request


def fresh(sr: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=sr.pk)


def test_it_starts_the_clock_on_the_published_turnaround_without_an_agreement(cast: Cast) -> None:
    sr = submit(cast, at(2026, 11, 23, 10, 0))  # Monday; the timesheet service promises 2 days
    assert sr.agreement is None and sr.resolve_seconds == 2 * DAY and sr.respond_seconds == H
    assert fresh(sr).resolve_by == at(2026, 11, 25, 10, 0)
    assert fresh(sr).respond_by == at(2026, 11, 23, 11, 0)
    assert fresh(sr).warn_at == at(2026, 11, 24, 15, 30)  # 12 of 15 working hours


def test_pause_and_resume_move_resolve_by_by_exactly_the_paused_working_time(cast: Cast) -> None:
    sr = submit(cast, at(2026, 11, 23, 10, 0))
    actions.start_request(cast.payroll_agent, sr.pk, now=at(2026, 11, 23, 11, 0))
    assert fresh(sr).first_response_at == at(2026, 11, 23, 11, 0)
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client?", now=at(2026, 11, 23, 12, 0))
    paused = fresh(sr)
    assert paused.resolve_by is None and paused.warn_at is None
    assert paused.clock_paused_at == at(2026, 11, 23, 12, 0)
    actions.provide_information(cast.consultant, sr.pk, "Acme.", now=at(2026, 11, 24, 10, 0))
    resumed = fresh(sr)
    # Paused: Monday 12:00-12:30 and 13:30-17:30, Tuesday 09:00-10:00 = 5 h 30 m of working time.
    assert resumed.paused_seconds == 5.5 * H and resumed.clock_paused_at is None
    assert resumed.resolve_by == at(2026, 11, 25, 16, 30)  # Wed 10:00 + 5 h 30 m, lunch skipped
    # Waiting on a third party does not pause this (default) clock.
    actions.wait_third_party(cast.payroll_agent, sr.pk, "Acme accounts", now=at(2026, 11, 24, 11, 0))
    assert fresh(sr).resolve_by == at(2026, 11, 25, 16, 30)


def test_the_most_specific_agreement_wins(cast: Cast) -> None:
    general = agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="General", first_response_minutes=60, resolution_minutes=900
    )
    leeds = agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="Leeds", first_response_minutes=30, resolution_minutes=450,
        requesting_unit=cast.leeds,
    )
    agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="Customers", first_response_minutes=30, resolution_minutes=300,
        channel="external",
    )
    sr = submit(cast, at(2026, 11, 23, 10, 0))
    assert sr.agreement == leeds and fresh(sr).resolve_by == at(2026, 11, 24, 10, 0)
    other = actions.submit_request(
        cast.other_consultant, cast.timesheet, dict(TIMESHEET_OK), now=at(2026, 11, 23, 10, 0)
    ).request
    assert other.agreement == general


def test_changing_the_agreement_while_paused_keeps_the_paused_time(cast: Cast) -> None:
    sr = submit(cast, at(2026, 11, 23, 10, 0))
    actions.start_request(cast.payroll_agent, sr.pk, now=at(2026, 11, 23, 10, 30))
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which week?", now=at(2026, 11, 23, 11, 0))
    actions.provide_information(cast.consultant, sr.pk, "Last.", now=at(2026, 11, 23, 15, 0))  # 3 h paused
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client?", now=at(2026, 11, 23, 16, 0))
    quick = agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="Quick", first_response_minutes=30, resolution_minutes=600,
        pause_statuses=["waiting_requester", "waiting_third_party"],
    )
    with pytest.raises(Forbidden):
        actions.change_agreement(cast.payroll_agent, sr.pk, quick.pk, now=at(2026, 11, 24, 9, 0))
    actions.change_agreement(cast.payroll_lead, sr.pk, quick.pk, now=at(2026, 11, 24, 9, 0))
    changed = fresh(sr)
    assert changed.agreement == quick and changed.resolve_seconds == 600 * 60
    assert changed.paused_seconds == 3 * H and changed.resolve_by is None  # still paused
    event = Event.objects.get(request=sr, kind=Event.Kind.AGREEMENT_CHANGED)
    assert event.data["paused_seconds"] == 3 * H and event.data["previous"] is None
    actions.provide_information(cast.consultant, sr.pk, "Acme.", now=at(2026, 11, 24, 10, 0))
    done = fresh(sr)
    # Second pause: Monday 16:00-17:30 and Tuesday 09:00-10:00 = 2 h 30 m; 5 h 30 m in all.
    assert done.paused_seconds == 5.5 * H
    # 10 h of target + 5 h 30 m paused = 15 h 30 m of working time from Monday 10:00.
    assert done.resolve_by == at(2026, 11, 25, 10, 30)


def test_it_does_not_count_a_holiday_or_the_lunch_break(cast: Cast) -> None:
    sr = submit(cast, at(2026, 12, 24, 16, 0))  # Christmas Eve; 25 and 28 December are holidays
    assert fresh(sr).resolve_by == at(2026, 12, 30, 16, 0)


def test_it_crosses_the_clocks_going_back(cast: Cast) -> None:
    agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="Hour", first_response_minutes=30, resolution_minutes=60
    )
    sr = submit(cast, at(2026, 10, 23, 16, 45))  # Friday, BST; clocks go back on Sunday
    got = fresh(sr)
    assert got.respond_by == at(2026, 10, 23, 17, 15)
    assert got.resolve_by == at(2026, 10, 26, 9, 15) and got.resolve_by.utcoffset() is not None
    assert at(2026, 10, 26, 9, 15).utcoffset() == timedelta(0)  # GMT again


def test_a_unit_calendar_governs_its_clocks(cast: Cast) -> None:
    agreements.set_calendar(
        cast.payroll_lead, cast.payroll,
        {"tz": "Europe/London", "weekly": {str(d): [["08:00", "16:00"]] for d in range(5)}, "country": "GB"},
    )
    sr = submit(cast, at(2026, 11, 23, 15, 0))  # default terms: 2 days of 8 h
    assert sr.resolve_seconds == 16 * H and fresh(sr).resolve_by == at(2026, 11, 25, 15, 0)


def test_it_refuses_bad_targets_and_calendars_naming_the_field(cast: Cast) -> None:
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("resolution_minutes", {"first_response_minutes": 60, "resolution_minutes": 0}),
        ("first_response_minutes", {"first_response_minutes": -5, "resolution_minutes": 60}),
    )
    for field, kwargs in cases:
        with pytest.raises(Invalid) as refused:
            agreements.define_agreement(cast.payroll_lead, cast.timesheet, name="Bad", **kwargs)
        assert field in refused.value.errors and field in refused.value.message
    assert not Agreement.objects.exists()
    inverted = {"tz": "Europe/London", "weekly": {"0": [["17:00", "09:00"]]}}
    with pytest.raises(Invalid) as refused:
        agreements.set_calendar(cast.payroll_lead, cast.payroll, inverted)
    assert "weekly" in refused.value.errors and "ends before it starts" in refused.value.message
    unknown = {"tz": "Europe/London", "weekly": {"0": [["09:00", "17:00"]]}, "country": "XX"}
    with pytest.raises(Invalid) as refused:
        agreements.set_calendar(cast.payroll_lead, cast.payroll, unknown)
    assert "country" in refused.value.errors and "unknown country code 'XX'" in refused.value.message
    closed = {"tz": "Europe/London", "weekly": {}}
    with pytest.raises(Invalid) as refused:
        agreements.set_calendar(cast.payroll_lead, cast.payroll, closed)
    assert "weekly" in refused.value.errors  # a clock on it would never end
    with pytest.raises(Forbidden):
        agreements.set_calendar(cast.payroll_agent, cast.payroll, {"tz": "Europe/London", "weekly": {}})


def _race(now: datetime) -> list[tuple[int, int]]:
    """Two callers on the same due alerts (``tests.race``)."""
    return twice_at_once(lambda: actions.fire_due_sla_alerts(now))


def test_the_breach_worker_warns_once_and_reports_a_breach_once(cast: Cast) -> None:
    sr = submit(cast, at(2026, 11, 23, 10, 0))
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk, now=at(2026, 11, 23, 10, 5))
    assert actions.fire_due_sla_alerts(at(2026, 11, 24, 15, 0)) == (0, 0)
    assert sorted(_race(at(2026, 11, 24, 15, 31))) == [(0, 0), (1, 0)]
    assert sorted(_race(at(2026, 11, 25, 10, 1))) == [(0, 0), (0, 1)]
    assert _race(at(2026, 11, 26, 10, 0)) == [(0, 0), (0, 0)]
    got = fresh(sr)
    assert got.breach_warned_at == at(2026, 11, 24, 15, 31) and got.breached_at == at(2026, 11, 25, 10, 1)
    assert Event.objects.filter(request=sr, kind="sla_warning").count() == 1
    assert Event.objects.filter(request=sr, kind="sla_breached").count() == 1
    notes = sorted(Notification.objects.filter(kind__startswith="sla_").values_list("kind", "recipient__user__username"))
    assert notes == [
        ("sla_breached", "consultant"), ("sla_breached", "payroll_agent"), ("sla_breached", "payroll_lead"),
        ("sla_warning", "payroll_agent"), ("sla_warning", "payroll_lead"),
    ]


def test_the_breach_worker_leaves_paused_and_resolved_requests_alone(cast: Cast) -> None:
    paused = submit(cast, at(2026, 11, 23, 10, 0))
    actions.start_request(cast.payroll_agent, paused.pk, now=at(2026, 11, 23, 10, 30))
    actions.ask_requester(cast.payroll_agent, paused.pk, "Which week?", now=at(2026, 11, 23, 11, 0))
    done = submit(cast, at(2026, 11, 23, 10, 0))
    actions.start_request(cast.payroll_agent, done.pk, now=at(2026, 11, 23, 10, 30))
    actions.resolve_request(cast.payroll_agent, done.pk, "Done.", now=at(2026, 11, 23, 12, 0))
    assert actions.fire_due_sla_alerts(at(2026, 12, 10, 10, 0)) == (0, 0)
    assert fresh(done).resolve_by == at(2026, 11, 25, 10, 0)  # kept: it shows the target was met


def test_the_worker_command_fires_alerts_once(cast: Cast, capsys) -> None:
    submit(cast, at(2026, 11, 23, 10, 0))
    with time_machine.travel(at(2026, 11, 26, 10, 0), tick=False):
        call_command("worker", "--once")
        call_command("worker", "--once")
    out = capsys.readouterr().out
    assert "reported 1 breached" in out and "reported 0 breached" in out


def test_the_api_and_the_page_show_the_clock(cast: Cast, client) -> None:
    sr = submit(cast, at(2026, 11, 23, 10, 0))
    actions.start_request(cast.payroll_agent, sr.pk, now=at(2026, 11, 23, 11, 0))
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client?", now=at(2026, 11, 23, 12, 0))
    actions.provide_information(cast.consultant, sr.pk, "Acme.", now=at(2026, 11, 24, 10, 0))
    actions.ask_requester(cast.payroll_agent, sr.pk, "And the week?", now=at(2026, 11, 24, 11, 0))
    with time_machine.travel(at(2026, 11, 24, 13, 0), tick=False):
        sla = ApiClient(cast.consultant).get(f"/api/requests/{sr.pk}").json()["sla"]
        client.force_login(cast.consultant.user)
        page = client.get(f"/requests/{sr.pk}/").content.decode()
    assert sla["agreement"] == {"id": None, "name": "Published turnaround (2 working days)"}
    # Worked Mon 10:00-12:00 and Tue 10:00-11:00; paused 5 h 30 m, then Tue 11:00-12:30.
    assert (sla["elapsed_seconds"], sla["paused_seconds"]) == (3 * H, 7 * H)
    assert sla["remaining_seconds"] == 12 * H and sla["resolve_by"] is None
    assert not sla["breached"] and not sla["running"]
    words = "3 h of 2 working days used; paused 7 h waiting on you; the clock is stopped"
    assert sla["summary"] == words and words in page
