"""Cases numbered within their organisation, as requests are (docs/isolation.md, "References"):
``C-ALPHA-000001`` whatever other clients open, ``/cases/<reference>/`` on the pages and the API,
and an id or another client's reference answers a client's person 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from tandem.work import actions
from tandem.work.models import Case
from tandem.work.numbering import CASES, canonical, number_unnumbered, number_unnumbered_sql
from tandem.work.tests.test_api_client_keys import shared_ids
from tandem.work.tests.test_request_numbers import _at_once
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast
from tests.tenants import Client as Tenant
from tests.tenants import add_client

pytestmark = pytest.mark.django_db


def _open(person, title: str) -> Case:  # type: ignore[no-untyped-def]
    return actions.create_case(person, customer_reference=f"{title} ref", title=title)


def _signed_in(tenant: Tenant, role: str = "member") -> Client:
    client = Client()
    assert client.login(username=tenant.people[role].user.username, password=PASSWORD)
    return client


def _scenario(cast: Cast) -> tuple[Tenant, Tenant, list[Case], list[Case]]:
    alpha, bravo = add_client("Alpha"), add_client("Bravo")
    ours = [_open(alpha.people["member"], "Alpha first")]
    theirs = [_open(bravo.people["member"], f"Bravo {n}") for n in range(4)]
    ours.append(_open(alpha.people["colleague"], "Alpha second"))
    return alpha, bravo, ours, theirs


def test_it_numbers_each_clients_cases_on_their_own(cast: Cast) -> None:
    own = _open(cast.consultant, "Provider's own")
    alpha, _bravo, ours, theirs = _scenario(cast)
    later = _open(cast.consultant, "Provider's later")
    assert [c.reference for c in ours] == ["C-ALPHA-000001", "C-ALPHA-000002"]
    assert [c.reference for c in theirs] == [f"C-BRAVO-{n:06d}" for n in range(1, 5)]
    assert {c.organisation_id for c in ours} == {alpha.organisation.pk}
    assert later.number == own.number + 1 and later.reference == f"C-{later.number:06d}"
    assert Case.objects.get(pk=ours[1].pk).reference == "C-ALPHA-000002"  # stored as shown
    assert canonical("c-alpha-2") == "C-ALPHA-000002"  # read as typed, like a request's


def test_a_clients_person_opens_cases_by_reference_and_never_by_id(cast: Cast) -> None:
    alpha, _bravo, ours, theirs = _scenario(cast)
    member = _signed_in(alpha)
    mine = member.get("/cases/")
    assert mine.status_code == 200
    page = mine.content.decode()
    assert "/cases/C-ALPHA-000001/" in page and f"/cases/{ours[0].pk}/" not in page
    assert "C-BRAVO" not in page
    opened = member.get("/cases/c-alpha-1/")
    assert opened.status_code == 200 and "C-ALPHA-000001" in opened.content.decode()
    assert f"?case={ours[0].reference}" in opened.content.decode()  # asking for it: no id either
    for path in (f"/cases/{ours[0].pk}/", f"/cases/{theirs[0].reference}/", f"/cases/{theirs[0].pk}/",
                 "/cases/C-ALPHA-000099/", "/cases/C-ALPHA-0/", "/cases/C-ALPHA-/", "/cases/-1/"):
        assert member.get(path).status_code == 404, path
    assert member.post(f"/cases/{theirs[0].reference}/close/").status_code == 404
    assert Case.objects.get(pk=theirs[0].pk).status == Case.CaseStatus.OPEN
    closed = member.post("/cases/C-ALPHA-000001/close/")
    assert closed.status_code == 302 and closed["Location"] == "/cases/C-ALPHA-000001/"
    assert Case.objects.get(pk=ours[0].pk).status == Case.CaseStatus.CLOSED
    # The provider's people open a client's case by id or reference.
    agent = Client()
    assert agent.login(username=cast.admin.user.username, password=PASSWORD)
    assert agent.get(f"/cases/{theirs[0].pk}/").status_code == 200
    assert agent.get(f"/cases/{theirs[0].reference}/").status_code == 200


def test_the_api_keeps_case_ids_from_a_client(cast: Cast) -> None:
    alpha, _bravo, ours, theirs = _scenario(cast)
    actions.submit_request(alpha.people["member"], cast.timesheet, TIMESHEET_OK, title="in a case",
                           case_id=ours[0].pk)
    api = ApiClient(alpha.people["member"])
    listed = api.get("/api/cases").json()
    assert [c["reference"] for c in listed["items"]] == ["C-ALPHA-000002", "C-ALPHA-000001"]
    one = api.get("/api/cases/C-ALPHA-000001")
    assert one.status_code == 200 and one.json()["id"] is None
    asked = api.get("/api/requests").json()
    for answer in (listed, one.json(), asked):
        assert list(shared_ids(answer)) == []
    for path in (f"/api/cases/{ours[0].pk}", f"/api/cases/{theirs[0].reference}", "/api/cases/C-ALPHA-",
                 "/api/cases/C-ALPHA-000099"):
        answer = api.get(path)
        assert answer.status_code == 404 and str(theirs[0].pk) not in answer.json()["detail"], path
    assert api.post(f"/api/cases/{theirs[0].reference}/close").status_code == 404
    assert ApiClient(alpha.people["colleague"]).post("/api/cases/c-alpha-2/close").json()["status"] == "closed"
    made = api.post("/api/cases", {"customer_reference": "X-1", "title": "Third"})
    assert made.status_code == 201 and made.json()["reference"] == "C-ALPHA-000003" and made.json()["id"] is None
    # The provider's people keep ids.
    provider = ApiClient(cast.admin).get(f"/api/cases/{theirs[0].reference}").json()
    assert provider["id"] == theirs[0].pk


def test_cases_opened_at_once_get_distinct_consecutive_numbers(transactional_db, cast: Cast) -> None:
    """On PostgreSQL the openings race on their own connections (without the numbering's lock two
    would read the same highest number); SQLite's IMMEDIATE transactions serialise writers."""
    alpha = add_client("Alpha")
    people = [alpha.people[role] for role in ("member", "colleague", "lead", "executive")]

    def open_three(n: int) -> Callable[[], object]:
        return lambda: [_open(people[n], f"race {n} {k}") for k in range(3)]

    calls = [open_three(n) for n in range(len(people))]
    if connection.vendor == "postgresql":
        _at_once(calls)
    else:
        for call in calls:
            call()
    numbers = sorted(Case.objects.filter(organisation=alpha.organisation).values_list("number", flat=True))
    assert numbers == list(range(1, 13))


