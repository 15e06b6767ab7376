"""Requests are numbered within their requesting organisation, and a client's addresses carry its
reference, never the id every client's requests share (docs/isolation.md, "References").

The scenario: client A submits, client B submits five, A submits again. A's two references are
consecutive; nothing A reads (pages, the API, search, notifications, mail addresses) names B's
numbers or the shared ids; an address with B's reference, an id, or nonsense answers 404.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection, connections
from django.test import Client

from tandem.notifications import mailing
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tandem.work.numbering import canonical, parse
from tests.cast import PASSWORD, TIMESHEET_OK, Cast
from tests.tenants import Client as Tenant
from tests.tenants import add_client

pytestmark = pytest.mark.django_db


def _signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def _scenario(cast: Cast) -> tuple[Tenant, Tenant, list[ServiceRequest], list[ServiceRequest]]:
    alpha, bravo = add_client("Alpha"), add_client("Bravo")
    a_member, b_member = alpha.people["member"], bravo.people["member"]
    ours = [actions.submit_request(a_member, cast.timesheet, TIMESHEET_OK, title="Alpha first").request]
    theirs = [actions.submit_request(b_member, cast.timesheet, TIMESHEET_OK, title=f"Bravo {n}").request
              for n in range(5)]
    ours.append(actions.submit_request(a_member, cast.timesheet, TIMESHEET_OK, title="Alpha second").request)
    return alpha, bravo, ours, theirs


def test_it_numbers_each_clients_requests_on_their_own(cast: Cast) -> None:
    own = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Provider's own").request
    _, _, ours, theirs = _scenario(cast)
    later = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Provider's later").request
    assert [sr.reference for sr in ours] == ["ALPHA-000001", "ALPHA-000002"]
    assert [sr.reference for sr in theirs] == [f"BRAVO-{n:06d}" for n in range(1, 6)]
    # The provider's own keep one numbering between them, whatever the clients asked meanwhile.
    assert later.number == own.number + 1
    assert (own.reference, later.reference) == (f"SR-{own.number:06d}", f"SR-{later.number:06d}")
    assert ServiceRequest.objects.get(pk=ours[1].pk).reference == "ALPHA-000002"  # stored as shown


def test_a_client_reads_its_references_and_never_another_clients_numbers(cast: Cast) -> None:
    alpha, _, ours, theirs = _scenario(cast)
    a = _signed_in(alpha.people["member"].user.username)
    listed = a.get("/requests/").content.decode()
    assert re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', listed) == ["ALPHA-000002", "ALPHA-000001"]
    # Its links carry references, not ids.
    assert 'href="/requests/ALPHA-000002/"' in listed
    assert not re.search(r'href="/requests/\d+/', listed)
    page = a.get("/requests/ALPHA-000002/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "ALPHA-000002" in body and "BRAVO" not in body.upper().replace("BRAVO AGENCY", "")
    assert not re.search(r'/requests/\d+/', body)
    # Lower case, without zeros: the same request.
    assert a.get("/requests/alpha-2/").status_code == 200
    # Its id, B's reference, an unknown number, nonsense: 404, never 500.
    for address in (f"/requests/{ours[1].pk}/", f"/requests/{theirs[0].reference}/", "/requests/ALPHA-000099/",
                    "/requests/ALPHA-xyz/", "/requests/ALPHA-0000000000001/", "/requests/-1/"):
        assert a.get(address).status_code == 404, address
    for address in (f"/requests/{ours[1].pk}/comment/", f"/requests/{theirs[0].reference}/comment/",
                    "/requests/ALPHA-000099/comment/"):
        assert a.post(address, {"body": "Hello"}).status_code == 404, address
    assert ServiceRequest.objects.get(pk=ours[1].pk).last_event_seq == 1  # nothing moved


def test_the_api_search_notifications_and_mail_name_a_client_only_by_its_own_numbering(
    cast: Cast, settings
) -> None:
    settings.TANDEM_MAIL_ADDRESS = "tandem@example.org"
    alpha, _, ours, theirs = _scenario(cast)
    a = _signed_in(alpha.people["member"].user.username)
    listed = a.get("/api/requests").json()
    assert sorted(row["reference"] for row in listed["items"]) == ["ALPHA-000001", "ALPHA-000002"]
    # Search: its own reference is found exactly; B's is not a reference to A (nor a hit).
    found = a.get("/api/search", {"q": "alpha-000002"}).json()
    assert found["reference"] is True and [h["reference"] for h in found["items"]] == ["ALPHA-000002"]
    other = a.get("/api/search", {"q": theirs[0].reference}).json()
    assert other["reference"] is False and other["items"] == []
    page = a.get("/search/", {"q": "ALPHA-2"}).content.decode()
    assert 'href="/requests/ALPHA-000002/"' in page
    # A notification names the reference and links by it.
    actions.assign_request(cast.payroll_agent, ours[1].pk, cast.payroll_agent.pk, reason="test")
    actions.start_request(cast.payroll_agent, ours[1].pk)
    actions.resolve_request(cast.payroll_agent, ours[1].pk, "Done")
    notes = a.get("/notifications/").content.decode()
    assert "ALPHA-000002 is resolved" in notes and 'href="/requests/ALPHA-000002/"' in notes
    assert not re.search(r'/requests/\d+/', notes)
    # The reply address a client reads names the reference, signed; it leads back to the request.
    address = mailing.reply_address(ours[1].pk)
    token = address.split("+", 1)[1].split("@")[0]
    assert token.startswith("rALPHA-000002.") and str(ours[1].pk) not in token.split(".")[0]
    assert mailing.request_of(token) == ours[1].pk
    assert mailing.request_of_message_id(mailing.message_id(ours[1].pk)) == ours[1].pk
    assert mailing.request_of(token.replace("ALPHA-000002", "ALPHA-000001")) is None  # signature broken


def test_the_provider_opens_a_clients_request_by_reference_or_id(cast: Cast) -> None:
    _, _, ours, _ = _scenario(cast)
    agent = _signed_in("payroll_agent")
    assert agent.get(f"/requests/{ours[0].reference}/").status_code == 200
    assert agent.get(f"/requests/{ours[0].pk}/").status_code == 200
    queue = agent.get("/queue/").content.decode()
    assert 'href="/requests/ALPHA-000001/"' in queue


def test_references_as_typed() -> None:
    assert parse("sr-42") == ("SR", 42) and parse("SR42") == ("SR", 42)
    assert parse("harbour-temps-000007") == ("HARBOUR-TEMPS", 7)
    assert parse("agency-7-000012") == ("AGENCY-7", 12)
    assert canonical("northern-42") == "NORTHERN-000042"
    for text in ("", "SR-", "42", "SR-0", "hello world", "SR-1234567890"):
        assert parse(text) is None, text


def _at_once(calls: list[Callable[[], object]]) -> None:
    barrier = threading.Barrier(len(calls))
    failures: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as failure:
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_submissions_at_once_get_distinct_consecutive_numbers(transactional_db, cast: Cast) -> None:
    """On PostgreSQL the submissions race on their own connections (READ COMMITTED: without the
    numbering's lock two would read the same highest number); SQLite's IMMEDIATE transactions
    serialise writers, so there they run one after the other."""
    alpha = add_client("Alpha")
    people = [alpha.people[role] for role in ("member", "colleague", "lead", "executive")]

    def submit(n: int) -> Callable[[], object]:
        return lambda: [actions.submit_request(people[n], cast.timesheet, TIMESHEET_OK, title=f"race {n} {k}")
                        for k in range(3)]

    calls = [submit(n) for n in range(len(people))]
    if connection.vendor == "postgresql":
        _at_once(calls)
    else:
        for call in calls:
            call()
    numbers = sorted(ServiceRequest.objects.filter(organisation=alpha.organisation).values_list("number", flat=True))
    assert numbers == list(range(1, 13))


def test_requests_of_units_handed_to_a_client_take_its_numbering(cast: Cast) -> None:
    """``tandem demo --provider`` hands the demo's front-office units to clients after their
    history is written: their requests are numbered again, in the order they were asked."""
    from tandem.catalogue.models import Contract
    from tandem.org.models import Organisation
    from tandem.work.numbering import renumber_clients

    made = [actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title=f"ask {n}").request
            for n in range(3)]
    organisation = Organisation.objects.create(name="Northern Recruitment", slug="northern")
    cast.consultant.unit.organisation = organisation
    cast.consultant.unit.save(update_fields=["organisation"])
    renumber_clients([organisation.pk])
    after = ServiceRequest.objects.filter(pk__in=[sr.pk for sr in made]).order_by("pk")
    assert [(sr.organisation_id, sr.reference) for sr in after] == [
        (organisation.pk, f"NORTHERN-{n:06d}") for n in (1, 2, 3)]
    Contract.objects.create(organisation=organisation, service=cast.timesheet, starts_on=date(2000, 1, 1))
    following = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="next").request
    assert following.reference == "NORTHERN-000004"


def test_requests_the_previous_release_wrote_are_numbered_by_the_worker(cast: Cast) -> None:
    """During a rolling upgrade the release before writes requests without numbers (it knows
    none); the worker's round gives each the next number of its own organisation, after those
    this release gave meanwhile, and the provider's the next of the provider's numbering."""
    from tandem.work.numbering import number_unnumbered

    alpha = add_client("Alpha")
    member = alpha.people["member"]

    def submitted(person, title: str, *, as_previous_release: bool) -> ServiceRequest:  # type: ignore[no-untyped-def]
        sr = actions.submit_request(person, cast.timesheet, TIMESHEET_OK, title=title).request
        if as_previous_release:  # what the release before writes: no organisation, number nor reference
            ServiceRequest.objects.filter(pk=sr.pk).update(organisation=None, number=None, reference=None)
        return sr

    first = submitted(member, "Alpha one", as_previous_release=False)
    old_client = submitted(member, "Alpha two", as_previous_release=True)
    third = submitted(member, "Alpha three", as_previous_release=False)
    ours = submitted(cast.consultant, "Ours one", as_previous_release=False)
    old_ours = submitted(cast.consultant, "Ours two", as_previous_release=True)
    assert number_unnumbered() == 2
    assert number_unnumbered() == 0  # nothing left: a round's look finds none
    got = {sr.title: (sr.organisation_id, sr.number, sr.reference)
           for sr in ServiceRequest.objects.filter(pk__in=[first.pk, old_client.pk, third.pk, ours.pk, old_ours.pk])}
    org = alpha.organisation
    assert got["Alpha one"] == (org.pk, 1, "ALPHA-000001")
    assert got["Alpha three"] == (org.pk, 2, "ALPHA-000002")  # this release numbered it while two waited
    assert got["Alpha two"] == (org.pk, 3, "ALPHA-000003")  # after the last given, never a duplicate
    provider_top = ServiceRequest.objects.filter(organisation__isnull=True).exclude(pk=old_ours.pk)
    top = max(provider_top.values_list("number", flat=True))
    assert got["Ours two"] == (None, top + 1, f"SR-{top + 1:06d}")
