"""Missed first responses: one ``sla_response_missed`` alert to the unit's leads, claimed once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tandem.notifications.models import Notification
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest
from tests.cast import TIMESHEET_OK, Cast
from tests.race import twice_at_once

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def submit(cast: Cast, when: datetime) -> ServiceRequest:
    with time_machine.travel(when, tick=False):
        return actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request


def fire(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return actions.fire_due_response_alerts()


def race(when: datetime) -> list[int]:
    """Two callers at once: threads on PostgreSQL, one after the other on SQLite."""
    return twice_at_once(lambda: actions.fire_due_response_alerts(when))


def test_a_missed_first_response_is_reported_once_to_the_units_leads(cast: Cast) -> None:
    sr = submit(cast, at(23, 10))  # Monday 10:00; the default terms: a first response within 1 working hour
    assert ServiceRequest.objects.get(pk=sr.pk).respond_by == at(23, 11)
    assert fire(at(23, 10, 59)) == 0
    assert fire(at(23, 11, 1)) == 1
    assert fire(at(23, 15)) == 0
    got = ServiceRequest.objects.get(pk=sr.pk)
    assert got.response_alerted_at == at(23, 11, 1)
    [event] = Event.objects.filter(request=sr, kind="sla_response_missed")
    assert event.data["respond_by"] == at(23, 11).isoformat()
    notes = list(Notification.objects.filter(kind="sla_response_missed").values_list("recipient__user__username", flat=True))
    assert notes == ["payroll_lead"]
    # A late first response afterwards raises nothing more; the resolution alerts are separate.
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk, now=at(23, 15, 30))
    assert fire(at(24, 10)) == 0
    assert Event.objects.filter(request=sr, kind="sla_response_missed").count() == 1


def test_no_alert_when_the_first_response_came_in_time(cast: Cast) -> None:
    sr = submit(cast, at(23, 10))
    actions.start_request(cast.payroll_agent, sr.pk, now=at(23, 10, 30))
    assert fire(at(23, 11, 1)) == 0 and fire(at(30, 10)) == 0
    cancelled = submit(cast, at(23, 10))
    actions.cancel_request(cast.consultant, cancelled.pk, "Not needed.", now=at(23, 10, 15))
    assert fire(at(23, 11, 1)) == 0  # finished requests are out of the index
    assert not Event.objects.filter(kind="sla_response_missed").exists()
    assert not Notification.objects.filter(kind="sla_response_missed").exists()


def test_two_callers_raise_one_event(cast: Cast) -> None:
    sr = submit(cast, at(23, 10))
    assert sorted(race(at(23, 11, 1))) == [0, 1]
    assert Event.objects.filter(request=sr, kind="sla_response_missed").count() == 1
    assert Notification.objects.filter(kind="sla_response_missed").count() == 1


def test_the_worker_reports_missed_first_responses(cast: Cast, capsys) -> None:
    submit(cast, at(23, 10))
    with time_machine.travel(at(23, 11, 30), tick=False):
        call_command("worker", "--once")
        call_command("worker", "--once")
    out = capsys.readouterr().out
    assert "reported 1 missed first response" in out and "reported 0 missed first response" in out
