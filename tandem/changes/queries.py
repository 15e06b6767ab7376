"""Reads of the change calendar: who may see and own which changes, and the calendar itself
(the load per audience and week, beside its workload and leave, with the collisions and the
proposals of ``tandem.engines.changes``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.changes.models import (
    ROLE_PLURALS,
    AudienceLimit,
    Blackout,
    Change,
    ChangeAudience,
    ChangeComment,
    ChangePeriod,
    ChangeReceipt,
    NoticeDay,
    ServiceEdit,
    Status,
)
from tandem.engines import changes as engine
from tandem.org.models import Absence, Person, Role, Side, Unit
from tandem.org.queries import AnyUser, is_admin, person_of, sees_everything
from tandem.work.queries import requests_made_per_day

#: Weeks of history the forecast workload is averaged over.
WORKLOAD_WEEKS = 8
#: The most weeks one calendar shows.
MAX_WEEKS = 26


# --- who may do what ------------------------------------------------------------------------------


def may_own_changes(person: Person | None, unit_id: int) -> bool:
    """Changes for a back-office unit are drafted and managed by the owners of its services, and
    by administrators."""
    if person is None:
        return False
    return is_admin(person) or Service.objects.filter(unit_id=unit_id, owner=person).exists()


def change_owners(change: Change) -> list[int]:
    """Who is told of a comment on a change: the person who drafted it and the owners of its
    unit's services (active ones)."""
    owners = set(Service.objects.filter(unit_id=change.unit_id, owner__user__is_active=True)
                 .values_list("owner_id", flat=True))
    if change.created_by.user.is_active:
        owners.add(change.created_by_id)
    return sorted(owners)


def units_owned_by(user: AnyUser | None) -> QuerySet[Unit]:
    """The back-office units this user may draft changes for."""
    person = person_of(user)
    if person is None:
        return Unit.objects.none()
    back = Unit.objects.filter(side=Side.BACK)
    if is_admin(person):
        return back
    return back.filter(services__owner=person).distinct()


def sets_calendar_rules(person: Person | None) -> bool:
    """Limits, blackouts and change periods are set by executives (and administrators)."""
    return person is not None and (is_admin(person) or person.role == Role.EXECUTIVE)


def changes_visible_to(user: AnyUser | None) -> QuerySet[Change]:
    """Executives and administrators see every function's changes; everyone else sees the changes
    in consultation or published, and the drafts and cancelled ones of the units whose services
    they own or where they work."""
    person = person_of(user)
    if person is None:
        return Change.objects.none()
    qs = Change.objects.select_related("unit", "created_by__user")
    if sees_everything(person):
        return qs
    own = Q(unit_id=person.unit_id) | Q(unit__services__owner=person)
    return qs.filter(Q(status__in=[Status.CONSULTATION, Status.PUBLISHED]) | own).distinct()


def limits_visible_to(user: AnyUser | None) -> QuerySet[AudienceLimit]:
    return AudienceLimit.objects.select_related("unit") if person_of(user) else AudienceLimit.objects.none()


def blackouts_visible_to(user: AnyUser | None) -> QuerySet[Blackout]:
    return Blackout.objects.select_related("unit") if person_of(user) else Blackout.objects.none()


def periods_visible_to(user: AnyUser | None) -> QuerySet[ChangePeriod]:
    return ChangePeriod.objects.all() if person_of(user) else ChangePeriod.objects.none()


def audiences_visible_to(user: AnyUser | None) -> QuerySet[ChangeAudience]:
    return ChangeAudience.objects.filter(change__in=changes_visible_to(user)).select_related("unit")


def comments_visible_to(user: AnyUser | None) -> QuerySet[ChangeComment]:
    """Consultation comments are read by whoever sees the change."""
    return ChangeComment.objects.filter(change__in=changes_visible_to(user)).select_related(
        "author__user", "unit", "answered_by__user")


