"""API: the requester's choice to follow advice given on a request (docs/requests.md)."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router
from pydantic import StringConstraints

from tandem.org.api_shared import InSchema, PathId, actor
from tandem.work import actions
from tandem.work.api import MOVE_ERRORS
from tandem.work.schemas import CommentOut

router = Router(tags=["comments"])


class AdviceDecisionIn(InSchema):
    follow: bool = Field(..., description="true: accepted (they will follow it); false: declined.")
    reason: Annotated[str, StringConstraints(max_length=5000)] = Field(
        "", description="Why it is declined: required when declining, at most 1,000 characters.")


@router.post("/comments/{comment_id}/decision", response={200: CommentOut, **MOVE_ERRORS},
             summary="Accept or decline advice")
def decide_advice(request: HttpRequest, comment_id: PathId, payload: AdviceDecisionIn) -> CommentOut:
    """The person the advice was given to accepts it or declines it with a reason (409 the second
    time). Both stay on the request's record."""
    return CommentOut.of(actions.decide_advice(actor(request), comment_id, follow=payload.follow,
                                               reason=payload.reason))
