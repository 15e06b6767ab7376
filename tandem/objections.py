"""Questions a lower layer asks the layers above before a change: "does anything of yours still
depend on this?" (docs/architecture.md, "Upward: messages and objections").

An action of a lower layer (a person leaving a unit, a service moving to another unit) must not
strand what a higher layer holds (requests in hand), yet it may not import that layer. So the
higher layer answers the question instead: it registers a handler in its ``AppConfig.ready``,
and the action asks inside its own transaction, refusing with the answers it gets.

    register("person.leaving_unit", held_requests)         # in work's ready()
    objections("person.leaving_unit", person=p, deactivated=True)  # in org's action: ["... holds 2 open requests ..."]

A handler only reads and answers; it never changes anything (work caused above goes through the
outbox, ``tandem.outbox``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., list[str]]

_handlers: dict[str, list[Handler]] = {}


def register(question: str, handler: Handler) -> None:
    """Answer ``question`` with ``handler(**about)`` from now on (once per handler)."""
    answers = _handlers.setdefault(question, [])
    if handler not in answers:
        answers.append(handler)


def objections(question: str, **about: Any) -> list[str]:
    """Every registered answer to ``question`` about ``about``: what stands in the way, in words
    the person making the change can act on (empty: nothing does)."""
    return [text for handler in _handlers.get(question, []) for text in handler(**about)]
