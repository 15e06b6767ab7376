"""What allocation answers when the work app asks about the queue's order
(docs/architecture.md, "Objections").

``request.queue_ahead``: a request is being taken by, or given to, ``person``; which requests
they could take come before it in its unit's order (``modes.ahead_of``)? The work action records
the answer as a queue jump, and refuses without a reason where the unit requires one.
"""

from __future__ import annotations

from datetime import datetime

from tandem.org.models import Person
from tandem.work.models import ServiceRequest


def queue_ahead(request: ServiceRequest, person: Person, now: datetime) -> list[str]:
    """The references of the requests ahead of ``request`` that ``person`` could take, first first."""
    # Imported on first use: the queue's order brings the allocation engine, which every
    # process need not load at start-up.
    from tandem.allocation.modes import ahead_of

    return ahead_of(request, person, now)
