"""What the work app answers when a lower layer asks whether a change would strand requests
(``tandem.objections``)."""

from __future__ import annotations

from tandem.catalogue.models import Service
from tandem.org.models import Person
from tandem.work.models import OPEN_STATUSES, Status

#: Open requests someone holds and must hand over before leaving (resolved ones wait on the
#: requester, not on them).
WORK_IN_HAND = sorted(OPEN_STATUSES - {Status.NEW})


def person_leaving_unit(*, person: Person, deactivated: bool) -> list[str]:
    """A deactivated person cannot act, and someone who leaves a unit can no longer work its
    queue: what they hold there must be reassigned first."""
    held = person.requests_assigned.filter(status__in=WORK_IN_HAND)
    if not deactivated:
        held = held.filter(unit_id=person.unit_id)
    count = held.count()
    if not count:
        return []
    return [
        f"{person.display_name} holds {count} open request{'s' if count != 1 else ''} in "
        f"{person.unit.name}'s queue; reassign {'it' if count == 1 else 'them'} first."
    ]


def service_moving(*, service: Service) -> list[str]:
    """A service's open requests stay in the queue they were submitted to: it moves once they
    are finished."""
    waiting = service.requests.filter(status__in=OPEN_STATUSES).count()
    if not waiting:
        return []
    return [
        f"{service.name} has {waiting} open request{'s' if waiting != 1 else ''} in "
        f"{service.unit.name}'s queue; finish them before moving the service, "
        "or publish a new service in the other unit."
    ]
