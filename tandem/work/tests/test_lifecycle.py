"""The life cycle of a service request through its actions, against a real database."""

from __future__ import annotations

import pytest
from django.core import mail

from tandem.notifications.actions import send_digests
from tandem.notifications.models import Notification
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.work import actions
from tandem.work.models import Comment, Event, ServiceRequest, Status
from tandem.work.queries import can_see_payload, requests_visible_to, requests_with_payload_visible_to
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def submit(cast: Cast, **overrides) -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, **overrides}).request


def kinds(sr: ServiceRequest) -> list[str]:
    return list(Event.objects.filter(request=sr).order_by("seq").values_list("kind", flat=True))


def test_it_works_a_request_from_submission_to_acceptance(cast: Cast) -> None:
    sr = submit(cast)
    assert sr.status == Status.NEW and sr.unit == cast.payroll and sr.intake["hours"] == "37.5"
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client approved the overtime?")
    assert ServiceRequest.objects.get(pk=sr.pk).holder == cast.consultant.display_name
    actions.provide_information(cast.consultant, sr.pk, "Acme Ltd, approved by Jo.")
    actions.wait_third_party(cast.payroll_agent, sr.pk, "Acme Ltd accounts")
    actions.resume_request(cast.payroll_agent, sr.pk)
    actions.resolve_request(cast.payroll_agent, sr.pk, "Hours corrected to 37.5.")
    actions.accept_resolution(cast.consultant, sr.pk)
    sr.refresh_from_db()
    assert sr.status == Status.CLOSED and not sr.is_open and sr.closed_at is not None
    assert kinds(sr) == [
        "submitted", "assigned", "started", "asked_requester", "information_provided",
        "waiting_third_party", "resumed", "resolved", "accepted",
    ]
    assert list(Event.objects.filter(request=sr).values_list("seq", flat=True)) == list(range(1, 10))


def test_it_tells_each_side_when_it_is_their_move_after_commit(cast: Cast) -> None:
    sr = submit(cast)
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which week?")
    actions.provide_information(cast.consultant, sr.pk, "The last one.")
    actions.resolve_request(cast.payroll_agent, sr.pk, "Done.")
    got = {(n.recipient.user.username, n.kind) for n in Notification.objects.select_related("recipient__user")}
    assert got == {
        ("payroll_agent", "assigned"),
        ("consultant", "information_needed"),
        ("payroll_agent", "information_provided"),
        ("consultant", "resolved"),
    }
    assert send_digests() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["consultant@example.test", "payroll_agent@example.test"]
    # One digest per person per hour: a new notification waits for the next window.
    actions.reopen_request(cast.consultant, sr.pk, "Still wrong.")
    assert send_digests() == 0


def test_it_sends_no_email_to_someone_who_switched_it_off(cast: Cast) -> None:
    cast.consultant.email_notifications = False
    cast.consultant.save()
    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.resolve_request(cast.payroll_agent, sr.pk, "Done.")
    assert send_digests() == 0 and mail.outbox == []
    assert Notification.objects.filter(recipient=cast.consultant, read_at__isnull=True).count() == 1


def test_it_refuses_an_illegal_transition_and_changes_nothing(cast: Cast) -> None:
    sr = submit(cast)
    with pytest.raises(Conflict, match="cannot become resolved"):
        actions.resolve_request(cast.payroll_agent, sr.pk, "Done")
    sr.refresh_from_db()
    assert sr.status == Status.NEW and sr.last_event_seq == 1 and kinds(sr) == ["submitted"]


def test_it_refuses_a_second_resolve(cast: Cast) -> None:
    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.resolve_request(cast.payroll_agent, sr.pk, "Done")
    with pytest.raises(Conflict, match="already resolved"):
        actions.resolve_request(cast.payroll_agent, sr.pk, "Done again")
    assert kinds(sr).count("resolved") == 1


def test_it_refuses_work_from_another_unit(cast: Cast) -> None:
    sr = submit(cast)
    # A colleague of the requester sees it but may not work it; other units do not even see it.
    with pytest.raises(Forbidden, match="Only Payroll"):
        actions.start_request(cast.colleague, sr.pk)
    with pytest.raises(NotFound):
        actions.start_request(cast.hr_agent, sr.pk)
    with pytest.raises(NotFound):
        actions.start_request(cast.other_consultant, sr.pk)
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.NEW


def test_it_lets_only_a_lead_give_work_to_someone_else(cast: Cast) -> None:
    sr = submit(cast)
    with pytest.raises(Forbidden, match="pick it yourself"):
        actions.assign_request(cast.payroll_agent, sr.pk, cast.payroll_agent2.pk)
    actions.assign_request(cast.payroll_agent, sr.pk, cast.payroll_agent.pk)
    with pytest.raises(Forbidden, match="hand it over"):  # no taking work from a colleague
        actions.assign_request(cast.payroll_agent2, sr.pk, cast.payroll_agent2.pk)
    assert ServiceRequest.objects.get(pk=sr.pk).assignee == cast.payroll_agent
    with pytest.raises(Invalid, match="does not work in Payroll"):
        actions.assign_request(cast.payroll_lead, sr.pk, cast.hr_agent.pk)


