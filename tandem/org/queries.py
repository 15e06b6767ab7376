"""Who someone is and what they may do, decided in one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from tandem.org.models import Loan, Organisation, Person, Role, Side, Unit

AnyUser = AbstractBaseUser | AnonymousUser


def person_of(user: AnyUser | None) -> Person | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.person  # type: ignore[union-attr,attr-defined]
    except Person.DoesNotExist:
        return None


def is_admin(person: Person | None) -> bool:
    return person is not None and (person.role == Role.ADMIN or person.user.is_superuser)


def sees_everything(person: Person | None) -> bool:
    """Admins and executives read every request (executives without confidential payloads):
    every request *of their organisation's world*, a client's within the client's units
    (``requests_visible_to`` scopes before it asks this)."""
    return person is not None and (is_admin(person) or person.role == Role.EXECUTIVE)


# --- client organisations: who owns what (docs/organisations.md) --------------------------------


def organisation_id_of(person: Person | None) -> int | None:
    """The client organisation a person belongs to: their unit's; None for the provider's staff
    (the organisation running Tandem) and for nobody."""
    return None if person is None else person.unit.organisation_id


def is_client(person: Person | None) -> bool:
    """A client organisation's person: sees only their organisation's world."""
    return organisation_id_of(person) is not None


def provider_admin(person: Person | None) -> bool:
    """An administrator of the organisation running Tandem: every client's world is theirs."""
    return is_admin(person) and not is_client(person)


def client_unit_ids(organisation_id: int) -> set[int]:
    """The units of a client organisation: its requests are the requests made from them (a
    request belongs to its requesting unit's organisation; no column of its own)."""
    return set(Unit.objects.filter(organisation_id=organisation_id).order_by().values_list("pk", flat=True))


def provider_unit_ids() -> set[int]:
    """The units of the organisation running Tandem (its requests are no client's)."""
    return set(Unit.objects.filter(organisation__isnull=True).order_by().values_list("pk", flat=True))


def organisations_visible_to(user: AnyUser | None) -> QuerySet[Organisation]:
    """Every client for the provider's staff; their own organisation for a client's person."""
    person = person_of(user)
    if person is None:
        return Organisation.objects.none()
    organisation_id = organisation_id_of(person)
    qs = Organisation.objects.order_by("name")
    return qs if organisation_id is None else qs.filter(pk=organisation_id)


def shared_unit_ids() -> set[int]:
    """The provider's back-office units, which serve the clients: every client sees their names
    and the people who work them. (Until contracted services say which teams serve which client,
    every back-office team of the provider counts as serving every client.)"""
    return set(Unit.objects.filter(organisation__isnull=True, side=Side.BACK).order_by().values_list("pk", flat=True))


def units_in_world_of(person: Person | None) -> set[int] | None:
    """The units a person's world holds: None (no limit) for the provider's staff; for a
    client's person, their organisation's units and the provider's back-office teams."""
    organisation_id = organisation_id_of(person)
    if organisation_id is None:
        return None
    return client_unit_ids(organisation_id) | shared_unit_ids()


def work_unit_ids(person: Person | None) -> set[int]:
    """The back-office units whose queues this person works.

    The person's home unit when it is a back-office unit; for a front-office person, the units
    borrowing them now by a loan both sides agreed (one query).
    """
    if person is None:
        return set()
    if person.unit.side == Side.BACK:
        return {person.unit_id}
    loans = Loan.objects.active_at(timezone.now()).filter(person_id=person.pk).order_by()
    return set(loans.values_list("unit_id", flat=True))


def leads_unit(person: Person | None, unit_id: int) -> bool:
    if person is None:
        return False
    return is_admin(person) or (person.role == Role.LEAD and person.unit_id == unit_id)


def people_visible_to(user: AnyUser | None) -> QuerySet[Person]:
    """Staff see each other's names and units: a directory is not a secret within an
    organisation's world. A client's people see their organisation's people and the provider's
    back-office teams, never another client's."""
    person = person_of(user)
    if person is None:
        return Person.objects.none()
    qs = Person.objects.select_related("user", "unit")
    world = units_in_world_of(person)
    return qs if world is None else qs.filter(unit_id__in=world)


def units_visible_to(user: AnyUser | None) -> QuerySet[Unit]:
    """Every unit for the provider's staff; a client's units and the provider's back-office
    teams for a client's people."""
    person = person_of(user)
    if person is None:
        return Unit.objects.none()
    world = units_in_world_of(person)
    return Unit.objects.all() if world is None else Unit.objects.filter(pk__in=world)


def unit_members(unit_id: int) -> QuerySet[Person]:
    return Person.objects.filter(unit_id=unit_id, user__is_active=True).select_related("user")


# --- management: who may change the organisation ------------------------------------------------


def can_use_management(person: Person | None) -> bool:
    """The management pages are for administrators and team leads."""
    return is_admin(person) or (person is not None and person.role == Role.LEAD)


def can_manage_organisation(person: Person | None) -> bool:
    """Units, skills and people's accounts (unit, role, sign-in) are for administrators."""
    return is_admin(person)


def can_manage_person(person: Person | None, target: Person) -> bool:
    """Skills, working pattern and absences: an administrator, or the lead of the person's unit."""
    return leads_unit(person, target.unit_id)


def can_edit_catalogue(person: Person | None, unit_id: int) -> bool:
    """A unit's services are edited by its lead and by administrators."""
    return leads_unit(person, unit_id)


def people_managed_by(user: AnyUser | None) -> QuerySet[Person]:
    """The people whose schedule and skills this user keeps: everyone for an administrator,
    the unit's people for a lead, nobody otherwise."""
    person = person_of(user)
    qs = Person.objects.select_related("user", "unit")
    organisation_id = organisation_id_of(person)
    if is_admin(person) and organisation_id is not None:
        return qs.filter(unit_id__in=client_unit_ids(organisation_id))
    if is_admin(person):
        return qs
    if person is not None and person.role == Role.LEAD:
        return qs.filter(unit_id=person.unit_id)
    return qs.none()


def units_led_by(user: AnyUser | None) -> QuerySet[Unit]:
    """Units whose catalogue and people this user manages."""
    person = person_of(user)
    organisation_id = organisation_id_of(person)
    if is_admin(person) and organisation_id is not None:
        return Unit.objects.filter(organisation_id=organisation_id)
    if is_admin(person):
        return Unit.objects.all()
    if person is not None and person.role == Role.LEAD:
        return Unit.objects.filter(pk=person.unit_id)
    return Unit.objects.none()
