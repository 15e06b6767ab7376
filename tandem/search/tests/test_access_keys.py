"""The access keys (docs/search.md, "For operators: the index"): each document names who may see
its request, so the full-text index narrows a search to the person's requests before a row is
read. The keys only narrow: search still finds exactly what the permission queries allow, on
generated data, with the keys as written, forged or emptied; and they follow people moving unit,
being lent and taking over a case without any document written again."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tandem.org.models import Loan, Person, Role, Unit
from tandem.org.queries import AnyUser, is_admin, work_unit_ids
from tandem.search.documents import access_keys, index_missing, index_requests, rebuild, write_access
from tandem.search.models import SearchDocument
from tandem.search.queries import search_requests
from tandem.work.models import Case, Comment, ServiceRequest
from tandem.work.numbering import give_number
from tandem.work.queries import requests_visible_to, requests_with_payload_visible_to
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def found(user: AnyUser, text: str) -> set[int]:
    return {hit.request.pk for hit in search_requests(user, text, size=500).hits}


def make_request(requester: Person, unit: Unit, *, title: str, case: Case | None = None, confidential: bool = False,
                 requesting_unit: Unit | None = None, intake: dict[str, str] | None = None,
                 approver: Person | None = None) -> ServiceRequest:
    service = unit.services.first()
    assert service is not None
    asking = requesting_unit or requester.unit
    sr = ServiceRequest(
        service=service, unit=unit, requesting_unit=asking, requester=requester,
        case=case, confidential=confidential, title=title, intake=intake or {}, approver=approver,
        due_at=timezone.now() + timedelta(days=2),
    )
    with transaction.atomic():
        give_number(sr, asking.organisation)
        sr.save(force_insert=True)
    return sr


def expected(person: Person, ids: list[int]) -> dict[str, set[int]]:
    """What each kind of word may find, from the permission queries alone."""
    visible = requests_visible_to(person.user).filter(pk__in=ids)
    payload = requests_with_payload_visible_to(person.user).filter(pk__in=ids)
    worked = visible if is_admin(person) else visible.filter(unit_id__in=work_unit_ids(person))
    return {
        "title": set(visible.values_list("pk", flat=True)),
        "payload": set(payload.values_list("pk", flat=True)) | set(worked.values_list("pk", flat=True)),
        "internal": set(worked.values_list("pk", flat=True)),
    }


@pytest.fixture
def world(cast: Cast) -> tuple[list[Person], list[int]]:
    """Requests between every unit of the cast and a lent person, a lead, cases, approvers and
    confidential requests, drawn at random (a fixed seed): each with the same word in its title ("zebra"),
    its form ("quince") and an internal note ("ledger")."""
    rng = random.Random(19)
    branch_lead = make_person("branch_lead", cast.leeds, Role.LEAD)
    lent = make_person("lent", cast.york)
    now = timezone.now()
    Loan.objects.create(person=lent, unit=cast.hr, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5),
                        agreed_by_lender=cast.payroll_lead, agreed_by_borrower=cast.hr_agent)
    front = [cast.consultant, cast.colleague, cast.other_consultant, branch_lead, lent]
    askers = [*front, cast.hr_agent, cast.payroll_agent]
    cases = [Case.objects.create(customer_reference=f"C{n}", title="Matter", owner=owner, unit=owner.unit)
             for n, owner in enumerate(front)]
    ids = []
    for n in range(60):
        requester = rng.choice(askers)
        sr = make_request(
            requester, rng.choice([cast.payroll, cast.hr]), title=f"Zebra {n}",
            case=rng.choice([None, *cases]), confidential=rng.random() < 0.3,
            requesting_unit=rng.choice([requester.unit, cast.leeds, cast.york]), intake={"notes": "quince"},
            approver=rng.choice([None, None, *askers, cast.payroll_lead]),
        )
        Comment.objects.create(request=sr, author=cast.payroll_agent, body="ledger", visibility="internal")
        ids.append(sr.pk)
    index_requests(ids)
    people = [*askers, cast.payroll_lead, cast.executive, cast.admin]
    return people, ids


def assert_exact(people: list[Person], ids: list[int]) -> None:
    for person in people:
        want = expected(person, ids)
        for kind, word in (("title", "zebra"), ("payload", "quince"), ("internal", "ledger")):
            assert found(person.user, word) == want[kind], (person.user.username, kind)


def test_search_finds_exactly_what_the_permission_queries_allow_on_generated_data(
        world: tuple[list[Person], list[int]]) -> None:
    people, ids = world
    assert_exact(people, ids)
    assert any(expected(p, ids)["title"] for p in people if p.role == Role.MEMBER)  # the data is not empty


def test_looking_in_windows_of_the_newest_requests_finds_the_same(
        world: tuple[list[Person], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL looks among the newest requests first, widening the window until enough
    matches are found (``newest_matches``): with tiny windows and few candidates wanted, every
    step is taken, and what is found is the newest of what the permission queries allow."""
    from tandem.search import backends, queries

    people, ids = world
    monkeypatch.setattr(backends, "FIRST_WINDOW", 3)
    assert_exact(people, ids)
    monkeypatch.setattr(queries, "CANDIDATES", 5)  # the newest five of each group of columns
    for person in people:
        visible = expected(person, ids)["title"]
        hits = found(person.user, "zebra")
        assert set(sorted(visible, reverse=True)[:5]) <= hits <= visible, person.user.username
        assert len(hits) <= 5 * len(queries._tiers(person.user)), person.user.username


