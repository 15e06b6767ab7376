"""Reading the pulse: which questions are open for a person, and the results per unit and
period, never below the anonymity threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from tandem.engines.suppression import Cell, protect
from tandem.insights.conformance import share_following
from tandem.insights.models import WeeklyFlow
from tandem.org.models import Person, Role, Side, Unit
from tandem.org.queries import AnyUser, is_admin, leads_unit, person_of, sees_everything, work_unit_ids
from tandem.promises.models import Promise
from tandem.voice import months
from tandem.voice.models import (
    FRUSTRATED,
    AskRating,
    Gift,
    Kudos,
    PulseAnswer,
    PulseDismissal,
    RequestRating,
)
from tandem.work.models import ServiceRequest, Status
from tandem.work.queries import requests_with_payload_visible_to


def min_answers() -> int:
    return max(3, int(settings.TANDEM_PULSE_MIN_ANSWERS))


def _months() -> int:
    return 3 if settings.TANDEM_PULSE_PERIOD == "quarter" else 1


def period_start(d: date) -> date:
    months = _months()
    return date(d.year, ((d.month - 1) // months) * months + 1, 1)


def next_period(start: date) -> date:
    month = start.month - 1 + _months()
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_period(start: date) -> date:
    return period_start(start - timedelta(days=1))


def closes_on(start: date) -> date:
    """The last day an answer about the period is taken: a grace after it ends, so that people
    can answer about last month in the first days of this one."""
    return next_period(start) + timedelta(days=int(settings.TANDEM_PULSE_GRACE_DAYS) - 1)


def period_name(start: date) -> str:
    if _months() == 3:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return start.strftime("%B %Y")


def today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(timezone.get_default_timezone()).date()


def open_periods(now: datetime | None = None) -> list[date]:
    """The periods answers are taken for today: the current one and, during the grace days, the
    previous one."""
    day = today(now)
    current = period_start(day)
    before = previous_period(current)
    return [before, current] if day <= closes_on(before) else [current]


def _bounds(start: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    end = next_period(start)
    return (datetime(start.year, start.month, 1, tzinfo=zone), datetime(end.year, end.month, 1, tzinfo=zone))


def asked_of(person: Person, start: date) -> QuerySet[Unit]:
    """The back-office units a front-office person asked something of in the period."""
    if person.unit.side != Side.FRONT:
        return Unit.objects.none()
    lo, hi = _bounds(start)
    unit_ids = ServiceRequest.objects.filter(requester=person, submitted_at__gte=lo, submitted_at__lt=hi).values(
        "unit_id"
    )
    return Unit.objects.filter(pk__in=unit_ids).order_by("name")


@dataclass(frozen=True)
class Question:
    unit: Unit
    period: date
    answered: int | None  # the person's own answer, when they gave one (they may change it)

    @property
    def period_name(self) -> str:
        return period_name(self.period)

    @property
    def text(self) -> str:
        when = "this quarter" if _months() == 3 else "this month"
        if self.period != period_start(today()):
            when = f"in {period_name(self.period)}"
        return f"How often were you frustrated by {self.unit.name}'s performance {when}?"


def questions_for(person: Person | None, now: datetime | None = None, *, pending_only: bool = True) -> list[Question]:
    """The questions the banner asks: units asked of in an open period, not answered (unless
    ``pending_only`` is False) and not dismissed."""
    if person is None:
        return []
    out = []
    for start in open_periods(now):
        answers = dict(
            PulseAnswer.objects.filter(person=person, period=start).values_list("unit_id", "answer")
        )
        dismissed = set(PulseDismissal.objects.filter(person=person, period=start).values_list("unit_id", flat=True))
        for unit in asked_of(person, start):
            if pending_only and (unit.pk in answers or unit.pk in dismissed):
                continue
            out.append(Question(unit, start, answers.get(unit.pk)))
    return out


# --- results ------------------------------------------------------------------------------------


def reads_comments(person: Person | None, unit_id: int) -> bool:
    """Comments (unattributed) are for the unit's lead and administrators."""
    return leads_unit(person, unit_id)


def reads_results(person: Person | None) -> bool:
    """Every member of staff reads the figures (both sides see how the relationship feels);
    they exist only where enough people answered."""
    return person is not None


