"""Approval before work starts, end to end on a real database: the rule that asks for it, the
approver told, deciding from the page, the API and the email link (its confirm page, reuse,
expiry), the refusals (someone else 403, no reason 422, nothing to decide 409) changing nothing,
the clock paused as waiting on the approver, and the evidence attributing the wait to them,
checked against a plain recount."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from tandem.catalogue import actions as catalogue
from tandem.insights.actions import rebuild_all
from tandem.insights.journey import journey
from tandem.insights.models import WeeklyFlow
from tandem.insights.queries import flows_visible_to, waiting_matrix
from tandem.notifications.actions import send_digests
from tandem.notifications.models import Notification
from tandem.org.models import Person
from tandem.promises.models import Promise
from tandem.refusal import Conflict, Forbidden, Invalid
from tandem.work import actions
from tandem.work.actions.deadlines import fire_due_response_alerts, fire_due_sla_alerts
from tandem.work.approval_links import approval_token
from tandem.work.models import Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
H = 3600


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)  # 23 November 2026 is a Monday


@pytest.fixture
def approver(cast: Cast) -> Person:
    """The client's account manager, in the requesting branch: approves timesheets above 40 hours."""
    person = make_person("account_manager", cast.leeds, first="Alice", last="Manager")
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, person.pk, "hours", Decimal("40"))
    cast.timesheet.refresh_from_db()
    return person


def submit(cast: Cast, hours: str = "45", when: datetime | None = None) -> ServiceRequest:
    intake = {**TIMESHEET_OK, "hours": hours}
    if when is None:
        return actions.submit_request(cast.consultant, cast.timesheet, intake).request
    with time_machine.travel(when, tick=False):
        return actions.submit_request(cast.consultant, cast.timesheet, intake, now=when).request


def fresh(sr: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=sr.pk)


def kinds(sr: ServiceRequest) -> list[str]:
    return list(Event.objects.filter(request=sr).order_by("seq").values_list("kind", flat=True))


def signed_in(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


# --- the rule and who is told ------------------------------------------------------------------


def test_it_asks_the_approver_only_above_the_amount_and_tells_them(cast: Cast, approver: Person) -> None:
    under = submit(cast, "37.5")
    assert fresh(under).status == Status.NEW and fresh(under).approver is None

    sr = fresh(submit(cast, "45"))
    assert sr.status == Status.WAITING_APPROVAL and sr.approver == approver
    assert sr.holder == "Alice Manager (to approve)"
    asked = Event.objects.get(request=sr, kind=Event.Kind.APPROVAL_ASKED)
    assert asked.actor is None and asked.from_status == Status.NEW and asked.to_status == Status.WAITING_APPROVAL
    assert asked.data["why"] == "Corrected hours 45 is above 40"
    told = Notification.objects.get(recipient=approver, request=sr)
    assert told.kind == Notification.Kind.APPROVAL_NEEDED and "Corrected hours 45 is above 40" in told.message
    assert not Promise.objects.filter(request=sr).exists()  # nothing is promised before the approval
    # Nobody approves their own request.
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, cast.consultant.pk, "", None)
    cast.timesheet.refresh_from_db()
    assert fresh(submit(cast, "45")).status == Status.NEW


def test_an_approval_rule_is_refused_in_words_when_it_cannot_work(cast: Cast, approver: Person) -> None:
    with pytest.raises(Invalid) as refused:
        catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, approver.pk, "worker", Decimal("1"))
    assert "no number field 'worker'" in refused.value.message and "hours" in refused.value.message
    with pytest.raises(Invalid):
        catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, approver.pk, "hours", None)
    with pytest.raises(Forbidden):
        catalogue.set_approval(cast.payroll_agent, cast.timesheet.pk, approver.pk, "", None)
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.approver == approver and cast.timesheet.approval_above == Decimal("40")


# --- from the page ------------------------------------------------------------------------------


