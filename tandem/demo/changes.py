"""Six months of back-office changes on the demo's change calendar: a month behind (published,
in effect) and five ahead, from payroll, timesheets, invoicing (finance), compliance and HR, with
one congested month (the third ahead) where several functions land on the same branches in the
same weeks. Month ends are blackouts for every audience; one change week is declared; reception
absorbs less than the default.

Outside the congested month the changes are placed by the calendar's own scheduler, so that
what the demo shows over the limit is the congestion, not noise. Written with ``bulk_create``,
as the rest of the demo (the actions would refuse the past changes, which is what they are for).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.changes.models import (
    AudienceLimit,
    Blackout,
    Change,
    ChangeAudience,
    ChangeComment,
    ChangePeriod,
    ChangeReceipt,
    Kind,
    Status,
)
from tandem.engines import changes as engine
from tandem.org.models import Person, Role, Unit

BRANCHES = ("leeds", "manchester", "sheffield")
FRONT = (*BRANCHES, "reception", "accounts", "leadership")

# (owner unit, kind, title, summary, why, minutes, audiences, what they must do)
CATALOGUE: tuple[tuple[str, str, str, str, str, int, tuple[str, ...], str], ...] = (
    ("payroll", Kind.SYSTEM, "New payslip portal",
     "Workers see payslips in the new portal from this date; the old emailed PDFs stop.",
     "The emailed PDFs go astray and carry personal data; the portal is secure and searchable.",
     20, BRANCHES, "Tell workers at sign-on where to find their payslips"),
    ("payroll", Kind.PROCESS, "Holiday pay accrual shown per shift",
     "Holiday pay now accrues per shift worked and shows on each payslip.",
     "The rolled-up holiday pay ruling: accrual must be visible to workers.", 15, BRANCHES,
     "Answer workers' questions with the new FAQ"),
    ("payroll", Kind.POLICY, "Advance pay requests capped",
     "Advances on pay are capped at 50% of the week's earned pay, once a month.",
     "Advances were growing unpaid at leavers; the cap keeps workers out of debt to us.", 10,
     (*BRANCHES, "reception"), "Refuse advances over the cap and point to the form"),
    ("timesheets", Kind.FORM, "Timesheet form: break times required",
     "Timesheets must show break start and end; sheets without them are returned.",
     "Working Time Regulations audits found missing rest breaks.", 15, BRANCHES,
     "Check break times before approving a sheet"),
    ("timesheets", Kind.PROCESS, "Cut-off moves to Monday 10:00",
     "The weekly timesheet cut-off moves from Monday noon to Monday 10:00.",
     "The payroll run needs two more hours to check exceptions.", 10, (*BRANCHES, "accounts"),
     "Remind clients' approvers of the earlier cut-off"),
    ("timesheets", Kind.SYSTEM, "Client approval by text message",
     "Client approvers can approve timesheets by replying to a text.",
     "Approvals by email arrive late; a text is answered within the hour.", 25, (*BRANCHES, "accounts"),
     "Register each client approver's mobile number"),
    ("invoicing", Kind.POLICY, "Purchase order on every invoice",
     "Invoices to framework clients must quote the client's purchase order number.",
     "Three frameworks now reject invoices without one, delaying payment by weeks.", 20,
     ("accounts", *BRANCHES), "Collect PO numbers at booking"),
    ("invoicing", Kind.FORM, "New credit note request form",
     "Credit notes are requested with the new form, giving the invoice and the reason code.",
     "Half of credit note requests came back for missing details.", 10, ("accounts",),
     "Use the reason codes on the form"),
    ("invoicing", Kind.PROCESS, "Expenses rebilled monthly, not weekly",
     "Worker expenses are rebilled to clients once a month on a single invoice.",
     "Clients asked for fewer, clearer invoices.", 15, ("accounts", "leadership"),
     "Tell clients before their next statement"),
    ("compliance", Kind.POLICY, "Right-to-work checks: digital ID only",
     "From this date right-to-work checks for British and Irish passports use digital ID.",
     "Home Office guidance: manual checks of these documents no longer give a statutory excuse.", 30,
     (*BRANCHES, "reception"), "Book the digital ID training and use the new check screen"),
    ("compliance", Kind.PROCESS, "Data retention: candidate CVs kept 12 months",
     "Unplaced candidates' CVs are deleted after 12 months unless they renew consent.",
     "GDPR: we held CVs for six years with no reason.", 15, (*BRANCHES, "reception"),
     "Ask candidates to renew consent when they call"),
    ("compliance", Kind.POLICY, "Gifts over 50 declared within a week",
     "Gifts and hospitality worth 50 or more are declared in the register within a week.",
     "Anti-bribery policy review.", 10, FRONT, "Declare gifts in Tandem's register"),
    ("compliance", Kind.PROCESS, "Safeguarding referral route for care placements",
     "Concerns about a care placement go to the safeguarding lead the same day, by phone then form.",
     "A local authority review found referrals waiting over a weekend.", 25, BRANCHES,
     "Save the safeguarding lead's number; complete the refresher"),
    ("hr", Kind.POLICY, "Hybrid working: two office days",
     "Staff work from the office at least two days a week, agreed with their lead.",
     "Teams asked for predictable office days for training and handovers.", 20, FRONT,
     "Agree office days with your lead"),
    ("hr", Kind.PROCESS, "Sickness reported before 09:00 by phone",
     "Staff report sickness by phone to their lead before 09:00, then in Tandem the same day.",
     "Messages were missed and branches opened short-staffed.", 10, FRONT, "Save your lead's number"),
    ("hr", Kind.SYSTEM, "Annual leave booked in the new HR system",
     "Annual leave is booked and approved in the new HR system; the spreadsheet closes.",
     "Leave clashes in the spreadsheet left branches short at month end.", 30, FRONT,
     "Book any leave not yet booked in the new system"),
    ("hr", Kind.POLICY, "New expenses policy for staff",
     "Mileage is paid at the HMRC rate; meals only on overnight stays.", "Costs and a tax audit.", 15,
     (*BRANCHES, "accounts"), "Read the policy before your next claim"),
    ("payroll", Kind.FORM, "Bank detail changes need a call-back",
     "Workers' bank detail changes are confirmed by a call to the number on file before the run.",
     "Two payment diversion frauds last quarter.", 15, (*BRANCHES, "reception"),
     "Never change bank details from an email"),
)


def _month_start(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _month_end_days(first: date) -> tuple[date, date]:
    """The last two working days of the month beginning ``first``."""
    day = _month_start(first, 1) - timedelta(days=1)
    days: list[date] = []
    while len(days) < 2:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[1], days[0]


def load_changes(today: date, seed: int = 2026) -> dict[str, int]:
    """The demo's change calendar around ``today``."""
    rng = random.Random(f"changes-{seed}")
    units = {u.slug: u for u in Unit.objects.filter(slug__in=[*FRONT, *{c[0] for c in CATALOGUE}])}
    owners: dict[str, int] = {}
    for service in Service.objects.filter(unit__slug__in={c[0] for c in CATALOGUE}).order_by("pk"):
        owners.setdefault(service.unit.slug, service.owner_id)
    executive = Person.objects.filter(role="executive").order_by("pk").first()
    first = _month_start(today, -1)
    blackouts = []
    for m in range(7):
        lo, hi = _month_end_days(_month_start(first, m))
        blackouts.append(Blackout(kind=Blackout.Kind.MONTH_END, starts_on=lo, ends_on=hi, reason="Month end",
                                  declared_by=executive))
    congested = _month_start(today, 2)
    period_start = _month_start(today, 3) + timedelta(days=7)
    period_start -= timedelta(days=period_start.weekday())
    period = ChangePeriod(name="Summer change week", starts_on=period_start, ends_on=period_start + timedelta(days=4),
                          declared_by=executive)
    busy_start = _month_start(today, 4) + timedelta(days=14)
    busy_start -= timedelta(days=busy_start.weekday())
    blackouts.append(Blackout(kind=Blackout.Kind.BUSY, unit=units["accounts"], starts_on=busy_start,
                              ends_on=busy_start + timedelta(days=4), reason="Framework re-tender week",
                              declared_by=executive))
    Blackout.objects.bulk_create(blackouts)
    period.save()
    AudienceLimit.objects.bulk_create([
        AudienceLimit(unit=units["reception"], minutes_per_week=40, set_by=executive),
        AudienceLimit(unit=units["leadership"], minutes_per_week=45, set_by=executive),
    ])

    # Requested dates: two or three changes a month, and the congested month takes eight.
    plan: list[tuple[int, date]] = []
    order = list(range(len(CATALOGUE)))
    rng.shuffle(order)
    months = [0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 5]  # from last month; 3: the congested one
    for index, m in zip(order, months, strict=True):
        start = _month_start(first, m)
        if start == congested:  # its first three weeks, several changes landing together
            day = start + timedelta(days=rng.choice([0, 1, 2, 3, 7, 8, 9, 10]))
        else:
            day = start + timedelta(days=rng.randrange(0, 24))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        plan.append((index, day))

    rules = engine.Rules(
        limits={units["reception"].pk: 40, units["leadership"].pk: 45},
        blackouts=tuple(engine.Blackout(b.starts_on, b.ends_on, b.reason, b.unit_id) for b in blackouts),
    )
    drafts = [engine.Change(i, tuple(units[a].pk for a in CATALOGUE[index][6]), day, CATALOGUE[index][5], day)
              for i, (index, day) in enumerate(plan)]
    calm = [c for c in drafts if not (congested <= c.effective < _month_start(congested, 1))]
    placed = engine.schedule(calm, rules, earliest=first).dates
    rows = []
    for i, (index, requested) in enumerate(plan):
        owner_slug, kind, title, summary, why, minutes, audiences, _ = CATALOGUE[index]
        effective = placed.get(i, requested)
        if effective < today:
            status = Status.PUBLISHED
        elif effective < today + timedelta(days=21):
            status = rng.choice([Status.PUBLISHED, Status.CONSULTATION])
        else:
            status = rng.choice([Status.DRAFT, Status.DRAFT, Status.CONSULTATION])
        rows.append(Change(
            unit=units[owner_slug], title=title, summary=summary, why=why, kind=kind, status=status,
            everyone=set(audiences) == set(FRONT), effective_on=effective, requested_on=requested, minutes=minutes,
            consultation_ends_on=(effective - timedelta(days=3)) if status != Status.DRAFT else None,
            created_by_id=owners[owner_slug],
        ))
    Change.objects.bulk_create(rows)
    audience_rows = [
        ChangeAudience(change=change, unit=units[slug], must_do=CATALOGUE[index][7],
                       by_when=change.effective_on + timedelta(days=14))
        for change, (index, _) in zip(rows, plan, strict=True) for slug in CATALOGUE[index][6]
    ]
    ChangeAudience.objects.bulk_create(audience_rows)
    # A draft for every front-office lead (an audience narrowed to one role).
    day = today + timedelta(days=15)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    leads_only = Change.objects.create(
        unit=units["hr"], title="Leads sign the weekly rota off", kind=Kind.PROCESS, status=Status.DRAFT,
        summary="Each branch lead signs their team's rota off in Tandem by Friday noon for the week after.",
        why="Unsigned rotas left shifts uncovered twice last quarter.", everyone=True, effective_on=day,
        requested_on=day, minutes=15, created_by_id=owners["hr"])
    leads_rows = [ChangeAudience(change=leads_only, unit=units[slug], role=Role.LEAD,
                                 must_do="Sign next week's rota off by Friday noon") for slug in FRONT]
    ChangeAudience.objects.bulk_create(leads_rows)
    audience_rows += leads_rows
    comments, receipts = _consultation_and_receipts(rows, today, owners, rng)
    return {"changes": len(rows) + 1, "change audiences": len(audience_rows), "change comments": comments,
            "change receipts": receipts}