def results(
    user: AnyUser | None, *, unit: Unit | None = None, requesting_unit: Unit | None = None, periods: int = 6,
    now: datetime | None = None, facts: bool = True,
) -> dict[str, Any]:
    """Per back-office unit and period: answers, people asked, response rate, frustration index
    (share answering Often or Always) and the same period's evidence, for all answers or those
    of one requesting unit. A cell is withheld (``shown`` False, no figures) when it has fewer
    than ``min_answers()`` answers, and when showing it would let the others be worked out by
    subtraction (``tandem.engines.suppression``): the decision is taken on the unit's whole
    table of requesting units, whichever cell is asked for, so that every view agrees.
    ``facts`` False leaves out the people asked, the response rate and the evidence (the
    executive page reads only the frustration index; they cost a look at the requests)."""
    person = person_of(user)
    if not reads_results(person):
        return {"periods": [], "units": []}
    last = period_start(today(now))
    starts = [last]
    for _ in range(periods - 1):
        starts.insert(0, previous_period(starts[0]))
    answers = PulseAnswer.objects.filter(period__in=starts)
    units = Unit.objects.filter(side=Side.BACK).order_by("name")
    if unit is not None:
        answers, units = answers.filter(unit=unit), units.filter(pk=unit.pk)
    threshold = min_answers()
    unit_list = list(units)
    unit_ids = [u.pk for u in unit_list]
    fronts = list(Unit.objects.filter(side=Side.FRONT).order_by("pk").values_list("pk", flat=True))
    tables = _answer_tables(answers)
    # The people asked bound each requesting unit's answers: the suppression needs them to
    # pick its cells whenever a requesting unit's cell is published.
    by_period = _period_months(unit_ids, starts, now) if facts or requesting_unit is not None else {}
    asked_by = _asked_counts(by_period) if facts or requesting_unit is not None else None
    evidence = _evidence_cells(unit_ids, starts, by_period) if facts else {}
    rows = []
    for u in unit_list:
        cells = []
        for start in starts:
            table = tables.get((u.pk, start), {})
            asked = None if asked_by is None else asked_by.get((u.pk, start), {})
            figures = _published(table, asked, fronts, requesting_unit, threshold)
            cell: dict[str, Any] = {"period": start, "name": period_name(start), "shown": figures is not None}
            if facts:
                people = asked or {}
                cell["asked"] = sum(people.values()) if requesting_unit is None else people.get(requesting_unit.pk, 0)
            if figures is not None:
                n, frustrated = figures
                cell.update(answers=n, frustration_index=frustrated / n)
                if facts:
                    cell.update(response_rate=n / cell["asked"] if cell["asked"] else None,
                                evidence=evidence[(u.pk, start)])
            cells.append(cell)
        comments: list[str] = []
        shown_periods = [cell["period"] for cell in cells if cell["shown"]]
        if shown_periods and reads_comments(person, u.pk):
            said = answers.filter(unit=u, period__in=shown_periods).exclude(comment="")
            if requesting_unit is not None:
                said = said.filter(person__unit=requesting_unit)
            comments = list(said.order_by("?").values_list("comment", flat=True)[:50])
        rows.append({"unit": u, "cells": cells, "comments": comments})
    # A period is complete once answers about it are no longer taken (its grace days are over):
    # until then its figures are "so far" and may still move.
    day = today(now)
    return {"periods": [{"start": s, "name": period_name(s), "complete": closes_on(s) < day} for s in starts],
            "units": rows, "threshold": threshold}


def _answer_tables(answers: QuerySet[PulseAnswer]) -> dict[tuple[int, date], dict[int, tuple[int, int]]]:
    """(unit, period) → the answerers' unit → (answers, answers Often or Always), in one
    grouped query."""
    tables: dict[tuple[int, date], dict[int, tuple[int, int]]] = {}
    grouped = answers.values("unit_id", "period", "person__unit_id").annotate(
        n=Count("pk"), frustrated=Count("pk", filter=Q(answer__in=FRUSTRATED))
    ).order_by()
    for r in grouped:
        tables.setdefault((r["unit_id"], r["period"]), {})[r["person__unit_id"]] = (r["n"], r["frustrated"])
    return tables


