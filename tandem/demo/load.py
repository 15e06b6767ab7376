"""Write the demo organisation and its simulated history into the database.

Nothing goes through the actions: the history engine already produced exactly what they would
have written (events with seq 1..n, statuses, timestamps), and replaying 140,000 events one
durable transaction each would take many minutes. The organisation (a few hundred rows) is
written with ``bulk_create``; the history (``tandem.demo.trails``) with plain-tuple
``executemany`` in batches, with explicit keys after any rows already there so that events can
name their comments. PostgreSQL's sequences are moved past those keys at the end.

    summary = build_demo(seed=2026, weeks=26)        # into an empty database
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from tandem.catalogue.models import CutOff, IntakeField, ProcedureStep, Service, ServiceSkill
from tandem.demand.actions import backfill_week_forecasts, declare_demand, refresh_arrival_forecasts
from tandem.demo.approvals import load_approvals
from tandem.demo.changes import load_changes
from tandem.demo.organisation import DemoOrganisation, demo_organisation
from tandem.demo.pay import load_pay
from tandem.demo.people import (
    ADMIN,
    ADMIN_USERNAME,
    DUTIES,
    PASSWORD,
    PATTERNS,
    PEOPLE,
    UNITS,
    DemoPerson,
)
from tandem.demo.pulse import load_feedback, load_pulse, load_recognition
from tandem.demo.services import DemoField
from tandem.demo.trails import OrgIds, load_history
from tandem.engines.history import Params, simulate
from tandem.insights.actions import rebuild_all
from tandem.notifications.models import Notification
from tandem.org.models import Absence, Person, PersonSkill, Skill, Unit
from tandem.promises.backtest import past_promises
from tandem.promises.models import Promise
from tandem.promises.queries import default_confidence
from tandem.search.documents import index_missing
from tandem.work.clock_replay import rebuild_clocks
from tandem.work.models import Case, Comment, Event, ServiceRequest


@dataclass
class DemoSummary:
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None


def demo_present() -> bool:
    """The demo is loaded when its Payroll unit and its people are there."""
    return (
        Unit.objects.filter(slug="payroll").exists()
        and Person.objects.filter(user__username="julie.ramsden").exists()
    )


def database_is_empty() -> bool:
    return not (
        Unit.objects.exists()
        or get_user_model().objects.exists()
        or ServiceRequest.objects.exists()
    )


def build_demo(
    *,
    seed: int = 2026,
    weeks: int = 26,
    end: datetime | None = None,
    scale: float = 1.0,
    report: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Simulate and load the demo into the (empty) default database, in one transaction."""
    say = report or (lambda message: None)
    end = (end or timezone.now()).replace(microsecond=0)
    summary = DemoSummary(end=end)
    began = time.perf_counter()
    org = demo_organisation(end.astimezone(timezone.get_default_timezone()).date(), weeks, seed)
    # The simulated worker closes resolved requests after the window the real one uses.
    window = settings.TANDEM_REOPEN_WINDOW_DAYS
    params = Params(end=end, weeks=weeks, seed=seed, scale=scale, reopen_window_days=window)
    history = simulate(org.engine(), params)
    summary.start = history.start
    summary.seconds["simulation"] = time.perf_counter() - began
    say(
        f"Simulated {len(history.requests):,} requests and {len(history.events):,} events "
        f"in {summary.seconds['simulation']:.1f} s."
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at COMMIT, where
            # PostgreSQL took 166 s for 70,000 requests (it grows faster than the rows).
            # Checked row by row as they go in, the same checks cost a few seconds.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        began = time.perf_counter()
        ids = load_organisation(org, end)
        summary.seconds["organisation"] = time.perf_counter() - began
        began = time.perf_counter()
        summary.counts = load_history(org, history, ids, report=say)
        reset_sequences()
        summary.seconds["history"] = time.perf_counter() - began
        began_commit = time.perf_counter()
    summary.seconds["commit"] = time.perf_counter() - began_commit
    began = time.perf_counter()
    refresh_planner_statistics()
    load_agreements()
    # Every request's agreement clock from its own trail; the last day's alerts are left for the
    # worker to send when the demo starts, as it would have.
    summary.counts["clocks"] = rebuild_clocks(end, end - timedelta(days=1))
    summary.seconds["statistics"] = time.perf_counter() - began
    began = time.perf_counter()
    # Past promises replay every quote (about half a millisecond each): the demo's 23,000 take
    # seconds, the scaled benchmark histories would take many minutes and need none.
    summary.counts["promises"] = load_past_promises(history.start, end) if scale == 1.0 else 0
    summary.seconds["promises"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts["weekly flow rows"] = rebuild_all()
    summary.seconds["evidence"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts["services forecast"] = load_demand(end)
    summary.seconds["forecasts"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts["pulse answers"] = load_pulse(end, seed)
    summary.counts.update(load_feedback(end, seed))
    summary.counts.update(load_recognition(end, seed))
    summary.seconds["pulse"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts.update(load_pay(end, seed))
    summary.seconds["pay"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts.update(load_changes(end.astimezone(timezone.get_default_timezone()).date(), seed))
    summary.seconds["changes"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts.update(load_approvals(end))
    summary.seconds["approvals"] = time.perf_counter() - began
    began = time.perf_counter()
    summary.counts["search documents"] = index_missing()
    summary.seconds["search"] = time.perf_counter() - began
    summary.counts.update(
        people=len(ids.person) + 1, services=len(ids.service), units=len(ids.unit)
    )
    return summary


# --- the organisation ---------------------------------------------------------------------------


def load_organisation(org: DemoOrganisation, end: datetime) -> OrgIds:
    today = end.astimezone(timezone.get_default_timezone()).date()
    units = Unit.objects.bulk_create(
        [Unit(name=u.name, slug=u.slug, side=u.side, description=u.description) for u in org.units]
    )
    unit_pk = {u.slug: u.pk for u in units}
    skills = Skill.objects.bulk_create([Skill(slug=slug, name=name) for slug, name in org.skills])
    skill_pk = {s.slug: s.pk for s in skills}

    everyone: list[DemoPerson] = [*org.people, org.admin]
    # One hash for every account: they share the password, and hashing 60 times would take
    # most of the build (PBKDF2 is slow on purpose).
    password = make_password(PASSWORD)
    joined = end - timedelta(days=400)
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(
                username=ADMIN_USERNAME if p is org.admin else p.username,
                first_name=p.first,
                last_name=p.last,
                email=p.email,
                password=password,
                is_staff=p.role == "admin",
                is_superuser=p.role == "admin",
                date_joined=joined,
            )
            for p in everyone
        ]
    )
    people = Person.objects.bulk_create(
        [
            Person(
                user=user,
                unit_id=unit_pk[p.unit],
                role=p.role,
                job_title=p.job_title,
                working_pattern=PATTERNS[p.pattern],
                request_share=org.request_share(p),
                last_digest_at=end,
            )
            for user, p in zip(users, everyone, strict=True)
        ]
    )
    by_username = {p.username: person for p, person in zip(everyone, people, strict=True)}
    PersonSkill.objects.bulk_create(
        [
            PersonSkill(person=by_username[p.username], skill_id=skill_pk[slug], level=level)
            for p in everyone
            for slug, level in p.skills.items()
        ]
    )
    Absence.objects.bulk_create(
        [
            Absence(
                person=by_username[a.username],
                kind=a.kind,
                starts_on=a.starts_on,
                ends_on=a.ends_on,
                note=a.note,
            )
            for a in org.absences
        ]
    )

    services = Service.objects.bulk_create(
        [
            Service(
                unit_id=unit_pk[s.unit],
                name=s.name,
                slug=s.slug,
                summary=s.summary,
                scope_includes=s.includes,
                scope_excludes=s.excludes,
                owner=by_username[s.owner],
                turnaround_days=s.turnaround,
                run_field=s.run_field,
                confidential=s.confidential,
                external_allowed=s.sim.external > 0,
                last_reviewed_on=today - timedelta(days=round(30.44 * s.reviewed_months_ago)),
            )
            for s in org.services
        ]
    )
    IntakeField.objects.bulk_create(
        [
            intake_field(service, i, f)
            for service, s in zip(services, org.services, strict=True)
            for i, f in enumerate(s.fields, 1)
        ]
    )
    CutOff.objects.bulk_create(
        [
            CutOff(service=service, weekday=c.weekday, time=c.time, description=c.description,
                   run_weekday=c.run_weekday, run_name=c.run_name)
            for service, s in zip(services, org.services, strict=True)
            for c in s.cutoffs
        ]
    )
    ServiceSkill.objects.bulk_create(
        [
            ServiceSkill(service=service, skill_id=skill_pk[slug], min_level=level)
            for service, s in zip(services, org.services, strict=True)
            for slug, level in s.skills.items()
        ]
    )
    ProcedureStep.objects.bulk_create(
        [
            ProcedureStep(service=service, position=i, text=text)
            for service, s in zip(services, org.services, strict=True)
            for i, text in enumerate(s.steps, 1)
        ]
    )
    unit_names = {u.slug: u.name for u in org.units}
    steps: dict[int, list[tuple[int, int, str]]] = {}
    for step_pk, service_pk, position, text in ProcedureStep.objects.filter(service__in=services).order_by(
        "service_id", "position", "pk"
    ).values_list("pk", "service_id", "position", "text"):
        steps.setdefault(service_pk, []).append((step_pk, position, text))
    return OrgIds(
        service_steps=[steps.get(service.pk, []) for service in services],
        unit=[u.pk for u in units],
        person=[by_username[p.username].pk for p in org.people],
        person_name=[p.name for p in org.people],
        person_unit=[unit_pk[p.unit] for p in org.people],
        service=[s.pk for s in services],
        service_unit=[unit_pk[s.unit] for s in org.services],
        service_unit_name=[unit_names[s.unit] for s in org.services],
    )


def intake_field(service: Service, position: int, f: DemoField) -> IntakeField:
    """One question of a demo service's intake form, with the rules on its values."""
    return IntakeField(
        service=service,
        position=position,
        key=f.key,
        label=f.label,
        kind=f.kind,
        required=f.required,
        help_text=f.help,
        choices=list(f.choices),
        min_value=f.rules.min_value,
        max_value=f.rules.max_value,
        days_past=f.rules.days_past,
        days_ahead=f.rules.days_ahead,
        weekday=f.rules.weekday,
        pattern=f.rules.pattern,
        pattern_message=f.rules.pattern_message,
    )


def reset_sequences() -> None:
    """After explicit keys, PostgreSQL's sequences must move past them (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(
        no_style(), [Case, ServiceRequest, Event, Comment, Notification]
    )
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# Working day of the default calendar: 09:00-12:30 and 13:30-17:30.
DAY = 450


def load_agreements() -> None:
    """A few agreements and one customer agreement, made as an administrator would make them.

    The customer agreement is deliberately short of its internal legs, so the coverage
    warning has something true to say on the demo.
    """
    from tandem.agreements.actions import define_agreement, define_customer_agreement

    admin = Person.objects.get(user__username="admin")
    services = {s.slug: s for s in Service.objects.all()}
    both_waits = ["waiting_requester", "waiting_third_party"]
    define_agreement(admin, services["pay-query"], name="Pay queries in two working days",
                     first_response_minutes=120, resolution_minutes=2 * DAY, target_percent=90)
    define_agreement(admin, services["timesheet-correction"], name="Corrections in time for payroll",
                     first_response_minutes=60, resolution_minutes=DAY, target_percent=95)
    define_agreement(admin, services["invoice-query"], name="Customer invoice queries",
                     first_response_minutes=60, resolution_minutes=3 * DAY, target_percent=90,
                     channel="external")
    define_agreement(admin, services["dbs-check"], name="DBS checks, vetting agency time excluded",
                     first_response_minutes=240, resolution_minutes=10 * DAY, target_percent=85,
                     pause_statuses=both_waits)
    # Every other service: its published turnaround as the resolution target, a first response
    # within half a working day (two hours for same-day work), 90 % to be met.
    specific = {"pay-query", "timesheet-correction", "dbs-check"}
    for service in Service.objects.exclude(slug__in=specific).order_by("pk"):
        days = max(1, service.turnaround_days)
        define_agreement(admin, service, name=f"{service.name} in {days} working day{'s' if days != 1 else ''}",
                         first_response_minutes=120 if days == 1 else 240, resolution_minutes=days * DAY,
                         target_percent=90)
    define_customer_agreement(
        admin, Unit.objects.get(slug="leeds"), name="New temp paid in their first week",
        resolution_minutes=3 * DAY, margin_minutes=120,
        services=[services["right-to-work-check"], services["timesheet-correction"], services["pay-query"]],
    )


def load_past_promises(start: datetime, end: datetime) -> int:
    """The promise each past request would have been given at its submission, from what was
    known then (the same walk-forward as the backtest), so the integrity report has a past."""
    made = 0
    for unit in Unit.objects.filter(services__isnull=False).distinct():
        rows, _outcome = past_promises(unit, start, end + timedelta(seconds=1), confidence=default_confidence())
        Promise.objects.bulk_create(rows, batch_size=2000)
        made += len(rows)
    return made


#: What the demo's branch managers told the back office is coming (docs/demo.md): a client's
#: new site opening in Leeds, and Manchester's contractor intake.
DECLARED = (
    ("sarah.whitfield", "right-to-work-check", 2, 45, "New client site opens: 40-odd new starters to vet."),
    ("sarah.whitfield", "dbs-check", 2, 30, "The same client's care workers need DBS checks."),
    ("claire.doyle", "right-to-work-check", 3, 25, "Contractor intake for the winter season."),
)


def load_demand(end: datetime) -> int:
    """The week forecasts the worker would have kept over the last four weeks, today's arrival
    forecasts, and the branch managers' declared demand."""
    today = end.astimezone(timezone.get_default_timezone()).date()
    backfill_week_forecasts(today, 4)
    forecast = refresh_arrival_forecasts(today, force=True)
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    for username, slug, week, count, note in DECLARED:
        lead = Person.objects.filter(user__username=username).first()
        service = Service.objects.filter(slug=slug).first()
        if lead is not None and service is not None:
            declare_demand(lead, lead.unit_id, service.pk, monday + timedelta(days=7 * (week - 1)), count, note,
                           today=today)
    return forecast


def refresh_planner_statistics() -> None:
    """Give the query planner statistics of the freshly loaded tables.

    Without them SQLite sorts the whole request table for some filtered lists (seconds at a
    million rows, instead of milliseconds), and PostgreSQL waits for autovacuum to notice.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sign_in_accounts() -> list[tuple[str, str, str]]:
    """(username, name, role) of the accounts `tandem demo` prints: consultants, an agent of
    every back-office unit, a lead, the executive and the admin."""
    names = {u.slug: u.name for u in UNITS}
    rows = [
        ("sarah.whitfield", "Sarah Whitfield", "Leeds branch: branch manager (lead)"),
        ("priya.sharma", "Priya Sharma", "Leeds branch: recruitment consultant"),
    ]
    for unit in DUTIES:
        agent = next(p for p in PEOPLE if p.unit == unit and p.role == "member")
        rows.append((agent.username, agent.name, f"{names[unit]}: {agent.job_title}"))
    lead = next(p for p in PEOPLE if p.unit == "invoicing" and p.role == "lead")
    rows.append((lead.username, lead.name, f"{names['invoicing']}: {lead.job_title} (lead)"))
    executive = next(p for p in PEOPLE if p.role == "executive")
    rows.append(
        (
            executive.username,
            executive.name,
            f"{names[executive.unit]}: managing director (executive)",
        )
    )
    rows.append((ADMIN_USERNAME, ADMIN.name, "Administrator (also Django admin at /admin/)"))
    return rows
