"""Random operations by random people of two client organisations never surface the other's data
(docs/organisations.md), checked against an independent recount of who owns what; and the
permission-aware entries give each role of a client exactly its organisation's world."""

from __future__ import annotations

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.notifications.queries import notifications_visible_to
from tandem.org.models import Person, Side
from tandem.org.queries import people_visible_to, units_visible_to
from tandem.refusal import Refused
from tandem.search.queries import search_requests
from tandem.voice import actions as voice
from tandem.voice.queries import ratings_visible_to
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tandem.work.queries import can_see_payload, cases_visible_to, requests_visible_to
from tests.cast import TIMESHEET_OK, Cast
from tests.tenants import ROLES, TwoClients, build_two_clients

pytestmark = pytest.mark.django_db

OPERATIONS = ("submit", "confidential", "case", "comment", "rate", "resolve")


def owner_of(sr: ServiceRequest, world: TwoClients) -> str | None:
    """Whose a request is, recounted from the requester's unit at the time (not the query)."""
    for name in ("alpha", "bravo"):
        if sr.requesting_unit_id == getattr(world, name).unit.pk:
            return name
    return None


def run(cast: Cast, world: TwoClients, step: tuple[str, str, str, int]) -> None:
    operation, client, role, pick = step
    me: Person = getattr(world, client).people[role]
    tag = client.upper()
    mine = list(requests_visible_to(me.user).order_by("pk"))
    try:
        if operation == "submit":
            cases = list(cases_visible_to(me.user).order_by("pk"))
            case_id = cases[pick % len(cases)].pk if cases and pick % 2 else None
            actions.submit_request(me, cast.timesheet, TIMESHEET_OK, title=f"{tag} random ask {pick}", case_id=case_id)
        elif operation == "confidential":
            actions.submit_request(me, cast.grievance, {"details": f"{tag} secret {pick}"}, title=f"{tag} secret")
        elif operation == "case":
            actions.create_case(me, customer_reference=f"{tag}-R{pick}", title=f"{tag} random case {pick}")
        elif operation == "comment" and mine:
            actions.add_comment(me, mine[pick % len(mine)].pk, f"{tag} says {pick}")
        elif operation == "rate" and mine:
            voice.rate_request(me, mine[pick % len(mine)].pk, 1 + pick % 5, f"{tag} rates {pick}")
        elif operation == "resolve":
            # the provider's agent works whatever comes in, from either client
            queue = list(ServiceRequest.objects.filter(unit=cast.payroll, is_open=True).order_by("pk"))
            if queue:
                sr = queue[pick % len(queue)]
                actions.assign_request(cast.payroll_agent, sr.pk, cast.payroll_agent.pk, reason="random")
                actions.start_request(cast.payroll_agent, sr.pk)
                actions.resolve_request(cast.payroll_agent, sr.pk, f"done {pick}")
    except Refused:
        pass  # a refused operation (rating an open request, ...) changes nothing; the check below holds anyway


def check_isolation(world: TwoClients) -> None:
    for name, other in (("alpha", "bravo"), ("bravo", "alpha")):
        theirs = getattr(world, other)
        for role in ROLES:
            me = getattr(world, name).people[role]
            seen = list(requests_visible_to(me.user))
            assert all(owner_of(sr, world) == name for sr in seen), (name, role)
            assert not cases_visible_to(me.user).filter(unit=theirs.unit).exists(), (name, role)
            assert not people_visible_to(me.user).filter(unit=theirs.unit).exists(), (name, role)
            assert not units_visible_to(me.user).filter(pk=theirs.unit.pk).exists(), (name, role)
            assert not ratings_visible_to(me.user).filter(request__requesting_unit=theirs.unit).exists(), (name, role)
            notes = notifications_visible_to(me.user)
            assert not notes.filter(Q(request__requesting_unit=theirs.unit)).exists(), (name, role)
            found = search_requests(me.user, other.upper())
            assert all(owner_of(hit.request, world) == name for hit in found.hits), (name, role)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPERATIONS), st.sampled_from(("alpha", "bravo")),
                          st.sampled_from(ROLES), st.integers(0, 50)), min_size=1, max_size=8))
def test_random_operations_never_surface_the_other_clients_data(cast: Cast, world: TwoClients,
                                                                steps: list[tuple[str, str, str, int]]) -> None:
    for step in steps:
        run(cast, world, step)
    check_isolation(world)


@pytest.fixture
def world(cast: Cast, settings, tmp_path) -> TwoClients:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return build_two_clients(cast)


def test_each_role_of_a_client_sees_exactly_its_organisations_world(cast: Cast, world: TwoClients) -> None:
    """Recounted by hand from the seeded history: each client has a case with two requests
    (the member's, resolved and rated, and the colleague's) and the member's confidential one."""
    a = world.alpha
    done, second, secret = a.requests
    expected = {
        "member": {done.pk, second.pk, secret.pk},  # theirs, the colleague's (same unit, their case)
        "colleague": {done.pk, second.pk},          # not the member's confidential one
        "lead": {done.pk, second.pk},               # the branch's, the confidential one stays with its requester
        "executive": {done.pk, second.pk, secret.pk},  # the organisation's path, all of it
        "admin": {done.pk, second.pk, secret.pk},
    }
    for role, ids in expected.items():
        me = a.people[role]
        assert set(requests_visible_to(me.user).values_list("pk", flat=True)) == ids, role
        assert list(cases_visible_to(me.user).values_list("pk", flat=True)) == [a.cases[0].pk], role
        people = set(people_visible_to(me.user).values_list("pk", flat=True))
        assert people == {p.pk for p in a.people.values()} | set(
            Person.objects.filter(unit__organisation__isnull=True, unit__side=Side.BACK).values_list("pk", flat=True)
        ), role
        units = set(units_visible_to(me.user).values_list("slug", flat=True))
        assert units == {"alpha-front", "payroll", "hr"}, role
    # The provider's staff see across clients as before: the agent both clients' payroll asks.
    agent = set(requests_visible_to(cast.payroll_agent.user).values_list("pk", flat=True))
    assert {done.pk, second.pk, world.bravo.requests[0].pk, world.bravo.requests[1].pk} <= agent
    assert set(requests_visible_to(cast.executive.user).values_list("pk", flat=True)) >= {
        sr.pk for sr in (*a.requests, *world.bravo.requests)}
    # A client's executive sees the confidential request's path, never its payload.
    assert not can_see_payload(a.people["executive"], secret) and not can_see_payload(a.people["admin"], secret)
    assert can_see_payload(a.people["member"], secret)
