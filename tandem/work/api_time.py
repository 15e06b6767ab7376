"""API: time entries, people's own hands-on time on a request (docs/figures.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status as HttpStatus

from tandem.org.api_shared import actor, errors
from tandem.work import actions
from tandem.work.api import MOVE_ERRORS, _visible_request
from tandem.work.queries import time_entries_for
from tandem.work.schemas import RequestPath, TimeEntryIn, TimeEntryList, TimeEntryOut

router = Router(tags=["time"])


@router.get(
    "/requests/{request:request_id}/time",
    response={200: TimeEntryList, **errors(403, 404, 422)},
    tags=["time"],
    summary="List the time logged on a request",
)
def list_time(request: HttpRequest, request_id: RequestPath) -> dict:
    """Hands-on time people logged on the request, oldest first, with the total. For the
    providing unit only (others get an empty list)."""
    entries = list(time_entries_for(actor(request), _visible_request(request, request_id)))
    total = round(sum(e.seconds for e in entries) / 60, 1)
    return {"items": [TimeEntryOut.of(e) for e in entries], "total_minutes": total}


@router.post(
    "/requests/{request:request_id}/time",
    response={201: TimeEntryOut, **MOVE_ERRORS},
    tags=["time"],
    summary="Log time spent on a request",
)
def log_time(request: HttpRequest, request_id: RequestPath, payload: TimeEntryIn) -> HttpStatus:
    """Your own hands-on time on a request you may work. Where a request has entries, their sum
    is its effort in capacity, plans and productivity (docs/figures.md)."""
    entry = actions.log_time(actor(request), request_id, payload.duration, worked_on=payload.worked_on,
                             note=payload.note)
    return HttpStatus(201, TimeEntryOut.of(entry))