def test_the_migration_and_the_worker_number_cases_written_without_numbers(cast: Cast) -> None:
    """The migration numbers existing cases (the provider's keep their id, so ``C-000123`` still
    names the same case); the worker numbers those the release before opens during an upgrade."""
    own = _open(cast.consultant, "Ours")
    alpha, bravo, ours, theirs = _scenario(cast)
    Case.objects.update(organisation=None, number=None, reference=None)
    with connection.cursor() as cursor:
        for statement in number_unnumbered_sql(connection.vendor, keep_provider_ids=True, numbering=CASES):
            cursor.execute(statement)
    got = {c.pk: (c.organisation_id, c.reference) for c in Case.objects.all()}
    assert got[own.pk] == (None, f"C-{own.pk:06d}")
    assert [got[c.pk] for c in ours] == [(alpha.organisation.pk, f"C-ALPHA-{n:06d}") for n in (1, 2)]
    assert [got[c.pk] for c in theirs] == [(bravo.organisation.pk, f"C-BRAVO-{n:06d}") for n in range(1, 5)]
    # The release before opens a case (no number); this release opens one meanwhile.
    old = _open(alpha.people["member"], "old release")
    Case.objects.filter(pk=old.pk).update(organisation=None, number=None, reference=None)
    new = _open(alpha.people["member"], "this release")
    assert new.reference == "C-ALPHA-000003"
    assert number_unnumbered() == 1 and number_unnumbered() == 0
    assert Case.objects.get(pk=old.pk).reference == "C-ALPHA-000004"


def test_a_client_attaches_and_filters_requests_by_a_cases_reference(cast: Cast) -> None:
    alpha, _bravo, ours, theirs = _scenario(cast)
    api = ApiClient(alpha.people["member"])
    body = {"service": cast.timesheet.slug, "intake": TIMESHEET_OK}
    made = api.post("/api/requests", {**body, "case": "c-alpha-1"})
    assert made.status_code == 201, made.content
    asked = api.get("/api/requests", {"case": "C-ALPHA-000001"}).json()["items"]
    assert [r["reference"] for r in asked] == [made.json()["reference"]]
    assert api.get("/api/requests", {"case": "C-ALPHA-000002"}).json()["items"] == []
    count = Case.objects.get(pk=theirs[0].pk).requests.count()
    for case, field_says in ((ours[0].pk, "Give the case's reference."), (theirs[0].reference, "Unknown case."),
                             ("C-ALPHA-000099", "Unknown case.")):
        refused = api.post("/api/requests", {**body, "case": case})
        assert refused.status_code == 422, (case, refused.content)
        assert refused.json()["errors"]["case"] == [field_says]
        assert str(theirs[0].pk) not in refused.json()["detail"].replace(str(case), "")
    assert api.get("/api/requests", {"case": str(ours[0].pk)}).status_code == 422
    assert api.get("/api/requests", {"case": theirs[0].reference}).json()["items"] == []
    assert Case.objects.get(pk=theirs[0].pk).requests.count() == count
    # The provider's people may give either.
    provider = ApiClient(cast.admin)
    by_id = provider.get("/api/requests", {"case": str(ours[0].pk)}).json()["items"]
    assert by_id == provider.get("/api/requests", {"case": ours[0].reference}).json()["items"] != []
