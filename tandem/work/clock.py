"""A service request's agreement clock: the stored columns kept right by the work actions.

The arithmetic is ``tandem.engines.agreements.slaclock``; this module only maps a ``ServiceRequest``'s
columns onto it. It changes the instance in memory; the calling action saves it inside its
own transaction (``CLOCK_FIELDS`` lists the columns).

- ``respond_by``: submission + first-response target (working time); pauses do not move it,
  because any move by the back office (which is what starts a pause) is a first response.
- ``resolve_by``: when elapsed working time, pauses excluded, reaches the resolution target.
  While the clock is paused it is NULL (nothing can fall due), unless the deadline had already
  passed when the pause began (a late request stays late).
- ``warn_at``: when 80 % of the resolution target is used; NULL while paused.
- The clock stops at resolution and cancellation (``resolve_by`` is kept to show whether it
  was met); a reopen restarts it, and the time it spent resolved counts as paused.
- Waiting on the approver (``waiting_approval``, before work starts) always pauses it, whatever
  the agreement says: the back office cannot start yet. ``respond_by`` is NULL meanwhile and,
  once approved, counts from the approval (docs/approvals.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tandem.agreements.models import DEFAULT_PAUSE_STATUSES
from tandem.agreements.queries import Terms, calendar_for_request
from tandem.engines.agreements import slaclock
from tandem.engines.worktime import WorkingCalendar, to_epoch

if TYPE_CHECKING:
    from tandem.org.models import Person
    from tandem.work.models import ServiceRequest

CLOCK_FIELDS = (
    "agreement",
    "respond_seconds",
    "resolve_seconds",
    "respond_by",
    "resolve_by",
    "warn_at",
    "paused_seconds",
    "clock_paused_at",
    "first_response_at",
    "breach_warned_at",
    "breached_at",
    "response_alerted_at",
)
STOPPING = frozenset({"resolved", "closed", "cancelled", "declined"})
APPROVAL = "waiting_approval"
CALENDAR_KEPT = "_clock_calendar"  # where ``calendar`` keeps a request's calendar once looked up


def _at(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def has_clock(sr: ServiceRequest) -> bool:
    return sr.resolve_seconds is not None


def pause_statuses(sr: ServiceRequest) -> frozenset[str]:
    agreement = sr.agreement if sr.agreement_id else None
    return frozenset((agreement.pause_statuses if agreement else None) or DEFAULT_PAUSE_STATUSES)


def is_stopped(sr: ServiceRequest, status: str) -> bool:
    return status in STOPPING or status == APPROVAL or status in pause_statuses(sr)


def calendar(sr: ServiceRequest) -> WorkingCalendar:
    """The service's own calendar, else that of the unit providing the request (loaded with
    the request, so that reading the clock asks the database nothing more). Looked up once per
    loaded request and kept on it: every step of an action (the clock, its deadlines, the answer)
    reads the same one."""
    cal = sr.__dict__.get(CALENDAR_KEPT)
    if cal is None:
        # A client's own holidays replace the team's (docs/organisations.md, "Calendars").
        # The requesting unit when it was loaded with the request (no query for the provider's
        # own units), else its id.
        requesting = sr.requesting_unit if type(sr).requesting_unit.is_cached(sr) else sr.requesting_unit_id
        cal = sr.__dict__[CALENDAR_KEPT] = calendar_for_request(sr.service, requesting, sr.unit)
    return cal


def terms(sr: ServiceRequest) -> Terms:
    """The terms the request's clock runs on, as bound to it at submission (or by a change of
    agreement): the targets copied onto the request, not the agreement's current ones."""
    agreement = sr.agreement if sr.agreement_id else None
    name = agreement.name if agreement is not None else Terms.default(sr.service, calendar(sr)).name
    return Terms(
        agreement=agreement,
        name=name,
        respond_seconds=sr.respond_seconds or 0,
        resolve_seconds=sr.resolve_seconds or 0,
        pause_statuses=pause_statuses(sr),
    )


def _set_deadlines(sr: ServiceRequest, cal: WorkingCalendar) -> None:
    assert sr.resolve_seconds is not None
    sub, target, paused = sr.submitted_at, sr.resolve_seconds, sr.paused_seconds
    if sr.clock_paused_at is None:
        sr.resolve_by = _at(slaclock.deadline(cal, sub, target, paused))
        sr.warn_at = _at(slaclock.warning(cal, sub, target, paused))
    else:
        clock = slaclock.read(cal, sub, target, paused, sr.clock_paused_at, sr.clock_paused_at)
        sr.resolve_by = _at(clock.deadline) if clock.breached else None
        sr.warn_at = None


