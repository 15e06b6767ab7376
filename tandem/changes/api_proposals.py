"""API: what a change does to the services it links, and accepting a staging or a batch."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Router

from tandem.catalogue.scheduled import FieldIn, ServiceEditIn
from tandem.changes import proposals, service_edits
from tandem.changes.api import ChangeOut, _visible
from tandem.org.api_shared import InSchema, PathId, Slug, actor, errors

router = Router(tags=["changes"])


class IntakeFieldAddIn(InSchema):
    label: str = Field(..., max_length=500)
    kind: str = Field("text", max_length=20, description="As in the service editor: text, number, date, choice…")
    key: str = Field("", max_length=200, description="Blank: derived from the label.")
    required: bool = True
    help_text: str = Field("", max_length=1000)
    choices: list[str] = Field(default_factory=list, max_length=200)


class ServiceEditBodyIn(InSchema):
    turnaround_days: int | None = Field(None, ge=-32768, le=32767, description="The new turnaround (working days).")
    procedure: list[str] | None = Field(None, max_length=200, description="The new procedure, step by step.")
    add_fields: list[IntakeFieldAddIn] = Field(default_factory=list, max_length=50)
    remove_fields: list[str] = Field(default_factory=list, max_length=200, description="Keys of fields to remove.")


class StageIn(InSchema):
    audience: Slug
    effective_on: date


class StagingIn(InSchema):
    stages: list[StageIn] = Field(..., max_length=500, description="The staging as proposed, in turn.")


class BatchMoveIn(InSchema):
    change: int = Field(..., ge=1)
    effective_on: date


class BatchIn(InSchema):
    moves: list[BatchMoveIn] = Field(..., max_length=1000, description="The batch as proposed.")


@router.put("/changes/{change_id}/services/{service}", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
            summary="Schedule a service's edit with a change")
def schedule_service_edit(request: HttpRequest, change_id: PathId, service: Slug,
                          payload: ServiceEditBodyIn) -> ChangeOut:
    """What a linked service becomes on the change's effective date: its turnaround, procedure or
    intake fields (checked as the service editor checks them). A second edit replaces the first."""
    me = actor(request)
    _visible(request, change_id)
    edit = ServiceEditIn(
        turnaround_days=payload.turnaround_days, procedure=payload.procedure,
        add_fields=[FieldIn(label=f.label, kind=f.kind, key=f.key, required=f.required, help_text=f.help_text,
                            choices=f.choices) for f in payload.add_fields],
        remove_fields=payload.remove_fields)
    row = service_edits.schedule_service_edit(me, change_id, service, edit)
    return ChangeOut.of(row.change)


@router.delete("/changes/{change_id}/services/{service}", response={200: ChangeOut, **errors(403, 404, 409)},
               summary="Drop a service's scheduled edit")
def drop_service_edit(request: HttpRequest, change_id: PathId, service: Slug) -> ChangeOut:
    """The service stays as it is on the effective date."""
    me = actor(request)
    change = _visible(request, change_id)
    service_edits.drop_service_edit(me, change_id, service)
    return ChangeOut.of(change)


@router.post("/changes/{change_id}/staging", response={200: ChangeOut, **errors(400, 403, 404, 409, 422)},
             summary="Accept a staging")
def accept_staging(request: HttpRequest, change_id: PathId, payload: StagingIn) -> ChangeOut:
    """The change reaches its audiences in turn, on the days the collision check proposes (send
    them as shown: 409 when the proposal changed since)."""
    me = actor(request)
    _visible(request, change_id)
    return ChangeOut.of(proposals.accept_staging(me, change_id, [(s.audience, s.effective_on)
                                                                 for s in payload.stages]))


@router.post("/change-periods/{period_id}/batch", response={200: list[ChangeOut], **errors(400, 403, 404, 409, 422)},
             summary="Accept a batch")
def accept_batch(request: HttpRequest, period_id: PathId, payload: BatchIn) -> list[ChangeOut]:
    """Every change of the batch proposed for the change period moved into it, in one transaction
    (send it as shown: 409 when the proposal changed since)."""
    me = actor(request)
    moves = {m.change: m.effective_on for m in payload.moves}
    return [ChangeOut.of(c) for c in proposals.accept_batch(me, period_id, moves)]