def _published(table: dict[int, tuple[int, int]], asked: dict[int, int] | None, fronts: list[int],
               requesting_unit: Unit | None, threshold: int) -> tuple[int, int] | None:
    """The (answers, frustrated) a view may show of one unit's period, or None when withheld.
    The table's cells are the front-office units; the answers of people no longer in one (they
    moved to the back office since) are in the total only, a cell never shown on its own."""
    front_set = set(fronts)
    moved = [figures for unit_id, figures in table.items() if unit_id not in front_set]
    cells = [Cell(table.get(f, (0, 0))[0], None if asked is None else asked.get(f, 0)) for f in fronts]
    cells.append(Cell(sum(n for n, _f in moved), hidden=True))
    decision = protect(cells, threshold)
    if requesting_unit is None:
        total = (sum(n for n, _f in table.values()), sum(f for _n, f in table.values()))
        return total if decision.total else None
    if requesting_unit.pk not in front_set or not decision.shown[fronts.index(requesting_unit.pk)]:
        return None
    return table[requesting_unit.pk]


def _period_months(unit_ids: list[int], starts: list[date], now: datetime | None
                   ) -> dict[tuple[int, date], list[months.Month]]:
    """(unit, period) → the facts of each of its months (``tandem.voice.months``: summary rows
    for the settled months, the requests for the others)."""
    if not unit_ids or not starts:
        return {}
    def of(start: date) -> list[date]:
        return months.months_from(start, next_period(start) - timedelta(days=1))

    facts = months.read(unit_ids, [m for start in starts for m in of(start)], now)
    return {(u, start): [facts[(u, m)] for m in of(start)] for u in unit_ids for start in starts}


def _asked_counts(by_period: dict[tuple[int, date], list[months.Month]]) -> dict[tuple[int, date], dict[int, int]]:
    """(unit, period) → front-office unit → people of it who asked something of the unit in
    the period (counted in the unit they are in now)."""
    unit_of = dict(Person.objects.filter(unit__side=Side.FRONT).values_list("pk", "unit_id"))
    counts: dict[tuple[int, date], dict[int, int]] = {}
    for key, facts in by_period.items():
        cell = counts.setdefault(key, {})
        for requester in set().union(*(f.askers for f in facts)):
            if requester in unit_of:
                cell[unit_of[requester]] = cell.get(unit_of[requester], 0) + 1
    return counts


def late_rates(resolved: QuerySet[ServiceRequest]) -> dict[int, float]:
    """``late_rate`` per providing unit in one grouped query (units without resolved requests
    are absent)."""
    rows = resolved.exclude(status=Status.CANCELLED).values("unit_id").annotate(
        n=Count("pk"), late=Count("pk", filter=Q(resolved_at__gt=Coalesce("resolve_by", "due_at")))
    ).order_by()
    return {r["unit_id"]: r["late"] / r["n"] for r in rows if r["n"]}


def late_rate(resolved: QuerySet[ServiceRequest]) -> float | None:
    """Share of resolved requests resolved after the agreed time: the agreement's resolve-by
    where a clock ran, else the published turnaround."""
    counts = resolved.exclude(status=Status.CANCELLED).aggregate(
        n=Count("pk"), late=Count("pk", filter=Q(resolved_at__gt=Coalesce("resolve_by", "due_at")))
    )
    return counts["late"] / counts["n"] if counts["n"] else None


