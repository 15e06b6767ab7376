"""API: the evidence (processing time, turnaround bands, control charts, who waits on whom)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router

from tandem.catalogue.queries import services_visible_to
from tandem.engines.evidence.phases import BAND_LABELS, PHASES
from tandem.insights.attainment import Tally, attainment_scope, weekly_attainment
from tandem.insights.conformance import service_conformance
from tandem.insights.flow import flow
from tandem.insights.queries import PERIODS, Filters, client_units, evidence, flow_service
from tandem.org.api_shared import Schema, ServiceRef, Slug, actor, auth_user, errors
from tandem.org.models import Side, Unit
from tandem.org.queries import organisations_visible_to, units_visible_to
from tandem.refusal import Invalid

router = Router(tags=["evidence"])


class EvidenceQuery(Schema):
    weeks: int = Field(26, description=f"The period: one of {', '.join(map(str, PERIODS))} weeks.")
    unit: Slug | None = Field(None, description="A back-office unit's slug.")
    requesting_unit: Slug | None = Field(None, description="A requesting unit's slug.")
    service: Slug | None = Field(None, description="A service's slug.")
    channel: Literal["internal", "external"] | None = None
    client: Slug | None = Field(None, description=(
        "A client organisation's slug, or \"own\" for the provider's own units: that organisation's "
        "requests only. For the provider's staff."))


class ChartOut(Schema):
    centre: float
    upper: float
    lower: float
    verdict: str = Field(..., description='"within noise", "sustained shift up since point 14", ...')
    changed: bool = Field(..., description="True when a run rule (shift or trend) says the process changed.")
    signals: list[str] = Field(..., description='Per week: "", "outside", "shift" or "trend".')


class ServiceEvidenceOut(Schema):
    service: ServiceRef
    unit: str
    resolved: int
    reopen_rate: float
    mean_working_days: float | None
    published_days: int
    bands: dict[str, int] = Field(..., description=f"Resolved per band of working days: {', '.join(BAND_LABELS)}.")
    phase_hours: dict[str, float] = Field(..., description="Working hours queued, in progress, waiting on each side.")
    weekly_mean_days: list[float | None] = Field(..., description="Per week of `weeks`; null: too few resolved.")
    chart: ChartOut | None


class WaitingOut(Schema):
    requesting_unit: str
    unit: str
    resolved: int
    front_waits_on_back_hours: float
    back_waits_on_front_hours: float
    waits_on_third_party_hours: float
    waits_on_other_team_hours: float = Field(..., description="The providing unit waited on another back-office team.")
    waits_on_approver_hours: float = Field(
        ..., description="Requests waited on their approver before work could start (docs/approvals.md)."
    )


class TeamWaitOut(Schema):
    unit: str = Field(..., description="The back-office unit that waited.")
    waited_on: str = Field(..., description="The back-office team it waited on.")
    requests: int
    hours: float = Field(..., description="Working hours waited, summed over those requests.")


class AdviceOut(Schema):
    unit: str = Field(..., description="The providing team whose people gave the advice.")
    given: int = Field(..., description="Advice given on requests in the period.")
    accepted: int
    declined: int = Field(..., description="Declined by the requester, with a reason on the request's record.")
    undecided: int
    followed: float | None = Field(..., description="Accepted of decided (0 to 1); null when none was decided yet.")


class EvidenceOut(Schema):
    weeks: list[date] = Field(..., description="The Monday of each week, oldest first.")
    services: list[ServiceEvidenceOut]
    waiting: list[WaitingOut]
    team_waits: list[TeamWaitOut] = Field(..., description="Back office waiting on back office, largest first.")
    advice: list[AdviceOut] = Field(..., description="Per providing team: how often its advice is followed.")


def _unit(request: HttpRequest, slug: str | None, field: str, side: str | None = None) -> Unit | None:
    if not slug:
        return None
    units = units_visible_to(auth_user(request)).filter(slug=slug)
    unit = (units.filter(side=side) if side else units).first()
    if unit is None:
        raise Invalid(f"There is no {'back-office ' if side else ''}unit {slug!r}; GET /api/units lists them.",
                      errors={field: ["Unknown unit."]})
    return unit


def _filters(request: HttpRequest, query: EvidenceQuery) -> Filters:
    """The evidence filters of a query, each checked; refused with what to fix."""
    actor(request)
    if query.weeks not in PERIODS:
        raise Invalid(f"weeks must be one of {', '.join(map(str, PERIODS))}.", errors={"weeks": ["Unknown period."]})
    service = None
    if query.service:
        service = services_visible_to(auth_user(request)).filter(slug=query.service).first()
        if service is None:
            raise Invalid(f"There is no service {query.service!r}; GET /api/services lists them.",
                          errors={"service": ["Unknown service."]})
    return Filters(
        weeks=query.weeks, unit=_unit(request, query.unit, "unit", Side.BACK),
        requesting_unit=_unit(request, query.requesting_unit, "requesting_unit"), service=service,
        channel=query.channel or "",
        requesting_units=client_units(query.client or "", list(organisations_visible_to(auth_user(request)))),
    )


@router.get("/evidence", response={200: EvidenceOut, **errors(403, 422)}, summary="Evidence from the event log")
def get_evidence(request: HttpRequest, query: Query[EvidenceQuery]) -> dict:
    """Per service: requests resolved in the period, mean working days beside the published
    turnaround, turnaround bands, where the time went, the weekly control chart and its verdict;
    who waited on whom between units; how often each team's advice is followed. Confidential
    services count only for their providing unit, executives and administrators."""
    filters = _filters(request, query)
    data = evidence(auth_user(request), filters)
    return {
        "weeks": data["weeks"],
        "waiting": data["waiting"],
        "team_waits": data["team_waits"],
        "advice": data["advice"],
        "services": [
            {
                "service": row["service"],
                "unit": row["service"].unit.name,
                "resolved": row["resolved"],
                "reopen_rate": row["reopen_rate"],
                "mean_working_days": row["mean_days"],
                "published_days": row["published_days"],
                "bands": dict(zip(BAND_LABELS, row["bands"], strict=True)),
                "phase_hours": dict(zip(PHASES, row["phase_hours"], strict=True)),
                "weekly_mean_days": row["series"],
                "chart": None if row["chart"] is None else {
                    "centre": row["chart"].centre, "upper": row["chart"].upper, "lower": row["chart"].lower,
                    "verdict": row["chart"].verdict, "changed": row["chart"].changed,
                    "signals": [row["chart"].signal_at(i) for i in range(len(row["series"]))],
                },
            }
            for row in data["services"]
        ],
    }


class FlowQuery(Schema):
    service: Slug = Field(..., description="The service's slug.")
    weeks: int = Field(12, description="4, 12 or 26 weeks.")


class FlowStepOut(Schema):
    from_: str = Field(..., alias="from")
    to: str
    count: int
    mean_days: float
    total_days: float


class FlowOut(Schema):
    cases: int
    events: int
    variants: int
    handovers_per_case: float = Field(..., description="Changes of unit between consecutive events, per request.")
    ping_pong_rate: float = Field(..., description="Share of requests that went back to a unit they had left.")
    steps: list[FlowStepOut] = Field(..., description="The most frequent directly-follows steps.")
    bottlenecks: list[FlowStepOut] = Field(..., description="The steps adding up to the most time.")


@router.get(
    "/evidence/flow", response={200: FlowOut, **errors(403, 422)}, summary="A service's flow", by_alias=True
)
def get_flow(request: HttpRequest, query: Query[FlowQuery]) -> dict:
    """Directly-follows steps with counts and mean times, variants, handovers and ping-pong
    between units, and the bottlenecks, for one service over the last weeks."""
    actor(request)
    service = flow_service(auth_user(request), query.service)
    if service is None:
        raise Invalid(f"There is no service {query.service!r} whose flow you may see; GET /api/services lists them.",
                      errors={"service": ["Unknown service."]})
    if query.weeks not in (4, 12, 26):
        raise Invalid("weeks must be 4, 12 or 26.", errors={"weeks": ["Unknown period."]})
    return flow(service, weeks=query.weeks)


class DeviationOut(Schema):
    kind: Literal["skipped", "out of order", "marked after resolution"]
    steps: list[int] = Field(..., description="The step ids: one, or (done first, documented first) when out of order.")
    label: str = Field(..., description='"skipped: 2. Chase the referee", "out of order: 3. … before 2. …"')
    requests: int = Field(..., description="Resolved requests showing it.")


class ConformanceWeekOut(Schema):
    week: date = Field(..., description="The Monday of the ISO week the requests were resolved in.")
    checked: int
    following: int
    share: float


class ServiceConformanceOut(Schema):
    service: ServiceRef
    unit: str
    steps: int = Field(..., description="Steps in the documented procedure.")
    checked: int = Field(..., description="Requests resolved in the period.")
    following: int = Field(..., description="Of which followed the procedure.")
    share: float
    deviations: list[DeviationOut] = Field(..., description="Most frequent first.")
    weeks: list[ConformanceWeekOut] = Field(..., description="Weeks with resolved requests, oldest first.")


class ConformanceOut(Schema):
    services: list[ServiceConformanceOut]


@router.get(
    "/evidence/conformance", response={200: ConformanceOut, **errors(403, 422)}, summary="Procedure conformance"
)
def get_conformance(request: HttpRequest, query: Query[EvidenceQuery]) -> dict:
    """Per service with a documented procedure: of the requests resolved in the period, how many
    followed it (every step marked done, in the documented order, before the resolution), the
    deviations ranked, and the share per week. Same filters and visibility as `/api/evidence`."""
    filters = _filters(request, query)
    data = service_conformance(auth_user(request), filters)
    return {"services": [
        {
            "service": r["service"], "unit": r["service"].unit.name, "steps": r["steps"],
            "checked": r["checked"], "following": r["following"], "share": r["share"],
            "deviations": [{"kind": d.kind, "steps": list(d.steps), "label": d.label, "requests": d.count}
                           for d in r["deviations"]],
            "weeks": [{"week": w.week, "checked": w.checked, "following": w.following, "share": w.share}
                      for w in r["weeks"]],
        }
        for r in data["services"]
    ]}


# --- agreement attainment ------------------------------------------------------------------------


class AttainmentQuery(Schema):
    unit: str = Field("", description="A back-office unit's slug; empty for every unit.")
    weeks: Literal["4", "12", "26"] = Field("12", description="How many weeks back, the current one so far.")
    client: str = Field("", description=(
        "A client organisation's slug, or \"own\" for the provider's own units: that organisation's "
        "requests only; empty for every organisation. For the provider's staff."))


class TallyOut(Schema):
    label: str
    resolved: int
    met: int
    breached: int
    attainment: float | None = Field(..., description="met / resolved, a share in 0–1.")
    target_percent: float | None = None
    meets_target: bool | None = None


class AttainmentWeekOut(Schema):
    week: date
    complete: bool
    resolved: int
    met: int
    attainment: float | None


class AttainmentOut(Schema):
    overall: TallyOut
    agreements: list[TallyOut]
    requesting_units: list[TallyOut]
    weeks: list[AttainmentWeekOut]


def _tally_out(t: Tally) -> TallyOut:
    return TallyOut(label=t.label, resolved=t.resolved, met=t.met, breached=t.breached, attainment=t.attainment,
                    target_percent=t.target_percent, meets_target=t.meets_target)


@router.get("/attainment", response={200: AttainmentOut, **errors(403, 422)}, summary="Agreement attainment")
def get_attainment(request: HttpRequest, query: Query[AttainmentQuery]) -> AttainmentOut:
    """Requests finally resolved in the last `weeks` weeks of the services you may see: met and
    breached per agreement, per requesting unit and per week (the page /evidence/attainment/ and
    its CSV), recomputed from each request's status changes."""
    actor(request)
    _unit_chosen, service_ids, weeks = attainment_scope(auth_user(request), query.unit, query.weeks)
    requesting_units = client_units(query.client, list(organisations_visible_to(auth_user(request))))
    data = weekly_attainment(service_ids, weeks, timezone.now(), requesting_units)
    return AttainmentOut(
        overall=_tally_out(data["overall"]),
        agreements=[_tally_out(t) for t in data["agreements"]],
        requesting_units=[_tally_out(t) for t in data["requesting_units"]],
        weeks=[AttainmentWeekOut(week=w["week"], complete=w["complete"], resolved=w["tally"].resolved,
                                 met=w["tally"].met, attainment=w["tally"].attainment) for w in data["weeks"]],
    )
