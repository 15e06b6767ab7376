"""Reads of the catalogue."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tandem.catalogue.models import Service
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
