"""The conversation on a request: comments, internal notes, advice and its acknowledgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.files import File
from django.utils import timezone

from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work.actions.attachments import check_files, discarded_on_failure, store
from tandem.work.actions.moves import _append_event, _check_text, _locked, _note_first_response
from tandem.work.addresses import NO_SUCH_REQUEST
from tandem.work.models import FINAL_STATUSES, Comment, Event, ServiceRequest, Status
from tandem.work.queries import can_see_payload, can_work, requests_visible_to


def add_comment(
    actor: Person,
    request_id: int,
    body: str,
    *,
    internal: bool = False,
    advice: bool = False,
    addressed_to_id: int | None = None,
    now: datetime | None = None,
    files: Sequence[File] = (),
    source_key: str | None = None,
) -> Comment:
    """``files``: attached to the comment (checked against the service's limits first).
    ``source_key``: where it came from outside (an email's Message-ID); a comment from the
    same source already made is returned instead of a second one."""
    body = _check_text(body, "Comment")
    now = now or timezone.now()
    if source_key is not None:
        earlier = one_or_none(Comment.objects.filter(source_key=source_key))
        if earlier is not None:
            return earlier
    with discarded_on_failure() as stored, action_transaction():
        sr = _locked(actor, request_id)
        if not can_see_payload(actor, sr):
            raise NotFound(NO_SUCH_REQUEST)
        if (internal or advice) and not can_work(actor, sr):
            what = "Internal notes" if internal else "Advice"
            raise Forbidden(f"{what} come from {sr.unit.name}; write a normal comment instead.")
        if internal and advice:
            raise Invalid("Advice is for the requester, so it cannot be an internal note; choose one.")
        if sr.status in FINAL_STATUSES:
            raise Conflict(f"{sr.reference} is {Status(sr.status).label.lower()}; submit a new request instead.")
        checked = check_files(sr.service, files)
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
            source_key=source_key,
        )
        store(sr, checked, actor, stored, comment)
        kind = Event.Kind.ADVICE_GIVEN if advice else Event.Kind.NOTE_ADDED if internal else Event.Kind.COMMENTED
        _append_event(sr, kind, actor, at=now, internal=internal, data={"comment": comment.pk})
        _note_first_response(sr, actor, now)
        sr.save(update_fields=["last_event_seq", "first_response_at"])
        return comment


def _advice(actor: Person, comment_id: int, may: str) -> tuple[Comment, ServiceRequest]:
    """The advice and its request, locked, when the actor is the person it was given to."""
    comment = Comment.objects.select_for_update().filter(pk=comment_id, is_advice=True).first()
    if comment is None:
        raise NotFound("There is no such advice.")
    sr = _locked(actor, comment.request_id)
    if actor.pk not in (comment.addressed_to_id, sr.requester_id):
        raise Forbidden(f"Only the person the advice was given to {may}.")
    return comment, sr


def acknowledge_advice(actor: Person, comment_id: int, *, now: datetime | None = None) -> Comment:
    now = now or timezone.now()
    with action_transaction():
        comment, sr = _advice(actor, comment_id, "can acknowledge it")
        if comment.acknowledged_at is not None:
            raise Conflict("This advice was already acknowledged.")
        comment.acknowledged_at = now
        comment.acknowledged_by = actor
        comment.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _append_event(sr, Event.Kind.ADVICE_ACKNOWLEDGED, actor, at=now, data={"comment": comment.pk})
        sr.save(update_fields=["last_event_seq"])
        return comment


#: The longest reason for declining advice.
REASON_LIMIT = 1000


def decide_advice(actor: Person, comment_id: int, *, follow: bool, reason: str = "",
                  now: datetime | None = None) -> Comment:
    """The requester accepts the advice (they will follow it) or declines it, saying why; either
    stays on the record as an event (the reason with it). Once: a second decision is refused."""
    now = now or timezone.now()
    reason = (reason or "").replace("\x00", "").strip()
    if not follow and not reason:
        raise Invalid("Say why you decline the advice: the team learns from it.",
                      errors={"reason": ["Required when declining."]})
    if len(reason) > REASON_LIMIT:
        raise Invalid(f"The reason is {len(reason)} characters; at most {REASON_LIMIT}. "
                      f"Cut {len(reason) - REASON_LIMIT}.", errors={"reason": [f"At most {REASON_LIMIT} characters."]})
    with action_transaction():
        comment, sr = _advice(actor, comment_id, "accepts or declines it")
        if comment.advice_outcome:
            raise Conflict(f"This advice was already {comment.advice_outcome}.")
        comment.advice_outcome = "accepted" if follow else "declined"
        comment.advice_reason, comment.advice_decided_at = ("" if follow else reason), now
        if comment.acknowledged_at is None:
            comment.acknowledged_at, comment.acknowledged_by = now, actor
        comment.save(update_fields=["advice_outcome", "advice_reason", "advice_decided_at", "acknowledged_at",
                                    "acknowledged_by"])
        kind = Event.Kind.ADVICE_ACCEPTED if follow else Event.Kind.ADVICE_DECLINED
        data: dict[str, object] = {"comment": comment.pk}
        if not follow:
            data["reason"] = comment.advice_reason
        _append_event(sr, kind, actor, at=now, data=data)
        sr.save(update_fields=["last_event_seq"])
        return comment
