"""Work held by someone away today is visible to the lead, with one action to hand it back, in
every allocation mode; nothing is held silently."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from tandem.org.models import Absence, AllocationMode, Unit
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


def client_for(person) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(person.user)
    return client


@pytest.mark.parametrize("mode", [AllocationMode.SUGGEST, AllocationMode.AUTO, AllocationMode.PULL])
def test_the_lead_sees_and_hands_back_work_held_by_someone_away(cast: Cast, mode: str) -> None:
    Unit.objects.filter(pk=cast.payroll.pk).update(allocation_mode=mode)
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=UTC), tick=False):
        ids = [actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk for _ in range(3)]
        for pk in ids:
            actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
        actions.start_request(cast.payroll_agent, ids[0])
    # Recorded in bulk (as an import or the demo does): no reaction ran, the work stayed.
    Absence.objects.bulk_create([Absence(person=cast.payroll_agent, kind=Absence.Kind.SICK,
                                         starts_on=date(2026, 11, 17), ends_on=date(2026, 11, 20))])
    lead = client_for(cast.payroll_lead)
    with time_machine.travel(TUESDAY, tick=False):
        queue = lead.get("/queue/").content.decode()
        capacity = lead.get("/manage/capacity/?unit=payroll").content.decode()
        member_queue = client_for(cast.payroll_agent2).get("/queue/").content.decode()
        for page in (queue, capacity):
            assert 'data-testid="away"' in page
            assert "is away until Fri 20 Nov (sickness) and holds 3 open requests" in page
            assert "Hand back the 2 not started to the queue" in page
            assert ServiceRequest.objects.get(pk=ids[0]).reference in page  # started: reassign by hand
        assert 'data-testid="away"' not in member_queue
        # A colleague may not do it; nothing changes.
        refused = client_for(cast.payroll_agent2).post(f"/manage/capacity/hand-back/{cast.payroll_agent.pk}/")
        assert refused.status_code == 403
        assert ServiceRequest.objects.filter(assignee=cast.payroll_agent).count() == 3
        done = lead.post(f"/manage/capacity/hand-back/{cast.payroll_agent.pk}/", {"next": "/queue/"})
        assert done.status_code == 302 and done["Location"] == "/queue/"
    moved = ServiceRequest.objects.filter(pk__in=ids[1:])
    if mode == AllocationMode.AUTO:  # placed again at once, never with the absent person
        assert all(sr.assignee_id not in (None, cast.payroll_agent.pk) for sr in moved)
    else:
        assert all(sr.assignee_id is None and sr.status == Status.NEW for sr in moved)
    assert ServiceRequest.objects.get(pk=ids[0]).assignee_id == cast.payroll_agent.pk  # started: stays
    unassigned = Event.objects.filter(request_id__in=ids[1:], kind=Event.Kind.UNASSIGNED)
    assert [(e.actor_id, e.data["reason"]) for e in unassigned] == [(cast.payroll_lead.pk, "absent")] * 2


def test_handing_back_for_someone_not_away_is_refused(cast: Cast) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
        answer = client_for(cast.payroll_lead).post(f"/manage/capacity/hand-back/{cast.payroll_agent.pk}/")
        missing = client_for(cast.payroll_lead).post("/manage/capacity/hand-back/999999/")
    assert answer.status_code == 409 and "not away today" in answer.content.decode()
    assert missing.status_code == 404
    assert ServiceRequest.objects.get(pk=pk).assignee_id == cast.payroll_agent.pk


def test_the_warning_counts_everything_held_and_names_the_most_urgent_started_ones(cast: Cast) -> None:
    """However much someone away holds, the warning counts it all (a plain recount) and names the
    most urgent started ones; the rest are one link away, in the queue filtered by that person."""
    from tandem.work.queries import AWAY_NAMED

    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=UTC), tick=True):
        ids = [actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
               for _ in range(AWAY_NAMED + 4)]
        for pk in ids:
            actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
        for pk in ids[2:]:
            actions.start_request(cast.payroll_agent, pk)
    Absence.objects.bulk_create([Absence(person=cast.payroll_agent, kind=Absence.Kind.LEAVE,
                                         starts_on=date(2026, 11, 17), ends_on=date(2026, 11, 20))])
    with time_machine.travel(TUESDAY, tick=False):
        page = client_for(cast.payroll_lead).get("/queue/").content.decode()
    held = ServiceRequest.objects.filter(assignee=cast.payroll_agent, is_open=True).exclude(status=Status.RESOLVED)
    started = sorted((sr for sr in held if sr.status != Status.ASSIGNED), key=lambda sr: (sr.due_at, sr.pk))
    assert f"holds {len(held)} open requests" in page
    assert f"Hand back the {len(held) - len(started)} not started to the queue" in page
    named = [sr for sr in started if f">{sr.reference}</a>" in page]
    assert named == started[:AWAY_NAMED]
    assert f"and {len(started) - AWAY_NAMED} more" in page
    assert f"?unit={cast.payroll.pk}&amp;assignee={cast.payroll_agent.pk}" in page
