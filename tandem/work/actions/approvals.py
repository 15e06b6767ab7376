"""Approval before work starts (docs/approvals.md): a request of a service that requires it
waits on its approver from its submission; approved, it goes to the providing unit's queue as a
new request; declined, it ends there, with the reason.

While it waits, the agreement clock is paused (``tandem.work.clock``) and the wait is the
approver's in the evidence, as a wait on the requester is the requester's.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tandem.engines.agreements import slaclock
from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden
from tandem.work import clock
from tandem.work.actions.moves import _append_event, _check_text, _locked, _move, _save
from tandem.work.models import Event, ServiceRequest, Status

#: An approver's note or reason is a few sentences.
REASON_LIMIT = 2000


def ask_approval_locked(sr: ServiceRequest, approver: Person, why: str, *, now: datetime) -> Event:
    """Send a just-submitted request to its approver, inside the submission's transaction (the
    caller holds the new row): Tandem's move, by the service's rule, so it has no actor."""
    event = _move(
        sr, None, Status.WAITING_APPROVAL, Event.Kind.APPROVAL_ASKED, now=now,
        data={"approver": approver.pk, "approver_name": approver.display_name, "why": why},
    )
    sr.approver = approver
    sr.waiting_on = approver.display_name
    days = sr.service.approval_remind_days
    sr.approval_remind_at = _working_days_after(sr, now, days) if days else None
    _save(sr, "approver", "waiting_on", "approval_remind_at")
    return event


def _working_days_after(sr: ServiceRequest, at: datetime, days: int) -> datetime:
    """``days`` working days of the request's calendar (the service's) after ``at``."""
    cal = clock.calendar(sr)
    return cal.add(at, days * slaclock.day_length(cal.spec))


def remind_waiting_approvers(now: datetime | None = None, *, batch: int = 500) -> int:
    """Remind each approver whose request has waited past its service's working days (the worker
    calls this): an event *Approver reminded*, which tells the approver again (a notification
    and the digest with the decision link), then the next reminder one working day later, so
    at most one a working day.

    Found by the partial index on ``approval_remind_at``; each request claimed with a
    conditional UPDATE of that deadline and a row-count check, so two workers never remind
    twice. Returns how many were reminded."""
    now = now or timezone.now()
    due = list(
        ServiceRequest.objects.filter(status=Status.WAITING_APPROVAL, approval_remind_at__lte=now)
        .order_by("approval_remind_at").values_list("pk", "approval_remind_at")[:batch]
    )
    reminded = 0
    for pk, remind_at in due:
        with action_transaction():
            sr = ServiceRequest.objects.select_related("service", "approver__user").get(pk=pk)
            following = _working_days_after(sr, now, 1)
            claimed = ServiceRequest.objects.filter(
                pk=pk, status=Status.WAITING_APPROVAL, approval_remind_at=remind_at
            ).update(approval_remind_at=following)
            if claimed != 1:
                continue  # another worker reminded, or the approver decided meanwhile
            sr = ServiceRequest.objects.select_for_update(of=("self",)).select_related("approver__user").get(pk=pk)
            approver = sr.approver
            _append_event(sr, Event.Kind.APPROVAL_REMINDED, None, at=now, data={
                "approver": sr.approver_id, "approver_name": approver.display_name if approver else "",
            })
            sr.save(update_fields=["last_event_seq"])
            reminded += 1
    return reminded


def _deciding(actor: Person, request_id: int) -> ServiceRequest:
    """The request, locked, when ``actor`` may decide on it now: its approver (403 for anyone
    else), while it waits for approval (409 otherwise, saying what became of it)."""
    sr = _locked(actor, request_id)
    if sr.approver_id is not None and sr.approver_id != actor.pk:
        raise Forbidden(
            f"Only {sr.approver.display_name if sr.approver else 'its approver'} can approve or decline "
            f"{sr.reference}."
        )
    if sr.status != Status.WAITING_APPROVAL:
        raise Conflict(decided_words(sr) if sr.approver_id else f"{sr.reference} does not need approval.")
    return sr


def decided_words(sr: ServiceRequest) -> str:
    """What became of a request's approval, in one sentence: "SR-000012 was already approved by
    Ann Lee on 3 Mar 2026, 10:15; nothing was changed."."""
    decision = (
        Event.objects.filter(request_id=sr.pk, kind__in=(Event.Kind.APPROVED, Event.Kind.DECLINED))
        .select_related("actor__user").order_by("-seq").first()
    )
    if decision is None:
        state = Status(sr.status).label.lower()
        return f"{sr.reference} is {state}; there is no approval to decide any more. Nothing was changed."
    when = timezone.localtime(decision.at).strftime("%-d %b %Y, %H:%M")
    who = decision.actor.display_name if decision.actor else "Tandem"
    verb = "approved" if decision.kind == Event.Kind.APPROVED else "declined"
    return f"{sr.reference} was already {verb} by {who} on {when}; nothing was changed."


def approve_request(actor: Person, request_id: int, note: str = "", *, now: datetime | None = None) -> ServiceRequest:
    """The approver says yes: the request is new in its unit's queue, its clock runs again (the
    wait credited as a pause) and its promise is quoted from now."""
    note = _check_text(note, "Note", required=False, limit=REASON_LIMIT)
    now = now or timezone.now()
    with action_transaction():
        sr = _deciding(actor, request_id)
        _move(sr, actor, Status.NEW, Event.Kind.APPROVED, now=now, data={"note": note} if note else {})
        sr.approved_at = now
        sr.waiting_on = ""
        sr.approval_remind_at = None
        _save(sr, "approved_at", "waiting_on", "approval_remind_at")
        return sr


def decline_request(actor: Person, request_id: int, reason: str, *, now: datetime | None = None) -> ServiceRequest:
    """The approver says no, with the reason: the request ends declined and the requester is
    told why. Without a reason it is refused (422) and nothing changes."""
    now = now or timezone.now()
    with action_transaction():
        sr = _deciding(actor, request_id)
        reason = _check_text(reason, "Reason", limit=REASON_LIMIT)
        _move(sr, actor, Status.DECLINED, Event.Kind.DECLINED, now=now, data={"reason": reason})
        sr.is_open = False
        sr.closed_at = now
        sr.waiting_on = ""
        sr.approval_remind_at = None
        sr.resolution = f"Declined by {actor.display_name}: {reason}"
        _save(sr, "closed_at", "waiting_on", "resolution", "approval_remind_at")
        return sr