def receipts_visible_to(user: AnyUser | None) -> QuerySet[ChangeReceipt]:
    """A person's own receipts; the receipts of a unit's changes to the owners of its services;
    every receipt to administrators and executives."""
    person = person_of(user)
    if person is None:
        return ChangeReceipt.objects.none()
    if sees_everything(person):
        return ChangeReceipt.objects.all()
    return ChangeReceipt.objects.filter(Q(person=person) | Q(change__unit__services__owner=person)).distinct()


def scheduled_edits_for(user: AnyUser | None, service: Service) -> QuerySet[ServiceEdit]:
    """The edits of a service scheduled with changes this user sees, soonest first."""
    return ServiceEdit.objects.filter(
        service=service, state=ServiceEdit.State.SCHEDULED, change__in=changes_visible_to(user),
    ).exclude(change__status=Status.CANCELLED).select_related("change").order_by("change__effective_on", "pk")


def notice_days_visible_to(user: AnyUser | None) -> QuerySet[NoticeDay]:
    person = person_of(user)
    if person is None:
        return NoticeDay.objects.none()
    return NoticeDay.objects.all() if is_admin(person) else NoticeDay.objects.filter(person=person)


# --- consultation and notices ---------------------------------------------------------------------


def people_of_audiences(audiences: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[int]]:
    """The active people of each audience: a unit and a role ("": everyone of the unit), by
    their home unit."""
    wanted = set(audiences)
    out: dict[tuple[int, str], list[int]] = {a: [] for a in wanted}
    rows = Person.objects.filter(unit_id__in={u for u, _ in wanted}, user__is_active=True).order_by("pk")
    for pk, unit_id, role in rows.values_list("pk", "unit_id", "role"):
        for key in ((unit_id, ""), (unit_id, role)):
            if key in out:
                out[key].append(pk)
    return out


def audience_people(change: Change, *, reached_by: date | None = None) -> list[int]:
    """Everyone a change lands on: the active people of its audiences, of the audience's role
    when it has one (with ``reached_by``: of the audiences it has reached by that day, a staged
    change reaching each on its own)."""
    rows = change.audiences.all()
    if reached_by is not None:
        rows = rows.filter(Q(effective_on__lte=reached_by)
                           | Q(effective_on__isnull=True, change__effective_on__lte=reached_by))
    audiences = list(rows.values_list("unit_id", "role"))
    return sorted({pk for people in people_of_audiences(audiences).values() for pk in people})


def audience_people_by_unit(change: Change) -> dict[int, list[int]]:
    """The active people of each audience of the change, by its unit."""
    audiences = list(change.audiences.values_list("unit_id", "role"))
    return {unit_id: people for (unit_id, _), people in people_of_audiences(audiences).items()}


def led_audience(person: Person | None, change: Change) -> Unit | None:
    """The audience of the change this person leads, if any (the leads of the audience units
    comment in consultation, whatever role the audience is narrowed to)."""
    if person is None or person.role != Role.LEAD:
        return None
    row = change.audiences.filter(unit_id=person.unit_id).select_related("unit").first()
    return row.unit if row else None


def in_audience(person: Person | None, change: Change) -> bool:
    """Whether the change lands on this person: their unit is an audience, of their role if it has one."""
    return person is not None and change.audiences.filter(
        Q(role="") | Q(role=person.role), unit_id=person.unit_id).exists()


@dataclass
class Acknowledgement:
    unit: Unit
    acknowledged: int
    people: int
    noticed: int
    role: str = ""
    who: str = ""


def acknowledgements(change: Change) -> list[Acknowledgement]:
    """Per audience: how many of its active people (of its role, when it has one) acknowledged
    the change, of how many, and how many were sent its notice."""
    rows = list(change.audiences.select_related("unit"))
    people = people_of_audiences([(a.unit_id, a.role) for a in rows])
    acked = set(change.receipts.filter(acknowledged_at__isnull=False).values_list("person_id", flat=True))
    noticed = set(change.receipts.filter(noticed_on__isnull=False).values_list("person_id", flat=True))
    out = []
    for a in rows:
        mine = people[(a.unit_id, a.role)]
        out.append(Acknowledgement(a.unit, sum(1 for p in mine if p in acked), len(mine),
                                   sum(1 for p in mine if p in noticed), a.role, a.who))
    return out


