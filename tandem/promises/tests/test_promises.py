"""Quotes, stored promises, live forecasts, slip notices and the integrity report, on a real
database with the clock held still."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.notifications.models import Notification
from tandem.promises import books
from tandem.promises.actions import _tell_slip, next_refresh, refresh_forecasts, request_moved
from tandem.promises.models import Basis, Promise
from tandem.promises.queries import LAST_CALL_SECONDS, WARN_AHEAD_SECONDS, quote
from tandem.work import actions, clock
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # 09:30 in London, a working Monday


@pytest.fixture(autouse=True)
def _fresh_books() -> None:
    books.forget_books()


def submit(cast: Cast, at: datetime) -> int:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=at).request.pk


def history(cast: Cast, count: int, *, hours: float, start: datetime = MONDAY) -> datetime:
    """``count`` timesheet requests, one every working hour or so, each done ``hours`` later."""
    at = start
    for n in range(count):
        pk = submit(cast, at)
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=at + timedelta(minutes=5))
        actions.start_request(cast.payroll_agent, pk, now=at + timedelta(minutes=10))
        actions.resolve_request(cast.payroll_agent, pk, "Corrected.", now=at + timedelta(hours=hours))
        at += timedelta(hours=1) if (n + 1) % 7 else timedelta(hours=18)
    return at


def test_a_service_without_history_is_quoted_its_published_turnaround_and_says_so(cast: Cast) -> None:
    q = quote(cast.timesheet, cast.consultant, now=MONDAY)
    assert q.basis == Basis.TURNAROUND and q.p50_at == q.promised_at
    assert "published turnaround" in q.explanation and q.promised_at > MONDAY


def test_with_history_the_quote_reads_the_queue_and_similar_requests(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    q = quote(cast.timesheet, cast.consultant, now=now)
    assert q.basis == Basis.HISTORY and q.confidence == 85
    assert now < q.p50_at <= q.promised_at
    assert "85 % likely by" in q.explanation and "of work for" in q.explanation
    # Two working hours each, nothing queued: promised within a working day, not the 3 published.
    assert q.promised_at - now < timedelta(days=2)


def test_submission_keeps_its_promise_and_moves_never_rewrite_it(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    pk = submit(cast, now)
    promise = Promise.objects.get(request_id=pk)
    promised, p50 = promise.promised_at, promise.p50_at
    assert promise.quoted_at == now and promise.explanation
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=now + timedelta(minutes=1))
    promise.refresh_from_db()
    assert promise.refresh_due_at == now + timedelta(minutes=1)  # the move made the forecast due
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        refreshed, _slips = refresh_forecasts(now=now + timedelta(minutes=2))
    promise.refresh_from_db()
    assert refreshed == 1 and promise.forecast_refreshed_at == now + timedelta(minutes=2)
    assert (promise.promised_at, promise.p50_at) == (promised, p50)


def test_a_slipping_promise_is_told_once_with_its_reason(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    pk = submit(cast, now)
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=now)
    actions.start_request(cast.payroll_agent, pk, now=now + timedelta(minutes=1))
    actions.ask_requester(cast.payroll_agent, pk, "Which week?", now=now + timedelta(minutes=2))
    later = now + timedelta(days=6)  # far beyond anything the history took
    refreshed, slips = refresh_forecasts(now=later)
    assert (refreshed, slips) == (1, 1)
    promise = Promise.objects.get(request_id=pk)
    assert promise.slipped_at == later and "waiting for information from the requester" in promise.slip_reason
    told = Notification.objects.filter(kind=Notification.Kind.PROMISE_SLIPPING, request_id=pk)
    assert [n.recipient_id for n in told] == [cast.consultant.pk]
    request_moved(pk, later)
    assert refresh_forecasts(now=later + timedelta(minutes=1)) == (1, 0)  # refreshed, not told again
    assert told.count() == 1


def test_a_settled_request_is_not_forecast(cast: Cast) -> None:
    now = history(cast, 25, hours=2)
    pk = submit(cast, now)
    actions.cancel_request(cast.consultant, pk, "Not needed after all.", now=now + timedelta(minutes=1))
    assert refresh_forecasts(now=now + timedelta(minutes=2)) == (0, 0)


def test_the_quote_api_answers_and_refuses_clearly(cast: Cast) -> None:
    history(cast, 25, hours=2)
    api = ApiClient(cast.consultant)
    body = api.post("/api/quotes", {"service": "timesheet-correction"}).json()
    assert body["basis"] == "history" and body["confidence"] == 85
    assert body["p50_at"] <= body["promised_at"] and "likely by" in body["explanation"]
    missing = api.post("/api/quotes", {"service": "no-such-service"})
    assert missing.status_code == 404 and "GET /api/services" in missing.json()["detail"]
    typo = api.post("/api/quotes", {"service": "timesheet-correction", "chanel": "external"})
    assert typo.status_code == 422
    external = ApiClient(cast.other_consultant).post("/api/quotes", {"service": "grievance", "channel": "external"})
    assert external.status_code == 422 and "internal channel" in external.json()["detail"]
    assert api.post("/api/quotes", {"service": "grievance"}).json()["basis"] == "turnaround"
    assert ApiClient().post("/api/quotes", {"service": "timesheet-correction"}).status_code == 401
    assert not Promise.objects.filter(request__isnull=True).exists()


def test_a_requests_promise_is_seen_by_whoever_sees_the_request(cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}, now=MONDAY).request
    mine = ApiClient(cast.consultant).get(f"/api/requests/{sr.pk}/promise")
    assert mine.status_code == 200 and mine.json()["basis"] == "turnaround"
    assert ApiClient(cast.other_consultant).get(f"/api/requests/{sr.pk}/promise").status_code == 404
    assert ApiClient(cast.payroll_agent).get(f"/api/requests/{sr.pk}/promise").status_code == 404


def test_the_integrity_report_counts_kept_and_broken_promises(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    kept = submit(cast, now)
    actions.assign_request(cast.payroll_lead, kept, cast.payroll_agent.pk, now=now)
    actions.start_request(cast.payroll_agent, kept, now=now)
    actions.resolve_request(cast.payroll_agent, kept, "Done.", now=now + timedelta(minutes=30))
    late = submit(cast, now + timedelta(minutes=1))
    after = Promise.objects.get(request_id=late).promised_at + timedelta(hours=3)
    actions.assign_request(cast.payroll_lead, late, cast.payroll_agent.pk, now=after)
    actions.start_request(cast.payroll_agent, late, now=after)
    actions.resolve_request(cast.payroll_agent, late, "Done late.", now=after)
    with time_machine.travel(after + timedelta(hours=1), tick=False):
        api = ApiClient(cast.payroll_lead)
        body = api.get("/api/promises/report", {"weeks": 4}).json()
        [row] = body["rows"]
        assert row["name"] == cast.timesheet.name and row["promises"] == 32
        broken = round((1 - row["kept_share"]) * row["promises"])
        assert broken >= 1 and row["mean_lateness_hours"] > 0
        assert ApiClient(cast.consultant).get("/api/promises/report").status_code == 403
        assert api.get("/api/promises/report", {"weeks": 0}).status_code == 422
        client = Client()
        client.login(username="payroll_lead", password=PASSWORD)
        page = client.get("/promises/?weeks=4")
        assert page.status_code == 200 and cast.timesheet.name in page.content.decode()
        csv = client.get("/promises/?weeks=4&group=unit&format=csv").content.decode()
        assert csv.splitlines()[0].startswith("unit,unit,promises") and "Payroll" in csv
        bad = client.get("/promises/?weeks=7")
        assert bad.status_code == 422 and "weeks" in bad.content.decode()
        client.login(username="consultant", password=PASSWORD)
        assert client.get("/promises/").status_code == 403


def test_the_submit_form_shows_the_promise_before_anyone_commits(cast: Cast) -> None:
    history(cast, 25, hours=2)
    client = Client()
    client.login(username="consultant", password=PASSWORD)
    page = client.get(f"/catalogue/{cast.timesheet.slug}/request/").content.decode()
    assert 'data-testid="quote"' in page and "85 % likely by" in page and "50 % by" in page


def test_a_slip_is_told_while_there_is_time_and_a_late_one_is_called_missed(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    pk = submit(cast, now)
    promise = Promise.objects.select_related("request").get(request_id=pk)
    sr = promise.request
    cal = clock.calendar(sr)
    last_call = cal.subtract(promise.promised_at, LAST_CALL_SECONDS)
    # The worker looks again at the last moment a notice is still worth sending.
    assert promise.refresh_due_at == min(now + timedelta(hours=4), last_call) or last_call <= now
    assert cal.between(last_call, promise.promised_at) == WARN_AHEAD_SECONDS + 5 * 60  # rounds to spare
    before = last_call - timedelta(minutes=30)
    assert next_refresh(promise, sr, before) == last_call
    # A slip found before the promised time is told as one.
    assert _tell_slip(promise, sr, promise.queue_hours, before) == 1
    told = Notification.objects.get(kind=Notification.Kind.PROMISE_SLIPPING, request_id=pk)
    assert "will probably miss its promised time" in told.message and "Tell the customer early" in told.message


def test_a_slip_found_after_the_promised_time_is_not_called_a_slip(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    pk = submit(cast, now)
    actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk, now=now)
    actions.start_request(cast.payroll_agent, pk, now=now + timedelta(minutes=1))
    actions.ask_requester(cast.payroll_agent, pk, "Which week?", now=now + timedelta(minutes=2))
    refresh_forecasts(now=now + timedelta(days=6))  # the worker was down until after the promise
    told = Notification.objects.get(kind=Notification.Kind.PROMISE_SLIPPING, request_id=pk)
    assert "missed its promised time" in told.message and "will probably" not in told.message
