"""API: an approver's decision on a request waiting for approval (docs/approvals.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from tandem.org.api_shared import PathId, actor
from tandem.work import actions
from tandem.work.api import MOVE_ERRORS, _request_out
from tandem.work.schemas import ApproveIn, DeclineIn, RequestOut

router = Router(tags=["moves"])


@router.post(
    "/requests/{request_id}/approve",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Approve a request before work starts",
)
def approve_request(request: HttpRequest, request_id: PathId, payload: ApproveIn) -> RequestOut:
    """Its approver says yes: status `new`, in the providing unit's queue; the agreement clock
    runs again and the promise is quoted from now. Anyone but the approver: 403; a request not
    waiting for approval (already decided, or never needing it): 409."""
    person = actor(request)
    actions.approve_request(person, request_id, payload.note)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request_id}/decline",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Decline a request, with the reason",
)
def decline_request(request: HttpRequest, request_id: PathId, payload: DeclineIn) -> RequestOut:
    """Its approver says no: status `declined` (finished), the reason kept and the requester
    told. Without a reason: 422; anyone but the approver: 403; not waiting for approval: 409."""
    person = actor(request)
    actions.decline_request(person, request_id, payload.reason)
    return _request_out(request, person, request_id)
