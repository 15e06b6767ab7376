"""API: cases, a customer's matter that groups requests (docs/api.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status as HttpStatus

from tandem.org.api_shared import actor, auth_user, errors, keyset_page
from tandem.refusal import NotFound
from tandem.work import actions
from tandem.work.addresses import NO_SUCH_CASE
from tandem.work.api import MOVE_ERRORS
from tandem.work.models import Case
from tandem.work.queries import cases_visible_to
from tandem.work.schemas import CaseIn, CaseOut, CasePage, CasePath, CaseQuery

router = Router()


@router.get(
    "/cases", response={200: CasePage, **errors(403, 422)}, tags=["cases"], summary="List cases"
)
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> dict:
    """Cases you may see, newest first (descending id). A case's requests:
    `GET /api/requests?case=<id>`."""
    person = actor(request)
    cases = cases_visible_to(auth_user(request))
    if query.mine is not None:
        cases = cases.filter(owner=person) if query.mine else cases.exclude(owner=person)
    if query.open is not None:
        cases = cases.filter(status=Case.CaseStatus.OPEN if query.open else Case.CaseStatus.CLOSED)
    rows, next_after = keyset_page(cases, query)
    return {"items": [CaseOut.of(c) for c in rows], "next_after": next_after}


@router.post(
    "/cases",
    response={201: CaseOut, **errors(400, 403, 422)},
    tags=["cases"],
    summary="Open a case",
)
def create_case(request: HttpRequest, payload: CaseIn) -> HttpStatus:
    """A customer's matter, owned by you; attach requests to it with `case` when submitting."""
    case = actions.create_case(
        actor(request), customer_reference=payload.customer_reference, title=payload.title
    )
    return HttpStatus(201, CaseOut.of(case))


def _visible_case(request: HttpRequest, case_id: int) -> Case:
    case = cases_visible_to(auth_user(request)).filter(pk=case_id).first()
    if case is None:
        raise NotFound(NO_SUCH_CASE)
    return case


@router.get(
    "/cases/{case:case_id}",
    response={200: CaseOut, **errors(403, 404, 422)},
    tags=["cases"],
    summary="Get a case",
)
def get_case(request: HttpRequest, case_id: CasePath) -> CaseOut:
    """One case. Its requests: `GET /api/requests?case=<id>`."""
    actor(request)
    return CaseOut.of(_visible_case(request, case_id))


@router.post(
    "/cases/{case:case_id}/close",
    response={200: CaseOut, **MOVE_ERRORS},
    tags=["cases"],
    summary="Close a case",
)
def close_case(request: HttpRequest, case_id: CasePath) -> CaseOut:
    """The owner or their lead closes a case whose requests are all finished (409 otherwise)."""
    actions.close_case(actor(request), case_id)
    return CaseOut.of(_visible_case(request, case_id))
