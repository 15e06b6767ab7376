"""Slip notices while there is still time: the worker, run on its own schedule over a small
scripted history, tells a promise that will clearly be missed at a refresh at least four working
hours before the promised time, tells a promise that is kept nothing, and calls a request still
open at the promised time *missed*, never "will probably miss". The instants are checked
against a plain-Python recomputation of the schedule and of the working time (the cast's units
keep the default calendar: Monday to Friday 09:00-12:30 and 13:30-17:30, London, which is UTC
in November)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem.notifications.models import Notification
from tandem.promises import books
from tandem.promises.actions import refresh_forecasts
from tandem.promises.models import Promise
from tandem.promises.queries import LAST_CALL_SECONDS, WARN_AHEAD_SECONDS
from tandem.work import actions
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
HOURS = ((9, 0, 12, 30), (13, 30, 17, 30))  # the default calendar's working hours, each weekday
EVERY = timedelta(hours=4)  # the worker's regular refresh


@pytest.fixture(autouse=True)
def _fresh_books() -> None:
    books.forget_books()


def working_seconds(a: datetime, b: datetime) -> int:
    """Working seconds in [a, b) on the default calendar, day by day (no holiday falls in the
    weeks these tests use)."""
    total, day = 0, a.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < b:
        if day.weekday() < 5:
            for h1, m1, h2, m2 in HOURS:
                lo = max(a, day.replace(hour=h1, minute=m1))
                hi = min(b, day.replace(hour=h2, minute=m2))
                total += max(0, int((hi - lo).total_seconds()))
        day += timedelta(days=1)
    return total


def last_call(promised: datetime) -> datetime:
    """The latest instant with four working hours and five minutes (a few rounds of the worker
    to spare) before ``promised``, walked back minute by minute."""
    assert LAST_CALL_SECONDS == 4 * 3600 + 5 * 60
    t = promised
    while working_seconds(t, promised) < LAST_CALL_SECONDS:
        t -= timedelta(minutes=1)
    while working_seconds(t + timedelta(minutes=1), promised) >= LAST_CALL_SECONDS:
        t += timedelta(minutes=1)
    return t


def schedule(quoted: datetime, promised: datetime, until: datetime) -> list[datetime]:
    """The worker's refreshes of a promise nobody moves: every four hours from the quote, and at
    the last call when it falls before the next regular one."""
    out: list[datetime] = []
    t, call = quoted, last_call(promised)
    while True:
        t = call if t < call < t + EVERY else t + EVERY
        if t > until:
            return out
        out.append(t)


def submit(cast: Cast, at: datetime) -> int:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=at).request.pk


def history(cast: Cast, count: int = 30) -> datetime:
    """``count`` timesheet requests, one each working hour, each started at once and resolved
    the next working day at the same time: one working day (7.5 h) each."""
    at = MONDAY
    for n in range(count):
        pk = submit(cast, at)
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=at + timedelta(minutes=5))
        actions.start_request(cast.payroll_agent, pk, now=at + timedelta(minutes=10))
        actions.resolve_request(cast.payroll_agent, pk, "Corrected.", now=at + timedelta(days=1))
        at += timedelta(hours=1) if (n + 1) % 7 else timedelta(hours=18)
    return at + timedelta(days=1)  # every one of them resolved


def run_worker(pk: int, until: datetime) -> list[datetime]:
    """``tandem worker``'s forecast duty for one promise, run at each instant it falls due, up to
    ``until`` or the first notice; returns the instants it ran."""
    ran: list[datetime] = []
    while True:
        promise = Promise.objects.get(request_id=pk)
        due = promise.refresh_due_at
        if promise.slipped_at is not None or due is None or due > until:
            return ran
        refresh_forecasts(now=due)
        ran.append(due)


def slip_notices(pk: int) -> list[Notification]:
    return list(Notification.objects.filter(kind=Notification.Kind.PROMISE_SLIPPING, request_id=pk))


def test_a_promise_that_will_clearly_be_missed_is_told_at_least_four_working_hours_ahead(cast: Cast) -> None:
    now = history(cast)
    for _ in range(40):  # a long queue ahead, and nobody works it
        submit(cast, now)
    pk = submit(cast, now + timedelta(minutes=1))
    promise = Promise.objects.get(request_id=pk)
    quoted, promised = promise.quoted_at, promise.promised_at
    assert working_seconds(quoted, promised) > 2 * WARN_AHEAD_SECONDS  # time to warn, on paper

    ran = run_worker(pk, promised)

    promise.refresh_from_db()
    told = promise.slipped_at
    assert told is not None and told == ran[-1]
    assert ran == schedule(quoted, promised, told)  # the worker's own schedule, nothing else
    assert working_seconds(told, promised) >= WARN_AHEAD_SECONDS
    [notice] = slip_notices(pk)
    assert "will probably miss its promised time" in notice.message and "Tell the customer early" in notice.message
    assert notice.recipient_id == cast.consultant.pk


def test_a_promise_that_is_kept_is_told_nothing(cast: Cast) -> None:
    now = history(cast)
    pk = submit(cast, now)
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=now)
    actions.start_request(cast.payroll_agent, pk, now=now)
    promise = Promise.objects.get(request_id=pk)
    call = last_call(promise.promised_at)
    assert promise.quoted_at < call

    ran = run_worker(pk, call)  # going as similar requests went, up to the last call

    assert call in ran
    done = call + timedelta(minutes=30)
    assert working_seconds(done, promise.promised_at) > 0
    actions.resolve_request(cast.payroll_agent, pk, "Corrected.", now=done)
    run_worker(pk, promise.promised_at + timedelta(days=2))
    promise.refresh_from_db()
    assert promise.slipped_at is None and slip_notices(pk) == []


def test_a_request_still_open_at_the_promised_time_is_told_it_missed_never_that_it_will_probably(cast: Cast) -> None:
    now = history(cast)
    pk = submit(cast, now)
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=now)
    actions.start_request(cast.payroll_agent, pk, now=now)
    promise = Promise.objects.get(request_id=pk)
    quoted, promised = promise.quoted_at, promise.promised_at

    ran = run_worker(pk, promised + timedelta(days=2))  # going as similar requests went, then stuck

    promise.refresh_from_db()
    told = promise.slipped_at
    assert told is not None and told >= promised  # recorded as the miss, at or after the time
    assert ran == [quoted, *schedule(quoted, promised, told)]  # the start made it due at once
    assert ran[-2] < promised <= told  # the first refresh at or after the promised time
    [notice] = slip_notices(pk)
    assert "missed its promised time" in notice.message and "will probably" not in notice.message
    assert "now expects it by" in notice.message
