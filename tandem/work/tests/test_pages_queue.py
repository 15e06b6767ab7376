"""The team queue: who may open it, its separate channels, its filters and its keyset pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.work import actions
from tandem.work.models import Channel, ServiceRequest
from tests.cast import TIMESHEET_OK, Cast


def signed_in(client: Client, person) -> Client:
    client.logout()
    client.force_login(person.user)
    return client


def submit(cast: Cast, who=None, service=None, days_ago: float = 0, **kwargs) -> ServiceRequest:
    now = timezone.now() - timedelta(days=days_ago)
    data = {"details": "x"} if service is not None and service != cast.timesheet else TIMESHEET_OK
    return actions.submit_request(
        who or cast.consultant, service or cast.timesheet, data, now=now, **kwargs
    ).request


def refs(html: str) -> list[str]:
    return re.findall(r'<span class="ref">(SR-\d{6})</span>', html)


def cursor(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="\?[^"]*?(after|before)=(\d+)"', html)
    return f"{found.group(1)}={found.group(2)}" if found else None


def test_it_refuses_the_queue_to_the_front_office_with_a_message(
    client: Client, cast: Cast
) -> None:
    response = signed_in(client, cast.consultant).get("/queue/")
    assert response.status_code == 403
    assert "for back-office units" in response.content.decode()
    assert "Team queue" not in signed_in(client, cast.consultant).get("/requests/").content.decode()


def test_it_sends_the_back_office_home_to_their_queue(client: Client, cast: Cast) -> None:
    assert signed_in(client, cast.payroll_agent).get("/")["Location"] == "/queue/"
    assert signed_in(client, cast.consultant).get("/")["Location"] == "/requests/"


def test_it_shows_the_units_queue_with_who_holds_what_and_since_when(
    client: Client, cast: Cast
) -> None:
    waiting = submit(cast, days_ago=3)
    actions.start_request(cast.payroll_agent, waiting.pk)
    actions.ask_requester(cast.payroll_agent, waiting.pk, "Which week?")
    new = submit(cast, who=cast.colleague)
    hr = submit(cast, service=cast.grievance)
    html = signed_in(client, cast.payroll_agent2).get("/queue/").content.decode()
    assert refs(html) == [waiting.reference, new.reference]
    assert hr.reference not in html
    assert "Waiting on requester" in html and "Consultant" in html and "Leeds branch" in html
    assert html.count(">Pick</button>") == 1  # only the unassigned one


def test_it_keeps_internal_and_external_queues_apart(client: Client, cast: Cast) -> None:
    internal = submit(cast)
    external = submit(cast, channel=Channel.EXTERNAL)
    signed_in(client, cast.payroll_agent)
    assert refs(client.get("/queue/").content.decode()) == [internal.reference]
    assert refs(client.get("/queue/?channel=internal").content.decode()) == [internal.reference]
    assert refs(client.get("/queue/?channel=external").content.decode()) == [external.reference]
    for status in ("all", "new"):
        assert refs(client.get(f"/queue/?channel=external&status={status}").content.decode()) == [
            external.reference
        ]


def test_it_filters_by_status_service_assignee_and_age(client: Client, cast: Cast) -> None:
    old = submit(cast, days_ago=10)
    mine = submit(cast, days_ago=2)
    actions.assign_request(cast.payroll_agent, mine.pk, cast.payroll_agent.pk)
    theirs = submit(cast, days_ago=1)
    actions.start_request(cast.payroll_agent2, theirs.pk)
    done = submit(cast)
    actions.start_request(cast.payroll_agent, done.pk)
    actions.resolve_request(cast.payroll_agent, done.pk, "Done")
    actions.accept_resolution(cast.consultant, done.pk)
    signed_in(client, cast.payroll_agent)

    def shown(query: str) -> list[str]:
        response = client.get("/queue/?" + query)
        assert response.status_code == 200
        return refs(response.content.decode())

    assert shown("") == [old.reference, mine.reference, theirs.reference]
    assert shown("status=all") == [old.reference, mine.reference, theirs.reference, done.reference]
    assert shown("status=closed") == [done.reference]
    assert shown("status=in_progress") == [theirs.reference]
    assert shown("assignee=me") == [mine.reference]
    assert shown("assignee=none") == [old.reference]
    assert shown(f"assignee={cast.payroll_agent2.pk}") == [theirs.reference]
    assert shown("age=5") == [old.reference]
    assert shown(f"service={cast.timesheet.pk}") == [
        old.reference,
        mine.reference,
        theirs.reference,
    ]
    assert shown("sort=newest") == [theirs.reference, mine.reference, old.reference]
    # A wrong filter value is shown as an error and otherwise ignored.
    response = client.get("/queue/?age=lots&status=bogus")
    assert response.status_code == 200 and "This filter is ignored" in response.content.decode()


@pytest.mark.parametrize("sort", ["oldest", "newest", "due"])
def test_it_pages_through_the_queue_without_losing_or_repeating_a_request(
    client: Client, cast: Cast, sort: str
) -> None:
    # 57 requests in pages of 25; some share a due time, so the sort needs its id tie-break.
    made = [submit(cast, days_ago=(i % 4)).reference for i in range(57)]
    signed_in(client, cast.payroll_agent)
    seen: list[list[str]] = []
    query = f"sort={sort}"
    while True:
        html = client.get(f"/queue/?{query}").content.decode()
        seen.append(refs(html))
        nxt = cursor(html, "next")
        if nxt is None:
            break
        query = f"sort={sort}&{nxt}"
    assert [len(page) for page in seen] == [25, 25, 7]
    flat = [ref for page in seen for ref in page]
    assert sorted(flat) == sorted(made)
    # ... and back again with "previous", page by page.
    back: list[list[str]] = []
    while (prev := cursor(html, "prev")) is not None:
        html = client.get(f"/queue/?sort={sort}&{prev}").content.decode()
        back.append(refs(html))
    assert back == seen[:-1][::-1]


def test_it_sorts_due_soonest_first(client: Client, cast: Cast) -> None:
    later = submit(cast, service=cast.grievance)  # HR: not in this queue
    slow = submit(cast, days_ago=0)
    quick = submit(cast, days_ago=5)
    html = signed_in(client, cast.payroll_agent).get("/queue/?sort=due").content.decode()
    assert refs(html) == [quick.reference, slow.reference] and later.reference not in html


def test_it_does_not_query_once_per_row(client: Client, cast: Cast) -> None:
    submit(cast)
    signed_in(client, cast.payroll_lead)
    client.get("/queue/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get("/queue/")
    for i in range(20):
        sr = submit(cast, who=[cast.consultant, cast.colleague, cast.other_consultant][i % 3])
        if i % 2:
            actions.assign_request(
                cast.payroll_lead, sr.pk, [cast.payroll_agent, cast.payroll_agent2][i % 4 // 2].pk
            )
    with CaptureQueriesContext(connection) as many:
        html = client.get("/queue/").content.decode()
    assert len(refs(html)) == 21
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_it_picks_from_the_queue_and_comes_back_to_it(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    signed_in(client, cast.payroll_agent)
    response = client.post(f"/requests/{sr.pk}/pick/", {"next": "/queue/?assignee=none"})
    assert response["Location"] == "/queue/?assignee=none"
    assert ServiceRequest.objects.get(pk=sr.pk).assignee == cast.payroll_agent
    assert refs(client.get("/queue/?assignee=none").content.decode()) == []


def test_it_answers_htmx_with_the_results_only(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    response = signed_in(client, cast.payroll_agent).get(
        "/queue/?status=all", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert sr.reference in html and "<html" not in html
    assert (
        'id="queue-tabs" aria-label="Channel" hx-swap-oob="true"' in html
    )  # the tabs follow the filters
    assert "HX-Request" in response["Vary"]


def test_it_lets_an_admin_choose_any_back_office_queue(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    signed_in(client, cast.admin)
    html = client.get("/queue/").content.decode()
    assert 'name="unit"' in html and sr.reference not in html  # the admin's own unit, HR, first
    assert sr.reference in client.get(f"/queue/?unit={cast.payroll.pk}").content.decode()
