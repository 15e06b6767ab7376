"""Every state change of cases and service requests, one named function each.

Each action owns its transaction (``durable=True``: it is never nested inside a caller's
transaction, so "returned" means "committed"), locks the row it changes, checks the life
cycle and the actor's rights, appends its event, and writes its notifications in the same
transaction: nobody is told about a change that rolled back, and no committed change goes
untold because the process died between the commit and an ``on_commit`` callback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.agreements import clock
from tandem.agreements.queries import calendar_for_service, terms_for
from tandem.catalogue.intake import intake_form_class, to_json
from tandem.catalogue.models import ProcedureStep, Service
from tandem.engines import cutoffs
from tandem.engines.auditchain import GENESIS, event_digest
from tandem.engines.workdays import add_working_days
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Side, Unit
from tandem.org.queries import is_admin, leads_unit, work_unit_ids
from tandem.promises import actions as promise_actions
from tandem.promises import queries as promise_queries
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    Case,
    Channel,
    Comment,
    Event,
    ServiceRequest,
    Status,
)
from tandem.work.queries import can_see_payload, can_work, cases_visible_to, requests_visible_to, steps_done

TITLE_LIMIT = 200


@dataclass(frozen=True)
class Submission:
    request: ServiceRequest
    created: bool  # False when an idempotency key replayed an earlier submission


def _check_text(value: str, what: str, *, required: bool = True, limit: int | None = None) -> str:
    limit = limit or settings.TANDEM_MAX_TEXT_LENGTH
    value = (value or "").strip()
    if required and not value:
        raise Invalid(f"{what} is empty: write a few words.", errors={what.lower(): ["This field is required."]})
    if len(value) > limit:
        raise Invalid(
            f"{what} is {len(value):,} characters long; the limit is {limit:,}. "
            "Shorten it, or put the long text in a document and give its reference.",
            errors={what.lower(): [f"At most {limit:,} characters."]},
        )
    return value


def _append_event(
    sr: ServiceRequest,
    kind: str,
    actor: Person | None,
    *,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    internal: bool = False,
    data: dict[str, Any] | None = None,
) -> Event:
    # The caller holds the request's row lock (or just created it), so the previous event's
    # hash cannot change under us: the chain is extended race-free (docs/audit.md).
    prev = GENESIS
    if sr.last_event_seq:
        prev = Event.objects.filter(request_id=sr.pk, seq=sr.last_event_seq).values_list(
            "hash", flat=True
        ).get()
    sr.last_event_seq += 1
    # Hash what the database will give back: the JSON round trip of ``data``.
    stored = json.loads(json.dumps(data or {}))
    actor_id = actor.pk if actor is not None else None
    if sr.last_event_seq > 1:
        promise_actions.request_moved(sr.pk, at)
    fields = (sr.pk, sr.last_event_seq, str(kind), actor_id, at, str(from_status), str(to_status),
              internal, stored)
    return Event.objects.create(
        request=sr,
        seq=sr.last_event_seq,
        kind=kind,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=to_status,
        internal=internal,
        data=stored,
        prev_hash=prev,
        hash=event_digest(prev, fields),
    )


def _locked(actor: Person, request_id: int) -> ServiceRequest:
    """The request, row-locked, or 404 if it does not exist for this person."""
    # of=("self",): the visibility filter LEFT JOINs the case, and PostgreSQL refuses to lock
    # the nullable side of an outer join ("FOR UPDATE cannot be applied ..."). Only the
    # request's row needs the lock.
    sr = one_or_none(requests_visible_to(actor.user).select_for_update(of=("self",)).filter(pk=request_id))
    if sr is None:
        raise NotFound(f"There is no service request {request_id} that you can see.")
    return sr


def _move(
    sr: ServiceRequest,
    actor: Person | None,
    to: Status,
    kind: str,
    *,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> Event:
    current = Status(sr.status)
    if to not in TRANSITIONS[current]:
        raise Conflict(
            f"{sr.reference} is {current.label.lower()}; it cannot become {to.label.lower()} from there."
            + _what_next(current)
        )
    sr.status = to
    sr.is_open = to in OPEN_STATUSES or to == Status.RESOLVED
    sr.status_changed_at = now
    clock.status_changed(sr, current, to, now)
    _note_first_response(sr, actor, now)
    return _append_event(sr, kind, actor, at=now, from_status=current, to_status=to, data=data)


def _note_first_response(sr: ServiceRequest, actor: Person | None, now: datetime) -> None:
    """The back office's first move (assign, start, ask, comment, ...) answers the request."""
    if sr.first_response_at is None and actor is not None and actor.pk != sr.requester_id and can_work(actor, sr):
        clock.first_response(sr, actor, now)


