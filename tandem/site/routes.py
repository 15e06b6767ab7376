"""API operations that bring several areas together, so they live at the top
(docs/architecture.md); each keeps its path, its tag and its operation id.

- ``GET /api/me``: the person (org) with their unread notifications (notifications);
- ``POST /api/services/{slug}/reviews``: a process review of a service (catalogue) that freezes
  the service's figures (voice).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status as HttpStatus

from tandem.catalogue import actions as catalogue_actions
from tandem.catalogue.api import ReviewIn, ReviewOut, ServiceSlug, service_at
from tandem.notifications.queries import unread_count
from tandem.org.api import MeOut
from tandem.org.api_shared import PersonRef, actor, errors
from tandem.voice.queries import service_figures

router = Router()


@router.get("/me", response={200: MeOut, **errors(403)}, tags=["me"], summary="Who am I")
def get_me(request: HttpRequest) -> MeOut:
    """Your person, home unit, role, the queues you work and your unread notification count."""
    person = actor(request)
    return MeOut.of(person, unread=unread_count(person))


@router.post(
    "/services/{slug}/reviews",
    response={201: ReviewOut, **errors(400, 403, 404, 422)},
    tags=["catalogue"],
    summary="Record a process review",
)
def record_review(request: HttpRequest, slug: ServiceSlug, payload: ReviewIn) -> HttpStatus:
    """Findings, decisions and follow-ups; the service's figures are frozen into the review and
    its review clock restarts."""
    me = actor(request)
    service = service_at(request, slug)
    review = catalogue_actions.record_review(
        me, service.pk, reviewer_id=payload.reviewer, reviewed_on=payload.reviewed_on, findings=payload.findings,
        decisions=payload.decisions,
        follow_ups=[catalogue_actions.FollowUp(f.description, f.owner, f.due_on) for f in payload.follow_ups],
        figures=service_figures(service.pk),
    )
    service.refresh_from_db()
    return HttpStatus(201, {
        "id": review.pk, "service": service.slug, "reviewed_on": review.reviewed_on,
        "reviewer": PersonRef.of(review.reviewer),
        "findings": review.findings, "decisions": review.decisions, "figures": review.figures,
        "next_due_on": service.review_due_on,
    })
