"""The pulse results' facts per back-office unit and month: who asked something of the unit,
and how many of its requests resolved in the month were late or kept their promise.

Read from the requests, that is a pass over every request of the window, which at a million
requests is most of a second. A month no longer changes once it has ended and the requests
resolved in it can no longer be reopened (``TANDEM_REOPEN_WINDOW_DAYS`` after it ends:
submissions and resolutions are dated when they happen, and a resolved request can only move
on to closed or, within the window, reopened). So the worker summarises each settled month
once (``summarise``: a ``PulseMonth`` row and a ``PulseAsker`` row per person who asked), and
``read`` takes the settled months from those rows and the others (the month under way, the
one before during the reopen window, any month not summarised yet) from the requests. The
figures are the same either way; only their cost differs. Importing history into a unit's
past forgets its rows (``forget``, on ``history.imported``), and the worker summarises them
again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tandem.org.models import Side, Unit
from tandem.promises.models import Promise
from tandem.voice.models import PulseAsker, PulseMonth
from tandem.work.models import ServiceRequest, Status


@dataclass
class Month:
    askers: set[int] = field(default_factory=set)  # people (ids) who asked something of the unit
    resolved: int = 0  # requests resolved in the month, not cancelled
    late: int = 0  # of those, resolved after the agreement's resolve-by, else the published turnaround
    promised: int = 0  # of those, with a promise
    kept: int = 0  # of those, resolved by the time promised


def month_of(d: date) -> date:
    return date(d.year, d.month, 1)


def following(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_from(first: date, last: date) -> list[date]:
    """The months from ``first``'s to ``last``'s, both included."""
    out, month = [], month_of(first)
    while month <= last:
        out.append(month)
        month = following(month)
    return out


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=timezone.get_default_timezone())


def unsettled_from(now: datetime | None = None) -> date:
    """The first month that may still change: the month under way, or, while the requests
    resolved in the month before can still be reopened, that one."""
    now = now or timezone.now()
    margin = now - timedelta(days=int(settings.TANDEM_REOPEN_WINDOW_DAYS) + 1)
    return month_of(margin.astimezone(timezone.get_default_timezone()).date())


def read(unit_ids: list[int], months: list[date], now: datetime | None = None) -> dict[tuple[int, date], Month]:
    """(unit, month) → its facts, for every unit and month given: the settled months that are
    summarised from their rows, the others from the requests."""
    if not unit_ids or not months:
        return {}
    settled = [m for m in months if m < unsettled_from(now)]
    out: dict[tuple[int, date], Month] = {}
    for row in PulseMonth.objects.filter(unit_id__in=unit_ids, month__in=settled):
        out[(row.unit_id, row.month)] = Month(set(), row.resolved, row.late, row.promised, row.kept)
    if out:
        askers = PulseAsker.objects.filter(unit_id__in=unit_ids, month__in=settled)
        for unit_id, month, requester in askers.values_list("unit_id", "month", "requester_id").order_by():
            if (unit_id, month) in out:
                out[(unit_id, month)].askers.add(requester)
    missing = [(u, m) for u in unit_ids for m in months if (u, m) not in out]
    # One read of the requests per run of consecutive months missing: months before the
    # history began (never summarised, and empty) cost nothing, instead of widening the read
    # of the month under way to the whole window.
    runs: list[list[date]] = []
    for month in sorted({m for _u, m in missing}):
        if runs and following(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    for run in runs:
        keys = [(u, m) for u, m in missing if run[0] <= m <= run[-1]]
        live = from_requests(sorted({u for u, _m in keys}), run[0], run[-1])
        out.update({key: live.get(key, Month()) for key in keys})
    return out


def from_requests(unit_ids: list[int], first: date, last: date) -> dict[tuple[int, date], Month]:
    """The facts of every unit and month from ``first`` to ``last``, read from the requests: one
    grouped query for the people who asked, one for lateness, one for promises."""
    months = months_from(first, last)
    bounds = [(_start(m), _start(following(m))) for m in months]
    lo, hi = bounds[0][0], bounds[-1][1]

    def month(field: str) -> Case:
        return Case(*[When(**{f"{field}__lt": end}, then=Value(i)) for i, (_lo, end) in enumerate(bounds)],
                    output_field=IntegerField())

    out: dict[tuple[int, date], Month] = {}

    def at(unit_id: int, i: int) -> Month:
        return out.setdefault((unit_id, months[i]), Month())

    # Listing the distinct (unit, month, requester) triples is a hash aggregate where
    # COUNT(DISTINCT) sorts.
    asked = ServiceRequest.objects.filter(unit_id__in=unit_ids, submitted_at__gte=lo, submitted_at__lt=hi)
    for unit_id, i, requester in (asked.annotate(m=month("submitted_at")).values_list("unit_id", "m", "requester_id")
                                  .distinct().order_by()):
        at(unit_id, i).askers.add(requester)
    resolved = (ServiceRequest.objects.filter(unit_id__in=unit_ids, resolved_at__gte=lo, resolved_at__lt=hi)
                .exclude(status=Status.CANCELLED))
    for r in (resolved.annotate(m=month("resolved_at")).values("unit_id", "m")
              .annotate(n=Count("pk"), late=Count("pk", filter=Q(resolved_at__gt=Coalesce("resolve_by", "due_at"))))
              .order_by()):
        cell = at(r["unit_id"], r["m"])
        cell.resolved, cell.late = r["n"], r["late"]
    promises = (Promise.objects.filter(unit_id__in=unit_ids, request__resolved_at__gte=lo, request__resolved_at__lt=hi)
                .exclude(request__status=Status.CANCELLED))
    for r in (promises.annotate(m=month("request__resolved_at")).values("unit_id", "m")
              .annotate(n=Count("pk"), kept=Count("pk", filter=Q(request__resolved_at__lte=F("promised_at"))))
              .order_by()):
        cell = at(r["unit_id"], r["m"])
        cell.promised, cell.kept = r["n"], r["kept"]
    return out


def summarise(now: datetime | None = None) -> int:
    """The worker's duty: summarise every settled month of every back-office unit not
    summarised yet, since the first request. Returns the months summarised."""
    first = ServiceRequest.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    if first is None:
        return 0
    unsettled = unsettled_from(now)
    months = [m for m in months_from(first.astimezone(timezone.get_default_timezone()).date(), unsettled)
              if m < unsettled]
    if not months or not _missing(months):
        return 0  # the usual round: a look, no write transaction (SQLite has one writer at a time)
    with transaction.atomic():
        # Holding the units makes ``forget`` wait for this summary (or this summary wait for
        # the import that forgets), so that nothing read before an import is kept after it.
        list(Unit.objects.select_for_update().filter(side=Side.BACK).values_list("pk", flat=True))
        missing = _missing(months)
        if not missing:
            return 0  # another worker summarised them meanwhile
        facts = from_requests(sorted({u for u, _m in missing}), min(m for _u, m in missing),
                              max(m for _u, m in missing))
        summaries = {key: facts.get(key, Month()) for key in missing}
        PulseMonth.objects.bulk_create([
            PulseMonth(unit_id=u, month=m, resolved=f.resolved, late=f.late, promised=f.promised, kept=f.kept)
            for (u, m), f in summaries.items()
        ])
        PulseAsker.objects.bulk_create(
            [PulseAsker(unit_id=u, month=m, requester_id=p) for (u, m), f in summaries.items() for p in f.askers],
            batch_size=5000,
        )
    return len(missing)


def _missing(months: list[date]) -> list[tuple[int, date]]:
    unit_ids = Unit.objects.filter(side=Side.BACK).order_by("pk").values_list("pk", flat=True)
    done = set(PulseMonth.objects.filter(month__gte=months[0]).values_list("unit_id", "month"))
    return [(u, m) for u in unit_ids for m in months if (u, m) not in done]


def forget(unit_id: int) -> None:
    """History was imported into the unit's past: its summaries are read from the requests
    again until the worker has summarised them anew."""
    list(Unit.objects.select_for_update().filter(pk=unit_id).values_list("pk", flat=True))
    PulseAsker.objects.filter(unit_id=unit_id).delete()
    PulseMonth.objects.filter(unit_id=unit_id).delete()
