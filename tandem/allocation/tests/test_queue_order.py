"""The queue's order (what is due first, the channel only through a head start the unit sets)
and queue jumps (taking or giving a request ahead of earlier ones records why; the lead sees the
week's jumps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tandem.allocation import actions as plans
from tandem.allocation import policy
from tandem.allocation.forecast import Clock, items_of, open_work
from tandem.allocation.modes import next_for_you
from tandem.allocation.order import QueueOrder
from tandem.allocation.planning import build_plan
from tandem.org.models import Person, Unit
from tandem.promises.models import Promise
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.effort import service_efforts
from tandem.work.models import Channel, Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

from .conftest import MONDAY_10, Skills

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def submit(cast: Cast, *, days_ago: float = 0, channel: str = Channel.INTERNAL) -> ServiceRequest:
    return actions.submit_request(
        cast.consultant, cast.timesheet, TIMESHEET_OK, channel=channel, now=MONDAY_10 - timedelta(days=days_ago)
    ).request


def expected_order(ids: list[int]) -> list[int]:
    """Plain Python: by the earlier of promise and agreement, then the older, then the lower id."""
    promised = dict(Promise.objects.filter(request_id__in=ids).values_list("request_id", "promised_at"))
    rows = ServiceRequest.objects.filter(pk__in=ids)

    def key(sr: ServiceRequest):
        agreed = sr.resolve_by or sr.due_at
        return (min(agreed, promised.get(sr.pk) or agreed), sr.submitted_at, sr.pk)

    return [sr.pk for sr in sorted(rows, key=key)]


def jumps_of(sr_id: int) -> list[Event]:
    return list(Event.objects.filter(request_id=sr_id, kind=Event.Kind.QUEUE_JUMP))


def set_policy(cast: Cast, hours: int, required: bool = True) -> Unit:
    policy.set_queue_policy(cast.payroll_lead, cast.payroll, head_start_hours=hours, reason_required=required)
    cast.payroll.refresh_from_db()
    return cast.payroll


# --- the order ---------------------------------------------------------------------------------------


def test_internal_work_due_first_comes_first_everywhere_and_a_head_start_flips_it_as_the_policy_says(
    cast: Cast, skills: Skills, monday
) -> None:
    plans.set_allocation_mode(cast.payroll_lead, cast.payroll, "pull")
    cast.payroll.refresh_from_db()
    internal = submit(cast, days_ago=2)  # due two days sooner than the customer's
    customer = submit(cast, channel=Channel.EXTERNAL)
    ids = [internal.pk, customer.pk]
    assert expected_order(ids) == [internal.pk, customer.pk]

    # Take next ("next for you"), the plan and the forecast's simulation all put it first.
    assert [n.request.pk for n in next_for_you(cast.payroll_agent, cast.payroll, MONDAY_10)] == expected_order(ids)
    Person.objects.filter(pk=cast.payroll_agent.pk).update(request_share=0.2)  # 1.5 h tomorrow: one request fits
    placed = set(build_plan(cast.payroll, MONDAY_10).proposed())
    assert placed == {internal.pk}

    def simulated_dues(unit: Unit) -> dict[int, float]:
        clock = Clock(unit, MONDAY_10, MONDAY_10 + timedelta(days=14))
        items = items_of(open_work(unit), service_efforts(unit, MONDAY_10), clock, at=MONDAY_10,
                         order=QueueOrder.of(unit))
        assert {a.priority for a in items} == {3}  # the channel weighs nothing by itself
        return {int(a.id): a.due for a in items}

    dues = simulated_dues(cast.payroll)
    assert dues[internal.pk] < dues[customer.pk]

    # "Customers first by 40 h": a working week's head start outweighs two days.
    unit = set_policy(cast, 40)
    assert unit.queue_order_label == "customers first by 40 h"
    assert [n.request.pk for n in next_for_you(cast.payroll_agent, unit, MONDAY_10)] == [customer.pk, internal.pk]
    assert set(build_plan(unit, MONDAY_10).proposed()) == {customer.pk}
    dues = simulated_dues(unit)
    assert dues[customer.pk] < dues[internal.pk]
    # The head start is in the unit's working hours: 40 of them before the customer's due time.
    order = QueueOrder.of(unit)
    due = min(customer.resolve_by or customer.due_at,
              Promise.objects.filter(request=customer).values_list("promised_at", flat=True).first()
              or customer.resolve_by or customer.due_at)
    assert order.calendar().between(order.order_due(due, Channel.EXTERNAL), due) == 40 * 3600
    assert plans.take_next(cast.payroll_agent, unit).pk == customer.pk
    assert not Event.objects.filter(kind=Event.Kind.QUEUE_JUMP).exists()  # Take next never jumps


def test_the_order_is_shown_and_set_by_leads_only(cast: Cast, skills: Skills) -> None:
    lead = client_for(cast.payroll_lead)
    assert "Order: by what is due" in lead.get("/manage/plan/?unit=payroll").content.decode()
    assert "Order: by what is due" in lead.get(f"/queue/?unit={cast.payroll.pk}").content.decode()
    response = lead.post("/manage/plan/queue-order/", {"unit": "payroll", "customer_head_start_hours": "8"})
    assert response.status_code == 302
    unit = Unit.objects.get(pk=cast.payroll.pk)
    assert (unit.customer_head_start_hours, unit.queue_jump_reason_required) == (8, False)
    assert "Order: customers first by 8 h" in lead.get(f"/queue/?unit={cast.payroll.pk}").content.decode()
    assert "Order: customers first by 8 h" in lead.get("/manage/plan/?unit=payroll").content.decode()
    with pytest.raises(Invalid) as refused:
        policy.set_queue_policy(cast.payroll_lead, cast.payroll, head_start_hours=41, reason_required=True)
    assert "customer_head_start_hours" in refused.value.errors
    with pytest.raises(Forbidden):
        policy.set_queue_policy(cast.payroll_agent, cast.payroll, head_start_hours=0, reason_required=True)
    assert Unit.objects.get(pk=cast.payroll.pk).customer_head_start_hours == 8


# --- queue jumps -------------------------------------------------------------------------------------


def test_taking_the_third_request_while_two_earlier_wait_needs_a_reason_and_records_one_jump(
    cast: Cast, skills: Skills, monday
) -> None:
    first, second, third = (submit(cast, days_ago=d) for d in (3, 2, 1))
    assert expected_order([first.pk, second.pk, third.pk]) == [first.pk, second.pk, third.pk]

    with pytest.raises(Invalid) as refused:
        actions.assign_request(cast.payroll_agent, third.pk, cast.payroll_agent.pk)
    assert "reason" in refused.value.errors and first.reference in refused.value.message
    third.refresh_from_db()
    assert (third.status, third.assignee_id, jumps_of(third.pk)) == (Status.NEW, None, [])

    actions.assign_request(cast.payroll_agent, third.pk, cast.payroll_agent.pk, reason="The client escalated")
    [jump] = jumps_of(third.pk)
    assert jump.actor_id == cast.payroll_agent.pk and jump.internal
    assert jump.data == {"reason": "The client escalated", "jumped": 2, "first": first.reference,
                         "ahead": [first.reference, second.reference], "assignee": cast.payroll_agent.pk,
                         "by": cast.payroll_agent.pk}
    assert ServiceRequest.objects.get(pk=third.pk).assignee_id == cast.payroll_agent.pk

    # Someone who could not take the earlier ones (payroll at level 1) jumps nothing.
    fourth = submit(cast)
    actions.assign_request(cast.payroll_lead, fourth.pk, cast.payroll_agent2.pk)
    assert jumps_of(fourth.pk) == []

    # Not required: recorded with an empty reason; starting an unassigned request takes it too.
    set_policy(cast, 0, required=False)
    fifth = submit(cast)
    actions.start_request(cast.payroll_agent, fifth.pk)
    [jump] = jumps_of(fifth.pk)
    assert (jump.data["reason"], jump.data["jumped"], jump.data["first"]) == ("", 2, first.reference)

    # In order jumps nothing: the first waiting request, and Take next.
    actions.assign_request(cast.payroll_agent, first.pk, cast.payroll_agent.pk)
    assert jumps_of(first.pk) == []
    plans.set_allocation_mode(cast.payroll_lead, cast.payroll, "pull")
    cast.payroll.refresh_from_db()
    assert plans.take_next(cast.payroll_agent, cast.payroll).pk == second.pk
    assert Event.objects.filter(kind=Event.Kind.QUEUE_JUMP).count() == 2


def test_applying_the_units_own_plan_never_jumps(cast: Cast, skills: Skills, monday) -> None:
    for d in (3, 2, 1):
        submit(cast, days_ago=d)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    done = plans.accept_plan(cast.payroll_lead, plan.pk)
    assert done.count("applied") >= 1
    assert not Event.objects.filter(kind=Event.Kind.QUEUE_JUMP).exists()


def test_the_page_and_the_api_refuse_a_jump_without_a_reason_and_keep_what_was_typed(
    cast: Cast, skills: Skills, monday
) -> None:
    first, second = submit(cast, days_ago=2), submit(cast, days_ago=1)
    agent = client_for(cast.payroll_agent)
    response = agent.post(f"/requests/{second.pk}/pick/", {})
    text = response.content.decode()
    assert response.status_code == 422
    assert first.reference in text and "Reason" in text and 'name="assign-reason"' in text
    response = agent.post(f"/requests/{second.pk}/assign/",
                          {"assign-assignee": cast.payroll_agent.pk, "assign-reason": "x" * 301})
    assert response.status_code == 422 and "x" * 301 in response.content.decode()
    assert ServiceRequest.objects.get(pk=second.pk).assignee_id is None and jumps_of(second.pk) == []

    api = ApiClient(cast.payroll_agent)
    response = api.post(f"/api/requests/{second.pk}/start", {})
    assert response.status_code == 422 and "reason" in response.json()["errors"]
    assert ServiceRequest.objects.get(pk=second.pk).status == Status.NEW
    response = api.post(f"/api/requests/{second.pk}/assign", {"assignee": "me", "reason": "Payroll closes tonight"})
    assert response.status_code == 200
    assert jumps_of(second.pk)[0].data["reason"] == "Payroll closes tonight"


def test_the_lead_sees_exactly_the_weeks_jumps_on_the_capacity_page_and_the_api(
    cast: Cast, skills: Skills, monday
) -> None:
    waiting = [submit(cast, days_ago=d) for d in (10, 9, 8, 7, 6, 5)]
    # Last week (Monday 16 Nov): one jump, not this week's.
    actions.assign_request(cast.payroll_agent, waiting[2].pk, cast.payroll_agent.pk, reason="Old one",
                           now=MONDAY_10 - timedelta(days=7))
    # This week: two jumps, and one take in order.
    actions.assign_request(cast.payroll_lead, waiting[4].pk, cast.payroll_agent.pk, reason="Asked by the director")
    actions.start_request(cast.payroll_agent, waiting[5].pk, reason="Quick one")
    actions.assign_request(cast.payroll_agent, waiting[0].pk, cast.payroll_agent.pk)
    scripted = Event.objects.filter(kind=Event.Kind.QUEUE_JUMP, at__gte=MONDAY_10 - timedelta(hours=10)).count()
    assert scripted == 2

    text = client_for(cast.payroll_lead).get("/manage/capacity/?unit=payroll").content.decode()
    assert f"Queue jumps this week: {scripted}" in text
    assert "Asked by the director" in text and "Quick one" in text and "Old one" not in text
    assert f"ahead of 3 requests (first {waiting[0].reference})" in text  # waiting[4]: 0, 1, 3 before it

    body = ApiClient(cast.payroll_lead).get("/api/units/payroll/queue-jumps").json()
    assert body["count"] == scripted and body["order"] == "by what is due" and body["reason_required"] is True
    assert [j["reference"] for j in body["jumps"]] == [waiting[5].reference, waiting[4].reference]
    assert body["jumps"][1]["by"]["id"] == cast.payroll_lead.pk
    assert body["jumps"][1]["assignee"]["id"] == cast.payroll_agent.pk
    longer = ApiClient(cast.payroll_lead).get("/api/units/payroll/queue-jumps",
                                              {"since": (MONDAY_10 - timedelta(days=8)).isoformat()}).json()
    assert longer["count"] == 3

    # Not for members: the API answers 403, the page refuses as the other management pages do.
    assert ApiClient(cast.payroll_agent).get("/api/units/payroll/queue-jumps").status_code == 403
    assert client_for(cast.payroll_agent).get("/manage/capacity/?unit=payroll").status_code in (403, 404)
    assert ApiClient(cast.payroll_lead).get("/api/units/nope/queue-jumps").status_code == 404
