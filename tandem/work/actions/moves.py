"""What every action on a request shares: the row lock, the status machine, the clock kept in
step, the first response noted, and the hash-chained event, published to the apps above.

The names are private to the work app: the actions of the other modules of this package use
them; other apps change requests only through the public actions.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from tandem.engines.auditchain import GENESIS, event_digest
from tandem.objections import objections
from tandem.org.models import Person
from tandem.org.queries import is_admin
from tandem.outbox.actions import publish
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work import clock
from tandem.work.addresses import NO_SUCH_REQUEST
from tandem.work.models import OPEN_STATUSES, TRANSITIONS, Event, ServiceRequest, Status
from tandem.work.queries import can_work, requests_visible_to

TITLE_LIMIT = 200
#: A queue jump's reason is a sentence, not an essay.
JUMP_REASON_LIMIT = 300
#: The question the layer that knows the unit's queue order answers (``tandem.allocation``): the
#: references of the requests ``person`` could take that come before ``request``, first first.
QUEUE_AHEAD = "request.queue_ahead"


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
    fields = (sr.pk, sr.last_event_seq, str(kind), actor_id, at, str(from_status), str(to_status),
              internal, stored)
    event = Event.objects.create(
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
    # What happened to the request, for the apps above that react to it (its promise's
    # forecast, who is told, webhooks): handled once this action commits (tandem.outbox).
    publish(
        f"request.{kind}",
        f"request:{sr.pk}",
        {"request": sr.pk, "event": event.pk, "seq": event.seq, "actor": actor_id, "at": at.isoformat(),
         "from_status": str(from_status), "to_status": str(to_status), "data": stored},
        subject=sr,
    )
    return event


def _locked(actor: Person, request_id: int) -> ServiceRequest:
    """The request, row-locked, or 404 if it does not exist for this person."""
    # of=("self",): the visibility filter LEFT JOINs the case, and PostgreSQL refuses to lock
    # the nullable side of an outer join ("FOR UPDATE cannot be applied ..."). Only the
    # request's row needs the lock.
    sr = one_or_none(requests_visible_to(actor.user).select_for_update(of=("self",)).filter(pk=request_id))
    if sr is None:
        raise NotFound(NO_SUCH_REQUEST)
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


def _queue_jump(sr: ServiceRequest, taker: Person, actor: Person, reason: str, now: datetime) -> dict[str, Any] | None:
    """What a take or an assignment out of the unit's order jumps (``QUEUE_AHEAD``), as the
    queue-jump event's data; None when it jumps nothing. Refused (Invalid, naming ``reason``)
    when the unit requires a reason and none is given; call it before changing anything."""
    ahead = objections(QUEUE_AHEAD, request=sr, person=taker, now=now)
    if not ahead:
        return None
    reason = _check_text(reason, "Reason", required=False, limit=JUMP_REASON_LIMIT)
    n = len(ahead)
    if not reason and sr.unit.queue_jump_reason_required:
        earlier = f"{n} earlier request{'s' if n != 1 else ''} ({', '.join(ahead[:3])}{', …' if n > 3 else ''})"
        raise Invalid(
            f"{earlier} wait{'s' if n == 1 else ''} before {sr.reference} in {sr.unit.name}'s queue, and "
            f"{taker.display_name} could take {'it' if n == 1 else 'them'}. {sr.unit.name} asks for a reason "
            f"when a request goes ahead of the queue: say why in “Reason”, or take the next one instead.",
            errors={"reason": [f"Say why {sr.reference} goes before {n} earlier request{'s' if n != 1 else ''}."]},
        )
    return {"reason": reason, "jumped": n, "first": ahead[0], "ahead": ahead[:10], "assignee": taker.pk,
            "by": actor.pk}


def _record_jump(sr: ServiceRequest, actor: Person, jump: dict[str, Any] | None, now: datetime) -> None:
    """The queue-jump event, after the move that took or gave the request (back office only)."""
    if jump is not None:
        _append_event(sr, Event.Kind.QUEUE_JUMP, actor, at=now, internal=True, data=jump)
