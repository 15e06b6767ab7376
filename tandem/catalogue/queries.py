"""Reads of the catalogue."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tandem.catalogue.models import Contract, Service
from tandem.org.models import Person, Role
from tandem.org.queries import AnyUser, is_admin, leads_unit, person_of, sees_everything


def services_visible_to(user: AnyUser | None) -> QuerySet[Service]:
    """Every member of staff may browse the published catalogue; leads and admins also see
    their own inactive services so that they can fix and republish them."""
    person = person_of(user)
    if person is None:
        return Service.objects.none()
    qs = Service.objects.select_related("unit", "owner__user")
    organisation_id = person.unit.organisation_id
    if organisation_id is not None:
        # A client's people see the provider's catalogue only as far as their organisation
        # has contracted it (docs/organisations.md).
        return qs.filter(active=True).filter(contracted_by(organisation_id))
    if is_admin(person):
        return qs
    return qs.filter(Q(active=True) | Q(unit_id=person.unit_id))


def contracted_by(organisation_id: int, today: date | None = None) -> Exists:
    """A filter: services the organisation has a contract for that is in force ``today``."""
    return Exists(
        Contract.objects.current(today).filter(organisation_id=organisation_id, service_id=OuterRef("pk"))
    )


def is_contracted(organisation_id: int | None, service_id: int, today: date | None = None) -> bool:
    """May a person of ``organisation_id`` ask ``service_id``? The provider's own people
    (``None``) always may; a client's only for a service it has contracted, in force today."""
    if organisation_id is None:
        return True
    return Contract.objects.current(today).filter(organisation_id=organisation_id, service_id=service_id).exists()


def contracts_of(organisation_id: int) -> QuerySet[Contract]:
    return Contract.objects.filter(organisation_id=organisation_id).select_related("service__unit")


def can_edit_service(user: AnyUser | None, service: Service) -> bool:
    return leads_unit(person_of(user), service.unit_id)


#: Reviews falling due within this many days are listed as "due soon".
REVIEW_SOON_DAYS = 60


def reads_reviews(person: Person | None) -> bool:
    """Owners (of their services), leads (their unit's), executives and administrators (all)."""
    return person is not None and (
        sees_everything(person) or person.role == Role.LEAD or Service.objects.filter(owner=person).exists()
    )


def services_reviewed_by(user: AnyUser | None) -> QuerySet[Service]:
    person = person_of(user)
    if person is None:
        return Service.objects.none()
    qs = Service.objects.select_related("unit", "owner__user")
    if sees_everything(person):
        return qs
    mine = Q(owner=person)
    if person.role == Role.LEAD:
        mine |= Q(unit_id=person.unit_id)
    return qs.filter(mine)


def reviews_due(user: AnyUser | None, *, today: date | None = None) -> list[dict]:
    """Services whose process review is overdue or due within ``REVIEW_SOON_DAYS``, and those
    whose owner's account is deactivated ("owner missing"), soonest first."""
    today = today or timezone.localdate()
    out = []
    for service in services_reviewed_by(user).filter(active=True):
        due = service.review_due_on
        missing = not service.owner.user.is_active
        if missing or due <= today + timedelta(days=REVIEW_SOON_DAYS):
            out.append({"service": service, "due_on": due, "overdue": due < today, "owner_missing": missing,
                        "days": (due - today).days})
    return sorted(out, key=lambda r: (not r["owner_missing"], r["due_on"]))


def owner_missing(user: AnyUser | None) -> QuerySet[Service]:
    return services_reviewed_by(user).filter(active=True, owner__user__is_active=False)


def services_editable_by(user: AnyUser | None) -> QuerySet[Service]:
    """The services this user may change: every one for an administrator, the unit's own for a
    lead, none otherwise (the management pages' service editor lists these)."""
    person = person_of(user)
    qs = Service.objects.select_related("unit", "owner__user")
    if is_admin(person):
        return qs
    if person is not None and person.role == Role.LEAD:
        return qs.filter(unit_id=person.unit_id)
    return qs.none()
