"""The event hash chain end to end: actions write it, raw SQL breaks it, verify-audit says so."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tandem.engines.auditchain import GENESIS, event_digest
from tandem.work import actions
from tandem.work.audit import verify_audit
from tandem.work.models import Event, ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def worked(cast: Cast) -> ServiceRequest:
    """A request taken through most actions, the worker's automatic close included."""
    sr = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client approved the overtime?")
    actions.provide_information(cast.consultant, sr.pk, "Acme Ltd, approved by Jo.")
    actions.wait_third_party(cast.payroll_agent, sr.pk, "Acme Ltd accounts")
    actions.resume_request(cast.payroll_agent, sr.pk)
    actions.add_comment(cast.payroll_agent, sr.pk, "Nearly there.")
    actions.resolve_request(cast.payroll_agent, sr.pk, "Hours corrected.", now=timezone.now() - dt.timedelta(days=10))
    assert actions.close_expired_resolutions() == 1
    sr.refresh_from_db()
    return sr


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify-audit", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_request_worked_through_the_actions_verifies(cast: Cast) -> None:
    sr = worked(cast)
    other = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK)).request
    events = list(Event.objects.filter(request=sr).order_by("seq"))
    assert len(events) == sr.last_event_seq >= 9
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    total = Event.objects.count()
    code, out = run()
    assert code == 0 and out.startswith(f"OK: {total:,} events in 2 requests verified")
    code, out = run("--json", "--request", sr.reference)
    assert code == 0
    assert json.loads(out) | {"seconds": 0} == {
        "ok": True, "events": sr.last_event_seq, "requests": 1, "problem": None, "seconds": 0
    }
    assert verify_audit(request_id=other.pk).events == 1


def test_an_event_edited_behind_the_systems_back_is_named(cast: Cast) -> None:
    sr = worked(cast)
    event = Event.objects.get(request=sr, seq=4)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE work_event SET data = %s WHERE id = %s",
                       [json.dumps({"question": "Nothing to see here."}), event.pk])
    code, out = run()
    assert code == 1
    assert out.startswith(f"{sr.reference} event #4 was altered: stored hash {event.hash} ≠ recomputed ")
    code, out = run("--json")
    problem = json.loads(out)["problem"]
    assert code == 1 and problem["kind"] == "altered" and problem["request"] == sr.pk and problem["seq"] == 4


def test_an_edit_that_rehashes_the_event_breaks_the_next_link(cast: Cast) -> None:
    sr = worked(cast)
    event = Event.objects.get(request=sr, seq=3)
    forged = event_digest(event.prev_hash, (sr.pk, 3, "started", None, event.at, event.from_status,
                                            event.to_status, event.internal, event.data))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE work_event SET actor_id = NULL, hash = %s WHERE id = %s", [forged, event.pk])
    code, out = run("--json")
    problem = json.loads(out)["problem"]
    assert code == 1 and problem["kind"] == "relinked" and problem["seq"] == 4


def test_a_deleted_event_is_reported_missing(cast: Cast) -> None:
    sr = worked(cast)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM work_event WHERE request_id = %s AND seq = 5", [sr.pk])
    code, out = run()
    assert code == 1 and out.startswith(f"{sr.reference} is missing event #5")


def test_a_deleted_last_event_is_reported_missing(cast: Cast) -> None:
    sr = worked(cast)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM work_event WHERE request_id = %s AND seq = %s", [sr.pk, sr.last_event_seq])
    code, out = run("--request", str(sr.pk))
    assert code == 1 and out.startswith(f"{sr.reference} is missing event #{sr.last_event_seq}")