def test_the_approver_approves_from_the_request_page_and_the_work_starts(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    client = signed_in(approver)
    page = client.get(f"/requests/{sr.pk}/")
    assert page.status_code == 200
    assert "Your approval is asked" in page.text and "Corrected hours 45 is above 40" in page.text
    response = client.post(f"/requests/{sr.pk}/approve/", {"approve-note": "Agreed with the client."})
    assert response.status_code == 302
    sr = fresh(sr)
    assert sr.status == Status.NEW and sr.approved_at is not None and sr.waiting_on == ""
    approved = Event.objects.get(request=sr, kind=Event.Kind.APPROVED)
    assert approved.actor == approver and approved.data == {"note": "Agreed with the client."}
    assert Notification.objects.filter(recipient=cast.consultant, kind=Notification.Kind.APPROVED).count() == 1
    assert Promise.objects.get(request=sr).quoted_at == sr.approved_at
    # The agent can now take it.
    actions.start_request(cast.payroll_agent, sr.pk)


def test_a_decline_from_the_page_needs_a_reason_and_ends_the_request(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    client = signed_in(approver)
    empty = client.post(f"/requests/{sr.pk}/decline/", {"decline-reason": "   "})
    assert empty.status_code == 422 and "Reason is empty" in empty.text
    assert fresh(sr).status == Status.WAITING_APPROVAL and kinds(sr)[-1] == Event.Kind.APPROVAL_ASKED
    response = client.post(f"/requests/{sr.pk}/decline/", {"decline-reason": "The client did not agree to 45 h."})
    assert response.status_code == 302
    sr = fresh(sr)
    assert sr.status == Status.DECLINED and not sr.is_open and sr.closed_at is not None
    declined = Event.objects.get(request=sr, kind=Event.Kind.DECLINED)
    assert declined.actor == approver and declined.data == {"reason": "The client did not agree to 45 h."}
    told = Notification.objects.get(recipient=cast.consultant, kind=Notification.Kind.DECLINED)
    assert "The client did not agree to 45 h." in told.message
    assert "Declined by Alice Manager: The client did not agree to 45 h." in signed_in(cast.consultant).get(
        f"/requests/{sr.pk}/").text


def test_someone_else_cannot_decide_from_the_page(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    response = signed_in(cast.payroll_lead).post(f"/requests/{sr.pk}/approve/", {})
    assert response.status_code == 403 and "Only Alice Manager can approve or decline" in response.text
    assert fresh(sr).status == Status.WAITING_APPROVAL


# --- through the API ----------------------------------------------------------------------------


def test_the_api_decides_and_refuses_what_it_must(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    plain = submit(cast, "10")
    before = kinds(sr)
    # Someone who sees the request but is not its approver: 403, nothing changes.
    response = ApiClient(cast.payroll_lead).post(f"/api/requests/{sr.pk}/approve", {})
    assert response.status_code == 403 and "Only Alice Manager" in response.json()["detail"]
    # Someone who may not even see it: 404, as for any request they cannot see.
    assert ApiClient(cast.other_consultant).post(f"/api/requests/{sr.pk}/approve", {}).status_code == 404
    api = ApiClient(approver)
    response = api.post(f"/api/requests/{sr.pk}/decline", {"reason": ""})
    assert response.status_code == 422 and "Reason is empty" in response.json()["detail"]
    assert kinds(sr) == before and fresh(sr).status == Status.WAITING_APPROVAL
    # A request that needs no approval: 409.
    assert ApiClient(cast.payroll_lead).post(f"/api/requests/{plain.pk}/approve", {}).status_code == 409

    got = api.get(f"/api/requests/{sr.pk}").json()
    assert got["status"] == "waiting_approval" and got["approver"]["name"] == "Alice Manager"
    assert got["sla"]["resolve_by"] is None and got["sla"]["respond_by"] is None
    response = api.post(f"/api/requests/{sr.pk}/approve", {"note": ""})
    assert response.status_code == 200 and response.json()["status"] == "new"
    again = api.post(f"/api/requests/{sr.pk}/decline", {"reason": "Changed my mind."})
    assert again.status_code == 409 and "already approved by Alice Manager" in again.json()["detail"]
    assert kinds(sr)[-1] == Event.Kind.APPROVED and fresh(sr).status == Status.NEW


def test_the_work_cannot_start_before_the_approval(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    with pytest.raises(Conflict):
        actions.start_request(cast.payroll_agent, sr.pk)
    with pytest.raises(Conflict):
        actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    assert fresh(sr).status == Status.WAITING_APPROVAL


# --- the email link -----------------------------------------------------------------------------


def test_the_email_link_shows_a_confirm_page_and_only_its_post_decides(cast: Cast, approver: Person) -> None:
    sr = submit(cast)
    assert send_digests() >= 1
    body = str(next(m.body for m in mail.outbox if approver.user.email in m.to))
    link = re.search(r"approve or decline \(a page asks you to confirm\): (\S+)", body)
    assert link is not None
    path = "/" + link.group(1).split("/", 3)[3]  # the path of SITE_URL/approvals/<token>/
    scanner = Client()  # a mail scanner opening the link: no cookies, no sign-in
    page = scanner.get(path)
    assert page.status_code == 200 and f"Approve {sr.reference}" in page.text
    assert fresh(sr).status == Status.WAITING_APPROVAL  # opening decides nothing

    empty = scanner.post(path, {"decision": "decline", "decline-reason": ""})
    assert empty.status_code == 422 and fresh(sr).status == Status.WAITING_APPROVAL
    done = scanner.post(path, {"decision": "approve", "approve-note": "Fine."})
    assert done.status_code == 200 and "goes to Payroll's queue" in done.text
    assert fresh(sr).status == Status.NEW
    assert Event.objects.get(request=sr, kind=Event.Kind.APPROVED).actor == approver

    events = kinds(sr)
    again = scanner.get(path)
    assert again.status_code == 200 and "already approved by Alice Manager on" in again.text
    twice = scanner.post(path, {"decision": "decline", "decline-reason": "No."})
    assert twice.status_code == 409 and "already approved by Alice Manager" in twice.text
    assert kinds(sr) == events and fresh(sr).status == Status.NEW


def test_an_expired_or_forged_link_changes_nothing(cast: Cast, approver: Person, settings) -> None:  # type: ignore[no-untyped-def]
    when = at(23, 10)
    sr = submit(cast, when=when)
    with time_machine.travel(when, tick=False):
        token = approval_token(sr.pk, approver.pk)
    with time_machine.travel(when + timedelta(days=settings.TANDEM_APPROVAL_LINK_DAYS, seconds=1), tick=False):
        page = Client().get(f"/approvals/{token}/")
        assert page.status_code == 410 and "This approval link has expired" in page.text
        post = Client().post(f"/approvals/{token}/", {"decision": "approve"})
        assert post.status_code == 410
    assert fresh(sr).status == Status.WAITING_APPROVAL and kinds(sr)[-1] == Event.Kind.APPROVAL_ASKED
    forged = approval_token(sr.pk, cast.payroll_lead.pk)[:-3] + "AAA"
    assert Client().post(f"/approvals/{forged}/", {"decision": "approve"}).status_code == 404
    # A genuine link for someone who is not the approver decides nothing either.
    other = approval_token(sr.pk, cast.payroll_lead.pk)
    response = Client().post(f"/approvals/{other}/", {"decision": "approve"})
    assert response.status_code == 403 and "Only Alice Manager can approve or decline" in response.text
    assert fresh(sr).status == Status.WAITING_APPROVAL


# --- the clock and the evidence -----------------------------------------------------------------


def working_seconds_default_calendar(start: datetime, end: datetime) -> int:
    """A plain recount on the default calendar (Monday to Friday 09:00–12:30 and 13:30–17:30,
    London), minute by minute: no holidays fall in the weeks these tests use."""
    total, t = 0, start
    while t < end:
        local = t.astimezone(LONDON)
        minutes = local.hour * 60 + local.minute
        if local.weekday() < 5 and (9 * 60 <= minutes < 12 * 60 + 30 or 13 * 60 + 30 <= minutes < 17 * 60 + 30):
            total += 60
        t += timedelta(minutes=1)
    return total


def test_the_wait_pauses_the_clock_and_the_evidence_puts_it_on_the_approver(cast: Cast, approver: Person) -> None:
    submitted, approved, started, resolved = at(23, 10), at(24, 15), at(25, 9, 30), at(25, 16)
    sr = submit(cast, when=submitted)
    waiting = fresh(sr)
    assert waiting.clock_paused_at == submitted and waiting.resolve_by is None and waiting.warn_at is None
    assert waiting.respond_by is None
    # Nothing can fall due while it waits, however long.
    assert fire_due_sla_alerts(at(30, 12)) == (0, 0) and fire_due_response_alerts(at(30, 12)) == 0
    with time_machine.travel(approved, tick=False):
        actions.approve_request(approver, sr.pk, now=approved)
    wait = working_seconds_default_calendar(submitted, approved)
    assert wait == 6.5 * H + 5 * H  # Mon 10:00–17:30 and Tue 09:00–15:00, each less the lunch hour
    sr = fresh(sr)
    assert sr.paused_seconds == wait and sr.clock_paused_at is None
    assert sr.respond_by == at(24, 16)  # one working hour from the approval
    # Two working days (15 h) plus the wait, counted from submission: the deadline moved by the wait exactly.
    assert sr.resolve_by is not None
    assert working_seconds_default_calendar(submitted, sr.resolve_by) == 15 * H + wait
    with time_machine.travel(started, tick=False):
        actions.start_request(cast.payroll_agent, sr.pk, now=started)
    with time_machine.travel(resolved, tick=False):
        actions.resolve_request(cast.payroll_agent, sr.pk, "Hours corrected.", now=resolved)

    rebuild_all()
    row = WeeklyFlow.objects.get(service=cast.timesheet)
    queued = working_seconds_default_calendar(approved, started)
    in_progress = working_seconds_default_calendar(started, resolved)
    assert row.waiting_approval_seconds == wait
    assert row.queued_seconds == queued and row.in_progress_seconds == in_progress
    assert row.total_seconds == wait + queued + in_progress
    matrix = waiting_matrix(flows_visible_to(cast.payroll_lead.user))
    assert matrix == [{
        "requesting_unit": "Leeds branch", "unit": "Payroll", "resolved": 1,
        "front_waits_on_back_hours": (queued + in_progress) / 3600, "back_waits_on_front_hours": 0.0,
        "waits_on_third_party_hours": 0.0, "waits_on_other_team_hours": 0.0, "waits_on_approver_hours": wait / 3600,
    }]
    story = journey(cast.consultant, fresh(sr), now=at(26, 9))
    waits = [s for s in story.segments if s.phase == "waiting_approval"]
    assert [(s.whose, s.working_seconds) for s in waits] == [("Alice Manager", wait)]
    assert "waiting on Alice Manager to approve it" in story.sentence
