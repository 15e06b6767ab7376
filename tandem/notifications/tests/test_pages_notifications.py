"""The notifications page: the person's own list, mark all read, and the email switch."""

from __future__ import annotations

from django.test import Client

from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.work import actions
from tests.cast import TIMESHEET_OK, Cast


def signed_in(client: Client, person) -> Client:
    client.logout()
    client.force_login(person.user)
    return client


def test_it_lists_my_notifications_newest_first_with_links(client: Client, cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    notify(
        [cast.consultant.pk], Notification.Kind.INFORMATION_NEEDED, sr, "Payroll needs information"
    )
    notify([cast.consultant.pk], Notification.Kind.RESOLVED, sr, "It is resolved")
    notify([cast.colleague.pk], Notification.Kind.COMMENT, sr, "Not for the consultant")
    html = signed_in(client, cast.consultant).get("/notifications/").content.decode()
    assert html.index("It is resolved") < html.index("Payroll needs information")
    assert "Not for the consultant" not in html
    assert (
        f'href="/requests/{sr.pk}/"' in html
        and '>2<span class="visually-hidden"> unread</span>' in html
    )


def test_it_marks_all_read(client: Client, cast: Cast) -> None:
    notify([cast.consultant.pk, cast.colleague.pk], Notification.Kind.COMMENT, None, "Hello")
    response = signed_in(client, cast.consultant).post("/notifications/read/", follow=True)
    assert "Marked 1 notification as read." in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).get().recipient == cast.colleague
    assert '>1<span class="visually-hidden"> unread</span>' not in response.content.decode()


def test_it_switches_email_digests_off_and_on(client: Client, cast: Cast) -> None:
    signed_in(client, cast.consultant)
    assert "Switch emails off" in client.get("/notifications/").content.decode()
    client.post("/notifications/email/", {"email": "off"})
    cast.consultant.refresh_from_db()
    assert cast.consultant.email_notifications is False
    assert "Switch emails on" in client.get("/notifications/").content.decode()
    client.post("/notifications/email/", {"email": "on"})
    cast.consultant.refresh_from_db()
    assert cast.consultant.email_notifications is True


def test_it_changes_nothing_on_a_get(client: Client, cast: Cast) -> None:
    notify([cast.consultant.pk], Notification.Kind.COMMENT, None, "Hello")
    signed_in(client, cast.consultant)
    assert client.get("/notifications/read/").status_code == 405
    assert client.get("/notifications/email/").status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_a_notification_about_no_request_links_to_where_its_reader_acts(client: Client, cast: Cast) -> None:
    notify([cast.consultant.pk], Notification.Kind.CHANGE_NOTICE, None, "Changes taking effect today")
    notify([cast.consultant.pk], Notification.Kind.DEMAND_ASK, None, "Declare your demand")
    notify([cast.consultant.pk], Notification.Kind.COMMENT, None, "A word with no page")
    html = signed_in(client, cast.consultant).get("/notifications/").content.decode()
    assert '<a href="/changes/">Changes taking effect today</a>' in html
    assert '<a href="/demand/declare/">Declare your demand</a>' in html
    assert '<p class="notification__message">A word with no page' in html  # no link