def _what_next(status: Status) -> str:
    hints = {
        Status.NEW: " Assign or start it first.",
        Status.ASSIGNED: " Start it first.",
        Status.RESOLVED: " The requester can accept or reopen it.",
        Status.CLOSED: " It is finished; submit a new request if more is needed.",
        Status.CANCELLED: " It was cancelled; submit a new request if it is still needed.",
        Status.WAITING_REQUESTER: " Resume it first.",
        Status.WAITING_THIRD_PARTY: " Resume it first.",
        Status.WAITING_TEAM: " Resume it first.",
        Status.REOPENED: " Start it again first.",
    }
    return hints.get(status, "")


def _require_worker(actor: Person, sr: ServiceRequest) -> None:
    if not can_work(actor, sr):
        raise Forbidden(
            f"Only {sr.unit.name} can work on {sr.reference}. Add a comment if you need something from them."
        )


def _require_requester(actor: Person, sr: ServiceRequest, doing: str) -> None:
    if actor.pk != sr.requester_id and not is_admin(actor):
        raise Forbidden(f"Only the requester ({sr.requester.display_name}) can {doing} {sr.reference}.")


def _tell(fn: Callable[[], Any]) -> None:
    """Notifications are rows of this database: they commit (or roll back) with the change."""
    fn()


def _save(sr: ServiceRequest, *fields: str) -> None:
    sr.save(update_fields=["status", "is_open", "status_changed_at", "last_event_seq", *clock.CLOCK_FIELDS, *fields])


