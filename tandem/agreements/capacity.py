"""A unit's capacity: the working time of the people who work its queue, day by day.

Its own active people and those lent to it by an agreed loan, each on their own calendar (the
unit's hours within their working pattern, minus their absences), counting the share of their
working time they give to requests (``Person.request_share``; the rest goes on routine duties).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone

from tandem.agreements.queries import calendar_for_person
from tandem.engines.worktime import to_epoch
from tandem.org.models import Loan, Person, Side, Unit
from tandem.refusal import Invalid


def members(unit: Unit, first: date, last: date) -> list[Person]:
    """The unit's own people, and those lent to it at some time in ``[first, last]`` (the loan's
    window is not cut out of their calendar: a short loan counts its person for whole days)."""
    if unit.side != Side.BACK:
        return []
    lo = datetime.combine(first, datetime.min.time(), tzinfo=timezone.get_default_timezone())
    hi = datetime.combine(last, datetime.max.time(), tzinfo=timezone.get_default_timezone())
    lent = Loan.objects.agreed().filter(unit=unit, starts_at__lt=hi, ends_at__gt=lo).values("person_id")
    people = Person.objects.filter(Q(unit=unit) | Q(pk__in=lent), user__is_active=True)
    return list(people.select_related("unit", "user"))


def capacity_by_day(
    unit: Unit, first: date, last: date, *, until: datetime | None = None
) -> dict[date, tuple[float, int]]:
    """Day → (working seconds given to requests, people working) of the unit, for every day of
    ``[first, last]``: each person's working time times their ``request_share`` (up to ``until``
    only, when given: the capacity so far)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    seconds = np.zeros(len(days))
    people = np.zeros(len(days), dtype=np.int64)
    for person in members(unit, first, last):
        try:
            cal = calendar_for_person(person)
        except Invalid:
            continue  # no working time at all: contributes nothing
        starts = [to_epoch(datetime.combine(d, datetime.min.time(), tzinfo=cal.zone)) for d in days]
        ends = [s + 86400 for s in starts]
        if until is not None:  # "so far": nothing after ``until`` counts
            ends = [max(a, min(b, to_epoch(until))) for a, b in zip(starts, ends, strict=True)]
        worked = cal.between_many(starts, ends)
        seconds += worked * person.request_share
        people += worked > 0
    return {d: (float(s), int(p)) for d, s, p in zip(days, seconds, people, strict=True)}
