"""Adding a client organisation (docs/organisations.md): one named action owning its transaction.

A client is an ``Organisation`` with its front-office units, its people, its holidays, and the
services of the provider's catalogue it has contracted, each with its own targets (an
``Agreement`` for the organisation). Everything is checked before anything is written; a
refusal names each field at fault (``contracts[1].service``) and nothing is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone

from tandem.agreements.models import DEFAULT_PAUSE_STATUSES, Agreement, check_terms
from tandem.catalogue.models import Contract, Service
from tandem.org.models import Organisation, Person, Role, Side, Unit
from tandem.org.queries import is_admin
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid

SLUG = re.compile(r"^[-a-z0-9]{1,60}$")
CLIENT_ROLES = (Role.MEMBER, Role.LEAD, Role.EXECUTIVE)


@dataclass
class NewPerson:
    username: str
    first_name: str
    last_name: str
    email: str
    unit: str  # the slug of one of the client's new units
    role: str = Role.MEMBER


@dataclass
class NewContract:
    service: str  # the service's slug
    starts_on: date | None = None
    ends_on: date | None = None
    first_response_minutes: int | None = None  # with resolution_minutes: the client's own targets
    resolution_minutes: int | None = None
    target_percent: float = 90.0


@dataclass
class NewClient:
    name: str
    slug: str
    units: list[tuple[str, str]]  # (name, slug) of each front-office unit
    contracts: list[NewContract]
    people: list[NewPerson] = field(default_factory=list)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    local_passwords: bool = True


def _check(client: NewClient, today: date) -> tuple[dict[str, list[str]], dict[str, Service]]:
    errors: dict[str, list[str]] = {}

    def say(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    name, slug = client.name.strip(), client.slug.strip()
    if not name or len(name) > 120:
        say("name", "Give the client's name (1 to 120 characters).")
    elif Organisation.objects.filter(name__iexact=name).exists():
        say("name", f"There is already an organisation called {name!r}.")
    if not SLUG.match(slug):
        say("slug", "A slug has 1 to 60 lower-case letters, digits and hyphens, e.g. north-agency.")
    elif Organisation.objects.filter(slug=slug).exists():
        say("slug", f"The slug {slug!r} is taken; choose another.")
    probe = Organisation(name=name or "-", slug=slug or "-", holiday_country=client.holiday_country.strip(),
                         holiday_subdivision=client.holiday_subdivision.strip())
    try:
        probe.clean()
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                say(key, message)
    client.holiday_country, client.holiday_subdivision = probe.holiday_country, probe.holiday_subdivision
    if not client.units:
        say("units", "Give at least one front-office unit for the client's people.")
    unit_slugs: set[str] = set()
    for i, (unit_name, unit_slug) in enumerate(client.units):
        if not unit_name.strip() or len(unit_name.strip()) > 120:
            say(f"units[{i}].name", "A unit's name has 1 to 120 characters.")
        if not SLUG.match(unit_slug):
            say(f"units[{i}].slug", f"{unit_slug!r}: lower-case letters, digits and hyphens only.")
        if unit_slug in unit_slugs:
            say(f"units[{i}].slug", f"The unit {unit_slug!r} is given twice.")
        unit_slugs.add(unit_slug)
    taken = Unit.objects.filter(slug__in=unit_slugs).values_list("slug", flat=True)
    taken_names = Unit.objects.filter(name__in=[n.strip() for n, _ in client.units]).values_list("name", flat=True)
    for i, (unit_name, unit_slug) in enumerate(client.units):
        if unit_slug in taken:
            say(f"units[{i}].slug", f"A unit {unit_slug!r} exists already; unit slugs are unique across clients.")
        if unit_name.strip() in taken_names:
            say(f"units[{i}].name", f"A unit called {unit_name.strip()!r} exists already.")
    if not client.contracts:
        say("contracts", "A client needs at least one contracted service: its people could ask for nothing.")
    services = _catalogue_services({c.service for c in client.contracts})
    seen: set[str] = set()
    for i, contract in enumerate(client.contracts):
        key = f"contracts[{i}]"
        if contract.service in seen:
            say(f"{key}.service", f"{contract.service!r} is contracted twice.")
        seen.add(contract.service)
        for k, messages in _contract_errors(contract, services, today).items():
            errors.setdefault(f"{key}.{k}", []).extend(messages)
    users = get_user_model().objects
    usernames = [p.username.strip() for p in client.people]
    known = set(users.filter(username__in=usernames).values_list("username", flat=True))
    for i, person in enumerate(client.people):
        key = f"people[{i}]"
        username = person.username.strip()
        if not re.match(r"^[\w.@+-]{1,150}$", username):
            say(f"{key}.username", f"{username!r}: letters, digits and @.+-_ only (1 to 150).")
        elif username in known or usernames.count(username) > 1:
            say(f"{key}.username", f"The username {username!r} is taken.")
        try:
            validate_email(person.email)
        except ValidationError:
            say(f"{key}.email", f"{person.email!r} is not an email address.")
        if not person.first_name.strip():
            say(f"{key}.first_name", "Give the person's first name.")
        if person.unit not in unit_slugs:
            say(f"{key}.unit", f"{person.unit!r} is not one of the client's units ({', '.join(sorted(unit_slugs))}).")
        if person.role not in CLIENT_ROLES:
            say(f"{key}.role", "A client's person is a member, a lead or an executive.")
    return errors, services


def _catalogue_services(slugs: set[str]) -> dict[str, Service]:
    """The published back-office services among ``slugs``: what a client may contract."""
    return {s.slug: s for s in Service.objects.filter(slug__in=slugs, active=True, unit__side=Side.BACK)}


def _contract_errors(contract: NewContract, services: dict[str, Service], today: date) -> dict[str, list[str]]:
    """What is wrong with one contract on its own (its service, its days, its targets), by field."""
    errors: dict[str, list[str]] = {}
    if contract.service not in services:
        errors["service"] = [f"{contract.service!r} is not a published service of the catalogue."]
    starts = contract.starts_on or today
    if contract.ends_on is not None and contract.ends_on < starts:
        errors["ends_on"] = ["A contract ends on or after the day it starts."]
    if (contract.first_response_minutes is None) != (contract.resolution_minutes is None):
        errors["resolution_minutes"] = ["Give both targets (first response and resolution), or neither."]
    elif contract.resolution_minutes is not None:
        try:
            check_terms(first_response_minutes=contract.first_response_minutes,
                        resolution_minutes=contract.resolution_minutes, target_percent=contract.target_percent,
                        pause_statuses=DEFAULT_PAUSE_STATUSES, channel="")
        except Invalid as refusal:
            for k, messages in refusal.errors.items():
                errors.setdefault(k, []).extend(messages)
    return errors


def _own_targets(org: Organisation, service: Service, contract: NewContract) -> Agreement:
    """The client's own agreement for a service, from a contract that gives its targets."""
    assert contract.resolution_minutes is not None
    return Agreement(
        service=service, requesting_organisation=org, name=f"{org.name}: {service.name}",
        first_response_minutes=contract.first_response_minutes or 0, resolution_minutes=contract.resolution_minutes,
        target_percent=contract.target_percent, pause_statuses=list(DEFAULT_PAUSE_STATUSES),
    )


