"""Who reacts to what. Each app that reacts names its consumer once, in its ``AppConfig.ready``:

    subscribe("promises", ["request.*", "absence.*"], "tandem.promises.reactions.react")

A consumer's handler receives each message it subscribed to, one at a time, oldest first per key.
It is named by its dotted path and imported when it first handles a message: ``ready`` runs in
every process (``tandem --help`` included), which should not pay for importing, say, the
allocation solver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from tandem.outbox.models import Message

#: A handler reacts to a message. It may return a function that writes what it prepared: run
#: inside the action's transaction for a reaction in the transaction, or just before the message
#: is marked handled for one after the commit (repeatable, like the handler itself).
Handler = Callable[["Message"], Callable[[], object] | None]


@dataclass(frozen=True)
class Consumer:
    name: str
    topics: tuple[str, ...]  # exact topics, or patterns such as "request.*"
    target: Handler | str  # the handler, or its dotted path
    # True: the handler runs at the end of the publishing action, inside its transaction, so its
    # writes commit with the change, exactly once (a retry, after a failure, runs in the
    # transaction that marks the message handled). False: the handler runs once the action has
    # committed and owns its transactions (it computes for a while, calls actions, or waits on the
    # network, none of which may hold the database); it runs at least once, since a crash between
    # its work and the mark runs it again, so it must be idempotent.
    in_transaction: bool
    # True (in the transaction only): one reaction per key for all the messages an action
    # published about it, for a handler that rereads the rows as the action left them (a
    # request's search document), so a second run would write the same thing again.
    once_per_action: bool = False

    def handler(self, message: Message) -> Callable[[], object] | None:
        return _handler(self.target)(message)


@cache
def _handler(target: Handler | str) -> Handler:
    return import_string(target) if isinstance(target, str) else target


_consumers: dict[str, Consumer] = {}


def subscribe(
    name: str, topics: Iterable[str], handler: Handler | str, *, in_transaction: bool = True,
    once_per_action: bool = False,
) -> None:
    """Register a consumer (from its app's ``ready``): its handler, or the handler's dotted path.
    Registering the same name again replaces it. ``once_per_action``: see ``Consumer``."""
    if once_per_action and not in_transaction:
        raise ValueError(f"{name}: only a reaction in the transaction can run once per action.")
    _consumers[name] = Consumer(name, tuple(topics), handler, in_transaction, once_per_action)
    consumers_of.cache_clear()


def consumer(name: str) -> Consumer | None:
    """The consumer of that name, or None when this release does not know it (a message written
    by a newer release during a rolling upgrade waits for a process that does)."""
    return _consumers.get(name)


@cache
def consumers_of(topic: str) -> tuple[str, ...]:
    """The names of the consumers a message of ``topic`` goes to."""
    return tuple(
        name for name, c in sorted(_consumers.items()) if any(fnmatchcase(topic, pattern) for pattern in c.topics)
    )
