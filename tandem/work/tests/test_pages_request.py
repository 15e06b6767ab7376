"""The request page and its moves, through the HTTP client against a real database."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.test import Client
from django.utils import timezone

from tandem.notifications.models import Notification
from tandem.work import actions
from tandem.work.models import Comment, Event, ServiceRequest, Status
from tests.cast import TIMESHEET_OK, Cast


def signed_in(client: Client, person) -> Client:
    client.logout()
    client.force_login(person.user)
    return client


def submit(cast: Cast, **kwargs) -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, **kwargs).request


def status_of(sr: ServiceRequest) -> str:
    return ServiceRequest.objects.get(pk=sr.pk).status


def events_of(sr: ServiceRequest) -> list[str]:
    return list(Event.objects.filter(request=sr).order_by("seq").values_list("kind", flat=True))


def test_it_shows_the_request_to_the_requester_their_colleague_and_the_providing_unit(
    client: Client, cast: Cast
) -> None:
    sr = submit(cast)
    for who in (
        cast.consultant,
        cast.colleague,
        cast.payroll_agent,
        cast.payroll_lead,
        cast.executive,
        cast.admin,
    ):
        response = signed_in(client, who).get(f"/requests/{sr.pk}/")
        html = response.content.decode()
        assert response.status_code == 200, who
        assert sr.reference in html and "Payroll queue" in html and "Ann Smith" in html


def test_it_answers_404_to_anyone_else(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    for who in (cast.other_consultant, cast.hr_agent):
        assert signed_in(client, who).get(f"/requests/{sr.pk}/").status_code == 404
    assert signed_in(client, cast.consultant).get("/requests/999999/").status_code == 404


def test_it_answers_404_not_403_for_a_confidential_request_opened_by_an_outsider(
    client: Client, cast: Cast
) -> None:
    sr = actions.submit_request(
        cast.consultant, cast.grievance, {"details": "My manager shouts"}
    ).request
    for who in (cast.colleague, cast.payroll_agent, cast.other_consultant):
        response = signed_in(client, who).get(f"/requests/{sr.pk}/")
        assert response.status_code == 404 and b"My manager shouts" not in response.content
        assert (
            signed_in(client, who)
            .post(f"/requests/{sr.pk}/comment/", {"comment-comment": "hi"})
            .status_code
            == 404
        )
    assert (
        b"My manager shouts" in signed_in(client, cast.hr_agent).get(f"/requests/{sr.pk}/").content
    )


def test_it_shows_an_executive_a_confidential_request_without_its_details(
    client: Client, cast: Cast
) -> None:
    sr = actions.submit_request(
        cast.consultant, cast.grievance, {"details": "My manager shouts"}
    ).request
    html = signed_in(client, cast.executive).get(f"/requests/{sr.pk}/").content.decode()
    assert "Confidential: details visible to the requester and HR only" in html
    assert "My manager shouts" not in html


def test_it_works_a_request_from_queue_to_acceptance_through_the_pages(
    client: Client, cast: Cast
) -> None:
    sr = submit(cast)
    url = f"/requests/{sr.pk}"
    signed_in(client, cast.payroll_agent)
    assert client.post(f"{url}/pick/").status_code == 302 and status_of(sr) == Status.ASSIGNED
    assert client.post(f"{url}/start/").status_code == 302 and status_of(sr) == Status.IN_PROGRESS
    client.post(f"{url}/ask/", {"ask-question": "Which client approved it?"})
    assert status_of(sr) == Status.WAITING_REQUESTER
    html = signed_in(client, cast.consultant).get(f"{url}/").content.decode()
    assert "Payroll needs information" in html and "Which client approved it?" in html
    client.post(f"{url}/answer/", {"answer-answer": "Acme Ltd, approved by Jo."})
    assert status_of(sr) == Status.IN_PROGRESS
    signed_in(client, cast.payroll_agent)
    client.post(
        f"{url}/wait/",
        {"wait-party": "Acme Ltd accounts", "wait-note": "Asked for the approval email"},
    )
    assert status_of(sr) == Status.WAITING_THIRD_PARTY
    client.post(f"{url}/resume/")
    client.post(f"{url}/resolve/", {"resolve-resolution": "Hours corrected to 37.5."})
    assert status_of(sr) == Status.RESOLVED
    html = signed_in(client, cast.consultant).get(f"{url}/").content.decode()
    assert "Hours corrected to 37.5." in html and "Accept" in html
    client.post(f"{url}/accept/")
    assert status_of(sr) == Status.CLOSED
    html = client.get(f"{url}/").content.decode()
    for label in (
        "Submitted",
        "Assigned",
        "Started",
        "Asked the requester",
        "Information provided",
        "Waiting on third party",
        "Resumed",
        "Resolved",
        "Accepted",
    ):
        assert f"<strong>{label}</strong>" in html, label
    assert "Acme Ltd accounts" in html and "This request is finished." in html


def test_it_refuses_a_transition_from_the_wrong_state_with_409_and_changes_nothing(
    client: Client, cast: Cast
) -> None:
    sr = submit(cast)
    response = signed_in(client, cast.payroll_agent).post(
        f"/requests/{sr.pk}/resolve/", {"resolve-resolution": "Done"}
    )
    assert response.status_code == 409
    assert "cannot become resolved" in response.content.decode()
    assert status_of(sr) == Status.NEW and events_of(sr) == ["submitted"]


def test_it_refuses_a_second_resolve(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    signed_in(client, cast.payroll_agent)
    assert (
        client.post(f"/requests/{sr.pk}/resolve/", {"resolve-resolution": "Done"}).status_code
        == 302
    )
    response = client.post(f"/requests/{sr.pk}/resolve/", {"resolve-resolution": "Done again"})
    assert response.status_code == 409 and "already resolved" in response.content.decode()
    assert events_of(sr).count("resolved") == 1


def test_it_refuses_work_on_another_units_request(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    # HR cannot even see Payroll's request; the requester's colleague sees it but may not work it.
    assert signed_in(client, cast.hr_agent).post(f"/requests/{sr.pk}/start/").status_code == 404
    response = signed_in(client, cast.colleague).post(f"/requests/{sr.pk}/start/")
    assert response.status_code == 403 and "Only Payroll can work on" in response.content.decode()
    assert status_of(sr) == Status.NEW


def test_it_lets_only_a_lead_give_work_to_someone_else(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    url = f"/requests/{sr.pk}"
    assert (
        'name="assign-assignee"'
        not in signed_in(client, cast.payroll_agent).get(f"{url}/").content.decode()
    )
    response = client.post(f"{url}/assign/", {"assign-assignee": cast.payroll_agent2.pk})
    assert response.status_code == 403 and status_of(sr) == Status.NEW
    html = signed_in(client, cast.payroll_lead).get(f"{url}/").content.decode()
    assert f'<option value="{cast.payroll_agent2.pk}">' in html
    client.post(f"{url}/assign/", {"assign-assignee": cast.payroll_agent2.pk})
    assert ServiceRequest.objects.get(pk=sr.pk).assignee == cast.payroll_agent2
    response = client.post(f"{url}/assign/", {"assign-assignee": cast.hr_agent.pk})
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    assert ServiceRequest.objects.get(pk=sr.pk).assignee == cast.payroll_agent2


def test_it_refuses_a_megabyte_comment_and_saves_nothing(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    response = signed_in(client, cast.consultant).post(
        f"/requests/{sr.pk}/comment/", {"comment-comment": "x" * 1_000_000}
    )
    assert response.status_code == 422
    assert "the limit is 20,000" in response.content.decode()
    assert Comment.objects.count() == 0 and events_of(sr) == ["submitted"]


def test_it_keeps_what_was_typed_when_a_move_is_refused(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    actions.start_request(cast.payroll_agent, sr.pk)
    response = signed_in(client, cast.payroll_agent).post(
        f"/requests/{sr.pk}/wait/", {"wait-party": "", "wait-note": "Chased twice by phone"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Chased twice by phone</textarea>" in html and "This field is required." in html
    assert status_of(sr) == Status.IN_PROGRESS


def test_it_keeps_internal_notes_from_the_requesting_side(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    signed_in(client, cast.payroll_agent)
    client.post(
        f"/requests/{sr.pk}/comment/",
        {"comment-comment": "Client is slow to approve", "comment-kind": "internal"},
    )
    client.post(
        f"/requests/{sr.pk}/comment/",
        {"comment-comment": "Attach the client approval next time", "comment-kind": "advice"},
    )
    agent_html = client.get(f"/requests/{sr.pk}/").content.decode()
    assert "Client is slow to approve" in agent_html and "Back office only" in agent_html
    html = signed_in(client, cast.consultant).get(f"/requests/{sr.pk}/").content.decode()
    assert "Client is slow to approve" not in html and "Back office only" not in html
    assert "Attach the client approval next time" in html and "Acknowledge" in html
    assert 'value="internal"' not in html  # the requesting side writes plain comments only
    response = client.post(
        f"/requests/{sr.pk}/comment/", {"comment-comment": "sneaky", "comment-kind": "internal"}
    )
    assert response.status_code == 422
    assert not Comment.objects.filter(body="sneaky").exists()


def test_it_lets_the_requester_acknowledge_advice(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    advice = actions.add_comment(cast.payroll_agent, sr.pk, "Send approvals by email", advice=True)
    signed_in(client, cast.consultant)
    assert client.post(f"/requests/{sr.pk}/acknowledge/{advice.pk}/").status_code == 302
    html = client.get(f"/requests/{sr.pk}/").content.decode()
    assert "Acknowledged by Consultant at" in html
    assert client.post(f"/requests/{sr.pk}/acknowledge/{advice.pk}/").status_code == 409


def test_it_marks_the_requests_notifications_read_when_opened(
    client: Client, cast: Cast, django_capture_on_commit_callbacks
) -> None:
    sr = submit(cast)
    other = submit(cast, title="Another")
    with django_capture_on_commit_callbacks(execute=True):
        actions.start_request(cast.payroll_agent, sr.pk)
        actions.resolve_request(cast.payroll_agent, sr.pk, "Done")
        actions.start_request(cast.payroll_agent, other.pk)
        actions.resolve_request(cast.payroll_agent, other.pk, "Done too")
    unread = Notification.objects.filter(recipient=cast.consultant, read_at__isnull=True)
    assert unread.count() == 2
    html = signed_in(client, cast.consultant).get(f"/requests/{sr.pk}/").content.decode()
    assert list(unread.values_list("request_id", flat=True)) == [other.pk]
    assert '>1<span class="visually-hidden"> unread</span>' in html


def test_it_shows_times_in_the_viewers_time_zone(client: Client, cast: Cast) -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    sr = submit(cast, now=at)
    cast.payroll_agent.time_zone = "Asia/Tokyo"
    cast.payroll_agent.save()
    assert (
        "2 Mar 2026, 18:30"
        in signed_in(client, cast.payroll_agent).get(f"/requests/{sr.pk}/").content.decode()
    )
    assert (
        "2 Mar 2026, 09:30"
        in signed_in(client, cast.consultant).get(f"/requests/{sr.pk}/").content.decode()
    )
    assert timezone.get_current_timezone_name() != "Asia/Tokyo"  # nothing leaks between requests


def test_it_accepts_moves_only_as_posts(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    assert signed_in(client, cast.payroll_agent).get(f"/requests/{sr.pk}/start/").status_code == 405
    assert status_of(sr) == Status.NEW


def test_it_returns_a_picked_request_to_the_page_it_came_from_only_if_ours(
    client: Client, cast: Cast
) -> None:
    sr = submit(cast)
    response = signed_in(client, cast.payroll_agent).post(
        f"/requests/{sr.pk}/pick/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/requests/{sr.pk}/"