def _evidence_cells(unit_ids: list[int], starts: list[date], by_period: dict[tuple[int, date], list[months.Month]]
                    ) -> dict[tuple[int, date], dict[str, float | None]]:
    """``evidence_for`` of every unit and (consecutive) period: the processing time from the
    weekly rows, lateness and promises from the months' facts."""
    if not unit_ids or not starts:
        return {}
    bounds = [_bounds(start) for start in starts]
    hi = bounds[-1][1]
    weekly = list(
        WeeklyFlow.objects.filter(unit_id__in=unit_ids, week__gte=starts[0] - timedelta(days=6), week__lt=hi.date())
        .values("unit_id", "week").annotate(n=Sum("resolved"), seconds=Sum("total_seconds")).order_by()
    )
    out: dict[tuple[int, date], dict[str, float | None]] = {}
    for unit_id in unit_ids:
        for start, (_lo, end) in zip(starts, bounds, strict=True):
            first = start - timedelta(days=6)
            weeks = [w for w in weekly if w["unit_id"] == unit_id and first <= w["week"] < end.date()]
            n = sum(w["n"] for w in weeks)
            seconds = sum(w["seconds"] for w in weeks)
            facts = by_period[(unit_id, start)]
            resolved, late = sum(f.resolved for f in facts), sum(f.late for f in facts)
            promised, kept = sum(f.promised for f in facts), sum(f.kept for f in facts)
            out[(unit_id, start)] = {
                "mean_hours": seconds / n / 3600 if n else None,
                "late_rate": late / resolved if resolved else None,
                "promises_kept": kept / promised if promised else None,
            }
    return out


def evidence_for(unit: Unit, start: date) -> dict[str, float | None]:
    """The period's facts beside the feeling: mean processing time, share resolved late and share
    of promises kept, for requests to the unit."""
    lo, hi = _bounds(start)
    flow = WeeklyFlow.objects.filter(unit=unit, week__gte=start - timedelta(days=6), week__lt=hi.date()).aggregate(
        n=Sum("resolved"), seconds=Sum("total_seconds")
    )
    resolved = ServiceRequest.objects.filter(unit=unit, resolved_at__gte=lo, resolved_at__lt=hi)
    promises = Promise.objects.filter(unit=unit, request__resolved_at__gte=lo, request__resolved_at__lt=hi).exclude(
        request__status=Status.CANCELLED
    )
    n_promises = promises.count()
    hours = flow["seconds"] / flow["n"] / 3600 if flow["n"] else None
    return {
        "mean_hours": hours,
        "late_rate": late_rate(resolved),
        "promises_kept": promises.filter(request__resolved_at__lte=F("promised_at")).count() / n_promises
        if n_promises else None,
    }


def leads_or_admin(person: Person | None) -> bool:
    return person is not None and (is_admin(person) or person.role in (Role.LEAD, Role.EXECUTIVE))


# --- satisfaction both ways ---------------------------------------------------------------------


def ratings_visible_to(user: AnyUser | None) -> QuerySet[RequestRating]:
    """A rating, its comment and the team's answer follow the payload rule of their request:
    a confidential request's stay with the requester, the providing unit and administrators
    (executives see the request's path, not what was said about it)."""
    if person_of(user) is None:
        return RequestRating.objects.none()
    return RequestRating.objects.filter(request__in=requests_with_payload_visible_to(user))


def feedback_for(person: Person | None, sr: ServiceRequest) -> dict[str, Any]:
    """What the request page shows and offers about ratings, for this viewer."""
    done = sr.status in (Status.RESOLVED, Status.CLOSED)
    user = person.user if person is not None else None
    rating = ratings_visible_to(user).filter(request=sr).select_related("answered_by__user").first()
    ask = AskRating.objects.filter(request=sr).first()
    back_office = person is not None and (sr.unit_id in work_unit_ids(person) or is_admin(person))
    return {
        "rating": rating,
        "ask": ask if back_office or (person is not None and person.pk == sr.requester_id) else None,
        "may_rate": done and person is not None and person.pk == sr.requester_id
        and (rating is None or rating.answered_at is None),
        "may_answer": back_office and rating is not None and rating.answered_at is None,
        "may_rate_ask": done and back_office,
    }


def unanswered_feedback(user: AnyUser | None) -> QuerySet[Any]:
    """Ratings waiting for an answer from the units this person works in (or all, for admins),
    oldest first: they age on the lead's page like any other work."""
    person = person_of(user)
    if person is None:
        return RequestRating.objects.none()
    qs = ratings_visible_to(user).filter(answered_at__isnull=True).select_related("request", "unit")
    if not is_admin(person):
        qs = qs.filter(unit_id__in=work_unit_ids(person))
    return qs.order_by("rated_at")


