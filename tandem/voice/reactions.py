"""What the voice does when something happens below it (``tandem.outbox``).

- ``react`` (in the publishing action's transaction): history imported into a unit's past
  changes months the pulse results had summarised, so the unit's summaries are forgotten
  (``tandem.voice.months``); the results read those months from the requests until the worker
  has summarised them again.
"""

from __future__ import annotations

from tandem.outbox.models import Message
from tandem.voice.months import forget

TOPICS = ("history.imported",)


def react(message: Message) -> None:
    forget(message.payload["unit"])