def _require_provider_admin(actor: Person, what: str) -> None:
    if not is_admin(actor) or actor.unit.organisation_id is not None:
        raise Forbidden(f"Only the provider's administrators {what}.")


def add_client(actor: Person, client: NewClient, *, today: date | None = None) -> Organisation:
    """Add a client organisation with its units, people, holidays and contracts (provider
    administrators only). Refused whole, naming the fields at fault, when anything is wrong."""
    _require_provider_admin(actor, "add client organisations")
    today = today or timezone.localdate()
    errors, services = _check(client, today)
    if errors:
        first = next(iter(errors.items()))
        raise Invalid(f"The client was not added. {first[0]}: {first[1][0]}", errors=errors)
    with action_transaction():
        org = Organisation.objects.create(
            name=client.name.strip(), slug=client.slug.strip(), local_passwords=client.local_passwords,
            holiday_country=client.holiday_country, holiday_subdivision=client.holiday_subdivision,
        )
        units = Unit.objects.bulk_create(
            [Unit(organisation=org, name=n.strip(), slug=s, side=Side.FRONT) for n, s in client.units]
        )
        unit_of = {u.slug: u for u in units}
        if client.people:
            model = get_user_model()
            accounts = model.objects.bulk_create([
                model(username=p.username.strip(), first_name=p.first_name.strip(), last_name=p.last_name.strip(),
                      email=p.email.strip(), password="!")  # no password yet: see docs/organisations.md
                for p in client.people
            ])
            Person.objects.bulk_create([
                Person(user=user, unit=unit_of[p.unit], role=p.role)
                for user, p in zip(accounts, client.people, strict=True)
            ])
        Contract.objects.bulk_create([
            Contract(organisation=org, service=services[c.service], starts_on=c.starts_on or today, ends_on=c.ends_on)
            for c in client.contracts
        ])
        Agreement.objects.bulk_create([
            _own_targets(org, services[c.service], c) for c in client.contracts if c.resolution_minutes is not None
        ])
    return org


