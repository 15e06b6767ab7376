"""API: search across requests (docs/search.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router

from tandem.org.api_shared import PersonRef, Schema, UnitRef, actor, errors
from tandem.search.queries import MAX_PAGE, search_requests
from tandem.work.models import Status

router = Router(tags=["search"])


class SearchQuery(Schema):
    q: str = Field(..., description="Words, \"a phrase\", or a reference such as SR-000123 (at most 200 characters).")
    page: int = Field(1, ge=1, le=MAX_PAGE, description=f"The page of results, 25 a page (1 to {MAX_PAGE}).")


class SearchHitOut(Schema):
    id: int
    reference: str
    title: str
    status: str
    status_label: str
    service: str
    unit: UnitRef
    requester: PersonRef
    found_in: str = Field(..., description="Where the words were found beyond the title and requester, if anywhere.")
    snippet_html: str | None = Field(
        None, description="Escaped text around the words found, each found word in <mark>."
    )


class SearchOut(Schema):
    query: str
    page: int
    reference: bool = Field(..., description="The query was a reference, looked up exactly.")
    next_page: int | None
    items: list[SearchHitOut]


@router.get("/search", response={200: SearchOut, **errors(403, 422)}, summary="Search requests")
def search(request: HttpRequest, filters: Query[SearchQuery]) -> dict:
    """The requests you may see that match the words, best first: by reference (exact), title,
    requester, intake values and comments, and internal notes for the units you work. What you
    may find follows the request lists: an executive never finds a confidential request by the
    words of its payload. 422 naming `q` for an empty, over-long or punctuation-only query."""
    actor(request)
    results = search_requests(getattr(request, "auth", None), filters.q, page=filters.page)
    return {
        "query": results.text,
        "page": results.page,
        "reference": results.reference,
        "next_page": results.page + 1 if results.has_next else None,
        "items": [
            {
                "id": hit.request.pk, "reference": hit.request.reference, "title": hit.request.title,
                "status": hit.request.status, "status_label": Status(hit.request.status).label,
                "service": hit.request.service.name, "unit": UnitRef.of(hit.request.unit),
                "requester": PersonRef.of(hit.request.requester), "found_in": hit.found_in,
                "snippet_html": str(hit.snippet) if hit.snippet else None,
            }
            for hit in results.hits
        ],
    }
