"""API: the service catalogue."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.params import P, PathEx

from tandem.catalogue import actions
from tandem.catalogue.models import CutOff, IntakeField, ProcedureStep, Service, ServiceSkill, Weekday
from tandem.catalogue.queries import reads_reviews, reviews_due, services_visible_to
from tandem.engines.intake_rules import number
from tandem.org.api_shared import (
    InSchema,
    PageQuery,
    PersonRef,
    Schema,
    Slug,
    UnitRef,
    actor,
    auth_user,
    errors,
    keyset_page,
)
from tandem.org.queries import units_visible_to
from tandem.refusal import Forbidden, Invalid, NotFound

router = Router(tags=["catalogue"])


class ServiceSummaryOut(Schema):
    id: int
    slug: str
    name: str
    summary: str
    unit: UnitRef = Field(..., description="The back-office unit that provides it.")
    turnaround_days: int = Field(..., description="Published turnaround in working days.")
    confidential: bool
    external_allowed: bool = Field(
        ..., description="Accepts requests on the external (customer) channel."
    )
    active: bool = Field(
        ..., description="Published; inactive ones are seen only by their unit's lead."
    )

    @staticmethod
    def _fields(service: Service) -> dict:
        return {
            "id": service.pk,
            "slug": service.slug,
            "name": service.name,
            "summary": service.summary,
            "unit": UnitRef.of(service.unit),
            "turnaround_days": service.turnaround_days,
            "confidential": service.confidential,
            "external_allowed": service.external_allowed,
            "active": service.active,
        }

    @classmethod
    def of(cls, service: Service) -> ServiceSummaryOut:
        return cls(**cls._fields(service))


class IntakeFieldOut(Schema):
    key: str = Field(..., description="The name of the value in a request's `intake` object.")
    label: str
    kind: str = Field(..., json_schema_extra={"enum": list(IntakeField.Kind.values)})
    required: bool
    help_text: str
    choices: list[str] = Field(..., description="The allowed values of a choice field.")
    min_value: str | None = Field(
        ..., description="Number fields: the smallest value accepted, as a decimal string (null: no limit)."
    )
    max_value: str | None = Field(
        ..., description="Number fields: the largest value accepted, as a decimal string (null: no limit)."
    )
    days_past: int | None = Field(
        ..., description="Date fields: at most this many days before the server's today (0: none in the "
        "past; null: no limit)."
    )
    days_ahead: int | None = Field(
        ..., description="Date fields: at most this many days after the server's today (0: none in the "
        "future; null: no limit)."
    )
    weekday: int | None = Field(
        ..., ge=0, le=6, description="Date fields: the only weekday accepted, 0 Monday … 6 Sunday (null: any)."
    )
    pattern: str = Field(
        ..., description="Text and file fields: an RE2 regular expression the whole value must match (\"\": none)."
    )
    pattern_message: str = Field(..., description="What the pattern asks for, in words.")
    rules: str = Field(..., description="The rules above in a few words, as the web form shows them.")

    @classmethod
    def of(cls, f: IntakeField) -> IntakeFieldOut:
        return cls(
            key=f.key,
            label=f.label,
            kind=f.kind,
            required=f.required,
            help_text=f.help_text,
            choices=[str(c) for c in f.choices or []],
            min_value=None if f.min_value is None else number(f.min_value),
            max_value=None if f.max_value is None else number(f.max_value),
            days_past=f.days_past,
            days_ahead=f.days_ahead,
            weekday=f.weekday,
            pattern=f.pattern,
            pattern_message=f.pattern_message,
            rules=f.rules_text,
        )


class CutOffOut(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 is Monday.")
    weekday_name: str
    time: str = Field(..., description="HH:MM in the providing unit's time zone.")
    time_zone: str
    description: str
    run_weekday: int | None = Field(..., ge=0, le=6, description="The weekday of the run it feeds; null: the same day.")
    run_name: str = Field(..., description="What the run is, e.g. payroll (\"run\" when not named).")


class ProcedureStepOut(Schema):
    position: int
    text: str


class SkillNeedOut(Schema):
    slug: str
    name: str
    min_level: int = Field(..., description="1 learning, 2 practised, 3 proficient, 4 expert.")


class ApprovalRuleOut(Schema):
    by: Literal["named", "lead", "field"] = Field(
        ..., description="Who approves: `named` (the approver below; null: no approval), `lead` (the "
        "requester's unit's lead) or `field` (the person whose address the requester gives in `approver_field`)."
    )
    approver: PersonRef | None = Field(..., description="The named approver; null: nobody named.")
    approver_field: str = Field(..., description="With `by: field`, the key of the email field naming the approver.")
    remind_after_days: int = Field(
        ..., description="Working days before a waiting approver is reminded, then once a working day; 0: never."
    )
    field: str = Field(..., description="The number field whose value decides; empty: every request.")
    above: str | None = Field(..., description="Approval when that value is above this amount.")


class ServiceOut(ServiceSummaryOut):
    scope_includes: str = Field(..., description="What we do.")
    scope_excludes: str = Field(..., description="What we don't.")
    owner: PersonRef = Field(..., description="The one person accountable for the service.")
    last_reviewed_on: dt.date
    fields: list[IntakeFieldOut] = Field(..., description="The intake form, in order.")
    cutoffs: list[CutOffOut]
    run_field: str = Field(..., description="The key of the date field that names the run a request is for; "
                           "empty: requests go in the next run and are never late.")
    steps: list[ProcedureStepOut] = Field(..., description="The documented procedure, in order.")
    skills: list[SkillNeedOut] = Field(..., description="Skills the work needs.")
    approval: ApprovalRuleOut = Field(..., description="Whether requests wait for an approver (docs/approvals.md).")

    @classmethod
    def of(cls, service: Service) -> ServiceOut:  # type: ignore[override]
        fields: list[IntakeField] = list(service.fields.all())
        cutoffs: list[CutOff] = [c for c in service.cutoffs.all() if c.organisation_id is None]
        steps: list[ProcedureStep] = list(service.steps.all())
        needs: list[ServiceSkill] = list(service.skill_needs.all())
        return cls(
            **cls._fields(service),
            scope_includes=service.scope_includes,
            scope_excludes=service.scope_excludes,
            owner=PersonRef.of(service.owner),
            last_reviewed_on=service.last_reviewed_on,
            fields=[IntakeFieldOut.of(f) for f in fields],
            run_field=service.run_field,
            cutoffs=[
                CutOffOut(
                    weekday=c.weekday,
                    weekday_name=Weekday(c.weekday).label,
                    time=f"{c.time:%H:%M}",
                    time_zone=service.unit.time_zone,
                    description=c.description,
                    run_weekday=c.run_weekday,
                    run_name=c.run_label,
                )
                for c in cutoffs
            ],
            steps=[ProcedureStepOut(position=s.position, text=s.text) for s in steps],
            approval=approval_rule(service),
            skills=[
                SkillNeedOut(slug=n.skill.slug, name=n.skill.name, min_level=n.min_level)
                for n in needs
            ],
        )


def approval_rule(service: Service) -> ApprovalRuleOut:
    above = service.approval_above
    return ApprovalRuleOut(by=service.approval_by, approver=PersonRef.maybe(service.approver),  # type: ignore[arg-type]
                           approver_field=service.approver_field, remind_after_days=service.approval_remind_days,
                           field=service.approval_field,
                           above=None if above is None else number(above))


class ServicePage(Schema):
    items: list[ServiceSummaryOut]
    next_after: int | None


class ServiceQuery(PageQuery):
    unit: Slug | None = Field(None, description="Only the services of this unit (its slug).")
    active: bool | None = Field(None, description="true: published only; false: unpublished only.")


@router.get("/services", response={200: ServicePage, **errors(403, 422)}, summary="List services")
def list_services(request: HttpRequest, query: Query[ServiceQuery]) -> dict:
    """The catalogue you may browse, in the order services were created (ascending id)."""
    actor(request)
    services = services_visible_to(auth_user(request))
    if query.unit is not None:
        unit = units_visible_to(auth_user(request)).filter(slug=query.unit).first()
        if unit is None:
            raise Invalid(
                f"There is no unit {query.unit!r}; GET /api/units lists them.",
                errors={"unit": ["Unknown unit."]},
            )
        services = services.filter(unit=unit)
    if query.active is not None:
        services = services.filter(active=query.active)
    rows, next_after = keyset_page(services, query, newest_first=False)
    return {"items": [ServiceSummaryOut.of(s) for s in rows], "next_after": next_after}


ServiceSlug = PathEx[str, P(pattern=r"^[-a-zA-Z0-9_]{1,80}$", description="The service's slug.")]


@router.get(
    "/services/{slug}", response={200: ServiceOut, **errors(403, 404, 422)}, summary="Get a service"
)
def get_service(request: HttpRequest, slug: ServiceSlug) -> ServiceOut:
    """Everything to know before asking: scope, intake form, turnaround, cut-offs, procedure,
    skills and the accountable owner."""
    actor(request)
    service = (
        services_visible_to(auth_user(request))
        .prefetch_related(
            "fields",
            "cutoffs",
            "steps",
            Prefetch(
                "skill_needs",
                queryset=ServiceSkill.objects.select_related("skill").order_by("skill__name"),
            ),
        )
        .filter(slug=slug)
        .first()
    )
    if service is None:
        raise NotFound(f"There is no service {slug!r}; GET /api/services lists the catalogue.")
    return ServiceOut.of(service)


# --- owned processes -----------------------------------------------------------------------------


class ApprovalIn(InSchema):
    by: Literal["named", "lead", "field"] = Field(
        "named", description="Who approves: `named` (the `approver`), `lead` (the requester's lead) or `field` "
        "(the person named in the email field `approver_field`)."
    )
    approver: int | None = Field(
        None, ge=1, le=2**31 - 1, description="With `by: named`, the approver's person id; null: no approval."
    )
    approver_field: str = Field("", max_length=60, description="With `by: field`, an email field's key.")
    remind_after_days: int | None = Field(
        None, ge=0, le=30, description="Working days before a waiting approver is reminded (0: never); "
        "omitted: as it was (2 for a new service)."
    )
    field: str = Field("", max_length=60, description="A number field's key: approval only above the amount.")
    above: Decimal | None = Field(
        None, max_digits=17, decimal_places=4, description="The amount above which approval is needed."
    )


class OwnerIn(InSchema):
    owner: int = Field(..., description="The id of the person who becomes the one accountable owner.")


class FollowUpIn(InSchema):
    description: str = Field(..., max_length=300)
    owner: int = Field(..., description="The person who follows it up.")
    due_on: date


class ReviewIn(InSchema):
    reviewer: int | None = Field(..., description="The person who carried out the review (required).")
    reviewed_on: date
    findings: str = Field(..., max_length=10000)
    decisions: str = Field("", max_length=10000)
    follow_ups: list[FollowUpIn] = Field(default_factory=list, max_length=20)


class ReviewOut(Schema):
    id: int
    service: str
    reviewed_on: date
    reviewer: PersonRef
    findings: str
    decisions: str
    figures: dict = Field(..., description="The service's measured figures at the review.")
    next_due_on: date


class ReviewDueOut(Schema):
    service: str
    service_name: str
    owner: PersonRef
    owner_missing: bool = Field(..., description="The owner's account is deactivated: choose a new owner.")
    due_on: date
    overdue: bool


def service_at(request: HttpRequest, slug: str) -> Service:
    """The service of that slug if the caller may see it (404 otherwise); the action decides
    whether they may change it."""
    service = services_visible_to(auth_user(request)).filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service {slug!r}; GET /api/services lists them.")
    return service


@router.post("/services/{slug}/approval", response={200: ApprovalRuleOut, **errors(400, 403, 404, 422)},
             summary="Set who approves a service's requests")
def set_approval(request: HttpRequest, slug: ServiceSlug, payload: ApprovalIn) -> ApprovalRuleOut:
    """Say whose yes a request waits for before work starts (a named approver, the requester's
    lead, or the person the requester names in an email field), on every request or only when a
    number field is above an amount; `by: named` with `approver: null` removes approval. Only the
    providing unit's lead or an administrator."""
    me = actor(request)
    service = actions.set_approval(me, service_at(request, slug).pk, payload.approver, payload.field, payload.above,
                                   by=payload.by, approver_field=payload.approver_field,
                                   remind_days=payload.remind_after_days)
    return approval_rule(Service.objects.select_related("approver__user").get(pk=service.pk))


@router.post("/services/{slug}/owner", response={200: ServiceSummaryOut, **errors(400, 403, 404, 422)},
             summary="Transfer ownership")
def transfer_ownership(request: HttpRequest, slug: ServiceSlug, payload: OwnerIn) -> Service:
    """Make another active person the one accountable owner; the change is recorded. Only the
    providing unit's lead or an administrator."""
    me = actor(request)
    service = actions.transfer_ownership(me, service_at(request, slug).pk, payload.owner)
    return Service.objects.select_related("unit", "owner__user").get(pk=service.pk)


@router.get("/reviews/due", response={200: list[ReviewDueOut], **errors(403)}, summary="Process reviews due")
def list_reviews_due(request: HttpRequest) -> list[dict]:
    """Owners missing, reviews overdue and due within 60 days, for the services you own, lead or
    oversee."""
    me = actor(request)
    if not reads_reviews(me):
        raise Forbidden("Process reviews are for service owners, leads, executives and administrators.")
    return [
        {"service": r["service"].slug, "service_name": r["service"].name, "owner": PersonRef.of(r["service"].owner),
         "owner_missing": r["owner_missing"], "due_on": r["due_on"], "overdue": r["overdue"]}
        for r in reviews_due(auth_user(request))
    ]
