"""API: what waits for an approver, and their decision on a request waiting for approval
(docs/approvals.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tandem.org.api_shared import UtcTime, actor, auth_user, errors
from tandem.work import actions
from tandem.work.api import MOVE_ERRORS, _request_out
from tandem.work.schemas import ApproveIn, DeclineIn, RequestOut, RequestPath, RequestSummaryOut
from tandem.work.views_approvals import waiting

router = Router(tags=["moves"])


class WaitingApprovalOut(Schema):
    request: RequestSummaryOut
    why: str = Field(..., description="Why it needs approval, in words (e.g. 'Corrected hours 45 is above 40').")
    waiting_since: UtcTime = Field(..., description="When it was sent for approval.")
    hours_waited: float = Field(..., description="Wall-clock hours since then, to one decimal.")


@router.get(
    "/approvals/waiting",
    response={200: list[WaitingApprovalOut], **errors(401)},
    tags=["requests"],
    summary="Requests waiting for my approval",
)
def list_waiting_approvals(request: HttpRequest) -> list[dict]:
    """The requests waiting for your approval, the longest waiting first (at most 200), each with
    why it needs approval and how long it has waited. Approve or decline each with
    `POST /api/requests/{id}/approve` or `/decline`."""
    actor(request)
    return [{"request": RequestSummaryOut.of(row["request"]), "why": row["why"],
             "waiting_since": row["waiting_since"], "hours_waited": row["hours"]}
            for row in waiting(auth_user(request))[:200]]


@router.post(
    "/requests/{request:request_id}/approve",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Approve a request before work starts",
)
def approve_request(request: HttpRequest, request_id: RequestPath, payload: ApproveIn) -> RequestOut:
    """Its approver says yes: status `new`, in the providing unit's queue; the agreement clock
    runs again and the promise is quoted from now. Anyone but the approver: 403; a request not
    waiting for approval (already decided, or never needing it): 409."""
    person = actor(request)
    actions.approve_request(person, request_id, payload.note)
    return _request_out(request, person, request_id)


@router.post(
    "/requests/{request:request_id}/decline",
    response={200: RequestOut, **MOVE_ERRORS},
    tags=["moves"],
    summary="Decline a request, with the reason",
)
def decline_request(request: HttpRequest, request_id: RequestPath, payload: DeclineIn) -> RequestOut:
    """Its approver says no: status `declined` (finished), the reason kept and the requester
    told. Without a reason: 422; anyone but the approver: 403; not waiting for approval: 409."""
    person = actor(request)
    actions.decline_request(person, request_id, payload.reason)
    return _request_out(request, person, request_id)
