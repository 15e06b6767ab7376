"""What search does when a request changes (``tandem.outbox``): the request's document is
written again from its rows, in the action's transaction; after an import of history, the
requests without a document get theirs."""

from __future__ import annotations

from tandem.outbox.models import Message
from tandem.search.documents import index_missing, index_requests


def react(message: Message) -> None:
    index_requests([message.payload["request"]])


def imported(message: Message) -> None:
    index_missing()