def to_acknowledge(user: AnyUser | None, *, today: date | None = None) -> QuerySet[Change]:
    """The published changes landing on this person (their unit, of their role when the audience
    has one), in effect or within a week, that they have not acknowledged."""
    person = person_of(user)
    if person is None:
        return Change.objects.none()
    today = today or timezone.localdate()
    soon, since = today + timedelta(days=7), today - timedelta(days=90)
    # A staged change reaches the person's unit on the unit's own day.
    mine = ChangeAudience.objects.filter(Q(role="") | Q(role=person.role), unit_id=person.unit_id).filter(
        Q(effective_on__isnull=True, change__effective_on__lte=soon, change__effective_on__gte=since)
        | Q(effective_on__lte=soon, effective_on__gte=since))
    return Change.objects.filter(
        status=Status.PUBLISHED, pk__in=mine.values("change_id"),
    ).exclude(pk__in=ChangeReceipt.objects.filter(person=person, acknowledged_at__isnull=False).values(
        "change_id")).select_related("unit").distinct()


# --- the calendar ---------------------------------------------------------------------------------


def rules() -> engine.Rules:
    """The executives' rules, as the engine takes them."""
    limits = {}
    batching = set()
    for row in AudienceLimit.objects.all():
        limits[row.unit_id] = row.minutes_per_week
        if row.batching_required:
            batching.add(row.unit_id)
    held: dict[int, set[str]] = {u: set() for u in Unit.objects.filter(side=Side.FRONT).values_list("pk", flat=True)}
    for unit_id, role in Person.objects.filter(unit__side=Side.FRONT, user__is_active=True).values_list(
            "unit_id", "role").distinct():
        held[unit_id].add(role)
    return engine.Rules(
        limits=limits,
        default_limit=settings.TANDEM_CHANGE_WEEKLY_MINUTES,
        blackouts=tuple(engine.Blackout(b.starts_on, b.ends_on, b.reason, b.unit_id) for b in Blackout.objects.all()),
        periods=tuple(engine.Period(p.starts_on, p.ends_on, p.name) for p in ChangePeriod.objects.all()),
        batching=frozenset(batching),
        roles={u: frozenset(r) for u, r in held.items()},
    )


def _landing_from(since: date) -> QuerySet[ChangeAudience]:
    """The audiences of the changes that are not cancelled and land from ``since`` on."""
    live = [Status.DRAFT, Status.CONSULTATION, Status.PUBLISHED]
    return ChangeAudience.objects.filter(
        Q(change__effective_on__gte=since) | Q(effective_on__gte=since), change__status__in=live)


def landing_from(since: date) -> Q:
    """The changes of ``engine_changes(since)``, as a filter on changes (a subquery: the calendar
    holds a thousand of them, too many to list in an ``IN``)."""
    return Q(pk__in=_landing_from(since).values("change_id"))


def engine_changes(since: date) -> dict[int, engine.Change]:
    """Every change that is not cancelled and lands from ``since`` on, as the engine takes it (a
    staged change with each audience's own day): two queries, the audiences and their changes
    (each change's dates read once, not once per audience)."""
    audiences: dict[int, list[int]] = defaultdict(list)
    stages: dict[int, list[tuple[int, date]]] = defaultdict(list)
    roles: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for change_id, unit_id, own_day, role in _landing_from(since).order_by("unit_id").values_list(
            "change_id", "unit_id", "effective_on", "role"):
        audiences[change_id].append(unit_id)
        if own_day is not None:
            stages[change_id].append((unit_id, own_day))
        if role:
            roles[change_id].append((unit_id, role))
    out = {}
    # In the changes' own order (effective date, id): a cell lists its changes in that order.
    for pk, effective, requested, minutes in Change.objects.filter(landing_from(since)).values_list(
            "pk", "effective_on", "requested_on", "minutes"):
        if pk in audiences:  # (a change given its first audience between the two reads waits for the next)
            out[pk] = engine.Change(pk, tuple(audiences[pk]), effective, minutes, requested,
                                    stages=tuple(stages.get(pk, ())), roles=tuple(roles.get(pk, ())))
    return out


