"""API: agreements (read-only; they are defined in the admin or by ``define_agreement``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.agreements.models import Agreement
from tandem.agreements.queries import agreements_visible_to
from tandem.api_shared import PageQuery, ServiceRef, Slug, UnitRef, actor, auth_user, errors, keyset_page

router = Router(tags=["agreements"])


class AgreementOut(Schema):
    id: int
    name: str
    service: ServiceRef
    requesting_unit: UnitRef | None = Field(..., description="Null: every requesting unit.")
    channel: str = Field(..., description="internal, external, or empty for both.")
    first_response_minutes: int = Field(..., description="Working minutes of the providing unit.")
    resolution_minutes: int = Field(..., description="Working minutes of the providing unit.")
    target_percent: float = Field(..., description="Share of requests to meet the targets.")
    pause_statuses: list[str] = Field(..., description="Statuses that stop the clock.")
    active: bool

    @classmethod
    def of(cls, a: Agreement) -> AgreementOut:
        return cls(
            id=a.pk,
            name=a.name,
            service=ServiceRef(id=a.service.pk, slug=a.service.slug, name=a.service.name),
            requesting_unit=UnitRef.of(a.requesting_unit) if a.requesting_unit else None,
            channel=a.channel,
            first_response_minutes=a.first_response_minutes,
            resolution_minutes=a.resolution_minutes,
            target_percent=float(a.target_percent),
            pause_statuses=list(a.pause_statuses),
            active=a.active,
        )


class AgreementPage(Schema):
    items: list[AgreementOut]
    next_after: int | None


class AgreementQuery(PageQuery):
    service: Slug | None = Field(None, description="Only the agreements of this service (its slug).")


@router.get("/agreements", response={200: AgreementPage, **errors(403, 422)}, summary="List agreements")
def list_agreements(request: HttpRequest, query: Query[AgreementQuery]) -> dict:
    """Agreements in the order they were made (ascending id). A service without an active
    agreement runs on its published turnaround (docs/agreements.md)."""
    actor(request)
    rows_qs = agreements_visible_to(auth_user(request))
    if query.service is not None:
        rows_qs = rows_qs.filter(service__slug=query.service)
    rows, next_after = keyset_page(rows_qs, query, newest_first=False)
    return {"items": [AgreementOut.of(a) for a in rows], "next_after": next_after}