def start(sr: ServiceRequest, terms: Terms, cal: WorkingCalendar) -> None:
    """At submission: bind the terms and set the deadlines (``sr.submitted_at`` must be set).
    The calendar the submission resolved is kept on the request for every later step."""
    sr.__dict__[CALENDAR_KEPT] = cal
    sr.agreement = terms.agreement
    sr.respond_seconds = terms.respond_seconds
    sr.resolve_seconds = terms.resolve_seconds
    sr.respond_by = _at(cal.add(to_epoch(sr.submitted_at), terms.respond_seconds))
    sr.paused_seconds = 0
    sr.clock_paused_at = None
    _set_deadlines(sr, cal)


def status_changed(sr: ServiceRequest, old: str, new: str, now: datetime) -> None:
    """Stop the clock on entering a pause (or resolution), credit the pause on leaving it."""
    if not has_clock(sr):
        return
    was, now_stopped = is_stopped(sr, old), is_stopped(sr, new)
    if was == now_stopped:
        return
    cal = calendar(sr)
    assert sr.resolve_seconds is not None
    if now_stopped:
        sr.clock_paused_at = now
        if new == APPROVAL:
            sr.respond_by = None  # nobody can answer before the approver has said yes
        if new in STOPPING:
            return  # resolve_by stays: it shows whether the target was met
    elif sr.clock_paused_at is not None:
        sr.paused_seconds += slaclock.resume_credit(
            cal, sr.submitted_at, sr.resolve_seconds, sr.paused_seconds, sr.clock_paused_at, now
        )
        sr.clock_paused_at = None
        if old == APPROVAL:
            sr.respond_by = _at(cal.add(to_epoch(now), sr.respond_seconds or 0))
    _set_deadlines(sr, cal)


def retarget(sr: ServiceRequest, terms: Terms, now: datetime) -> None:
    """Change the terms of an open request: the time already paused (and a pause under way)
    is kept; deadlines are recomputed, and alerts not yet due under the new target may fire again."""
    cal = calendar(sr)
    sr.agreement = terms.agreement
    sr.respond_seconds = terms.respond_seconds
    sr.resolve_seconds = terms.resolve_seconds
    sr.respond_by = _at(cal.add(to_epoch(sr.submitted_at), terms.respond_seconds))
    _set_deadlines(sr, cal)
    if sr.resolve_by is None or sr.resolve_by >= now:
        sr.breached_at = None
    if sr.warn_at is None or sr.warn_at >= now:
        sr.breach_warned_at = None
    if sr.respond_by is None or sr.respond_by >= now:
        sr.response_alerted_at = None


def first_response(sr: ServiceRequest, actor: Person | None, now: datetime) -> None:
    """Record the back office's first move (the caller checks the actor works on the request)."""
    if actor is not None and sr.first_response_at is None and actor.pk != sr.requester_id:
        sr.first_response_at = now


def read(sr: ServiceRequest, now: datetime) -> slaclock.Clock | None:
    if sr.resolve_seconds is None:
        return None
    return slaclock.read(
        calendar(sr), sr.submitted_at, sr.resolve_seconds, sr.paused_seconds, sr.clock_paused_at, now
    )


def summary(sr: ServiceRequest, viewer: Person | None, now: datetime) -> str:
    """"3 h 10 m of 3 working days used; paused 1 d 2 h waiting on you; resolve by Thu 14:00"."""
    clock = read(sr, now)
    if clock is None:
        return ""
    cal = calendar(sr)
    day = slaclock.day_length(cal.spec)
    parts = [f"{slaclock.words(clock.elapsed, day)} of {slaclock.target_words(clock.target, day)} used"]
    waiting = sr.status in pause_statuses(sr) or sr.status == APPROVAL
    if clock.paused or waiting:
        pause = f"paused {slaclock.words(clock.paused, day)}"
        if sr.status == APPROVAL:
            you = viewer is not None and viewer.pk == sr.approver_id
            pause += f" waiting on {'you' if you else sr.waiting_on or 'the approver'} to approve it"
        elif waiting:
            who = "you" if viewer is not None and viewer.pk == sr.requester_id else sr.holder
            pause += f" waiting on {who}" if sr.status == "waiting_requester" else f" waiting on {sr.waiting_on or who}"
        parts.append(pause)
    deadline = datetime.fromtimestamp(clock.deadline, cal.zone)
    shown = deadline.strftime("%a %H:%M" if abs((deadline - now).days) < 6 else "%a %d %b %H:%M")
    if sr.status in STOPPING:
        parts.append(f"{'missed' if clock.breached else 'met'} the target of {shown}")
    elif clock.breached:
        parts.append(f"overdue since {shown}")
    elif clock.running:
        parts.append(f"resolve by {shown}")
    else:
        parts.append("the clock is stopped")
    return "; ".join(parts)