def staging_proposal(change_id: int, *, today: date | None = None) -> list[tuple[int, date]] | None:
    """The staging the collision check proposes for a change now: (audience unit id, day) in
    turn, or None."""
    today = today or timezone.localdate()
    by_id = engine_changes(today - timedelta(days=7))
    if change_id not in by_id or by_id[change_id].stages:
        return None
    the_rules = rules()
    stages = engine.staging(by_id[change_id], engine.load(by_id.values(), the_rules), the_rules, earliest=today)
    return [(s.audience, s.day) for s in stages] if stages else None


def batch_proposal(user: AnyUser | None, period: ChangePeriod, *, today: date | None = None,
                   by_id: dict[int, engine.Change] | None = None, cells: engine.Cells | None = None,
                   the_rules: engine.Rules | None = None, visible: set[int] | None = None) -> engine.Batch:
    """Which nearby changes (asked for within four weeks of the period, that this user sees)
    would fit into a change period, and on which day."""
    today = today or timezone.localdate()
    if by_id is None:
        by_id = engine_changes(today - timedelta(days=7))
    the_rules = the_rules or rules()
    cells = cells if cells is not None else engine.load(by_id.values(), the_rules)
    if visible is None:
        visible = set(changes_visible_to(user).filter(landing_from(today - timedelta(days=7)))
                      .values_list("pk", flat=True))
    near = [c for c in by_id.values() if c.id in visible and c.effective >= today and not c.stages
            and not (period.starts_on <= c.effective <= period.ends_on)
            and abs((c.asked - period.starts_on).days) <= engine.WINDOW_DAYS]
    return engine.batch(near, engine.Period(period.starts_on, period.ends_on, period.name), cells, the_rules,
                        earliest=today)


@dataclass(frozen=True)
class ChangeBrief:
    """What the calendar says of a change it names (a proposal, a late one): read as values, not
    as a thousand model instances."""

    pk: int
    title: str
    minutes: int
    status: str
    effective_on: date
    unit_id: int
    unit_name: str


@dataclass
class Proposal:
    change: ChangeBrief
    plan_on: date | None
    slots: list[date]
    stages: list[tuple[Unit, date]] | None
    reasons: list[str]
    late: bool
    unplaceable: bool


@dataclass
class Row:
    unit: Unit
    limit: int
    batching: bool
    cells: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Calendar:
    start: date
    weeks: list[date]
    rows: list[Row]
    proposals: list[Proposal]
    batches: list[dict[str, Any]]
    over: int
    clashes: int
    plan_over_after: int
    late: list[ChangeBrief]
    unplaceable: list[ChangeBrief]
    hidden_drafts: int
    today: date


def week_start(day: date) -> date:
    return engine.week_of(day)


