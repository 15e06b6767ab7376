"""The lead's allocation plan: propose, accept (all or per line), superseded plans, requests
that moved since the plan, items nobody is qualified for, and the re-plan when an absence starts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.test import Client

from tandem.allocation import actions as plans
from tandem.allocation.models import LineOutcome, Plan, PlanStatus
from tandem.catalogue.models import Service, ServiceSkill
from tandem.notifications.models import Notification
from tandem.org import actions as org_actions
from tandem.org.models import Person, Role
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound, Refused
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast, make_person

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


def test_a_plan_gives_work_only_to_qualified_people_within_their_capacity(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 8)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    lines = {line.request_id: line for line in plan.lines.all()}
    assert set(lines) == set(ids)
    # Only payroll_agent has payroll at level 2 or above, and 6.5 free hours today (1 h each).
    placed = [line for line in lines.values() if line.person_id]
    assert {line.person_id for line in placed} == {cast.payroll_agent.pk} and len(placed) == 6
    assert all("capacity" in line.reason for line in lines.values() if not line.person_id)
    assert plan.status == PlanStatus.PROPOSED and plan.created_by == cast.payroll_lead
    assert plan.gap <= 0.011 and plan.bound >= plan.objective
    assert holders(ids) == dict.fromkeys(ids)  # proposing changes nobody's work


def test_accepting_a_plan_assigns_its_lines_and_only_once(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 3)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    done = plans.accept_plan(cast.payroll_lead, plan.pk)
    assert done.count(LineOutcome.APPLIED) == 3
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)
    assert set(ServiceRequest.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.ASSIGNED}
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED and plan.accepted_by == cast.payroll_lead
    with pytest.raises(Conflict, match="already accepted"):
        plans.accept_plan(cast.payroll_lead, plan.pk)


def test_a_newer_plan_supersedes_and_the_older_is_refused(cast: Cast, skills: Skills, monday) -> None:
    """Two leads (or two tabs) with conflicting plans: only the newest can be applied."""
    lead2 = make_person("lead2", cast.payroll, Role.LEAD, first="Lee")
    ids = submit(cast, 2)
    older = plans.propose_plan(cast.payroll_lead, cast.payroll)
    newer = plans.propose_plan(lead2, cast.payroll, now=MONDAY_10 + timedelta(minutes=5))
    older.refresh_from_db()
    assert older.status == PlanStatus.SUPERSEDED
    with pytest.raises(Conflict) as refused:
        plans.accept_plan(cast.payroll_lead, older.pk)
    assert refused.value.message == "A newer plan was proposed at 10:05 by Lee; review that one."
    assert holders(ids) == dict.fromkeys(ids)  # the refused accept changed nothing
    assert not older.lines.filter(accepted_at__isnull=False).exists()
    plans.accept_plan(lead2, newer.pk)
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)


def test_lines_whose_request_moved_since_the_plan_are_not_applied(cast: Cast, skills: Skills, monday) -> None:
    moved, cancelled, fine = submit(cast, 3)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    actions.assign_request(cast.payroll_agent2, moved, cast.payroll_agent2.pk)  # picked it up meanwhile
    actions.cancel_request(cast.consultant, cancelled, "Not needed after all.")
    done = plans.accept_plan(cast.payroll_lead, plan.pk)
    outcome = {line.request_id: line.outcome for line in done.lines}
    assert outcome == {moved: LineOutcome.CHANGED, cancelled: LineOutcome.CHANGED, fine: LineOutcome.APPLIED}
    assert holders([moved, fine]) == {moved: cast.payroll_agent2.pk, fine: cast.payroll_agent.pk}
    line = plan.lines.get(request_id=moved)
    assert line.outcome == LineOutcome.CHANGED and "changed since the plan" in line.outcome_note


def test_lines_can_be_accepted_one_by_one(cast: Cast, skills: Skills, monday) -> None:
    first, second = submit(cast, 2)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    one = plan.lines.get(request_id=first)
    plans.accept_plan(cast.payroll_lead, plan.pk, lines=[one.pk])
    assert holders([first, second]) == {first: cast.payroll_agent.pk, second: None}
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    with pytest.raises(Conflict):  # that line is done
        plans.accept_plan(cast.payroll_lead, plan.pk, lines=[one.pk])
    with pytest.raises(Invalid):  # not a line of this plan
        plans.accept_plan(cast.payroll_lead, plan.pk, lines=[10**9])
    plans.accept_plan(cast.payroll_lead, plan.pk)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED and holders([second]) == {second: cast.payroll_agent.pk}


def test_work_nobody_is_qualified_for_stays_unassigned_and_the_lead_is_told(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    legal = Service.objects.create(
        unit=cast.payroll, name="Contract check", slug="contract-check", summary="Check a contract.",
        owner=cast.payroll_lead, turnaround_days=3,
    )
    ServiceSkill.objects.create(service=legal, skill=skills.legal, min_level=2)
    sr = actions.submit_request(cast.consultant, legal, {}).request
    with django_capture_on_commit_callbacks(execute=True):
        plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    line = plan.lines.get(request=sr)
    assert line.person is None and line.reason == "no person has skill 'Legal'"
    note = Notification.objects.get(recipient=cast.payroll_lead, kind=Notification.Kind.PLAN_TO_REVIEW)
    assert "1 request of Payroll could not be given to anyone" in note.message


def test_a_service_needing_no_skill_may_go_to_any_member(cast: Cast, monday) -> None:
    ids = submit(cast, 1, channel="internal")
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    assert plan.lines.get(request_id=ids[0]).person_id is not None


def test_only_a_lead_of_the_unit_proposes_and_accepts(cast: Cast, skills: Skills, monday) -> None:
    submit(cast, 1)
    with pytest.raises(Forbidden):
        plans.propose_plan(cast.payroll_agent, cast.payroll)
    with pytest.raises(Invalid):
        plans.propose_plan(cast.admin, cast.leeds)  # a front-office unit
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    for outsider in (cast.payroll_agent, cast.hr_agent, cast.consultant):
        with pytest.raises(NotFound):
            plans.accept_plan(outsider, plan.pk)
    assert not plan.lines.filter(accepted_at__isnull=False).exists()


def test_an_absence_from_today_re_plans_the_persons_work_and_tells_the_lead(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    ids = submit(cast, 4)
    for pk in ids:
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
    # payroll_agent2 can now take them: raise their level.
    cast.payroll_agent2.skill_levels.update(level=2)
    with django_capture_on_commit_callbacks(execute=True):
        org_actions.add_absence(
            cast.payroll_lead, cast.payroll_agent.pk, kind="sick", starts_on=date(2026, 11, 23),
            ends_on=date(2026, 11, 25),
        )
    plan = Plan.objects.get(unit=cast.payroll)
    assert plan.created_by is None and plan.reason == "Payroll Agent is away from today"
    assert {line.person_id for line in plan.lines.all()} == {cast.payroll_agent2.pk}
    note = Notification.objects.get(recipient=cast.payroll_lead, kind=Notification.Kind.PLAN_TO_REVIEW)
    assert note.message.startswith("Payroll Agent is away from today; 4 of their requests need a new holder")
    plans.accept_plan(cast.payroll_lead, plan.pk)
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent2.pk)


def test_an_absence_in_the_future_or_of_someone_holding_nothing_plans_nothing(
    cast: Cast, skills: Skills, monday, django_capture_on_commit_callbacks
) -> None:
    ids = submit(cast, 1)
    actions.assign_request(cast.payroll_lead, ids[0], cast.payroll_agent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        org_actions.add_absence(
            cast.payroll_lead, cast.payroll_agent.pk, kind="leave", starts_on=date(2026, 12, 1),
            ends_on=date(2026, 12, 2),
        )
        org_actions.add_absence(
            cast.payroll_lead, cast.payroll_agent2.pk, kind="sick", starts_on=date(2026, 11, 23),
            ends_on=date(2026, 11, 23),
        )
    assert not Plan.objects.exists()


# --- the API ------------------------------------------------------------------------------------


def test_the_plan_api_proposes_reads_and_accepts(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 2)
    api = ApiClient(cast.payroll_lead)
    assert api.get("/api/units/payroll/plans/latest").status_code == 404
    response = api.post("/api/units/payroll/plans")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed" and len(body["lines"]) == 2
    assert body["lines"][0]["proposed"]["id"] == cast.payroll_agent.pk and body["lines"][0]["holder"] is None
    assert api.get("/api/units/payroll/plans/latest").json()["id"] == body["id"]
    first = body["lines"][0]["id"]
    response = api.post(f"/api/plans/{body['id']}/accept", {"lines": [first]})
    assert response.status_code == 200, response.json()
    assert [line["outcome"] for line in response.json()["lines"]] == ["applied", ""]
    response = api.post(f"/api/plans/{body['id']}/accept")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)
    assert api.post(f"/api/plans/{body['id']}/accept").status_code == 409


def test_the_plan_api_refuses_clearly(cast: Cast, skills: Skills, monday) -> None:
    submit(cast, 1)
    lead = ApiClient(cast.payroll_lead)
    assert lead.post("/api/units/nope/plans").status_code == 404
    assert lead.post("/api/units/leeds/plans").status_code == 422
    assert lead.post("/api/units/hr/plans").status_code == 403
    assert ApiClient(cast.payroll_agent).post("/api/units/payroll/plans").status_code == 403
    older = lead.post("/api/units/payroll/plans").json()
    lead.post("/api/units/payroll/plans")
    response = lead.post(f"/api/plans/{older['id']}/accept")
    assert response.status_code == 409 and "A newer plan was proposed" in response.json()["detail"]
    assert lead.post("/api/plans/999999/accept").status_code == 404
    assert ApiClient(cast.hr_agent).post(f"/api/plans/{older['id']}/accept").status_code == 404
    assert lead.post(f"/api/plans/{older['id']}/accept", {"lines": ["x"]}).status_code == 422
    assert lead.post(f"/api/plans/{older['id']}/accept", {"line": [1]}).status_code == 422


# --- the page -------------------------------------------------------------------------------------


def test_the_plan_page_proposes_and_accepts(cast: Cast, skills: Skills, monday) -> None:
    ids = submit(cast, 2)
    client = client_for(cast.payroll_lead)
    assert "No plan yet" in client.get("/manage/plan/").content.decode()
    response = client.post("/manage/plan/propose/", {"unit": "payroll"})
    assert response.status_code == 302
    text = client.get("/manage/plan/").content.decode()
    assert "Accept all (2)" in text and "→ Payroll Agent" in text and "Timesheet correction" in text
    plan = Plan.objects.get()
    line = plan.lines.get(request_id=ids[0])
    assert client.post(f"/manage/plan/{plan.pk}/accept/", {"line": line.pk}).status_code == 302
    assert holders(ids) == {ids[0]: cast.payroll_agent.pk, ids[1]: None}
    client.post("/manage/plan/propose/", {"unit": "payroll"})
    response = client.post(f"/manage/plan/{plan.pk}/accept/")
    assert response.status_code == 409 and "A newer plan was proposed" in response.content.decode()
    assert client_for(cast.payroll_agent).get("/manage/plan/").status_code == 403
    assert client_for(cast.payroll_agent).post("/manage/plan/propose/").status_code == 403


# --- two leads at once ----------------------------------------------------------------------------


def _at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same time on PostgreSQL (threads, each with its own connection);
    one after the other on SQLite, whose IMMEDIATE transactions serialise writers anyway."""
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


def test_two_leads_accepting_at_once_one_wins_and_the_other_is_told(
    transactional_db, cast: Cast, skills: Skills, monday
) -> None:
    lead2 = make_person("lead2", cast.payroll, Role.LEAD, first="Lee")
    ids = submit(cast, 3)
    plan = plans.propose_plan(cast.payroll_lead, cast.payroll)
    results = _at_once(
        lambda: plans.accept_plan(cast.payroll_lead, plan.pk),
        lambda: plans.accept_plan(lead2, plan.pk),
    )
    wins = [r for r in results if isinstance(r, plans.Acceptance)]
    refusals = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(refusals) == 1, results
    assert "already accepted this plan" in refusals[0].message
    assert holders(ids) == dict.fromkeys(ids, cast.payroll_agent.pk)
    # Each request was assigned once: one "assigned" event each.
    assert Event.objects.filter(request_id__in=ids, kind=Event.Kind.ASSIGNED).count() == 3
