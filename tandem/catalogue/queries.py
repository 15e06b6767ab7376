"""Reads of the catalogue."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tandem.catalogue.models import Service
from tandem.org.models import Role
from tandem.org.queries import AnyUser, is_admin, leads_unit, person_of


def services_visible_to(user: AnyUser | None) -> QuerySet[Service]:
    """Every member of staff may browse the published catalogue; leads and admins also see
    their own inactive services so that they can fix and republish them."""
    person = person_of(user)
    if person is None:
        return Service.objects.none()
    qs = Service.objects.select_related("unit", "owner__user")
    if is_admin(person):
        return qs
    return qs.filter(Q(active=True) | Q(unit_id=person.unit_id))


def can_edit_service(user: AnyUser | None, service: Service) -> bool:
    return leads_unit(person_of(user), service.unit_id)


# A service whose entry nobody has confirmed for this long is flagged for review.
REVIEW_AFTER_DAYS = 365


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