def hand_over_locked(
    sr: ServiceRequest, assignee: Person | None, *, actor: Person | None, now: datetime, data: dict[str, Any]
) -> Event:
    """Give a request to ``assignee``, or back to the queue with None, for a move Tandem makes
    itself (auto placement, Take next, an absence in pull mode): one event, with the status and
    the agreement clock kept in step. The caller has locked ``sr`` (``select_for_update``) in
    its own transaction and checked who may take it; a lead's move is ``assign_request``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hand_over_locked needs the caller's transaction holding the request's lock.")
    if assignee is None:
        event = _move(sr, actor, Status.NEW, Event.Kind.UNASSIGNED, now=now, data=data)
    else:
        event = _move(sr, actor, Status.ASSIGNED, Event.Kind.ASSIGNED, now=now, data=data)
    sr.assignee = assignee
    _save(sr, "assignee")
    return event


# --- cases -------------------------------------------------------------------------------------


def create_case(actor: Person, *, customer_reference: str, title: str) -> Case:
    customer_reference = _check_text(customer_reference, "Customer reference", limit=80)
    title = _check_text(title, "Title", limit=TITLE_LIMIT)
    with transaction.atomic(durable=True):
        return Case.objects.create(
            customer_reference=customer_reference, title=title, owner=actor, unit_id=actor.unit_id
        )


def close_case(actor: Person, case_id: int) -> Case:
    with transaction.atomic(durable=True):
        case = cases_visible_to(actor.user).select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"There is no case {case_id} that you can see.")
        if case.owner_id != actor.pk and not leads_unit(actor, case.unit_id):
            raise Forbidden(f"Only the case owner ({case.owner.display_name}) or their lead can close it.")
        if case.status == Case.CaseStatus.CLOSED:
            raise Conflict("The case is already closed.")
        if case.requests.filter(is_open=True).exists():
            raise Conflict("The case still has open service requests; wait for them or cancel them first.")
        case.status = Case.CaseStatus.CLOSED
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "closed_at"])
        return case


# --- submission --------------------------------------------------------------------------------


def validate_intake(service: Service, data: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """Clean intake values through the service's generated form, or refuse with field errors.

    ``strict`` refuses keys the form does not know (the API); pages only post known fields.
    """
    form = intake_form_class(service)(data=data)
    errors: dict[str, list[str]] = {}
    if strict:
        for key in sorted(set(data) - set(form.fields)):
            errors[key] = [f"Unknown field; {service.name} asks for: {', '.join(form.fields) or 'nothing'}."]
    if not form.is_valid():
        for key, messages in form.errors.items():
            errors[key] = [str(m) for m in messages]
    if errors:
        names = ", ".join(errors)
        raise Invalid(f"Some details are missing or wrong ({names}); correct them and submit again.", errors=errors)
    return {key: to_json(value) for key, value in form.cleaned_data.items() if value not in (None, "")}


def submit_request(
    actor: Person,
    service: Service,
    intake: dict[str, Any],
    *,
    channel: str = Channel.INTERNAL,
    title: str = "",
    case_id: int | None = None,
    idempotency_key: str | None = None,
    strict: bool = False,
    now: datetime | None = None,
) -> Submission:
    if not service.active:
        raise NotFound(f"The service {service.name!r} is not published; choose another from the catalogue.")
    if channel not in Channel.values:
        raise Invalid(f"Channel must be one of: {', '.join(Channel.values)}.", errors={"channel": ["Unknown channel."]})
    if channel == Channel.EXTERNAL and not service.external_allowed:
        raise Invalid(
            f"{service.name} takes internal requests only; submit it on the internal channel.",
            errors={"channel": ["Internal only for this service."]},
        )
    cleaned = validate_intake(service, intake, strict=strict)
    title = _check_text(title, "Title", required=False, limit=TITLE_LIMIT)
    case = None
    if case_id is not None:
        case = cases_visible_to(actor.user).filter(pk=case_id).first()
        if case is None:
            raise Invalid(f"There is no case {case_id} that you can see.", errors={"case": ["Unknown case."]})
        if case.status != Case.CaseStatus.OPEN:
            raise Invalid(f"Case {case.reference} is closed; choose an open case.", errors={"case": ["Closed."]})
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 80:
            raise Invalid(
                "An idempotency key has 1 to 80 characters.", errors={"idempotency_key": ["1–80 characters."]}
            )
    digest = hashlib.sha256(
        json.dumps([service.pk, channel, title, case_id, cleaned], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    if idempotency_key:
        earlier = _replayed(actor, idempotency_key, digest)
        if earlier is not None:
            return Submission(earlier, created=False)
    now = now or timezone.now()
    due = add_working_days(now, service.turnaround_days, tz=service.unit.time_zone)
    terms = terms_for(service, actor.unit_id, channel)
    calendar = calendar_for_service(service)
    late_for, enters_at = _cutoff_placement(service, now)
    promised = promise_queries.quote(service, actor, channel=channel, now=now, terms=terms)
    try:
        with transaction.atomic(durable=True):
            sr = ServiceRequest(
                service=service,
                unit=service.unit,
                requesting_unit=actor.unit,
                confidential=service.confidential,
                requester=actor,
                case=case,
                channel=channel,
                title=title or (f"{service.name} · {case.customer_reference}" if case else service.name),
                intake=cleaned,
                submitted_at=now,
                status_changed_at=now,
                due_at=due,
                idempotency_key=idempotency_key or None,
                submission_digest=digest,
                late_for_cutoff=late_for,
                enters_processing_at=enters_at,
            )
            clock.start(sr, terms, calendar)
            sr.save(force_insert=True)
            _append_event(
                sr,
                Event.Kind.SUBMITTED,
                actor,
                at=now,
                to_status=Status.NEW,
                data={"channel": channel, "case": case_id},
            )
            sr.save(update_fields=["last_event_seq"])
            promise_actions.record_promise(sr, promised)
    except IntegrityError:
        # Two submissions with the same key raced; the loser returns the winner's request.
        earlier = _replayed(actor, idempotency_key or "", digest)
        if earlier is None:
            raise
        return Submission(earlier, created=False)
    return Submission(sr, created=True)


def _cutoff_placement(service: Service, now: datetime) -> tuple[str, datetime | None]:
    """("description", enters processing at) when the request misses a cut-off of its service
    this week, else ("", None). Cut-offs are in the providing unit's time zone."""
    rows = list(service.cutoffs.order_by("weekday", "time").values_list("weekday", "time", "description"))
    placed = cutoffs.place(now, [(w, t) for w, t, _ in rows], service.unit.time_zone)
    if placed is None or placed.late_index is None:
        return "", None
    return rows[placed.late_index][2][:200], placed.enters_processing


