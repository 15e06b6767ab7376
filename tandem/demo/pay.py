"""The demo's pay snapshots: Northern Staffing Partners' payroll for the last complete month and
the same month a year before, so that the pay parity report has a trend.

Grades follow the job titles (entry, professional, senior and managers, directors). Salaries are
full-time equivalents for 37.5 hours, paid pro rata for the person's working pattern. The front
office's consultants and branch managers earn monthly commission, which the regulations count
as bonus pay (and as pay in the period, hence in hourly pay); account managers a quarterly
bonus; the back office none. Somebody on long-term sickness past the company's four weeks of
full sick pay is on statutory sick pay that month: reduced pay because of leave. Written
straight into the tables like the rest of the demo.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from tandem.demo.people import PATTERNS, PEOPLE, UNITS, DemoPerson
from tandem.org.models import Absence, Person
from tandem.pay.models import AuditWhat, GradeExplanation, HrRole, PayAudit, PayRow, PaySnapshot
from tandem.pay.queries import threshold
from tandem.pay.report import people_of, snapshot_figures

HR_LEAD = "catherine.moss"
#: Company sick pay is full pay for the first four weeks of a spell of sickness; then statutory
#: sick pay (£118.75 a week, the 2025/26 rate) until the person is back. A month with any day on
#: it is pay reduced because of leave: the person is left out of the hourly figures (regulation 1(2)).
FULL_SICK_PAY_DAYS = 28
SSP_WEEKLY = 118.75

# job title -> (grade, full-time salary, monthly commission range, quarterly bonus)
PAY: dict[str, tuple[str, int, tuple[int, int], int]] = {
    "Trainee recruitment consultant": ("G1", 23_000, (150, 450), 0),
    "Receptionist": ("G1", 22_800, (0, 0), 0),
    "Payroll assistant": ("G1", 23_200, (0, 0), 0),
    "Compliance assistant": ("G1", 23_000, (0, 0), 0),
    "HR administrator": ("G1", 23_400, (0, 0), 0),
    "IT apprentice": ("G1", 21_500, (0, 0), 0),
    "Timesheet administrator": ("G1", 23_600, (0, 0), 0),
    "Billing administrator": ("G1", 23_800, (0, 0), 0),
    "Recruitment consultant": ("G2", 27_500, (350, 1_100), 0),
    "Account manager": ("G2", 32_000, (0, 0), 1_500),
    "Payroll officer": ("G2", 28_500, (0, 0), 0),
    "Vetting officer": ("G2", 28_000, (0, 0), 0),
    "HR advisor": ("G2", 31_000, (0, 0), 0),
    "Service desk analyst": ("G2", 28_000, (0, 0), 0),
    "Credit controller": ("G2", 29_000, (0, 0), 0),
    "Senior recruitment consultant": ("G3", 33_000, (700, 1_600), 0),
    "Reception supervisor": ("G3", 27_500, (0, 0), 0),
    "Branch manager": ("G3", 42_000, (400, 900), 0),
    "Head of account management": ("G3", 48_000, (0, 0), 3_000),
    "Senior payroll officer": ("G3", 33_000, (0, 0), 0),
    "Infrastructure engineer": ("G3", 41_000, (0, 0), 0),
    "Timesheets team leader": ("G3", 32_500, (0, 0), 0),
    "Payroll manager": ("G3", 45_000, (0, 0), 0),
    "Finance manager": ("G3", 47_000, (0, 0), 0),
    "Compliance manager": ("G3", 44_000, (0, 0), 0),
    "HR manager": ("G3", 46_000, (0, 0), 0),
    "IT manager": ("G3", 47_500, (0, 0), 0),
    "Managing director": ("G4", 95_000, (0, 0), 0),
    "Operations director": ("G4", 72_000, (0, 0), 0),
}

EXPLANATION = (
    "Consultants' and branch managers' monthly commission is pay in the period (regulation 6), so the "
    "front office earns more per hour at the same grade; base salaries sit on the same bands."
)
ACTION = (
    "Compare base pay alone at the salary review, and cost a team bonus for back-office roles at this "
    "grade for the next budget."
)


def weekly_hours(person: DemoPerson) -> float:
    minutes = 0
    for intervals in PATTERNS[person.pattern].values():
        for start, end in intervals:
            minutes += (int(end[:2]) * 60 + int(end[3:])) - (int(start[:2]) * 60 + int(start[3:]))
    return minutes / 60


def month_end_before(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def days_on_sick_pay(first: date, last: date, spells: list[tuple[date, date]]) -> int:
    """Days from ``first`` to ``last`` (included) that fall after the company sick pay of a
    spell of sickness has run out: from its 29th day on, each spell counted from its own start."""
    days: set[date] = set()
    for start, end in spells:
        day = max(first, start + timedelta(days=FULL_SICK_PAY_DAYS))
        while day <= min(last, end):
            days.add(day)
            day += timedelta(days=1)
    return len(days)


def _rows(snapshot: PaySnapshot, people: dict[str, Person], rng: random.Random, uplift: float,
          sick: dict[str, list[tuple[date, date]]]) -> list[PayRow]:
    side = {u.slug: u.side for u in UNITS}
    days = calendar.monthrange(snapshot.snapshot_date.year, snapshot.snapshot_date.month)[1]
    first = snapshot.snapshot_date.replace(day=1)
    quarter_end = snapshot.snapshot_date.month % 3 == 0
    rows = []
    for p in PEOPLE:
        grade, salary, commission, quarterly = PAY[p.job_title]
        hours = weekly_hours(p)
        # Each person a little above or below their title's salary (experience), the same both years.
        personal = 1 + (random.Random(p.username).random() - 0.5) * 0.08
        monthly = salary * personal * uplift * hours / 37.5 / 12
        low, high = commission
        # A consultant's commission level is their own (their desk, their clients); a month
        # varies around it.
        level = (low + (high - low) * random.Random(p.username + "commission").random()) * hours / 37.5
        this_month = level * rng.uniform(0.85, 1.15) if high else 0.0
        year = sum(level * rng.uniform(0.85, 1.15) for _ in range(11)) + this_month if high else 0.0
        year += 4 * quarterly * personal
        period_bonus = this_month + (quarterly * personal if quarter_end else 0.0)
        on_ssp = days_on_sick_pay(first, snapshot.snapshot_date, sick.get(p.username, []))
        ordinary = monthly * (days - on_ssp) / days + SSP_WEEKLY * on_ssp / 7
        rows.append(PayRow(
            snapshot=snapshot, person=people[p.username], side=side[p.unit], grade=grade,
            weekly_hours=Decimal(f"{hours:.2f}"), period_days=days, ordinary_pay=Decimal(f"{ordinary:.2f}"),
            period_bonus=Decimal(f"{period_bonus:.2f}"), bonus_12_months=Decimal(f"{year:.2f}"),
            reduced_by_leave=on_ssp > 0,
        ))
    return rows


def load_pay(end: datetime, seed: int) -> dict[str, int]:
    """Two snapshots a year apart, imported by the HR manager, who holds the HR role; HR's
    explanation beside each grade the latest snapshot flags."""
    rng = random.Random(seed * 31 + 7)
    people = {p.user.username: p for p in Person.objects.select_related("user")}
    hr = people[HR_LEAD]
    HrRole.objects.create(person=hr, granted_by=None, granted_at=end - timedelta(days=400))
    latest = month_end_before(timezone.localtime(end).date())
    earlier = latest.replace(year=latest.year - 1, day=calendar.monthrange(latest.year - 1, latest.month)[1])
    sick: dict[str, list[tuple[date, date]]] = {}
    for a in Absence.objects.filter(kind=Absence.Kind.SICK).select_related("person__user"):
        sick.setdefault(a.person.user.username, []).append((a.starts_on, a.ends_on))
    rows = 0
    snapshots = []
    for day, uplift in ((earlier, 1 / 1.035), (latest, 1.0)):
        at = timezone.make_aware(datetime.combine(day + timedelta(days=5), datetime.min.time())) + timedelta(hours=10)
        snapshot = PaySnapshot.objects.create(snapshot_date=day, file_name=f"payroll-{day:%Y-%m}.csv",
                                              imported_by=hr, imported_at=at)
        made = PayRow.objects.bulk_create(_rows(snapshot, people, rng, uplift, sick))
        PayAudit.objects.create(actor=hr, what=AuditWhat.IMPORTED, snapshot=snapshot, at=at,
                                detail=f"{len(made)} rows from {snapshot.file_name}")
        rows += len(made)
        snapshots.append(snapshot)
    explained = 0
    figures = snapshot_figures(people_of(snapshots[-1]), threshold())
    for g in figures["grades"]:
        if g["flagged"] and g["front"]["bonus_share"]:  # the commission story holds for this grade
            GradeExplanation.objects.create(
                grade=g["grade"], explanation=EXPLANATION, action=ACTION, review_date=latest + timedelta(days=120),
                by=hr, at=snapshots[-1].imported_at,
            )
            explained += 1
    return {"pay rows": rows, "pay explanations": explained}
