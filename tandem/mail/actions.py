"""Claiming an incoming mail and recording what became of it.

A mail is claimed by inserting its row (the key is unique): of two workers that read the same
mail at once, exactly one insert succeeds. A claim left by a worker that died is taken over
after ``STALE`` by a conditional UPDATE with a row-count check, and handling it again changes
nothing more (a request made from it replays its idempotency key; a comment its source key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.utils import timezone

from tandem.engines.mail import Mail
from tandem.mail.models import InboundMail
from tandem.outbox.actions import action_transaction

STALE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    row: InboundMail | None  # ours to handle; None when another has it or it is done
    done: bool  # handled already (by anyone): the mailbox may mark it so


def claim(mail: Mail, worker: str, *, now: datetime | None = None) -> Claim:
    now = now or timezone.now()
    try:
        with action_transaction():
            row = InboundMail.objects.create(
                key=mail.key, message_id=mail.message_id, sender=mail.sender[:254], subject=mail.subject[:200],
                received_at=now, claimed_by=worker, claimed_at=now,
            )
        return Claim(row, done=False)
    except IntegrityError:
        pass  # someone has (or had) it
    with action_transaction():
        taken = InboundMail.objects.filter(
            key=mail.key, handled_at__isnull=True, claimed_at__lt=now - STALE
        ).update(claimed_by=worker, claimed_at=now)
        row = InboundMail.objects.get(key=mail.key)
    if taken == 1:
        return Claim(row, done=False)
    return Claim(None, done=row.handled_at is not None)


def finish(
    row: InboundMail, outcome: str, reason: str, *, request_id: int | None, answered: bool,
    now: datetime | None = None,
) -> bool:
    """Record what became of the mail; False when the claim was lost meanwhile (a worker took
    it over as stale), in which case that worker records it."""
    with action_transaction():
        return InboundMail.objects.filter(pk=row.pk, claimed_by=row.claimed_by, handled_at__isnull=True).update(
            outcome=outcome, reason=reason[:2000], request_id=request_id, answered=answered,
            handled_at=now or timezone.now(),
        ) == 1