def _replayed(actor: Person, key: str, digest: str) -> ServiceRequest | None:
    earlier = one_or_none(ServiceRequest.objects.filter(requester=actor, idempotency_key=key))
    if earlier is not None and earlier.submission_digest != digest:
        raise Conflict(
            f"The idempotency key {key!r} was already used for {earlier.reference} with different "
            "details. Use a new key for a new request."
        )
    return earlier


# --- the back office's moves -------------------------------------------------------------------


def assign_request(
    actor: Person,
    request_id: int,
    assignee_id: int,
    *,
    now: datetime | None = None,
    expect: tuple[str, int | None] | None = None,
) -> ServiceRequest:
    """A lead gives the request to a member of the unit; an agent may only pick it for themself.

    ``expect`` is the (status, assignee id) the caller saw (an allocation plan): when the
    request moved since, the assignment is refused (Conflict) instead of undoing that move."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
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
        previous = sr.assignee_id
        _move(
            sr,
            actor,
            Status.ASSIGNED,
            Event.Kind.ASSIGNED,
            now=now,
            data={"assignee": assignee.pk, "previous": previous},
        )
        sr.assignee = assignee
        _save(sr, "assignee")
        if assignee.pk != actor.pk:
            _tell(
                lambda: notify(
                    [assignee.pk],
                    Notification.Kind.ASSIGNED,
                    sr,
                    f"{actor.display_name} gave you {sr.reference}: {sr.title}",
                )
            )
        return sr


def unassign_request(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.assignee_id != actor.pk and not leads_unit(actor, sr.unit_id):
            raise Forbidden("Only the assignee or a lead can return the request to the queue.")
        _move(sr, actor, Status.NEW, Event.Kind.UNASSIGNED, now=now, data={"previous": sr.assignee_id})
        sr.assignee = None
        _save(sr, "assignee")
        return sr


def start_request(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.assignee_id not in (None, actor.pk) and not leads_unit(actor, sr.unit_id):
            raise Forbidden(
                f"{sr.reference} is assigned to {sr.assignee.display_name if sr.assignee else 'someone'}; "
                "ask your lead to reassign it."
            )
        _move(sr, actor, Status.IN_PROGRESS, Event.Kind.STARTED, now=now)
        sr.assignee = sr.assignee or actor
        sr.waiting_on = ""
        _save(sr, "assignee", "waiting_on")
        return sr


def ask_requester(actor: Person, request_id: int, question: str, *, now: datetime | None = None) -> ServiceRequest:
    question = _check_text(question, "Question")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        _move(sr, actor, Status.WAITING_REQUESTER, Event.Kind.ASKED_REQUESTER, now=now, data={"question": question})
        sr.waiting_on = sr.requester.display_name
        _save(sr, "waiting_on")
        Comment.objects.create(request=sr, author=actor, body=question, addressed_to=sr.requester, created_at=now)
        requester_id = sr.requester_id
        _tell(
            lambda: notify(
                [requester_id],
                Notification.Kind.INFORMATION_NEEDED,
                sr,
                f"{sr.unit.name} needs information from you on {sr.reference}",
            )
        )
        return sr


def provide_information(actor: Person, request_id: int, answer: str, *, now: datetime | None = None) -> ServiceRequest:
    answer = _check_text(answer, "Answer")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_requester(actor, sr, "answer for")
        _move(sr, actor, Status.IN_PROGRESS, Event.Kind.INFORMATION_PROVIDED, now=now)
        sr.waiting_on = ""
        _save(sr, "waiting_on")
        Comment.objects.create(request=sr, author=actor, body=answer, addressed_to=sr.assignee, created_at=now)
        if sr.assignee_id:
            assignee_id = sr.assignee_id
            _tell(
                lambda: notify(
                    [assignee_id],
                    Notification.Kind.INFORMATION_PROVIDED,
                    sr,
                    f"{actor.display_name} answered on {sr.reference}",
                )
            )
        return sr


def wait_third_party(
    actor: Person, request_id: int, party: str, note: str = "", *, now: datetime | None = None
) -> ServiceRequest:
    party = _check_text(party, "Third party", limit=200)
    note = _check_text(note, "Note", required=False)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
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
    with transaction.atomic(durable=True):
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
    with transaction.atomic(durable=True):
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
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if sr.status == Status.RESOLVED:
            raise Conflict(f"{sr.reference} is already resolved; the requester can accept or reopen it.")
        _move(sr, actor, Status.RESOLVED, Event.Kind.RESOLVED, now=now, data={"resolution": resolution})
        sr.resolution = resolution
        sr.resolved_at = now
        sr.waiting_on = ""
        _save(sr, "resolution", "resolved_at", "waiting_on")
        requester_id = sr.requester_id
        _tell(
            lambda: notify(
                [requester_id], Notification.Kind.RESOLVED, sr, f"{sr.reference} is resolved: accept it or reopen it"
            )
        )
        return sr


def mark_step(
    actor: Person, request_id: int, step_id: int, done: bool, *, now: datetime | None = None
) -> ServiceRequest:
    """The providing unit ticks (or unticks) a step of the service's documented procedure on the
    request's checklist. The status does not change; the mark is an event both sides see, so the
    requester can tell how far the work has got, and the evidence can check the procedure."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
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