def add_contract(actor: Person, org: Organisation, contract: NewContract, *, today: date | None = None) -> Contract:
    """Contract one more service for a client, from a day (default today) until a day or
    open-ended, optionally with the client's own targets. Refused, naming the field, when the
    service is not in the catalogue, a contract for it overlaps this one, the days are the wrong
    way round, or it has its own targets already (change them on its agreement); nothing saved."""
    _require_provider_admin(actor, "change a client's contracts")
    today = today or timezone.localdate()
    services = _catalogue_services({contract.service})
    errors = _contract_errors(contract, services, today)
    starts = contract.starts_on or today
    service = services.get(contract.service)
    if service is not None and not errors:
        overlapping = Contract.objects.filter(organisation=org, service=service).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=starts))
        if contract.ends_on is not None:
            overlapping = overlapping.filter(starts_on__lte=contract.ends_on)
        clash = overlapping.order_by("starts_on").first()
        if clash is not None:
            until = f"until {clash.ends_on:%-d %b %Y}" if clash.ends_on else "open-ended"
            errors["service"] = [f"{org.name} has {service.name} contracted already from {clash.starts_on:%-d %b %Y} "
                                 f"({until}): end that contract first, or start this one after it."]
        elif contract.resolution_minutes is not None and Agreement.objects.filter(
                service=service, requesting_organisation=org, active=True).exists():
            errors["resolution_minutes"] = [f"{org.name} has its own targets for {service.name} already: change them "
                                            "on that agreement, or leave the targets blank."]
    if errors:
        first = next(iter(errors.items()))
        raise Invalid(f"The contract was not added. {first[0]}: {first[1][0]}", errors=errors)
    assert service is not None
    with action_transaction():
        added = Contract.objects.create(organisation=org, service=service, starts_on=starts, ends_on=contract.ends_on)
        if contract.resolution_minutes is not None:
            _own_targets(org, service, contract).save()
    return added


def end_contract(actor: Person, contract: Contract, ends_on: date, *, today: date | None = None) -> Contract:
    """End a client's contract on a day (its last): from the next day its people no longer see
    or ask for the service; their requests already made go on. Not before today (what was
    in force stays on the record) and not before the contract starts."""
    _require_provider_admin(actor, "change a client's contracts")
    today = today or timezone.localdate()
    if contract.ends_on is not None and contract.ends_on < today:
        raise Invalid(f"This contract ended on {contract.ends_on:%-d %b %Y}; add a new one instead.",
                      errors={"ends_on": ["It has ended already."]})
    if ends_on < today:
        raise Invalid(f"A contract ends today or later ({today:%-d %b %Y}), not in the past.",
                      errors={"ends_on": [f"Choose {today:%-d %b %Y} or later."]})
    if ends_on < contract.starts_on:
        raise Invalid(f"A contract ends on or after the day it starts ({contract.starts_on:%-d %b %Y}).",
                      errors={"ends_on": [f"Choose {contract.starts_on:%-d %b %Y} or later."]})
    later = Contract.objects.filter(organisation_id=contract.organisation_id, service_id=contract.service_id,
                                    starts_on__gt=contract.starts_on, starts_on__lte=ends_on).exclude(pk=contract.pk)
    if (clash := later.order_by("starts_on").first()) is not None:
        raise Invalid(f"Another contract for this service starts on {clash.starts_on:%-d %b %Y}; end this one before.",
                      errors={"ends_on": [f"Choose a day before {clash.starts_on:%-d %b %Y}."]})
    with action_transaction():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        locked.ends_on = ends_on
        locked.save(update_fields=["ends_on"])
    return locked