def calendar(user: AnyUser | None, *, start: date | None = None, weeks: int = 13,
             audience_ids: list[int] | None = None, today: date | None = None,
             detail: int = 50) -> Calendar:
    """The change calendar from the week of ``start`` for ``weeks`` weeks: per front-office
    audience and week the changes landing (count and minutes per person, of every change not
    cancelled, visible or not), the audience's forecast requests and booked leave; the
    collisions, and for each colliding change the plan's date, the next free slots and a
    staging (for the ``detail`` soonest; every one has the plan's date); batches into the change
    periods ahead."""
    person = person_of(user)
    today = today or timezone.localdate()
    start = week_start(start or today)
    weeks = max(1, min(weeks, MAX_WEEKS))
    week_list = [start + timedelta(days=7 * i) for i in range(weeks)]
    end = week_list[-1] + timedelta(days=6)
    the_rules = rules()
    since = min(start, today) - timedelta(days=7)
    by_id = engine_changes(since)
    result = engine.check(by_id.values(), the_rules)
    plan = engine.schedule(by_id.values(), the_rules, earliest=today)

    units = Unit.objects.filter(side=Side.FRONT).order_by("name")
    if audience_ids is not None:
        units = units.filter(pk__in=audience_ids)
    unit_list = list(units)
    unit_ids = [u.pk for u in unit_list]
    # The changes this user sees among those counted, in one query, with what the proposals show.
    seen = changes_visible_to(user).filter(landing_from(since)).values_list(
        "pk", "title", "minutes", "status", "effective_on", "unit_id", "unit__name")
    changes = {row[0]: ChangeBrief(*row) for row in seen if row[0] in by_id} if person else {}
    visible_ids = set(changes)
    forecast = _forecast(unit_ids, week_list, today)
    leave = _leave(unit_ids, start, end)
    titles = {pk: c.title for pk, c in changes.items()}

    clash_at: dict[tuple[int, date], list[str]] = defaultdict(list)
    for clash in result.clashes:
        clash_at[(clash.audience, engine.week_of(clash.day))].append(clash.reason)
    rows = []
    for unit in unit_list:
        limit = the_rules.limit(unit.pk)
        row = Row(unit, limit, unit.pk in the_rules.batching)
        for week in week_list:
            cell = result.cells.get((unit.pk, week)) or engine.Cell()
            requests = forecast.get((unit.pk, week))
            days = leave.get((unit.pk, week), 0)
            context = " · ".join(([f"~{requests:.0f} req"] if requests is not None else [])
                                 + ([f"{days} d leave"] if days else []))
            css = ("over" if cell.minutes > limit else "") + (" clash" if clash_at.get((unit.pk, week)) else "")
            # The changes this user sees, each with the role it is for here ("": the whole unit).
            mine = [(c, titles[c], ROLE_PLURALS[role] if (role := by_id[c].role_of(unit.pk)) else "")
                    for c in cell.changes if c in titles]
            row.cells.append({
                "css": css, "context": context, "iso": week.isoformat(),
                "week": week, "count": cell.count, "minutes": cell.minutes, "over": cell.minutes > limit,
                "role": cell.role or "", "for_role": ROLE_PLURALS[cell.role] if cell.role else "",
                "changes": [{"id": c, "title": title, "for": who} for c, title, who in mine[:2]],
                "tip": "; ".join(title + (f" ({who})" if who else "") for _, title, who in mine),
                "more": max(0, len(mine) - 2),
                "hidden": len(cell.changes) - len(mine),
                "clashes": clash_at.get((unit.pk, week), []),
                "requests": requests, "leave_days": days,
            })
        rows.append(row)

    colliding = result.colliding() & visible_ids
    named = colliding | set(plan.late) | set(plan.unplaceable)
    named &= visible_ids
    unit_names = {u.pk: u for u in Unit.objects.filter(side=Side.FRONT)}
    proposals = []
    reasons: dict[int, list[str]] = defaultdict(list)
    for o in result.overloads:
        reason = f"{unit_names[o.audience].name}: {o.minutes} of {o.limit} min in the week of {o.week:%-d %b}"
        for c in o.changes:
            reasons[c].append(reason)
    for cl in result.clashes:
        reasons[cl.change].append(f"{unit_names[cl.audience].name}: {cl.reason} on {cl.day:%-d %b}")
    for n, pk in enumerate(sorted(colliding, key=lambda pk: (by_id[pk].effective, pk))):
        change = changes[pk]
        ec = by_id[pk]
        stages = engine.staging(ec, result.cells, the_rules, earliest=today) if n < detail and not ec.stages else None
        proposals.append(Proposal(
            change=change,
            plan_on=plan.dates[pk] if plan.dates[pk] != ec.effective and pk not in plan.unplaceable else None,
            slots=engine.free_slots(ec, result.cells, the_rules, earliest=today) if n < detail else [],
            stages=[(unit_names[s.audience], s.day) for s in stages] if stages else None,
            reasons=reasons[pk], late=pk in plan.late, unplaceable=pk in plan.unplaceable,
        ))

    batches = []
    for period in ChangePeriod.objects.filter(ends_on__gte=today).order_by("starts_on")[:3]:
        b = batch_proposal(user, period, today=today, by_id=by_id, cells=result.cells, the_rules=the_rules,
                           visible=visible_ids)
        fitting = {c.pk: c for c in Change.objects.filter(pk__in=b.moves).only("pk", "title")}
        batches.append({"period": period, "fits": [(fitting[i], d)
                                                   for i, d in sorted(b.moves.items(), key=lambda kv: kv[1])],
                        "left_out": len(b.left_out),
                        "token": ",".join(f"{i}:{d.isoformat()}" for i, d in sorted(b.moves.items()))})

    return Calendar(
        start=start, weeks=week_list, rows=rows, proposals=proposals, batches=batches,
        over=len(result.overloads), clashes=len(result.clashes),
        plan_over_after=engine.over_limit(plan.cells, the_rules),
        late=[changes[i] for i in plan.late if i in changes],
        unplaceable=[changes[i] for i in plan.unplaceable if i in changes],
        hidden_drafts=len(set(by_id) - visible_ids), today=today,
    )