#: What the audiences' leads say in consultation, and the owners' answers.
COMMENTS = (
    ("Can this wait until after the month end? Our branch is stretched then.",
     "Yes: it lands after the month end, and the calendar keeps it clear of the blackout."),
    ("Our temps work weekends: please give us the notice in a form we can pin up.",
     "A one-page version is attached to the notice."),
    ("Who do we call if a client refuses? The notice does not say.",
     "The payroll help line; it is now named in the notice."),
)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def _consultation_and_receipts(rows: list[Change], today: date, owners: dict[str, int],
                               rng: random.Random) -> tuple[int, int]:
    """A lead's comment on each change in consultation or published (answered once published),
    what changed because of it, and for the changes already in effect each audience person's
    notice and (for most) their acknowledgement."""
    leads: dict[int, list[int]] = {}
    people: dict[int, list[int]] = {}
    for pk, unit_id, role in Person.objects.filter(user__is_active=True).values_list("pk", "unit_id", "role"):
        people.setdefault(unit_id, []).append(pk)
        if role == Role.LEAD:
            leads.setdefault(unit_id, []).append(pk)
    comments, receipts = [], []
    for change in rows:
        units = list(change.audiences.values_list("unit_id", flat=True))
        if change.status in (Status.CONSULTATION, Status.PUBLISHED) and change.consultation_ends_on:
            led = [u for u in units if leads.get(u)]
            if led:
                unit_id = rng.choice(led)
                text, answer = rng.choice(COMMENTS)
                said = min(change.consultation_ends_on, today) - timedelta(days=1)
                answered = change.status == Status.PUBLISHED or rng.random() < 0.5
                comments.append(ChangeComment(
                    change=change, author_id=leads[unit_id][0], unit_id=unit_id, text=text, created_at=_at(said, 10),
                    answer=answer if answered else "", answered_by_id=owners[change.unit.slug] if answered else None,
                    answered_at=_at(said, 15) if answered else None))
                if change.status == Status.PUBLISHED:
                    change.consultation_outcome = answer
                    change.save(update_fields=["consultation_outcome"])
        if change.status == Status.PUBLISHED and change.effective_on < today:
            for unit_id in units:
                for person in people.get(unit_id, []):
                    acked = rng.random() < 0.8
                    receipts.append(ChangeReceipt(
                        change=change, person_id=person, noticed_on=change.effective_on,
                        acknowledged_at=_at(change.effective_on + timedelta(days=rng.randrange(0, 3)), 11)
                        if acked else None))
    ChangeComment.objects.bulk_create(comments)
    ChangeReceipt.objects.bulk_create(receipts)
    return len(comments), len(receipts)

