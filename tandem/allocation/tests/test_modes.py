"""A unit's allocation mode: suggest (the lead accepts plans), auto (Tandem places new and
orphaned work itself, from the worker) and pull (people take the next request they are
qualified for). Bad inputs, the absence re-plan in each mode, the "next for you" order, and
two people taking at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from tandem.allocation import actions as plans
from tandem.allocation.models import Plan, PlanStatus
from tandem.allocation.modes import next_for_you, units_to_place
from tandem.catalogue.models import Service, ServiceSkill
from tandem.notifications.models import Notification
from tandem.org import actions as org_actions
from tandem.org.models import AllocationMode, Person, PersonSkill, Unit
from tandem.refusal import Conflict, Forbidden, Invalid, Refused
from tandem.work import actions
from tandem.work.models import Channel, Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

from .conftest import MONDAY_10, Skills

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def submit(cast: Cast, count: int, **kwargs) -> list[int]:
    return [
        actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, **kwargs).request.pk
        for _ in range(count)
    ]


def holders(ids: list[int]) -> dict[int, int | None]:
    return dict(ServiceRequest.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))


def set_mode(cast: Cast, mode: str) -> None:
    plans.set_allocation_mode(cast.payroll_lead, cast.payroll, mode)
    cast.payroll.refresh_from_db()


def mode_of(unit: Unit) -> str:
    return Unit.objects.values_list("allocation_mode", flat=True).get(pk=unit.pk)


def notes(person: Person) -> list[str]:
    return list(Notification.objects.filter(recipient=person).order_by("id").values_list("message", flat=True))


# --- changing the mode ----------------------------------------------------------------------------


def test_a_lead_changes_the_mode_on_the_plan_page_where_each_mode_is_explained(cast: Cast, skills: Skills) -> None:
    assert mode_of(cast.payroll) == "suggest"
    client = client_for(cast.payroll_lead)
    text = client.get("/manage/plan/?unit=payroll").content.decode()
    assert "How Payroll's work is allocated" in text
    assert "Nothing moves without a lead" in text and "Take next" in text and "applies the plan itself" in text
    response = client.post("/manage/plan/mode/", {"unit": "payroll", "mode": "pull"})
    assert response.status_code == 302 and mode_of(cast.payroll) == "pull"
    assert 'value="pull" checked' in client.get("/manage/plan/?unit=payroll").content.decode()


def test_the_mode_refuses_unknown_values_non_leads_and_unknown_units(cast: Cast, skills: Skills) -> None:
    with pytest.raises(Invalid) as bad:
        plans.set_allocation_mode(cast.payroll_lead, cast.payroll, "round-robin")
    assert "choose one of: suggest, auto, pull" in bad.value.message
    with pytest.raises(Forbidden):
        plans.set_allocation_mode(cast.payroll_agent, cast.payroll, "auto")
    with pytest.raises(Invalid):
        plans.set_allocation_mode(cast.admin, cast.leeds, "auto")  # a front-office unit
    assert mode_of(cast.payroll) == "suggest"

    page = client_for(cast.payroll_lead).post("/manage/plan/mode/", {"unit": "payroll", "mode": "fastest"})
    assert page.status_code == 422 and "choose one of: suggest, auto, pull" in page.content.decode()
    assert client_for(cast.payroll_agent).post("/manage/plan/mode/", {"unit": "payroll", "mode": "auto"}).status_code == 403
    assert client_for(cast.payroll_lead).post("/manage/plan/mode/", {"unit": "nope", "mode": "auto"}).status_code == 404

    lead = ApiClient(cast.payroll_lead)
    response = lead.post("/api/units/payroll/allocation-mode", {"mode": "sometimes"})
    assert response.status_code == 422
    assert response.json()["detail"] == "'sometimes' is not an allocation mode; choose one of: suggest, auto, pull."
    assert response.json()["errors"] == {"mode": ["One of: suggest, auto, pull."]}
    assert lead.post("/api/units/payroll/allocation-mode", {}).status_code == 422
    assert lead.post("/api/units/nope/allocation-mode", {"mode": "auto"}).status_code == 404
    assert lead.post("/api/units/hr/allocation-mode", {"mode": "auto"}).status_code == 403
    assert ApiClient(cast.payroll_agent).post("/api/units/payroll/allocation-mode", {"mode": "auto"}).status_code == 403
    assert mode_of(cast.payroll) == "suggest"

    response = ApiClient(cast.admin).post("/api/units/payroll/allocation-mode", {"mode": "auto"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["mode"] == "auto" and body["unit"]["slug"] == "payroll" and "places new work" in body["explanation"]
    assert mode_of(cast.payroll) == "auto"
    assert "set how Payroll's work is allocated" in notes(cast.payroll_lead)[-1]


# --- auto ---------------------------------------------------------------------------------------


def test_auto_places_new_work_from_the_worker_and_tells_the_people_given_it(cast: Cast, skills: Skills, monday) -> None:
    set_mode(cast, "auto")
    ids = submit(cast, 3)
    # Submitting asks no solver: nothing is placed until the worker's step runs.
    assert holders(ids) == dict.fromkeys(ids) and not Plan.objects.exists()
    assert units_to_place(MONDAY_10) == [cast.payroll]
    assert plans.place_new_work() == 3
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)  # the one qualified person
    plan = Plan.objects.get()
    assert plan.created_by is None and plan.status == PlanStatus.ACCEPTED and plan.accepted_by is None
    assert plan.reason == "New work to place"
    events = Event.objects.filter(request_id__in=ids, kind=Event.Kind.ASSIGNED)
    assert events.count() == 3 and {e.actor_id for e in events} == {None}
    assert {e.data["plan"] for e in events} == {plan.pk}
    assert sum("Tandem gave you" in n for n in notes(cast.payroll_agent)) == 3
    # Nothing new: the next round asks the engine nothing.
    assert units_to_place(MONDAY_10) == [] and plans.place_new_work() == 0 and Plan.objects.count() == 1
    # Work returned to the queue is orphaned: the next round places it again.
    later = MONDAY_10 + timedelta(minutes=5)
    actions.unassign_request(cast.payroll_agent, ids[0], now=later)
    assert units_to_place(later) == [cast.payroll]
    assert plans.place_new_work(now=later) == 1 and holders(ids)[ids[0]] == cast.payroll_agent.pk


def test_the_worker_command_runs_the_placement_step(cast: Cast, skills: Skills, monday) -> None:
    set_mode(cast, "auto")
    ids = submit(cast, 2)
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "placed 2 request(s) of units in auto mode" in out.getvalue()
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)


def test_auto_leaves_alone_units_in_other_modes(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 2)
    assert plans.place_new_work() == 0
    set_mode(cast, "pull")
    assert plans.place_new_work() == 0
    assert holders(ids) == dict.fromkeys(ids) and not Plan.objects.exists()


def test_auto_tells_the_lead_once_what_nobody_is_qualified_for(cast: Cast, skills: Skills, monday) -> None:
    set_mode(cast, "auto")
    legal = Service.objects.create(
        unit=cast.payroll, name="Contract review", slug="contract-review", summary="Review.",
        owner=cast.payroll_lead, turnaround_days=3,
    )
    ServiceSkill.objects.create(service=legal, skill=skills.legal, min_level=3)
    odd = actions.submit_request(cast.consultant, legal, {}).request.pk
    ids = submit(cast, 1)
    assert plans.place_new_work() == 1
    assert holders([odd, *ids]) == {odd: None, ids[0]: cast.payroll_agent.pk}
    [told] = [n for n in notes(cast.payroll_lead) if "could not place" in n]
    assert told.startswith("Tandem could not place 1 request of Payroll (")
    assert "Legal" in told and "/manage/plan/" in told
    # A new arrival re-plans the unit; the request nobody can take is not reported again.
    submit(cast, 1)
    assert plans.place_new_work() == 1
    assert sum("could not place" in n for n in notes(cast.payroll_lead)) == 1


def test_auto_re_places_the_work_of_someone_whose_absence_starts(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    ids = submit(cast, 3)
    for pk in ids:
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
    cast.payroll_agent2.skill_levels.update(level=2)
    set_mode(cast, "auto")
    with django_capture_on_commit_callbacks(execute=True):
        org_actions.add_absence(
            cast.payroll_lead, cast.payroll_agent.pk, kind="sick", starts_on=date(2026, 11, 23),
            ends_on=date(2026, 11, 24),
        )
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent2.pk)
    plan = Plan.objects.get()
    assert plan.status == PlanStatus.ACCEPTED and plan.reason == "Payroll Agent is away from today"
    moved = Event.objects.filter(request_id__in=ids, kind=Event.Kind.ASSIGNED, actor__isnull=True)
    assert moved.count() == 3 and {e.data["previous"] for e in moved} == {cast.payroll_agent.pk}
    assert notes(cast.payroll_lead)[-1].startswith(
        "Payroll Agent is away from today; Tandem gave 3 of their requests to others."
    )
    assert sum("Tandem gave you" in n for n in notes(cast.payroll_agent2)) == 3


def test_auto_places_again_when_a_loan_is_agreed(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    set_mode(cast, "auto")
    ids = submit(cast, 8)
    plans.place_new_work()
    assert sum(1 for v in holders(ids).values() if v) == 6  # payroll_agent's 6.5 free hours
    PersonSkill.objects.create(person=cast.consultant, skill=skills.payroll, level=3)
    loan = plans.propose_loan(
        cast.payroll_lead, cast.payroll, cast.consultant.pk, starts_at=MONDAY_10, ends_at=MONDAY_10 + timedelta(days=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        plans.agree_loan(cast.admin, loan.pk)
    assert set(holders(ids).values()) == {cast.payroll_agent.pk, cast.consultant.pk}
    assert Plan.objects.order_by("-id")[0].reason.startswith("Capacity changed: Consultant")


def test_two_workers_placing_at_once_place_each_request_once(
    transactional_db, cast: Cast, skills: Skills, monday
) -> None:
    cast.payroll_agent2.skill_levels.update(level=2)
    set_mode(cast, "auto")
    ids = submit(cast, 6)
    results = _at_once(plans.place_new_work, plans.place_new_work)
    assert all(isinstance(r, int) for r in results), results
    assert all(holders(ids).values())
    for pk in ids:
        assert Event.objects.filter(request_id=pk, kind=Event.Kind.ASSIGNED).count() == 1, pk
    assert sum(results) == 6  # type: ignore[arg-type]


# --- pull ---------------------------------------------------------------------------------------


def test_pull_returns_the_absent_persons_not_started_work_to_the_queue(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    set_mode(cast, "pull")
    ids = submit(cast, 3)
    for pk in ids:
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
    actions.start_request(cast.payroll_agent, ids[2])
    with django_capture_on_commit_callbacks(execute=True):
        org_actions.add_absence(
            cast.payroll_lead, cast.payroll_agent.pk, kind="sick", starts_on=date(2026, 11, 23),
            ends_on=date(2026, 11, 23),
        )
    assert holders(ids) == {ids[0]: None, ids[1]: None, ids[2]: cast.payroll_agent.pk}  # started work stays
    assert set(ServiceRequest.objects.filter(pk__in=ids[:2]).values_list("status", flat=True)) == {Status.NEW}
    back = Event.objects.filter(request_id__in=ids, kind=Event.Kind.UNASSIGNED)
    assert back.count() == 2 and {e.actor_id for e in back} == {None}
    assert notes(cast.payroll_lead)[-1] == (
        "Payroll Agent is away from today; 2 of their not-started requests went back to Payroll's queue "
        "for the team to take."
    )
    assert not Plan.objects.exists()


def test_next_for_you_orders_by_what_is_due_and_skips_what_you_are_not_qualified_for(
    cast: Cast, skills: Skills, monday
) -> None:
    set_mode(cast, "pull")
    later = submit(cast, 1)[0]
    customer = submit(cast, 1, channel=Channel.EXTERNAL)[0]  # no head start: due with ``later``, newer
    overdue = actions.submit_request(
        cast.consultant, cast.timesheet, TIMESHEET_OK, now=MONDAY_10 - timedelta(days=7)
    ).request.pk
    legal = Service.objects.create(
        unit=cast.payroll, name="Contract review", slug="contract-review", summary="Review.",
        owner=cast.payroll_lead, turnaround_days=1,
    )
    ServiceSkill.objects.create(service=legal, skill=skills.legal, min_level=2)
    unqualified = actions.submit_request(cast.consultant, legal, {}).request.pk
    taken = submit(cast, 1)[0]
    actions.assign_request(cast.payroll_agent2, taken, cast.payroll_agent2.pk)

    order = [n.request.pk for n in next_for_you(cast.payroll_agent, cast.payroll, MONDAY_10)]
    assert order == [overdue, later, customer]
    assert unqualified not in order and taken not in order
    # payroll_agent2 holds payroll at level 1 only: timesheet corrections (level 2) are not theirs.
    assert next_for_you(cast.payroll_agent2, cast.payroll, MONDAY_10) == []

    text = client_for(cast.payroll_agent).get(f"/queue/?unit={cast.payroll.pk}").content.decode()
    assert "Next for you" in text and "Take next" in text
    assert text.index(ServiceRequest.objects.get(pk=overdue).reference) < text.index(
        ServiceRequest.objects.get(pk=customer).reference
    )
    assert plans.take_next(cast.payroll_agent, cast.payroll).pk == overdue
    assert plans.take_next(cast.payroll_agent, cast.payroll).pk == later
    event = Event.objects.filter(request_id=overdue, kind=Event.Kind.ASSIGNED).get()
    assert event.actor_id == cast.payroll_agent.pk and event.data["taken"] is True


def test_take_next_refuses_clearly(cast: Cast, skills: Skills, monday) -> None:
    [pk] = submit(cast, 1)
    with pytest.raises(Conflict) as not_pull:
        plans.take_next(cast.payroll_agent, cast.payroll)
    assert "does not work in pull mode" in not_pull.value.message
    set_mode(cast, "pull")
    with pytest.raises(Conflict) as unqualified:
        plans.take_next(cast.payroll_agent2, cast.payroll)
    assert unqualified.value.message.startswith(
        "Nothing is left in Payroll's queue that you are qualified for: the 1 waiting request needs a skill"
    )
    with pytest.raises(Forbidden):
        plans.take_next(cast.hr_agent, cast.payroll)
    with pytest.raises(Forbidden):
        plans.take_next(cast.consultant, cast.payroll)
    assert holders([pk]) == {pk: None}
    assert plans.take_next(cast.payroll_agent, cast.payroll).pk == pk
    with pytest.raises(Conflict) as empty:
        plans.take_next(cast.payroll_agent, cast.payroll)
    assert empty.value.message == "Nothing is left to take in Payroll's queue: every open request has a holder."


def test_take_next_through_the_api_and_the_queue_page(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 2)
    agent = ApiClient(cast.payroll_agent)
    response = agent.post("/api/units/payroll/take-next")
    assert response.status_code == 409 and "pull mode" in response.json()["detail"]
    assert "Next for you" not in client_for(cast.payroll_agent).get("/queue/").content.decode()
    set_mode(cast, "pull")
    response = agent.post("/api/units/payroll/take-next")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == ids[0] and response.json()["assignee"]["id"] == cast.payroll_agent.pk
    assert agent.post("/api/units/nope/take-next").status_code == 404
    assert agent.post("/api/units/leeds/take-next").status_code == 422
    assert ApiClient(cast.hr_agent).post("/api/units/payroll/take-next").status_code == 403
    response = ApiClient(cast.payroll_agent2).post("/api/units/payroll/take-next")
    assert response.status_code == 409 and "qualified" in response.json()["detail"]

    client = client_for(cast.payroll_agent)
    response = client.post("/queue/take-next/", {"unit": "payroll"})
    assert response.status_code == 302 and response["Location"] == f"/requests/{ids[1]}/"
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)
    response = client.post("/queue/take-next/", {"unit": "payroll"})
    assert response.status_code == 409 and "every open request has a holder" in response.content.decode()
    assert client.post("/queue/take-next/", {"unit": "nope"}).status_code == 404
    assert client.get("/queue/take-next/").status_code == 405


# --- two people at once ---------------------------------------------------------------------------


def _at_once(*calls: Callable[[], object]) -> list[object]:
    """The calls at the same time on PostgreSQL (threads, each with its own connection); one
    after the other on SQLite, whose IMMEDIATE transactions serialise writers anyway (the real
    race on both databases is tests/test_concurrency_pull.py, through gunicorn)."""
    if connection.vendor != "postgresql":
        return [_outcome(call) for call in calls]
    results: list[object] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(_outcome(call))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Refused as refusal:
        return refusal


def test_two_agents_taking_next_at_once_get_different_requests(
    transactional_db, cast: Cast, skills: Skills, monday
) -> None:
    cast.payroll_agent2.skill_levels.update(level=2)
    set_mode(cast, "pull")
    ids = submit(cast, 3)
    first = _at_once(
        lambda: plans.take_next(cast.payroll_agent, cast.payroll),
        lambda: plans.take_next(cast.payroll_agent2, cast.payroll),
    )
    taken = [r.pk for r in first if isinstance(r, ServiceRequest)]
    assert len(taken) == 2 and len(set(taken)) == 2, first
    # One left, two takers: one gets it, the other is told nothing is left.
    second = _at_once(
        lambda: plans.take_next(cast.payroll_agent, cast.payroll),
        lambda: plans.take_next(cast.payroll_agent2, cast.payroll),
    )
    assert sorted(type(r).__name__ for r in second) == ["Conflict", "ServiceRequest"], second
    assert all(holders(ids).values())
    for pk in ids:
        assert Event.objects.filter(request_id=pk, kind=Event.Kind.ASSIGNED).count() == 1, pk
    assert mode_of(cast.payroll) == AllocationMode.PULL