def ask_quality(user: AnyUser | None, *, weeks: int = 12, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per front-office unit: share of its asks the back office found complete, and in time for
    the cut-off. Everybody sees every unit's share: both sides see their own part of the delay."""
    if person_of(user) is None:
        return []
    since = (now or timezone.now()) - timedelta(weeks=weeks)
    rows = (
        AskRating.objects.filter(rated_at__gte=since)
        .values("requesting_unit__name")
        .annotate(n=Count("pk"), n_complete=Count("pk", filter=Q(complete=True)),
                  n_in_time=Count("pk", filter=Q(in_time=True)),
                  n_both=Count("pk", filter=Q(complete=True, in_time=True)))
        .order_by("requesting_unit__name")
    )
    return [{"unit": r["requesting_unit__name"], "rated": r["n"], "complete_share": r["n_complete"] / r["n"],
             "in_time_share": r["n_in_time"] / r["n"], "complete_and_in_time_share": r["n_both"] / r["n"]}
            for r in rows]


def satisfaction(unit_ids: list[int] | None = None, *, service_id: int | None = None, since: datetime | None = None
                 ) -> dict[str, float | int | None]:
    """Mean requester rating (1–5) and how many, optionally for some units or one service."""
    qs = RequestRating.objects.all()
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=unit_ids)
    if service_id is not None:
        qs = qs.filter(request__service_id=service_id)
    if since is not None:
        qs = qs.filter(rated_at__gte=since)
    agg = qs.aggregate(mean=Avg("score"), n=Count("pk"))
    return {"mean": agg["mean"], "ratings": agg["n"]}


def _procedure_conformance(service_id: int, since: datetime, now: datetime) -> float | None:
    share = share_following(service_id, since=since, now=now)
    return None if share is None else round(share, 4)


def service_figures(service_id: int, *, now: datetime | None = None, weeks: int = 26) -> dict[str, Any]:
    """The service's measured figures, frozen into a process review: processing time, lateness,
    promises kept, satisfaction, and the share of requests that followed its documented procedure
    (None without a procedure or without resolved requests)."""
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    flow = WeeklyFlow.objects.filter(service_id=service_id, week__gte=since.date()).aggregate(
        n=Sum("resolved"), seconds=Sum("total_seconds"), reopened=Sum("reopened")
    )
    resolved = ServiceRequest.objects.filter(service_id=service_id, resolved_at__gte=since)
    promises = Promise.objects.filter(service_id=service_id, request__resolved_at__gte=since)
    n_promises = promises.count()
    sat = satisfaction(service_id=service_id, since=since)
    return {
        "period_weeks": weeks,
        "resolved": flow["n"] or 0,
        "mean_working_hours": round(flow["seconds"] / flow["n"] / 3600, 2) if flow["n"] else None,
        "reopen_rate": round(flow["reopened"] / flow["n"], 4) if flow["n"] else None,
        "late_rate": None if (late := late_rate(resolved)) is None else round(late, 4),
        "promises_kept": round(promises.filter(request__resolved_at__lte=F("promised_at")).count() / n_promises, 4)
        if n_promises else None,
        "satisfaction": round(sat["mean"], 2) if sat["mean"] is not None else None,
        "ratings": sat["ratings"],
        "procedure_conformance": _procedure_conformance(service_id, since, now),
    }


# --- recognition ---------------------------------------------------------------------------------


def kudos_visible_to(user: AnyUser | None) -> QuerySet[Any]:
    """Kudos are public thanks: every member of staff sees them."""
    if person_of(user) is None:
        return Kudos.objects.none()
    return Kudos.objects.select_related("given_by__user", "to_person__user", "to_unit")


def reviews_gifts(person: Person | None) -> bool:
    """Compliance reads the whole register: executives and administrators."""
    return person is not None and sees_everything(person)


def gifts_visible_to(user: AnyUser | None) -> QuerySet[Any]:
    """Your own entries; the entries shared with a unit you lead; everything for compliance."""
    person = person_of(user)
    if person is None:
        return Gift.objects.none()
    qs = Gift.objects.select_related("received_by__user").prefetch_related("shared_with")
    if reviews_gifts(person):
        return qs
    mine = Q(received_by=person)
    if person.role == Role.LEAD:
        mine |= Q(shared_with=person.unit_id)
    return qs.filter(mine).distinct()
