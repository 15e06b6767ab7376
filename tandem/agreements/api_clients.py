"""API: the provider's client organisations (docs/organisations.md). Adding one goes through
the same action as the page (``tandem.agreements.clients.add_client``)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Router
from ninja.responses import Status

from tandem.agreements.clients import NewClient, NewContract, NewPerson, add_client, add_contract, end_contract
from tandem.agreements.models import Agreement
from tandem.catalogue.models import Contract
from tandem.org.api_shared import InSchema, PathId, Schema, ServiceRef, UnitRef, actor, errors
from tandem.org.models import Organisation
from tandem.org.queries import is_admin, organisations_visible_to
from tandem.refusal import Forbidden, NotFound

router = Router(tags=["clients"])


class ContractOut(Schema):
    id: int
    service: ServiceRef
    starts_on: date
    ends_on: date | None = Field(..., description="The last day; null: open-ended.")
    resolution_minutes: int | None = Field(..., description="The client's own target; null: the service's.")
    first_response_minutes: int | None
    target_percent: float | None


class ClientOut(Schema):
    id: int
    name: str
    slug: str
    holiday_country: str = Field(..., description="Blank: the providing teams' holidays.")
    holiday_subdivision: str
    local_passwords: bool
    units: list[UnitRef]
    people: int = Field(..., description="How many people the client's units hold.")
    contracts: list[ContractOut]
    serving_teams: list[UnitRef] = Field(..., description="The provider's teams that provide its contracted services.")

    @classmethod
    def of(cls, org: Organisation) -> ClientOut:  # type: ignore[override]
        contracts = list(Contract.objects.filter(organisation=org).select_related("service__unit"))
        own = {a.service_id: a for a in Agreement.objects.filter(requesting_organisation=org, active=True)}
        teams = {c.service.unit_id: c.service.unit for c in contracts}
        units = list(org.units.all())
        return cls(
            id=org.pk, name=org.name, slug=org.slug, holiday_country=org.holiday_country,
            holiday_subdivision=org.holiday_subdivision, local_passwords=org.local_passwords,
            units=[UnitRef.of(u) for u in units],
            people=sum(u.members.count() for u in units),
            contracts=[
                ContractOut(
                    id=c.pk, service=ServiceRef(id=c.service.pk, slug=c.service.slug, name=c.service.name),
                    starts_on=c.starts_on, ends_on=c.ends_on,
                    resolution_minutes=own[c.service_id].resolution_minutes if c.service_id in own else None,
                    first_response_minutes=own[c.service_id].first_response_minutes if c.service_id in own else None,
                    target_percent=float(own[c.service_id].target_percent) if c.service_id in own else None,
                )
                for c in contracts
            ],
            serving_teams=[UnitRef.of(u) for u in sorted(teams.values(), key=lambda u: u.name)],
        )


class UnitIn(InSchema):
    name: str = Field(..., min_length=1, max_length=120)
    slug: str = Field(..., min_length=1, max_length=60)


class PersonIn(InSchema):
    username: str = Field(..., min_length=1, max_length=150)
    first_name: str = Field(..., min_length=1, max_length=150)
    last_name: str = Field("", max_length=150)
    email: str = Field(..., max_length=254)
    unit: str = Field(..., description="The slug of one of the client's units given here.")
    role: str = Field("member", description="member, lead or executive.")


class ContractIn(InSchema):
    service: str = Field(..., description="The slug of a published service of the provider's catalogue.")
    starts_on: date | None = Field(None, description="Default: today.")
    ends_on: date | None = None
    first_response_minutes: int | None = Field(None, description="The client's own targets (working minutes).")
    resolution_minutes: int | None = None
    target_percent: float = 90.0


class ClientIn(InSchema):
    name: str = Field(..., max_length=120)
    slug: str = Field(..., max_length=60)
    holiday_country: str = Field("", max_length=2, description="ISO code of the client's public holidays, e.g. GB.")
    holiday_subdivision: str = Field("", max_length=10, description="e.g. SCT for Scotland.")
    local_passwords: bool = True
    units: list[UnitIn] = Field(..., max_length=50)
    people: list[PersonIn] = Field(default_factory=list, max_length=500)
    contracts: list[ContractIn] = Field(..., max_length=200)


def _admin(request: HttpRequest) -> None:
    me = actor(request)
    if not is_admin(me) or me.unit.organisation_id is not None:
        raise Forbidden("Client organisations are the provider's administrators' to see and add.")


@router.get("/clients", response={200: list[ClientOut], **errors(403)}, summary="List client organisations")
def list_clients(request: HttpRequest) -> list[ClientOut]:
    """The provider's client organisations with their units, contracts and serving teams
    (the provider's administrators)."""
    _admin(request)
    listed = organisations_visible_to(actor(request).user).filter(units__isnull=False).distinct().order_by("name")
    return [ClientOut.of(o) for o in listed]


@router.post("/clients", response={201: ClientOut, **errors(400, 403, 422)}, summary="Add a client organisation")
def create_client(request: HttpRequest, payload: ClientIn) -> Status:
    """Add a client with its front-office units, its people (accounts without a password: they
    sign in through the organisation's identity provider, or an administrator sets one), its
    holidays and its contracted services with their targets. A client without a contracted
    service, an unknown service, a taken slug: 422 naming the field, nothing created."""
    org = add_client(actor(request), NewClient(
        name=payload.name, slug=payload.slug, holiday_country=payload.holiday_country,
        holiday_subdivision=payload.holiday_subdivision, local_passwords=payload.local_passwords,
        units=[(u.name, u.slug) for u in payload.units],
        people=[NewPerson(**p.model_dump()) for p in payload.people],
        contracts=[NewContract(**c.model_dump()) for c in payload.contracts],
    ))
    return Status(201, ClientOut.of(org))


@router.get("/clients/{client_id}", response={200: ClientOut, **errors(403, 404, 422)}, summary="Get a client")
def get_client(request: HttpRequest, client_id: PathId) -> ClientOut:
    """One client organisation."""
    return ClientOut.of(_client_of(request, client_id))


class EndContractIn(InSchema):
    ends_on: date = Field(..., description="The contract's last day: today or later, not before it starts.")


def _client_of(request: HttpRequest, client_id: int) -> Organisation:
    _admin(request)
    org = organisations_visible_to(actor(request).user).filter(pk=client_id).first()
    if org is None:
        raise NotFound(f"There is no client {client_id}; GET /api/clients lists them.")
    return org


@router.post("/clients/{client_id}/contracts", response={201: ClientOut, **errors(400, 403, 404, 422)},
             summary="Contract another service for a client")
def create_client_contract(request: HttpRequest, client_id: PathId, payload: ContractIn) -> Status:
    """Contract one more service of the catalogue for a client, from `starts_on` (default today)
    until `ends_on` or open-ended, optionally with the client's own targets. A service not in the
    catalogue, a contract overlapping one for the same service, days the wrong way round, or
    targets where the client has its own already: 422 naming the field, nothing saved. Answers
    the client with its contracts."""
    org = _client_of(request, client_id)
    add_contract(actor(request), org, NewContract(**payload.model_dump()))
    return Status(201, ClientOut.of(org))


@router.post("/clients/{client_id}/contracts/{contract_id}/end",
             response={200: ClientOut, **errors(400, 403, 404, 422)}, summary="End a client's contract")
def end_client_contract(
    request: HttpRequest, client_id: PathId, contract_id: PathId, payload: EndContractIn
) -> ClientOut:
    """End a contract on its last day (today or later): from the day after, the client's people
    no longer see or ask for the service; their requests already made go on. A day in the past,
    before the contract starts, or reaching into a later contract for the same service: 422."""
    org = _client_of(request, client_id)
    contract = Contract.objects.filter(pk=contract_id, organisation=org).first()
    if contract is None:
        raise NotFound(f"{org.name} has no contract {contract_id}; GET /api/clients/{client_id} lists them.")
    end_contract(actor(request), contract, payload.ends_on)
    return ClientOut.of(org)