def test_it_hides_a_confidential_request_from_outsiders(cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}).request
    assert requests_visible_to(cast.colleague.user).filter(pk=sr.pk).count() == 0
    assert requests_visible_to(cast.payroll_agent.user).filter(pk=sr.pk).count() == 0
    assert requests_visible_to(cast.hr_agent.user).filter(pk=sr.pk).count() == 1
    with pytest.raises(NotFound):
        actions.add_comment(cast.colleague, sr.pk, "hello")


def test_the_payload_query_and_the_payload_check_are_the_same_rule(cast: Cast) -> None:
    grievance = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}).request
    timesheet = submit(cast)
    # Who reads which payload, as docs/administration.md tells it: a confidential request's
    # stays with the requester, the providing unit and administrators; the requesting unit's
    # colleagues and executives read an ordinary one's.
    expected = {
        "consultant": {grievance.pk, timesheet.pk}, "colleague": {timesheet.pk}, "other_consultant": set(),
        "payroll_agent": {timesheet.pk}, "payroll_lead": {timesheet.pk}, "hr_agent": {grievance.pk},
        "executive": {timesheet.pk}, "admin": {grievance.pk, timesheet.pk},
    }
    for username, readable in expected.items():
        person = getattr(cast, username)
        assert set(requests_with_payload_visible_to(person.user).values_list("pk", flat=True)) == readable, username
        for sr in requests_visible_to(person.user):  # the check is asked of requests one may see
            assert can_see_payload(person, sr) is (sr.pk in readable), (username, sr.title)


def test_it_refuses_missing_and_wrongly_typed_intake(cast: Cast) -> None:
    with pytest.raises(Invalid) as refused:
        actions.submit_request(cast.consultant, cast.timesheet, {"hours": "lots", "week_ending": "2026-02-30"})
    errors = refused.value.errors
    assert set(errors) == {"worker", "hours", "week_ending", "reason"}
    assert "real date" in errors["week_ending"][0]
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_unknown_fields_when_strict(cast: Cast) -> None:
    with pytest.raises(Invalid, match="favourite_colour"):
        actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, "favourite_colour": "red"},
                               strict=True)


def test_it_refuses_a_megabyte_comment_and_keeps_nothing(cast: Cast) -> None:
    sr = submit(cast)
    with pytest.raises(Invalid, match="limit is 20,000"):
        actions.add_comment(cast.consultant, sr.pk, "x" * 1_000_000)
    assert Comment.objects.count() == 0 and kinds(sr) == ["submitted"]


def test_it_creates_one_request_per_idempotency_key(cast: Cast) -> None:
    first = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, idempotency_key="k-1")
    again = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, idempotency_key="k-1")
    assert first.created and not again.created and first.request.pk == again.request.pk
    with pytest.raises(Conflict, match="different details"):
        actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, "hours": "40"},
                               idempotency_key="k-1")
    assert ServiceRequest.objects.count() == 1


def test_it_keeps_internal_notes_from_the_requester(cast: Cast) -> None:
    from tandem.work.queries import comments_for, timeline_for

    sr = submit(cast)
    actions.add_comment(cast.payroll_agent, sr.pk, "Client is slow to approve", internal=True)
    actions.add_comment(cast.payroll_agent, sr.pk, "Send the approval email", advice=True)
    assert [c.body for c in comments_for(cast.consultant, sr)] == ["Send the approval email"]
    assert len(comments_for(cast.payroll_agent2, sr)) == 2
    assert "note_added" not in [e.kind for e in timeline_for(cast.consultant, sr)]
    with pytest.raises(Forbidden):
        actions.add_comment(cast.consultant, sr.pk, "sneaky", internal=True)
    advice = Comment.objects.get(is_advice=True)
    actions.acknowledge_advice(cast.consultant, advice.pk)
    with pytest.raises(Conflict):
        actions.acknowledge_advice(cast.consultant, advice.pk)


def test_it_closes_resolutions_after_the_reopen_window_once(cast: Cast) -> None:
    import datetime as dt

    from django.utils import timezone

    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.resolve_request(cast.payroll_agent, sr.pk, "Done", now=timezone.now() - dt.timedelta(days=10))
    with pytest.raises(Conflict, match="reopen window"):
        actions.reopen_request(cast.consultant, sr.pk, "No")
    assert actions.close_expired_resolutions() == 1
    assert actions.close_expired_resolutions() == 0
    assert kinds(sr)[-1] == "closed"


def test_events_cannot_be_edited_or_deleted(cast: Cast) -> None:
    sr = submit(cast)
    event = Event.objects.get(request=sr)
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(request=sr).update(kind="resolved")
