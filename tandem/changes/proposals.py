"""Accepting what the collision check proposes in one action: a staging (the change reaches its
audiences in turn, each on its own day) or a batch (the nearby changes moved into a change
period together).

The person accepts what they were shown; the action recomputes the proposal and refuses (409)
when it differs (something moved since), so that nobody accepts a plan that no longer holds."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tandem.changes.actions import _managed, check_move, moved_to
from tandem.changes.models import Change, ChangePeriod, Status
from tandem.changes.queries import audience_people_by_unit, batch_proposal, may_own_changes, sets_calendar_rules
from tandem.changes.queries import staging_proposal as proposed_staging
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound


def _said(stages: list[tuple[int, date]]) -> str:
    names = dict(Unit.objects.filter(pk__in=[u for u, _ in stages]).values_list("pk", "name"))
    return ", then ".join(f"{names.get(u, u)} on {d:%-d %b}" for u, d in stages)


def accept_staging(actor: Person, change_id: int, stages: list[tuple[str, date]], *,
                   today: date | None = None) -> Change:
    """The change reaches its audiences in turn, on the days proposed (``stages``: each
    audience's slug and day, as shown). Its effective date becomes the first day; a published
    change tells each audience its own day, once."""
    today = today or timezone.localdate()
    change = _managed(actor, change_id)
    if change.status == Status.CANCELLED:
        raise Conflict("A cancelled change is not staged.")
    if change.status == Status.PUBLISHED and change.effective_on < today:
        raise Conflict("This change is already in effect.")
    slugs = dict(Unit.objects.filter(slug__in=[s for s, _ in stages]).values_list("slug", "pk"))
    if not stages or any(s not in slugs for s, _ in stages):
        raise Invalid("Give the staging as proposed: each audience and its day.",
                      errors={"stages": ["Each audience's slug and day, in turn."]})
    given = [(slugs[s], d) for s, d in stages]
    now = proposed_staging(change.pk, today=today)
    if now != given:
        raise Conflict("The calendar has changed since this staging was proposed: "
                       + (f"it now proposes {_said(now)}." if now else "no staging is proposed now.")
                       + " Look again and accept what is proposed now.")
    first = min(d for _, d in given)
    if change.consultation_ends_on and first < change.consultation_ends_on:
        raise Invalid("The consultation must end by the effective date.",
                      errors={"stages": [f"The consultation ends on {change.consultation_ends_on:%-d %b %Y}."]})
    with action_transaction():
        was = change.effective_on
        for unit_id, day in given:
            row = change.audiences.get(unit_id=unit_id)
            row.effective_on = day
            if row.by_when is not None and row.by_when < day:
                row.by_when = day  # what they must do is never due before it reaches them
            row.save(update_fields=["effective_on", "by_when"])
        change.effective_on, change.updated_at = first, timezone.now()
        change.save(update_fields=["effective_on", "updated_at"])
        if change.status == Status.PUBLISHED:
            change.receipts.filter(acknowledged_at__isnull=True).delete()
            people = audience_people_by_unit(change)
            for unit_id, day in given:
                notify(people.get(unit_id, []), Notification.Kind.CHANGE_MOVED, None,
                       f"Staged: “{change.title[:120]}” ({change.unit.name}) now reaches your unit on "
                       f"{day:%a %-d %b %Y}, not {was:%a %-d %b}.")
    return change


def accept_batch(actor: Person, period_id: int, moves: dict[int, date], *,
                 today: date | None = None) -> list[Change]:
    """Move every change of the batch proposed for a change period into it, in one transaction
    (``moves``: each change's id and day, as shown). Accepted by an executive, or by someone who
    manages every change in it; each published change moved tells its audience once."""
    today = today or timezone.localdate()
    period = ChangePeriod.objects.filter(pk=period_id).first()
    if period is None:
        raise NotFound("There is no such change period.")
    if not moves:
        raise Invalid("Give the batch as proposed: each change and its day.",
                      errors={"moves": ["Each change's id and day."]})
    changes = list(Change.objects.select_related("unit").filter(pk__in=moves).order_by("pk"))
    if not sets_calendar_rules(actor) and not all(may_own_changes(actor, c.unit_id) for c in changes):
        raise Forbidden("A batch is accepted by an executive, or by someone who manages every change in it.")
    now = batch_proposal(actor.user, period, today=today).moves
    if now != moves:
        raise Conflict(f"The calendar has changed since this batch into {period.name} was proposed: it now "
                       f"moves {len(now)} change{'s' if len(now) != 1 else ''}. Look again and accept what is "
                       "proposed now.")
    for change in changes:
        check_move(change, moves[change.pk], today)
    with action_transaction():
        for change in changes:
            moved_to(change, moves[change.pk])
    return changes