def _forecast(unit_ids: list[int], weeks: list[date], today: date) -> dict[tuple[int, date], float]:
    """Each audience's expected requests per week: the mean of the last ``WORKLOAD_WEEKS`` whole
    weeks, taken apart for weeks holding a month end (their own mean, when history has some)."""
    this_week = week_start(today)
    since = this_week - timedelta(days=7 * WORKLOAD_WEEKS * 3)
    per_day = requests_made_per_day(unit_ids, since, this_week - timedelta(days=1))
    if not per_day:
        return {}
    past_weeks = [this_week - timedelta(days=7 * i) for i in range(1, WORKLOAD_WEEKS * 3 + 1)]
    per_week: dict[tuple[int, date], int] = defaultdict(int)
    for (unit_id, day), n in per_day.items():
        per_week[(unit_id, week_start(day))] += n
    out = {}
    for unit_id in unit_ids:
        plain = [per_week[(unit_id, w)] for w in past_weeks[:WORKLOAD_WEEKS]]
        ends = [per_week[(unit_id, w)] for w in past_weeks if _holds_month_end(w)]
        mean_plain = sum(plain) / len(plain)
        mean_end = sum(ends) / len(ends) if ends else mean_plain
        for week in weeks:
            out[(unit_id, week)] = round(mean_end if _holds_month_end(week) else mean_plain, 1)
    return out


def _holds_month_end(week: date) -> bool:
    """Whether the month's last working days fall in this week (Monday to Friday)."""
    return week.month != (week + timedelta(days=7)).month


def _leave(unit_ids: list[int], start: date, end: date) -> dict[tuple[int, date], int]:
    """Working days of booked leave among each audience's people, per week."""
    out: dict[tuple[int, date], int] = defaultdict(int)
    rows = Absence.objects.filter(
        person__unit_id__in=unit_ids, person__user__is_active=True, kind=Absence.Kind.LEAVE,
        starts_on__lte=end, ends_on__gte=start,
    ).values_list("person__unit_id", "starts_on", "ends_on")
    for unit_id, lo, hi in rows:
        for day in engine.working_days(max(lo, start), min(hi, end)):
            out[(unit_id, week_start(day))] += 1
    return out
