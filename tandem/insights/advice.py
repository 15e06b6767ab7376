"""How often each team's advice is followed: of the advice its people gave on requests in the
period, how much the requesters accepted, declined (with their reasons on the record) or left
undecided. Read from the comments themselves, for whoever may see the evidence."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from tandem.org.queries import AnyUser, person_of, sees_everything, work_unit_ids
from tandem.work.models import Comment


def advice_followed(user: AnyUser | None, weeks: list[date], *, unit: Any = None, requesting_unit: Any = None,
                    service: Any = None, channel: str = "",
                    requesting_units: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Per providing unit: advice given in the weeks shown, accepted, declined, and the share
    followed: accepted of the advice decided either way (None when none was decided yet), so
    advice still waiting on its requester neither lowers nor raises it. Confidential services
    count only for their unit, executives and administrators (the evidence's rule)."""
    person = person_of(user)
    if person is None or not weeks:
        return []
    tz = timezone.get_default_timezone()
    start = datetime.combine(weeks[0], time.min, tzinfo=tz)
    end = datetime.combine(weeks[-1] + timedelta(days=7), time.min, tzinfo=tz)
    qs = Comment.objects.filter(is_advice=True, created_at__gte=start, created_at__lt=end)
    if not sees_everything(person):
        qs = qs.filter(Q(request__service__confidential=False) | Q(request__unit_id__in=work_unit_ids(person)))
    if unit is not None:
        qs = qs.filter(request__unit=unit)
    if requesting_unit is not None:
        qs = qs.filter(request__requesting_unit=requesting_unit)
    if requesting_units is not None:
        qs = qs.filter(request__requesting_unit_id__in=requesting_units)
    if service is not None:
        qs = qs.filter(request__service=service)
    if channel:
        qs = qs.filter(request__channel=channel)
    rows = (qs.values("request__unit__name")
            .annotate(given=Count("pk"), accepted=Count("pk", filter=Q(advice_outcome="accepted")),
                      declined=Count("pk", filter=Q(advice_outcome="declined")))
            .order_by("request__unit__name"))
    return [{"unit": r["request__unit__name"], "given": r["given"], "accepted": r["accepted"],
             "declined": r["declined"], "undecided": r["given"] - r["accepted"] - r["declined"],
             "followed": r["accepted"] / decided if (decided := r["accepted"] + r["declined"]) else None}
            for r in rows]
