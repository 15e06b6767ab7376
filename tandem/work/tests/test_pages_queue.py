"""The team queue: who may open it, its separate channels, its filters and its keyset pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone

from tandem.org.models import Unit
from tandem.promises.models import Promise
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
    return re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', html)


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
    assert refs(html) == [new.reference, waiting.reference]  # the team's move first
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
    # The scene takes work out of the queue's order; no reason is asked for it here.
    Unit.objects.filter(pk=cast.payroll.pk).update(queue_jump_reason_required=False)
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


def test_it_puts_work_to_do_first_by_what_is_due_then_what_waits_then_what_is_resolved(
    client: Client, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scripted morning in Payroll. The statuses come from the actions; what each request's
    agreement and promise say is set outright (their arithmetic is tested elsewhere), so that
    the right order is known: the team's own move first, each by the earlier of the promise
    and the agreement (its deadline, else the published turnaround), oldest on a tie; then
    what waits on someone else; then what is resolved and waits for the requester."""
    now = timezone.now()
    hours = lambda n: now + timedelta(hours=n)  # noqa: E731
    made: dict[str, ServiceRequest] = {}

    def ask(name: str, days_ago: float, agreed: float | None, due: float, promised: float | None) -> int:
        sr = submit(cast, days_ago=days_ago, title=name)
        made[name] = sr
        ServiceRequest.objects.filter(pk=sr.pk).update(
            resolve_by=None if agreed is None else hours(agreed), due_at=hours(due)
        )
        promise = Promise.objects.filter(request_id=sr.pk)
        if promised is None:
            promise.delete()  # not quoted yet: the agreement alone says when it is due
        else:
            promise.update(promised_at=hours(promised))
        return sr.pk

    # Oldest first put these two on top: resolved, they wait for the requester, not the team.
    resolved_first = ask("resolved, the oldest", 9, -150, -150, None)
    resolved_then = ask("resolved later", 8, -140, -140, None)
    for pk in (resolved_first, resolved_then):
        actions.start_request(cast.payroll_agent, pk)
        actions.resolve_request(cast.payroll_agent, pk, "Done.")
    on_requester = ask("waiting on the requester", 7, None, -2, 60)  # paused: the turnaround counts
    on_team = ask("waiting on Timesheets", 6, 4, 30, None)
    on_party = ask("waiting on the client", 5, 24, 30, 20)
    for pk in (on_requester, on_team, on_party):
        actions.start_request(cast.payroll_agent, pk)
    late = ask("in progress, overdue", 4, -24, -20, 48)
    actions.start_request(cast.payroll_agent2, late)
    fresh = ask("new, no clock", 3, None, 24, None)
    promised = ask("assigned, promised soonest", 2, 48, 48, 1)
    actions.assign_request(cast.payroll_lead, promised, cast.payroll_agent.pk)
    reopened = ask("reopened", 1.5, 3, 30, 40)
    actions.start_request(cast.payroll_agent, reopened)
    actions.resolve_request(cast.payroll_agent, reopened, "Done.")
    actions.reopen_request(cast.consultant, reopened, "Still wrong.")
    ServiceRequest.objects.filter(pk=reopened).update(resolve_by=hours(3))  # the reopen's new clock
    tie_a = ask("new, due with the next", 1, 36, 36, None)
    tie_b = ask("new, due with the one before", 0.5, 36, 36, None)
    actions.ask_requester(cast.payroll_agent, on_requester, "Which week?")
    actions.wait_on_team(cast.payroll_agent, on_team, cast.hr.pk, "Their records")
    actions.wait_third_party(cast.payroll_agent, on_party, "Acme Ltd")
    ServiceRequest.objects.filter(pk=on_team).update(resolve_by=hours(4))
    ServiceRequest.objects.filter(pk=on_party).update(resolve_by=hours(24))
    closed = ask("closed", 10, -200, -200, None)
    actions.start_request(cast.payroll_agent, closed)
    actions.resolve_request(cast.payroll_agent, closed, "Done.")
    actions.accept_resolution(cast.consultant, closed)
    elsewhere = submit(cast, service=cast.grievance)  # HR's queue
    customer = submit(cast, channel=Channel.EXTERNAL)  # the external tab

    expected = [late, promised, reopened, fresh, tie_a, tie_b, on_requester, on_team, on_party,
                resolved_first, resolved_then]
    by_pk = {sr.pk: sr for sr in made.values()}
    signed_in(client, cast.payroll_agent)
    html = client.get("/queue/").content.decode()
    assert refs(html) == [by_pk[pk].reference for pk in expected]
    assert refs(client.get("/queue/?sort=due").content.decode()) == refs(html)
    assert elsewhere.reference not in html and customer.reference not in html
    sections = re.findall(r'<th colspan="8" scope="rowgroup">([^<]+)</th>', html)
    assert sections == ["To do", "Waiting on someone else", "Resolved, waiting for the requester to accept"]
    # Each row says when it is due, and that the promise is what makes it due when it is.
    def row(pk: int) -> str:
        return html[html.index(by_pk[pk].reference):].split("</tr>")[0]

    assert f'<time datetime="{dateformat.format(timezone.localtime(hours(1)), "c")}"' in row(promised)
    assert '<span class="sub">promised</span>' in row(promised) and "promised" not in row(fresh)
    assert "overdue" in row(late) and "overdue" not in row(promised)
    # Everything in that order, finished last; oldest first unless asked (nothing is due of
    # finished work); and the resolved ones alone, under their own filter.
    every = refs(client.get("/queue/?status=all&sort=due").content.decode())
    assert every == [by_pk[pk].reference for pk in [*expected, closed]]
    assert refs(client.get("/queue/?status=all").content.decode()) == sorted(every)
    resolved = refs(client.get("/queue/?status=resolved").content.decode())
    assert resolved == [by_pk[resolved_first].reference, by_pk[resolved_then].reference]
    # Page by page, nothing lost or repeated, and a page that starts inside a section heads it.
    monkeypatch.setattr("tandem.work.views.PAGE_SIZE", 4)
    pages, query = [], ""
    while True:
        html = client.get(f"/queue/?{query}").content.decode()
        pages.append((refs(html), re.findall(r'scope="rowgroup">([^<]+)<', html)))
        if (nxt := cursor(html, "next")) is None:
            break
        query = nxt
    assert [ref for page_refs, _ in pages for ref in page_refs] == [by_pk[pk].reference for pk in expected]
    assert [heads for _, heads in pages] == [
        ["To do"], ["To do", "Waiting on someone else"], ["Waiting on someone else", "Resolved, waiting for the requester to accept"]
    ]


def test_it_does_not_query_once_per_row(client: Client, cast: Cast) -> None:
    Unit.objects.filter(pk=cast.payroll.pk).update(queue_jump_reason_required=False)  # the scene jumps the queue
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
