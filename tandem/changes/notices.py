"""Telling a change's audience: the notice on the effective date (one message per person per
day, listing every change taking effect for them), the one-click acknowledgement, the owner's
reminder of those who have not acknowledged.

Each is a named action owning its transaction; the worker's duty claims its rows (a
``NoticeDay`` per person and day, a ``ChangeReceipt`` per change and person, both unique) so that
two workers never tell a person twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from tandem.changes.models import Change, ChangeReceipt, NoticeDay, Status
from tandem.changes.queries import in_audience, may_own_changes, people_of_audiences
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, NotFound

#: A worker that was down catches up on the changes that took effect this many days back.
CATCH_UP_DAYS = 6


def notice_message(changes: list[tuple[Change, date]], today: date) -> str:
    """The day's one message: every change taking effect for the person, titles first, each with
    the day it reaches them (a staged change: their audience's own day)."""
    if len(changes) == 1:
        c, day = changes[0]
        head = f"Taking effect {'today' if day == today else day.strftime('%-d %b')}: "
        text = f"{head}“{c.title}” ({c.unit.name}). {c.summary}"
    else:
        titles = "; ".join(f"“{c.title}” ({c.unit.name}{'' if day == today else day.strftime(', %-d %b')})"
                           for c, day in changes)
        text = f"{len(changes)} changes take effect: {titles}."
    tail = " Read and acknowledge under Changes."
    return (text[: 300 - len(tail) - 1] + "…" if len(text) + len(tail) > 300 else text) + tail


def due_notices(today: date) -> dict[int, list[tuple[int, date]]]:
    """Per person, the published changes in effect for them (today, or up to ``CATCH_UP_DAYS``
    back) whose notice they have not had, nor acknowledged, each with the day it reached them."""
    since = today - timedelta(days=CATCH_UP_DAYS)
    # A staged change reaches each audience on its own day.
    changes = list(Change.objects.filter(status=Status.PUBLISHED, effective_on__lte=today).filter(
        Q(effective_on__gte=since) | Q(audiences__effective_on__gte=since)).distinct()
        .prefetch_related("audiences"))
    if not changes:
        return {}
    people = people_of_audiences({(a.unit_id, a.role) for c in changes for a in c.audiences.all()})
    have = set(ChangeReceipt.objects.filter(change__in=changes).values_list("change_id", "person_id"))
    due: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for c in changes:
        for a in c.audiences.all():
            day = a.effective_on or c.effective_on
            if not since <= day <= today:
                continue
            for person in people[(a.unit_id, a.role)]:
                if (c.pk, person) not in have and all(c.pk != i for i, _ in due[person]):
                    due[person].append((c.pk, day))
    return {p: items for p, items in due.items() if items}


def send_change_notices(today: date | None = None) -> int:
    """The worker's duty: each person of each audience gets one notification a day listing the
    changes taking effect for them. A person already told today (a change published later that
    day) is told of the rest tomorrow. Returns how many people were told."""
    today = today or timezone.localdate()
    due = due_notices(today)
    if not due:
        return 0
    changes = {c.pk: c for c in Change.objects.filter(pk__in={i for items in due.values() for i, _ in items})
               .select_related("unit")}
    told = 0
    for person_id, items in sorted(due.items()):
        listed = sorted(((changes[i], day) for i, day in items), key=lambda cd: (cd[1], cd[0].pk))
        try:
            with action_transaction():
                NoticeDay.objects.create(person_id=person_id, day=today)  # the claim: once a day
                ChangeReceipt.objects.bulk_create(
                    [ChangeReceipt(change=c, person_id=person_id, noticed_on=today) for c, _ in listed])
                notify([person_id], Notification.Kind.CHANGE_NOTICE, None, notice_message(listed, today))
        except IntegrityError:
            continue  # told today already, or another worker got there first
        told += 1
    return told


def acknowledge_change(actor: Person, change_id: int) -> ChangeReceipt:
    """One click: the person of an audience has read the published change (again: nothing more)."""
    change = Change.objects.filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change.")
    if change.status != Status.PUBLISHED:
        raise Conflict(f"Only a published change is acknowledged; this one is {change.get_status_display().lower()}.")
    if not in_audience(actor, change):
        raise Forbidden("Only the people of the change's audiences acknowledge it.")
    with action_transaction():
        receipt, _ = ChangeReceipt.objects.get_or_create(change=change, person=actor)
        if receipt.acknowledged_at is None:
            receipt.acknowledged_at = timezone.now()
            receipt.save(update_fields=["acknowledged_at"])
    return receipt


def remind_audience(actor: Person, change_id: int, *, today: date | None = None) -> int:
    """The owner reminds the people of the audiences who have not acknowledged a published change
    in effect: one notification each, at most once a day per change. Returns how many."""
    today = today or timezone.localdate()
    change = Change.objects.select_related("unit").filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change.")
    if not may_own_changes(actor, change.unit_id):
        raise Forbidden(f"Only the owners of {change.unit.name}'s services (and administrators) remind its audience.")
    if change.status != Status.PUBLISHED or change.effective_on > today:
        raise Conflict("Reminders are for a published change that has taken effect.")
    acked = set(change.receipts.filter(acknowledged_at__isnull=False).values_list("person_id", flat=True))
    # The audiences it has reached (a staged change: each on its own day), of their role.
    reached = [a for a in change.audiences.all() if a.lands_on <= today]
    people = people_of_audiences([(a.unit_id, a.role) for a in reached])
    told = 0
    with action_transaction():
        claimed = Change.objects.filter(pk=change.pk).exclude(reminded_on=today).update(reminded_on=today)
        if claimed != 1:
            raise Conflict("The audience was already reminded today: once a day is enough.")
        for a in reached:
            waiting = [p for p in people[(a.unit_id, a.role)] if p not in acked]
            notify(waiting, Notification.Kind.CHANGE_REMINDER, None,
                   f"Please acknowledge “{change.title[:120]}” ({change.unit.name}), in effect since "
                   f"{a.lands_on:%-d %b}: {change.summary}"[:260] + " See Changes.")
            told += len(waiting)
    return told