def test_a_forged_key_never_shows_a_request_and_a_missing_key_only_hides(
        world: tuple[list[Person], list[int]], cast: Cast) -> None:
    people, ids = world
    written = dict(SearchDocument.objects.values_list("request_id", "access"))
    every_key = " ".join(
        [*(f"unit{u.pk} from{u.pk}" for u in Unit.objects.all()), *(f"asker{p.pk}" for p in Person.objects.all()),
         *(f"case{c.pk}" for c in Case.objects.all())]
    )
    SearchDocument.objects.update(access=every_key)  # every document claims everyone may see it
    assert_exact(people, ids)
    SearchDocument.objects.update(access="")  # no document names anyone: nothing is shown wrongly
    assert found(cast.consultant.user, "zebra") == set()
    assert found(cast.payroll_agent.user, "ledger") == set()
    assert found(cast.admin.user, "zebra") == set(ids)  # administrators hold no keys: all, as before
    assert index_missing() == len(ids)  # `tandem search-index` gives documents without keys theirs
    assert dict(SearchDocument.objects.values_list("request_id", "access")) == written
    assert index_missing() == 0
    SearchDocument.objects.update(access="unit0")
    assert write_access() == len(ids)  # the migration's writer (in SQL) puts back the same keys
    assert dict(SearchDocument.objects.values_list("request_id", "access")) == written
    assert_exact(people, ids)


def test_the_keys_follow_a_move_a_loan_and_a_new_case_owner_without_reindexing(cast: Cast) -> None:
    york_case = Case.objects.create(customer_reference="Y1", title="Matter", owner=cast.other_consultant,
                                    unit=cast.york)
    leeds_request = make_request(cast.consultant, cast.payroll, title="Walrus Leeds")
    in_case = make_request(cast.consultant, cast.payroll, title="Walrus case", case=york_case)
    grievance = make_request(cast.consultant, cast.hr, title="Walrus grievance", confidential=True, case=york_case)
    index_requests([leeds_request.pk, in_case.pk, grievance.pk])
    written = dict(SearchDocument.objects.values_list("request_id", "indexed_at"))
    assert found(cast.colleague.user, "walrus") == {leeds_request.pk, in_case.pk}
    assert found(cast.other_consultant.user, "walrus") == {in_case.pk}  # the case, not the confidential one
    # A person moves to York: Leeds's requests leave their search, York's case does not come with it.
    cast.colleague.unit = cast.york
    cast.colleague.save()
    assert found(cast.colleague.user, "walrus") == set()
    # The case is given to someone else (the admin's case page): the new owner finds its request.
    york_case.owner = cast.colleague
    york_case.save()
    assert found(cast.colleague.user, "walrus") == {in_case.pk}
    assert found(cast.other_consultant.user, "walrus") == set()
    # Lent to HR: HR's queue, its confidential request and internal notes included, while the loan lasts.
    now = timezone.now()
    loan = Loan.objects.create(person=cast.colleague, unit=cast.hr, starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(days=1), agreed_by_lender=cast.hr_agent,
                               agreed_by_borrower=cast.hr_agent)
    assert found(cast.colleague.user, "walrus") == {in_case.pk, grievance.pk}
    loan.ended_at = now
    loan.save()
    assert found(cast.colleague.user, "walrus") == {in_case.pk}
    assert dict(SearchDocument.objects.values_list("request_id", "indexed_at")) == written  # nothing rewritten


def test_a_confidential_request_carries_only_the_keys_of_its_requester_approver_and_team(cast: Cast) -> None:
    case = Case.objects.create(customer_reference="L1", title="Matter", owner=cast.colleague, unit=cast.leeds)
    open_one = make_request(cast.consultant, cast.payroll, title="Open", case=case)
    secret = make_request(cast.consultant, cast.hr, title="Secret", case=case, confidential=True,
                          approver=cast.payroll_lead)
    index_requests([open_one.pk, secret.pk])
    keys = dict(SearchDocument.objects.values_list("request_id", "access"))
    p, hr, leeds, me, boss = cast.payroll.pk, cast.hr.pk, cast.leeds.pk, cast.consultant.pk, cast.payroll_lead.pk
    assert keys[open_one.pk] == f"unit{p} asker{me} from{leeds} case{case.pk}"
    assert keys[secret.pk] == f"unit{hr} asker{me} approver{boss}" == access_keys(hr, me, boss, leeds, case.pk, True)
    assert {h.request.pk for h in search_requests(cast.payroll_lead.user, "secret").hits} == {secret.pk}
    assert search_requests(cast.colleague.user, "secret").hits == []


def test_the_keys_are_not_words_of_the_request(cast: Cast) -> None:
    sr = make_request(cast.consultant, cast.payroll, title="Heron")
    assert rebuild() == 1
    for key in SearchDocument.objects.get(pk=sr.pk).access.split():
        assert found(cast.admin.user, key) == set(), key
        assert found(cast.consultant.user, key) == set(), key
    hit = search_requests(cast.admin.user, "heron").hits[0]
    assert hit.snippet is None and "unit" not in hit.title
