"""Reminding an approver who has not decided: after the service's working days (2 by default,
in its calendar), then at most once a working day, claimed so two workers never remind twice;
the approver is told (notification and digest with the decision link), the requester sees when.
The times are checked against a plain recount of the working days (Monday to Friday here)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tandem.catalogue import actions as catalogue
from tandem.notifications.actions import send_digests
from tandem.notifications.models import Notification
from tandem.org.models import Person
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person
from tests.race import twice_at_once

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)  # 23 November 2026 is a Monday


@pytest.fixture
def approver(cast: Cast) -> Person:
    person = make_person("account_manager", cast.leeds, first="Alice", last="Manager")
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, person.pk, "hours", Decimal("40"))
    cast.timesheet.refresh_from_db()
    return person


def submit(cast: Cast, when: datetime) -> ServiceRequest:
    with time_machine.travel(when, tick=False):
        return actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, "hours": "45"}, now=when).request


def remind(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return actions.remind_waiting_approvers(when)


def reminders(sr: ServiceRequest) -> list[datetime]:
    return list(Event.objects.filter(request=sr, kind=Event.Kind.APPROVAL_REMINDED).order_by("seq")
                .values_list("at", flat=True))


def working_days_after(start: datetime, days: int) -> datetime:
    """A plain recount: the same time of day ``days`` weekdays later (no holidays this week)."""
    moment = start
    while days:
        moment += timedelta(days=1)
        days -= moment.weekday() < 5
    return moment


def race(when: datetime) -> list[int]:
    return twice_at_once(lambda: actions.remind_waiting_approvers(when))


def test_the_approver_is_reminded_after_two_working_days_then_once_a_working_day(cast: Cast, approver: Person) -> None:
    asked = at(23, 10)
    sr = submit(cast, asked)
    first = working_days_after(asked, 2)
    assert first == at(25, 10)
    assert ServiceRequest.objects.get(pk=sr.pk).approval_remind_at == first
    assert remind(at(24, 10)) == 0 and remind(first - timedelta(minutes=1)) == 0
    assert sorted(race(first)) == [0, 1]  # two workers: one reminder
    assert remind(at(25, 17)) == 0  # not twice in a working day
    # Thursday, Friday, then not at the weekend, then Monday.
    for when in (working_days_after(first, 1), working_days_after(first, 2)):
        assert remind(when) == 1
    assert remind(at(28, 12)) == 0 and remind(at(29, 23)) == 0 and remind(at(30, 9, 59)) == 0
    assert remind(at(30, 10)) == 1
    assert reminders(sr) == [at(25, 10), at(26, 10), at(27, 10), at(30, 10)]
    event = Event.objects.filter(request=sr, kind=Event.Kind.APPROVAL_REMINDED).first()
    assert event is not None and event.actor is None and event.data["approver"] == approver.pk
    told = Notification.objects.filter(recipient=approver, request=sr, message__startswith="Reminder:")
    assert told.count() == 4
    assert told.first().kind == Notification.Kind.APPROVAL_NEEDED  # type: ignore[union-attr]
    assert "waiting since 23 Nov" in told.first().message  # type: ignore[union-attr]


def test_the_digest_carries_the_reminder_and_the_requester_sees_when(cast: Cast, approver: Person) -> None:
    sr = submit(cast, at(23, 10))
    with time_machine.travel(at(23, 10, 5), tick=False):
        send_digests()
    mail.outbox.clear()
    assert remind(at(25, 10)) == 1
    with time_machine.travel(at(25, 11), tick=False):
        assert send_digests() >= 1
    [sent] = [m for m in mail.outbox if approver.user.email in m.to]
    assert f"Reminder: approve or decline {sr.reference}" in sent.body
    assert re.search(r"/approvals/[^/\s]+/", str(sent.body))  # the decision link, as on the first ask
    client = Client()
    assert client.login(username=cast.consultant.user.username, password=PASSWORD)
    page = client.get(f"/requests/{sr.pk}/")
    assert "reminded on" in page.text and "25 Nov, 10:00" in page.text


def test_a_decision_or_a_service_that_never_reminds_stops_the_reminders(cast: Cast, approver: Person) -> None:
    sr = submit(cast, at(23, 10))
    with time_machine.travel(at(24, 12), tick=False):
        actions.approve_request(approver, sr.pk, now=at(24, 12))
    assert ServiceRequest.objects.get(pk=sr.pk).approval_remind_at is None
    assert remind(at(30, 10)) == 0 and reminders(sr) == []
    # Cancelled while waiting: not reminded either.
    other = submit(cast, at(23, 10))
    with time_machine.travel(at(24, 12), tick=False):
        actions.cancel_request(cast.consultant, other.pk, "Not needed any more.", now=at(24, 12))
    assert ServiceRequest.objects.get(pk=other.pk).status == Status.CANCELLED
    assert remind(at(30, 10)) == 0
    # Never (0), set through the API; a bad number is refused in words and changes nothing.
    api = ApiClient(cast.payroll_lead)
    bad = api.post(f"/api/services/{cast.timesheet.slug}/approval",
                   {"approver": approver.pk, "remind_after_days": 31})
    assert bad.status_code == 422 and "30" in str(bad.json())
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.approval_remind_days == 2 and cast.timesheet.approval_above == Decimal("40")
    ok = api.post(f"/api/services/{cast.timesheet.slug}/approval", {"approver": approver.pk, "remind_after_days": 0})
    assert ok.status_code == 200 and ok.json()["remind_after_days"] == 0
    cast.timesheet.refresh_from_db()
    never = submit(cast, at(23, 10))
    assert ServiceRequest.objects.get(pk=never.pk).approval_remind_at is None
    assert remind(at(30, 10)) == 0


def test_the_worker_reminds_in_its_round(cast: Cast, approver: Person) -> None:
    sr = submit(cast, at(23, 10))
    out = StringIO()
    with time_machine.travel(at(25, 10, 30), tick=False):
        call_command("worker", "--once", stdout=out)
    assert "reminded 1 approver(s)" in out.getvalue()
    assert reminders(sr) == [at(25, 10, 30)]
