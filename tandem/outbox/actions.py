"""Messages up the layers: published inside an action's transaction, handled once it commits.

A lower layer never imports a higher one (docs/architecture.md). Where a change in a lower
layer must cause work above it (a request moved: its promise is due for a new forecast, and
someone is to be told; an absence: the unit's work is re-planned), the action *publishes* a
message, and the consumers above that subscribed to the topic react to it, in one of two ways:

- **In the transaction** (``in_transaction=True``: reactions that only write rows of this
  database, such as notifications): the reaction runs at the end of the action, inside its
  transaction, so it commits with the change or not at all: exactly once, in order, nothing
  to lose. One that fails is rolled back alone and handed to the outbox below instead. A
  consumer ``once_per_action`` reacts once per key however many messages the action published
  about it (a request's search document, written once for a submission and its first comment).
- **After the commit** (``in_transaction=False``: reactions that must not hold the database,
  because they compute for a while, call the network or call actions of their own): the message
  is an outbox row written with the change. ``action_transaction`` delivers it as soon as it has
  committed, in the same process, so the answer that follows already shows the reaction; a
  process killed in between loses nothing, as ``tandem worker`` delivers whatever is still
  pending (``deliver_due``). The messages of one consumer about one key (``"request:12"``) are
  handled one at a time, oldest first; the handler runs at least once, so it is written to be
  repeatable. A handler that raises is tried again later (30 s, then doubling to an hour), up to
  ``MAX_ATTEMPTS`` times; then the message is marked failed and ``tandem outbox`` shows it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from tandem.isolation import provider_context
from tandem.outbox import registry
from tandem.outbox.models import PENDING, Message

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # 30 s, 1, 2, 4 ... minutes, then hourly: about 8 hours in all
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
#: A handler that owns its transactions holds its message this long. If its process dies, the
#: message is free again after it; sooner on the same machine, where a process that is gone is
#: seen to be gone.
LEASE = timedelta(minutes=5)
HOST = socket.gethostname()
#: Handled messages are kept this long (what was delivered, when), then purged by the worker.
KEEP_HANDLED = timedelta(days=7)

_local = threading.local()


@dataclass
class _Owed:
    """What the open action owes: reactions to run before it commits, and consumers and keys
    whose outbox messages to deliver once it has."""

    now: list[tuple[registry.Consumer, Message]] = field(default_factory=list)
    later: list[Message] = field(default_factory=list)
    # The (consumer, key) pairs owed once per action, until the reactions start: one published
    # by a reaction while they run is owed again, as the rows may have changed since.
    once: set[tuple[str, str]] | None = field(default_factory=set)


@contextmanager
def action_transaction() -> Iterator[None]:
    """The transaction of one action: ``transaction.atomic(durable=True)`` (never nested inside
    a caller's, so "returned" means "committed"). The reactions ``in_transaction`` run at its
    end, inside it; the outbox messages of the others are delivered as soon as it has committed.
    A refusal raised inside rolls back the change and its messages together."""
    if getattr(_local, "owed", None) is not None:
        raise RuntimeError("An action's transaction cannot open inside another action's.")
    owed = _local.owed = _Owed()
    try:
        with transaction.atomic(durable=True):
            yield
            owed.once = None
            _react_now(owed.now)
    finally:
        _local.owed = None
    delivered: set[tuple[str, str]] = set()
    for message in owed.later:  # each consumer and key once, in publishing order
        if (message.consumer, message.key) not in delivered:
            delivered.add((message.consumer, message.key))
            deliver(message.consumer, message.key, first=message)


def publish(topic: str, key: str, payload: dict[str, Any] | None = None, *, subject: Any = None) -> None:
    """Owe a reaction to ``topic`` about ``key`` to each consumer subscribed to it: at the end of
    the current action, inside its transaction, for a consumer ``in_transaction``; otherwise as an
    outbox message written in the transaction and delivered once it commits. Payloads hold ids
    and values, never objects: a handler reads what it needs when it runs. ``subject`` is the
    object the action already holds (the request): handlers in this process may use it instead
    of reading it again; a message the worker delivers comes without it."""
    owed = getattr(_local, "owed", None)
    if owed is None:
        raise RuntimeError(f"publish({topic!r}) outside an action_transaction: nobody would deliver its message.")
    rows = []
    for name in registry.consumers_of(topic):
        consumer = registry.consumer(name)
        assert consumer is not None
        message = Message(topic=topic, key=key, consumer=name, payload=payload or {})
        message.subject = subject
        if consumer.in_transaction:
            if consumer.once_per_action and owed.once is not None:
                if (name, key) in owed.once:
                    continue  # already owed: the reaction reads the rows as the action leaves them
                owed.once.add((name, key))
            owed.now.append((consumer, message))
        else:
            rows.append(message)
    if rows:
        Message.objects.bulk_create(rows)  # the rows get their ids (RETURNING on both databases)
        owed.later.extend(rows)


def _react_now(owed: list[tuple[registry.Consumer, Message]]) -> None:
    """Run the reactions owed inside the action's transaction, in publishing order (a reaction
    may publish more). They run together in one savepoint; if one fails, the savepoint is rolled
    back and they run again one savepoint each, so that the failing one is rolled back alone,
    logged, and written to the outbox instead for the worker to retry, and the action still
    commits."""
    if not owed:
        return
    published = len(owed)
    try:
        with transaction.atomic():
            _run_each(owed)
        return
    except Exception:
        del owed[published:]  # what the rolled-back reactions published goes with them
    done = 0
    while done < len(owed):
        consumer, message = owed[done]
        done += 1
        before = len(owed)
        try:
            with transaction.atomic():
                _run_each([(consumer, message)])
        except Exception as error:
            del owed[before:]
            at = timezone.now()
            text = f"{type(error).__name__}: {error}"[:300]
            logger.error("%s failed on %s for %s; the worker retries it: %s", consumer.name, message.topic,
                         message.key, text, exc_info=error)
            message.attempts, message.last_error, message.available_at = 1, text, at + retry_delay(1)
            message.save(force_insert=True)


def _run_each(owed: list[tuple[registry.Consumer, Message]]) -> None:
    done = 0
    while done < len(owed):  # the list may grow: a reaction may publish
        consumer, message = owed[done]
        done += 1
        with provider_context():  # a reaction acts for the system, across clients
            apply = consumer.handler(message)
            if apply is not None:
                apply()


def deliver(name: str, key: str, *, now: datetime | None = None, first: Message | None = None) -> int:
    """Handle the pending messages of one consumer about one key, oldest first, until none is
    left or one is not due yet (a retry waiting, or another process holding it) or fails.
    ``first``: the message this process has just published, handled without reading the table
    when no older one of the key is pending, and then alone. Returns how many were handled.
    Never raises: a failure is recorded for a retry."""
    consumer = registry.consumer(name)
    if consumer is None:
        return 0
    handled = 0
    while True:
        at = now or timezone.now()
        head, tried_first, first = first, first is not None, None
        if head is None:
            try:
                # The oldest pending message, read without a lock: most calls end here, finding none.
                head = next(iter(Message.objects.filter(PENDING, consumer=name, key=key).order_by("id")[:1]), None)
            except Exception:  # the database failed: the worker comes back to it
                logger.exception("Could not read the outbox of %s for %s", name, key)
                return handled
            if head is None or head.available_at > at or _held(head, at):
                return handled  # later messages of the key wait behind a held or retried one, in order
        try:
            if consumer.in_transaction:  # a retry of a reaction that failed inside its action
                with transaction.atomic():
                    # Locked: on PostgreSQL a second process handling the same message waits here
                    # until the first commits, then finds it handled (SQLite's writers take turns).
                    message = next(iter(Message.objects.select_for_update().filter(_next_in_line(head))), None)
                    if message is None:
                        continue  # handled by another process meanwhile, or an older one is first
                    with provider_context():
                        apply = consumer.handler(message)
                        if apply is not None:
                            apply()
                    _mark_handled(message, at)
            else:
                # A conditional UPDATE claims it for the lease (or takes it over from a process that
                # died holding it): one process wins, the others stop.
                claimed = (
                    Message.objects.filter(_next_in_line(head), claimed_until=head.claimed_until)
                    .update(claimed_until=at + LEASE, claimed_by=holder())
                )
                if not claimed:
                    if tried_first:
                        continue  # an older message of the key is first in line: read it
                    return handled  # another process holds the key: it goes on with it
                with provider_context():  # after the commit, still the system's reaction
                    apply = consumer.handler(head)
                    if apply is not None:
                        apply()  # repeatable, like the handler: a crash before the mark runs both again
                _mark_handled(head, now or timezone.now())
        except Exception as error:
            _record_failure(head, error, at)
            return handled
        handled += 1
        if tried_first:
            # This process's own message, first in line, is done. A later one of the key (from a
            # process that found this one ahead of it) is its publisher's or the worker's.
            return handled


def _next_in_line(message: Message) -> Q:
    """``message``, still pending, with no older pending message of its consumer and key."""
    older = Message.objects.filter(PENDING, consumer=message.consumer, key=message.key, pk__lt=message.pk)
    return Q(PENDING, pk=message.pk) & ~Q(Exists(older))


def holder() -> str:
    """Who claims: ``host:pid`` of this process (other claimed rows, such as webhook deliveries,
    use it too, so that a process seen to be dead frees them at once)."""
    return f"{HOST}:{os.getpid()}"


def holder_gone(claimed_by: str) -> bool:
    """Whether the process named by ``claimed_by`` (``host:pid``) is seen to be gone: only on
    this machine, where a process that is not there is known to be dead."""
    host, _, pid = claimed_by.rpartition(":")
    if host != HOST or not pid.isdigit():
        return False  # another machine's: only the lease can tell
    try:
        os.kill(int(pid), 0)  # signal 0: is it there?
    except ProcessLookupError:
        return True  # died holding it (killed, crashed): free now, not when the lease ends
    except PermissionError:
        return False  # there, and someone else's
    return False


def _held(message: Message, at: datetime) -> bool:
    """Another live process holds the message (its lease runs, and it is not seen to be dead)."""
    if message.claimed_until is None or message.claimed_until <= at:
        return False
    return not holder_gone(message.claimed_by)


def _mark_handled(message: Message, at: datetime) -> None:
    Message.objects.filter(pk=message.pk).update(
        handled_at=at, attempts=F("attempts") + 1, claimed_until=None, claimed_by=""
    )


def retry_delay(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th failure."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def _record_failure(message: Message, error: Exception, at: datetime) -> None:
    attempts = message.attempts + 1
    text = f"{type(error).__name__}: {error}"[:300]
    gave_up = attempts >= MAX_ATTEMPTS
    logger.error(
        "%s failed on %s for %s (attempt %d%s): %s",
        message.consumer, message.topic, message.key, attempts, ", giving up" if gave_up else "", text,
        exc_info=error,
    )
    changes: dict[str, Any] = {"attempts": attempts, "last_error": text, "claimed_until": None, "claimed_by": ""}
    if gave_up:
        changes["failed_at"] = at
    else:
        changes["available_at"] = at + retry_delay(attempts)
    try:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk, handled_at__isnull=True).update(**changes)
    except Exception:
        # The database is gone too: the message stays pending as it was, and the worker
        # (or the lease running out) brings it back.
        logger.exception("Could not record the failure of outbox message %s", message.pk)


def deliver_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """The worker's duty: handle every consumer and key with messages due (left by a process
    that died before handling them, or waiting for a retry). Returns how many were handled."""
    at = now or timezone.now()
    keys = (
        Message.objects.filter(PENDING, available_at__lte=at)
        # Held by nobody, or the lease ran out, or held on this machine (by a process that may be
        # gone: ``deliver`` looks).
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=at) | Q(claimed_by__startswith=f"{HOST}:"))
        .order_by()
        .values_list("consumer", "key")
        .distinct()[:batch]
    )
    return sum(deliver(name, key, now=now) for name, key in list(keys))


def purge_handled(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete messages handled more than ``KEEP_HANDLED`` ago, at most ``batch`` at a time."""
    cutoff = (now or timezone.now()) - KEEP_HANDLED
    ids = list(Message.objects.filter(handled_at__lt=cutoff).order_by().values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    deleted, _ = Message.objects.filter(pk__in=ids).delete()
    return deleted


def retry_failed(ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Give failed messages (all, or those of ``ids``) a fresh set of attempts, once their cause
    is mended: the worker handles them in its next round."""
    failed = Message.objects.filter(handled_at__isnull=True, failed_at__isnull=False)
    if ids is not None:
        failed = failed.filter(pk__in=list(ids))
    return failed.update(failed_at=None, attempts=0, available_at=now or timezone.now(), last_error="")
