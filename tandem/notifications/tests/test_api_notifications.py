"""Notifications and the email preference through the API."""

from __future__ import annotations

import pytest

from tandem.notifications.models import Notification
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


def test_it_lists_my_notifications_and_marks_them_read(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
        actions.start_request(cast.payroll_agent, sr.pk)
        actions.ask_requester(cast.payroll_agent, sr.pk, "Which week?")
        actions.provide_information(cast.consultant, sr.pk, "Last week.")
        actions.resolve_request(cast.payroll_agent, sr.pk, "Done.")
    api = ApiClient(cast.consultant)
    page = api.get("/api/notifications").json()
    assert [n["kind"] for n in page["items"]] == ["resolved", "information_needed"]
    assert all(n["request_id"] == sr.pk and n["read_at"] is None for n in page["items"])
    assert api.get("/api/me").json()["unread_notifications"] == 2
    newest = page["items"][0]["id"]
    assert api.post("/api/notifications/read", {"ids": [newest]}).json() == {"marked": 1}
    assert [
        n["kind"] for n in api.get("/api/notifications", {"unread": "true"}).json()["items"]
    ] == ["information_needed"]
    assert api.post("/api/notifications/read", {}).json() == {"marked": 1}
    assert api.get("/api/me").json()["unread_notifications"] == 0
    # Someone else's notifications are never touched.
    assert (
        ApiClient(cast.payroll_agent).get("/api/notifications").json()["items"][0]["kind"]
        == "information_provided"
    )
    assert (
        Notification.objects.filter(recipient=cast.payroll_agent, read_at__isnull=True).count() == 1
    )


def test_it_marks_all_read_without_a_body(cast: Cast) -> None:
    Notification.objects.create(recipient=cast.consultant, kind="comment", message="Hello")
    api = ApiClient(cast.consultant)
    response = api.raw("POST", "/api/notifications/read", b"")
    assert response.status_code == 200, response.json()
    assert response.json() == {"marked": 1}


def test_it_refuses_bad_ids_when_marking_read(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    for ids in (["x"], [0], [2**70], "all", list(range(1, 1100))):
        response = api.post("/api/notifications/read", {"ids": ids})
        assert response.status_code == 422, (ids, response.json())
        assert "ids" in next(iter(response.json()["errors"]))


def test_it_switches_notification_emails_off_and_on(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    assert (
        api.put("/api/me/email-notifications", {"enabled": False}).json()["email_notifications"]
        is False
    )
    cast.consultant.refresh_from_db()
    assert cast.consultant.email_notifications is False
    assert (
        api.put("/api/me/email-notifications", {"enabled": True}).json()["email_notifications"]
        is True
    )
    response = api.put("/api/me/email-notifications", {})
    assert response.status_code == 422 and response.json()["errors"] == {
        "enabled": ["This field is required."]
    }