# --- the requester's moves ---------------------------------------------------------------------


def reopen_window_ends(sr: ServiceRequest) -> datetime | None:
    if sr.resolved_at is None:
        return None
    return sr.resolved_at + timedelta(days=settings.TANDEM_REOPEN_WINDOW_DAYS)


def accept_resolution(actor: Person, request_id: int, *, now: datetime | None = None) -> ServiceRequest:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
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
    with transaction.atomic(durable=True):
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
        if sr.assignee_id:
            assignee_id = sr.assignee_id
            _tell(
                lambda: notify(
                    [assignee_id], Notification.Kind.REOPENED, sr, f"{actor.display_name} reopened {sr.reference}"
                )
            )
        return sr


def cancel_request(actor: Person, request_id: int, reason: str, *, now: datetime | None = None) -> ServiceRequest:
    reason = _check_text(reason, "Reason")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        if actor.pk != sr.requester_id and not leads_unit(actor, sr.unit_id):
            raise Forbidden("Only the requester or a lead of the providing unit can cancel a request.")
        _move(sr, actor, Status.CANCELLED, Event.Kind.CANCELLED, now=now, data={"reason": reason})
        sr.is_open = False
        sr.closed_at = now
        sr.waiting_on_unit = None
        _save(sr, "closed_at", "waiting_on_unit")
        return sr


