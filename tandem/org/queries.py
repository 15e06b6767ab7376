"""Who someone is and what they may do, decided in one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from tandem.org.models import Loan, Person, Role, Side, Unit

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
    """Admins and executives read every request (executives without confidential payloads)."""
    return person is not None and (is_admin(person) or person.role == Role.EXECUTIVE)


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
    """Staff see each other's names and units: a directory is not a secret."""
    if person_of(user) is None:
        return Person.objects.none()
    return Person.objects.select_related("user", "unit")


def units_visible_to(user: AnyUser | None) -> QuerySet[Unit]:
    if person_of(user) is None:
        return Unit.objects.none()
    return Unit.objects.all()


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
    if is_admin(person):
        return qs
    if person is not None and person.role == Role.LEAD:
        return qs.filter(unit_id=person.unit_id)
    return qs.none()


def units_led_by(user: AnyUser | None) -> QuerySet[Unit]:
    """Units whose catalogue and people this user manages."""
    person = person_of(user)
    if is_admin(person):
        return Unit.objects.all()
    if person is not None and person.role == Role.LEAD:
        return Unit.objects.filter(pk=person.unit_id)
    return Unit.objects.none()


# --- client organisations (docs/organisations.md) ----------------------------------------------


def organisation_id_of(person: Person | None) -> int | None:
    """The client organisation a person belongs to; None for the provider's own staff."""
    return None if person is None else person.unit.organisation_id


def client_unit_ids(organisation_id: int) -> set[int]:
    """The units of a client organisation: its rows are those of requests from these units."""
    return set(Unit.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True))
