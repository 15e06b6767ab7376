"""Who someone is and what they may do, decided in one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from tandem.org.models import Person, Role, Side, Unit

AnyUser = AbstractBaseUser | AnonymousUser


def person_of(user: AnyUser | None) -> Person | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.person  # type: ignore[union-attr]
    except Person.DoesNotExist:
        return None


def is_admin(person: Person | None) -> bool:
    return person is not None and (person.role == Role.ADMIN or person.user.is_superuser)


def sees_everything(person: Person | None) -> bool:
    """Admins and executives read every request (executives without confidential payloads)."""
    return person is not None and (is_admin(person) or person.role == Role.EXECUTIVE)


def work_unit_ids(person: Person | None) -> set[int]:
    """The back-office units whose queues this person works.

    Today that is the person's home unit when it is a back-office unit; lending adds units here.
    """
    if person is None:
        return set()
    return {person.unit_id} if person.unit.side == Side.BACK else set()


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