def close_expired_resolutions(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close resolved requests whose reopen window has passed (the worker calls this).

    Each request is claimed with a conditional UPDATE and a row-count check, so two workers
    running at once never close one twice nor write two events.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TANDEM_REOPEN_WINDOW_DAYS)
    closed = 0
    candidates = list(
        ServiceRequest.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in candidates:
        with transaction.atomic(durable=True):
            claimed = ServiceRequest.objects.filter(pk=pk, status=Status.RESOLVED).update(
                status=Status.CLOSED, is_open=False, closed_at=now, status_changed_at=now
            )
            if claimed != 1:
                continue  # another worker got there first
            sr = ServiceRequest.objects.select_for_update().get(pk=pk)
            _append_event(
                sr,
                Event.Kind.CLOSED,
                None,
                at=now,
                from_status=Status.RESOLVED,
                to_status=Status.CLOSED,
                data={"reason": "reopen window passed"},
            )
            sr.save(update_fields=["last_event_seq"])
            closed += 1
    return closed


# --- conversation ------------------------------------------------------------------------------


def add_comment(
    actor: Person,
    request_id: int,
    body: str,
    *,
    internal: bool = False,
    advice: bool = False,
    addressed_to_id: int | None = None,
    now: datetime | None = None,
) -> Comment:
    body = _check_text(body, "Comment")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        sr = _locked(actor, request_id)
        if not can_see_payload(actor, sr):
            raise NotFound(f"There is no service request {request_id} that you can see.")
        if (internal or advice) and not can_work(actor, sr):
            what = "Internal notes" if internal else "Advice"
            raise Forbidden(f"{what} come from {sr.unit.name}; write a normal comment instead.")
        if internal and advice:
            raise Invalid("Advice is for the requester, so it cannot be an internal note; choose one.")
        if sr.status in FINAL_STATUSES:
            raise Conflict(f"{sr.reference} is {Status(sr.status).label.lower()}; submit a new request instead.")
        addressee = None
        if addressed_to_id is not None:
            addressee = Person.objects.select_related("user").filter(pk=addressed_to_id).first()
            if addressee is None or not requests_visible_to(addressee.user).filter(pk=sr.pk).exists():
                raise Invalid(
                    "That person cannot see this request; address someone who can.",
                    errors={"addressed_to": ["Cannot see the request."]},
                )
            if internal and not can_work(addressee, sr):
                raise Invalid(
                    "An internal note can only be addressed to the back office.",
                    errors={"addressed_to": ["Not in the providing unit."]},
                )
        if advice and addressee is None:
            addressee = sr.requester
        comment = Comment.objects.create(
            request=sr,
            author=actor,
            body=body,
            visibility=Comment.Visibility.INTERNAL if internal else Comment.Visibility.SHARED,
            addressed_to=addressee,
            is_advice=advice,
            created_at=now,
        )
        kind = Event.Kind.ADVICE_GIVEN if advice else Event.Kind.NOTE_ADDED if internal else Event.Kind.COMMENTED
        _append_event(sr, kind, actor, at=now, internal=internal, data={"comment": comment.pk})
        _note_first_response(sr, actor, now)
        sr.save(update_fields=["last_event_seq", "first_response_at"])
        if addressee is not None and addressee.pk != actor.pk:
            note_kind = Notification.Kind.ADVICE if advice else Notification.Kind.COMMENT
            addressee_id = addressee.pk
            _tell(
                lambda: notify([addressee_id], note_kind, sr, f"{actor.display_name} wrote to you on {sr.reference}")
            )
        return comment


def acknowledge_advice(actor: Person, comment_id: int, *, now: datetime | None = None) -> Comment:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        comment = Comment.objects.select_for_update().filter(pk=comment_id, is_advice=True).first()
        if comment is None:
            raise NotFound("There is no such advice.")
        sr = _locked(actor, comment.request_id)
        if actor.pk not in (comment.addressed_to_id, sr.requester_id):
            raise Forbidden("Only the person the advice was given to can acknowledge it.")
        if comment.acknowledged_at is not None:
            raise Conflict("This advice was already acknowledged.")
        comment.acknowledged_at = now
        comment.acknowledged_by = actor
        comment.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _append_event(sr, Event.Kind.ADVICE_ACKNOWLEDGED, actor, at=now, data={"comment": comment.pk})
        sr.save(update_fields=["last_event_seq"])
        return comment
