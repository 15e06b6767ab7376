"""The moves of a request's life cycle: the back office's (assign, start, ask, wait, resume,
resolve, tick a procedure step) and the requester's (accept, reopen, cancel).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from tandem.catalogue.models import ProcedureStep
from tandem.org.models import Person, Side, Unit
from tandem.org.queries import leads_unit, work_unit_ids
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work.actions.attachments import check_files, discarded_on_failure, store
from tandem.work.actions.moves import (
    _append_event,
    _check_text,
    _locked,
    _move,
    _note_first_response,
    _queue_jump,
    _record_jump,
    _require_requester,
    _require_worker,
    _save,
    _what_next,
)
from tandem.work.models import FINAL_STATUSES, Comment, Event, ServiceRequest, Status
from tandem.work.queries import steps_done


def assign_request(
    actor: Person,
    request_id: int,
    assignee_id: int,
    *,
    now: datetime | None = None,
    expect: tuple[str, int | None] | None = None,
    plan_id: int | None = None,
    reason: str = "",
) -> ServiceRequest:
    """A lead gives the request to a member of the unit; an agent may only pick it for themself.

    ``expect`` is the (status, assignee id) the caller saw (an allocation plan): when the
    request moved since, the assignment is refused (Conflict) instead of undoing that move.
    ``plan_id``: the unit's plan being applied, in the queue's order by construction. Otherwise,
    when earlier requests the assignee could take wait in the queue, the move records why
    (``reason``; a queue-jump event) and is refused without one where the unit requires it."""
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if expect is not None and (sr.status, sr.assignee_id) != expect:
            raise Conflict(f"{sr.reference} changed since the plan was made; plan it again if it still needs a holder.")
        is_lead = leads_unit(actor, sr.unit_id)
        if assignee_id != actor.pk and not is_lead:
            raise Forbidden(f"Only a lead of {sr.unit.name} can give work to someone else; you can pick it yourself.")
        if sr.assignee_id not in (None, actor.pk) and not is_lead:
            raise Forbidden(
                f"{sr.reference} is with {sr.assignee.display_name if sr.assignee else 'a colleague'}; "
                f"ask them or a lead of {sr.unit.name} to hand it over."
            )
        assignee = one_or_none(Person.objects.select_related("user").filter(pk=assignee_id, user__is_active=True))
        if assignee is None or sr.unit_id not in work_unit_ids(assignee):
            raise Invalid(
                f"That person does not work in {sr.unit.name}'s queue; choose a member of the unit.",
                errors={"assignee": ["Not a member of the providing unit."]},
            )
        if sr.assignee_id == assignee.pk and sr.status == Status.ASSIGNED:
            raise Conflict(f"{sr.reference} is already assigned to {assignee.display_name}.")
        jump = None if plan_id is not None else _queue_jump(sr, assignee, actor, reason, now)
        previous = sr.assignee_id
        data: dict[str, Any] = {"assignee": assignee.pk, "previous": previous}
        if plan_id is not None:
            data["plan"] = plan_id
        _move(sr, actor, Status.ASSIGNED, Event.Kind.ASSIGNED, now=now, data=data)
        sr.assignee = assignee
        _record_jump(sr, actor, jump, now)
        _save(sr, "assignee")
        return sr


def unassign_request(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.assignee_id != actor.pk and not leads_unit(actor, sr.unit_id):
            raise Forbidden("Only the assignee or a lead can return the request to the queue.")
        _move(sr, actor, Status.NEW, Event.Kind.UNASSIGNED, now=now, data={"previous": sr.assignee_id})
        sr.assignee = None
        _save(sr, "assignee")
        return sr


def start_request(actor: Person, request_id: int, *, now: datetime | None = None, reason: str = "") -> ServiceRequest:
    """Start work on it; starting a request nobody holds takes it, so taking it ahead of earlier
    ones the actor could take records why (``reason``), as ``assign_request`` does."""
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.assignee_id not in (None, actor.pk) and not leads_unit(actor, sr.unit_id):
            raise Forbidden(
                f"{sr.reference} is assigned to {sr.assignee.display_name if sr.assignee else 'someone'}; "
                "ask your lead to reassign it."
            )
        jump = _queue_jump(sr, actor, actor, reason, now) if sr.assignee_id is None else None
        _move(sr, actor, Status.IN_PROGRESS, Event.Kind.STARTED, now=now)
        sr.assignee = sr.assignee or actor
        sr.waiting_on = ""
        _record_jump(sr, actor, jump, now)
        _save(sr, "assignee", "waiting_on")
        return sr


def ask_requester(actor: Person, request_id: int, question: str, *, now: datetime | None = None) -> ServiceRequest:
    question = _check_text(question, "Question")
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        _move(sr, actor, Status.WAITING_REQUESTER, Event.Kind.ASKED_REQUESTER, now=now, data={"question": question})
        sr.waiting_on = sr.requester.display_name
        _save(sr, "waiting_on")
        Comment.objects.create(request=sr, author=actor, body=question, addressed_to=sr.requester, created_at=now)
        return sr


def provide_information(
    actor: Person, request_id: int, answer: str, *, now: datetime | None = None,
    files: Sequence[File] = (), source_key: str | None = None,
) -> ServiceRequest:
    """The requester answers the question; the request goes back in progress and its clock
    runs again. ``files`` go with the answer; ``source_key`` as for ``add_comment``."""
    answer = _check_text(answer, "Answer")
    now = now or timezone.now()
    with discarded_on_failure() as stored, action_transaction():
        sr = _locked(actor, request_id)
        _require_requester(actor, sr, "answer for")
        checked = check_files(sr.service, files)
        _move(sr, actor, Status.IN_PROGRESS, Event.Kind.INFORMATION_PROVIDED, now=now)
        sr.waiting_on = ""
        _save(sr, "waiting_on")
        comment = Comment.objects.create(
            request=sr, author=actor, body=answer, addressed_to=sr.assignee, created_at=now, source_key=source_key
        )
        store(sr, checked, actor, stored, comment)
        return sr


def wait_third_party(
    actor: Person, request_id: int, party: str, note: str = "", *, now: datetime | None = None
) -> ServiceRequest:
    party = _check_text(party, "Third party", limit=200)
    note = _check_text(note, "Note", required=False)
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        _move(
            sr,
            actor,
            Status.WAITING_THIRD_PARTY,
            Event.Kind.WAITING_THIRD_PARTY,
            now=now,
            data={"party": party, "note": note},
        )
        sr.waiting_on = party
        _save(sr, "waiting_on")
        return sr


def wait_on_team(
    actor: Person, request_id: int, unit_id: int, note: str = "", *, now: datetime | None = None
) -> ServiceRequest:
    """The request cannot go on until another back-office team does its part. Unlike a third
    party, the wait stays inside the organisation: it never pauses the agreement with the
    requester, and the evidence counts it against the team waited on (who waits on whom)."""
    note = _check_text(note, "Note", required=False)
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        team = Unit.objects.filter(pk=unit_id, side=Side.BACK).first()
        if team is None:
            raise NotFound("There is no such back-office team; choose one from the list (GET /api/units).")
        if team.pk == sr.unit_id:
            raise Invalid(
                f"{sr.reference} is already with {team.name}; choose the other team it waits on.",
                errors={"unit": ["Choose another team than the one holding the request."]},
            )
        _move(
            sr,
            actor,
            Status.WAITING_TEAM,
            Event.Kind.WAITING_TEAM,
            now=now,
            data={"unit": team.pk, "team": team.name, "note": note},
        )
        sr.waiting_on = team.name
        sr.waiting_on_unit = team
        _save(sr, "waiting_on", "waiting_on_unit")
        return sr


def resume_request(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.status not in (Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY, Status.WAITING_TEAM):
            raise Conflict(
                f"{sr.reference} is not waiting; there is nothing to resume." + _what_next(Status(sr.status))
            )
        _move(sr, actor, Status.IN_PROGRESS, Event.Kind.RESUMED, now=now)
        sr.waiting_on = ""
        sr.waiting_on_unit = None
        _save(sr, "waiting_on", "waiting_on_unit")
        return sr


def resolve_request(actor: Person, request_id: int, resolution: str, *, now: datetime | None = None) -> ServiceRequest:
    resolution = _check_text(resolution, "Resolution")
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.status == Status.RESOLVED:
            raise Conflict(f"{sr.reference} is already resolved; the requester can accept or reopen it.")
        _move(sr, actor, Status.RESOLVED, Event.Kind.RESOLVED, now=now, data={"resolution": resolution})
        sr.resolution = resolution
        sr.resolved_at = now
        sr.waiting_on = ""
        _save(sr, "resolution", "resolved_at", "waiting_on")
        return sr


def mark_step(
    actor: Person, request_id: int, step_id: int, done: bool, *, now: datetime | None = None
) -> ServiceRequest:
    """The providing unit ticks (or unticks) a step of the service's documented procedure on the
    request's checklist. The status does not change; the mark is an event both sides see, so the
    requester can tell how far the work has got, and the evidence can check the procedure."""
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        step = ProcedureStep.objects.filter(pk=step_id, service_id=sr.service_id).first()
        if step is None:
            raise NotFound(
                f"{sr.service.name} has no procedure step {step_id}; "
                f"mark one of the steps listed on {sr.reference}."
            )
        if sr.status in FINAL_STATUSES:
            raise Conflict(
                f"{sr.reference} is {Status(sr.status).label.lower()}; its procedure checklist can no longer change."
            )
        marked = step.pk in steps_done(sr)
        if done and marked:
            raise Conflict(f"Step {step.position} ({step.text}) is already marked done on {sr.reference}.")
        if not done and not marked:
            raise Conflict(
                f"Step {step.position} ({step.text}) is not marked done on {sr.reference}; there is nothing to unmark."
            )
        _append_event(
            sr,
            Event.Kind.STEP_DONE if done else Event.Kind.STEP_UNDONE,
            actor,
            at=now,
            data={"step": step.pk, "position": step.position, "text": step.text},
        )
        _note_first_response(sr, actor, now)
        sr.save(update_fields=["last_event_seq", "first_response_at"])
        return sr


def reopen_window_ends(sr: ServiceRequest) -> datetime | None:
    if sr.resolved_at is None:
        return None
    return sr.resolved_at + timedelta(days=settings.TANDEM_REOPEN_WINDOW_DAYS)


def accept_resolution(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_requester(actor, sr, "accept")
        _move(sr, actor, Status.CLOSED, Event.Kind.ACCEPTED, now=now)
        sr.is_open = False
        sr.closed_at = now
        _save(sr, "closed_at")
        return sr


def reopen_request(actor: Person, request_id: int, reason: str, *, now: datetime | None = None) -> ServiceRequest:
    reason = _check_text(reason, "Reason")
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_requester(actor, sr, "reopen")
        window = reopen_window_ends(sr)
        if sr.status == Status.RESOLVED and window is not None and now > window:
            raise Conflict(
                f"The reopen window of {settings.TANDEM_REOPEN_WINDOW_DAYS} days has passed; "
                "submit a new request and mention " + sr.reference + "."
            )
        _move(sr, actor, Status.REOPENED, Event.Kind.REOPENED, now=now, data={"reason": reason})
        sr.resolved_at = None
        _save(sr, "resolved_at")
        Comment.objects.create(request=sr, author=actor, body=reason, addressed_to=sr.assignee, created_at=now)
        return sr


def cancel_request(actor: Person, request_id: int, reason: str, *, now: datetime | None = None) -> ServiceRequest:
    reason = _check_text(reason, "Reason")
    now = now or timezone.now()
    with action_transaction():
        sr = _locked(actor, request_id)
        if actor.pk != sr.requester_id and not leads_unit(actor, sr.unit_id):
            raise Forbidden("Only the requester or a lead of the providing unit can cancel a request.")
        _move(sr, actor, Status.CANCELLED, Event.Kind.CANCELLED, now=now, data={"reason": reason})
        sr.is_open = False
        sr.closed_at = now
        sr.waiting_on_unit = None
        _save(sr, "closed_at", "waiting_on_unit")
        return sr
