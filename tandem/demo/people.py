"""The demo recruitment agency's units, skills and people, as plain data.

Northern Staffing Partners (a made-up agency): three branches of consultants, reception,
account managers and the leadership team in the front office; Payroll, Timesheets, Invoicing,
Compliance & vetting, HR and IT in the back office. 59 people plus the ``admin`` account.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

# --- units ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUnit:
    slug: str
    name: str
    side: str
    description: str


UNITS: tuple[DemoUnit, ...] = (
    DemoUnit(
        "leeds",
        "Leeds branch",
        "front",
        "Consultants placing care, warehouse and office temps across West Yorkshire.",
    ),
    DemoUnit(
        "manchester",
        "Manchester branch",
        "front",
        "Consultants for Greater Manchester: healthcare, logistics and events.",
    ),
    DemoUnit(
        "sheffield",
        "Sheffield branch",
        "front",
        "Consultants for South Yorkshire: engineering, manufacturing and care.",
    ),
    DemoUnit(
        "reception",
        "Reception",
        "front",
        "Front desk and switchboard: walk-in candidates and calls from workers.",
    ),
    DemoUnit(
        "accounts",
        "Account management",
        "front",
        "Account managers for the agency's larger clients and frameworks.",
    ),
    DemoUnit(
        "leadership",
        "Leadership team",
        "front",
        "The managing director and the operations director.",
    ),
    DemoUnit(
        "payroll",
        "Payroll",
        "back",
        "Weekly pay for temporary workers and monthly pay for staff; pay queries and corrections.",
    ),
    DemoUnit(
        "timesheets",
        "Timesheets",
        "back",
        "Collects, checks and corrects timesheets before the weekly payroll cut-off.",
    ),
    DemoUnit(
        "invoicing",
        "Invoicing",
        "back",
        "Client billing: invoices, credit notes, purchase orders and new client set-up.",
    ),
    DemoUnit(
        "compliance",
        "Compliance & vetting",
        "back",
        "Right-to-work, DBS and reference checks; sponsor licence duties.",
    ),
    DemoUnit(
        "hr",
        "HR",
        "back",
        "HR for the agency's own staff: contracts, absence, grievances, references.",
    ),
    DemoUnit("it", "IT", "back", "Service desk, accounts and equipment for the agency's staff."),
)

# --- skills ---------------------------------------------------------------------------------------

SKILLS: tuple[tuple[str, str], ...] = (
    ("paye", "PAYE, NI and pensions"),
    ("bacs", "BACS and Faster Payments"),
    ("payroll-system", "Payroll system (Sage)"),
    ("timesheet-portal", "Timesheet portal"),
    ("client-liaison", "Client liaison"),
    ("credit-control", "Credit control"),
    ("sales-ledger", "Sales ledger"),
    ("billing-setup", "Client billing set-up"),
    ("right-to-work", "Right-to-work checks"),
    ("dbs", "DBS processing"),
    ("referencing", "Referencing"),
    ("sponsor-licence", "Sponsor licence (UKVI)"),
    ("employee-relations", "Employee relations"),
    ("employment-law", "Employment law"),
    ("hr-records", "HR records"),
    ("service-desk", "Service desk"),
    ("m365", "Microsoft 365 administration"),
    ("hardware", "Hardware support"),
    ("healthcare-staffing", "Healthcare staffing"),
    ("industrial-staffing", "Industrial staffing"),
    ("account-management", "Client account management"),
)

# --- weekly working patterns (Person.working_pattern shape) --------------------------------------


def _week(days: range | tuple[int, ...], *intervals: tuple[str, str]) -> dict[str, list[list[str]]]:
    return {str(d): [list(i) for i in intervals] for d in days}


WEEKDAYS = range(5)
PATTERNS: dict[str, dict[str, list[list[str]]]] = {
    "standard": _week(WEEKDAYS, ("09:00", "12:30"), ("13:30", "17:30")),
    "early": _week(WEEKDAYS, ("07:30", "12:00"), ("12:30", "16:00")),
    "late": _week(WEEKDAYS, ("10:30", "14:00"), ("14:30", "19:00")),
    "front-desk-early": _week(WEEKDAYS, ("08:00", "12:00"), ("12:30", "16:30")),
    "front-desk-late": _week(WEEKDAYS, ("10:00", "14:00"), ("14:30", "18:30")),
    "mornings": _week(WEEKDAYS, ("08:30", "13:00")),
    "school-hours": _week(WEEKDAYS, ("09:30", "14:30")),
    "mon-to-wed": _week((0, 1, 2), ("09:00", "12:30"), ("13:30", "17:30")),
    "tue-to-thu": _week((1, 2, 3), ("09:00", "12:30"), ("13:30", "17:30")),
    "four-days": _week((0, 1, 2, 3), ("08:30", "12:30"), ("13:00", "17:30")),
}

# Weekly routine work of each back-office unit, when its people do not take queue work.
DUTIES: dict[str, tuple[tuple[int, str, str, str], ...]] = {
    "payroll": (
        (2, "14:00", "17:30", "Pay run preparation"),
        (3, "09:00", "15:00", "Weekly pay run"),
    ),
    "timesheets": (
        (1, "12:00", "15:30", "Cut-off processing"),
        (2, "09:00", "11:00", "Portal reconciliation"),
    ),
    "invoicing": (
        (0, "09:00", "13:00", "Weekly invoice run"),
        (4, "13:30", "17:30", "Credit control calls"),
    ),
    "compliance": ((2, "13:30", "17:30", "Audit file review"),),
    "hr": (
        (1, "09:00", "11:00", "Team meeting and casework"),
        (3, "13:30", "17:30", "Policy work"),
    ),
    "it": ((2, "13:30", "17:30", "Project work"),),
}

# Share of their queue time back-office people spend on service requests (the rest goes on
# phone calls, email and interruptions that Tandem does not see).
UNIT_SHARE = {
    "payroll": 0.85,
    "timesheets": 0.75,
    "invoicing": 0.9,
    "compliance": 0.7,
    "hr": 0.45,
    "it": 0.5,
}

# --- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    first: str
    last: str
    unit: str
    job_title: str
    role: str = "member"
    pattern: str = "standard"
    skills: dict[str, int] = field(default_factory=dict)
    share: float | None = None  # back office: share of queue time on requests (None: the unit's)
    note: str = ""  # a fact the story relies on (see docs/demo.md)

    @property
    def username(self) -> str:
        return f"{_ascii(self.first)}.{_ascii(self.last)}"

    @property
    def email(self) -> str:
        return f"{self.username}@demo.tandem.test"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum() or c == "-")


P = DemoPerson
HC, IND, AM = "healthcare-staffing", "industrial-staffing", "account-management"
PEOPLE: tuple[DemoPerson, ...] = (
    # Leeds branch
    P("Sarah", "Whitfield", "leeds", "Branch manager", "lead", skills={HC: 4, AM: 3}),
    P("James", "Hargreaves", "leeds", "Senior recruitment consultant", skills={IND: 4}),
    P("Priya", "Sharma", "leeds", "Recruitment consultant", skills={HC: 3}),
    P("Tom", "Brennan", "leeds", "Recruitment consultant", skills={IND: 2}),
    P("Emma", "Lawson", "leeds", "Recruitment consultant", pattern="mon-to-wed", skills={HC: 3}),
    P("Daniel", "Okafor", "leeds", "Recruitment consultant", skills={HC: 2, IND: 2, "payroll-system": 2, "paye": 2},
      note="worked three years in a bureau payroll team: Payroll can borrow him"),
    P("Hannah", "Booth", "leeds", "Trainee recruitment consultant", skills={HC: 1}),
    P("Mohammed", "Iqbal", "leeds", "Senior recruitment consultant", skills={IND: 3, AM: 2}),
    # Manchester branch
    P("Claire", "Doyle", "manchester", "Branch manager", "lead", skills={HC: 3, AM: 3}),
    P("Ryan", "Kershaw", "manchester", "Recruitment consultant", skills={IND: 3}),
    P("Aisha", "Begum", "manchester", "Senior recruitment consultant", skills={HC: 4}),
    P("Liam", "Moran", "manchester", "Recruitment consultant", skills={IND: 2}),
    P(
        "Sophie",
        "Taylor",
        "manchester",
        "Recruitment consultant",
        pattern="four-days",
        skills={HC: 2},
    ),
    P("Jack", "Ashworth", "manchester", "Recruitment consultant", skills={IND: 3}),
    P("Grace", "Nwosu", "manchester", "Recruitment consultant",
      skills={HC: 3, "timesheet-portal": 2, "client-liaison": 2},
      note="ran the branch's timesheet desk before the back office took it: Timesheets can borrow her"),
    # Sheffield branch
    P("Mark", "Pearson", "sheffield", "Branch manager", "lead", skills={IND: 4, AM: 3}),
    P("Rebecca", "Hall", "sheffield", "Senior recruitment consultant",
      skills={HC: 3, "right-to-work": 2, "referencing": 2},
      note="did her branch's right-to-work checks and references: Compliance can borrow her"),
    P("Imran", "Hussain", "sheffield", "Recruitment consultant", skills={IND: 3}),
    P(
        "Lucy",
        "Barker",
        "sheffield",
        "Recruitment consultant",
        pattern="school-hours",
        skills={HC: 2},
    ),
    P("Owen", "Griffiths", "sheffield", "Recruitment consultant", skills={IND: 2}),
    P("Chloe", "Marsh", "sheffield", "Trainee recruitment consultant", skills={HC: 1}),
    # Reception
    P("Karen", "Slater", "reception", "Reception supervisor", "lead", pattern="front-desk-early"),
    P("Jade", "Wilson", "reception", "Receptionist", pattern="front-desk-late"),
    P("Beth", "Kirkham", "reception", "Receptionist", pattern="mornings"),
    # Account management
    P("Richard", "Chapman", "accounts", "Head of account management", "lead", skills={AM: 4}),
    P("Nadia", "Rahman", "accounts", "Account manager", skills={AM: 3, HC: 2}),
    P("Paul", "Fletcher", "accounts", "Account manager", skills={AM: 3, IND: 3, "sales-ledger": 3, "billing-setup": 3},
      note="sets up his clients' invoicing and knows the sales ledger: Invoicing can borrow him"),
    P("Zoe", "Middleton", "accounts", "Account manager", pattern="four-days", skills={AM: 2}),
    # Leadership team
    P("Helen", "Ashcroft", "leadership", "Managing director", "executive", skills={AM: 4}),
    P("David", "Kemp", "leadership", "Operations director", "lead", skills={AM: 3}),
    # Payroll
    P(
        "Julie",
        "Ramsden",
        "payroll",
        "Payroll manager",
        "lead",
        skills={"paye": 4, "bacs": 4, "payroll-system": 4},
    ),
    P(
        "Gary",
        "Holt",
        "payroll",
        "Senior payroll officer",
        skills={"paye": 4, "bacs": 3, "payroll-system": 3},
    ),
    P(
        "Samina",
        "Akhtar",
        "payroll",
        "Payroll officer",
        skills={"paye": 3, "bacs": 3, "payroll-system": 3},
    ),
    P("Kevin", "Dunn", "payroll", "Payroll officer", skills={"paye": 3, "payroll-system": 2}),
    P(
        "Lisa",
        "Greenwood",
        "payroll",
        "Payroll officer",
        pattern="school-hours",
        skills={"paye": 2, "payroll-system": 3},
    ),
    P(
        "Ben",
        "Carter",
        "payroll",
        "Payroll assistant",
        skills={"paye": 1, "bacs": 2, "payroll-system": 2},
    ),
    # Timesheets
    P(
        "Nicola",
        "Brooke",
        "timesheets",
        "Timesheets team leader",
        "lead",
        skills={"timesheet-portal": 4, "client-liaison": 4},
    ),
    P(
        "Adam",
        "Shaw",
        "timesheets",
        "Timesheet administrator",
        skills={"timesheet-portal": 3, "client-liaison": 2},
    ),
    P(
        "Fatima",
        "Ali",
        "timesheets",
        "Timesheet administrator",
        skills={"timesheet-portal": 3, "client-liaison": 3},
    ),
    P(
        "Chris",
        "Walsh",
        "timesheets",
        "Timesheet administrator",
        pattern="early",
        skills={"timesheet-portal": 2},
    ),
    P(
        "Megan",
        "Hurst",
        "timesheets",
        "Timesheet administrator",
        pattern="mon-to-wed",
        skills={"timesheet-portal": 3, "client-liaison": 2},
    ),
    # Invoicing
    P(
        "Andrew",
        "Lister",
        "invoicing",
        "Finance manager",
        "lead",
        skills={"credit-control": 4, "sales-ledger": 4, "billing-setup": 4},
    ),
    P(
        "Rachel",
        "Speight",
        "invoicing",
        "Credit controller",
        skills={"credit-control": 4, "sales-ledger": 3},
    ),
    P(
        "Tariq",
        "Mahmood",
        "invoicing",
        "Billing administrator",
        skills={"sales-ledger": 3, "billing-setup": 3},
    ),
    P(
        "Joanne",
        "Fox",
        "invoicing",
        "Billing administrator",
        skills={"sales-ledger": 3, "billing-setup": 2},
        note="long-term sickness from week 18 of 26: Invoicing runs a person short",
    ),
    # Compliance & vetting
    P(
        "Deborah",
        "Clegg",
        "compliance",
        "Compliance manager",
        "lead",
        skills={"right-to-work": 4, "dbs": 4, "referencing": 3, "sponsor-licence": 4},
    ),
    P(
        "Simon",
        "Firth",
        "compliance",
        "Vetting officer",
        skills={"right-to-work": 3, "dbs": 3, "referencing": 3},
    ),
    P(
        "Amara",
        "Osei",
        "compliance",
        "Vetting officer",
        skills={"right-to-work": 3, "referencing": 4, "sponsor-licence": 3},
    ),
    P(
        "Laura",
        "Pickles",
        "compliance",
        "Vetting officer",
        pattern="four-days",
        skills={"right-to-work": 2, "dbs": 3, "referencing": 2},
    ),
    P(
        "Matthew",
        "Rhodes",
        "compliance",
        "Compliance assistant",
        skills={"right-to-work": 2, "referencing": 2},
    ),
    # HR
    P(
        "Catherine",
        "Moss",
        "hr",
        "HR manager",
        "lead",
        skills={"employee-relations": 4, "employment-law": 4, "hr-records": 3},
    ),
    P(
        "Yasmin",
        "Patel",
        "hr",
        "HR advisor",
        skills={"employee-relations": 3, "employment-law": 3, "hr-records": 3},
    ),
    P("Neil", "Sutcliffe", "hr", "HR advisor", skills={"employee-relations": 2, "hr-records": 4}),
    P("Gemma", "Lord", "hr", "HR administrator", pattern="tue-to-thu", skills={"hr-records": 3}),
    # IT
    P(
        "Stuart",
        "Bell",
        "it",
        "IT manager",
        "lead",
        skills={"service-desk": 3, "m365": 4, "hardware": 3},
    ),
    P(
        "Dev",
        "Mistry",
        "it",
        "Service desk analyst",
        pattern="early",
        skills={"service-desk": 4, "m365": 3, "hardware": 2},
    ),
    P(
        "Natalie",
        "Crowther",
        "it",
        "Service desk analyst",
        pattern="late",
        skills={"service-desk": 3, "m365": 2},
    ),
    P("Josh", "Tennant", "it", "Infrastructure engineer", skills={"m365": 3, "hardware": 4}),
    P("Kieran", "Doherty", "it", "IT apprentice", skills={"service-desk": 2, "hardware": 2}),
)

ADMIN = DemoPerson("Site", "Administrator", "it", "Tandem administrator", "admin", skills={})
ADMIN_USERNAME = "admin"
PASSWORD = "demo"  # every demo account, printed by `tandem demo`

# --- absences -------------------------------------------------------------------------------------

# England and Wales bank holidays: nobody works or asks on these days (the demo's closed days).
BANK_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
        "2024-12-25", "2024-12-26", "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05",
        "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03",
        "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
        "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
        "2027-12-27", "2027-12-28", "2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01",
        "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26",
    )
)


LONG_TERM_SICK_FROM = 18 / 26  # how far into the history Joanne Fox goes off sick


@dataclass(frozen=True)
class DemoAbsence:
    username: str
    kind: str  # leave, sick, training, other
    starts_on: date
    ends_on: date
    note: str = ""


def _working_days_from(start: date, count: int) -> date:
    day, left = start, count - 1
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def absences(today: date, weeks: int, seed: int) -> list[DemoAbsence]:
    """Leave, sickness and training for everyone, past and future (seeded).

    Each person takes about 25 days of leave a year in blocks of 1 to 10 working days (more in
    July and August), has a sick day or two, sometimes a training day; leave is also booked in
    the next eight weeks. Joanne Fox (Invoicing) is on long-term sick leave from week 18 of 26
    (69 % into the history) until four weeks from now: part of Invoicing's slide (docs/demo.md).
    """
    rng = random.Random(f"absences-{seed}")
    first = today - timedelta(weeks=weeks)
    last = today + timedelta(weeks=8)
    span = (last - first).days
    out: list[DemoAbsence] = []
    for person in PEOPLE:
        taken: list[tuple[date, date]] = []

        def free(a: date, b: date, taken: list[tuple[date, date]] = taken) -> bool:
            return all(b < x - timedelta(days=3) or a > y + timedelta(days=3) for x, y in taken)

        leave_days = int(25 * span / 365)
        tries = 0
        while leave_days > 0 and tries < 60:
            tries += 1
            start = first + timedelta(days=rng.randrange(span))
            if start.weekday() >= 5 or (start.month not in (7, 8) and rng.random() < 0.3):
                continue
            length = min(rng.choice((1, 1, 2, 3, 5, 5, 5, 10)), leave_days)
            end = _working_days_from(start, length)
            if free(start, end):
                taken.append((start, end))
                out.append(DemoAbsence(person.username, "leave", start, end, "Annual leave"))
                leave_days -= length
        for _ in range(rng.choice((0, 1, 1, 2))):
            start = first + timedelta(days=rng.randrange(max((today - first).days, 1)))
            if start.weekday() < 5:
                end = _working_days_from(start, rng.choice((1, 1, 2, 3)))
                if free(start, end):
                    taken.append((start, end))
                    out.append(DemoAbsence(person.username, "sick", start, end, "Sickness"))
        if rng.random() < 0.35:
            start = first + timedelta(days=rng.randrange(span))
            if start.weekday() < 5 and free(start, start):
                taken.append((start, start))
                out.append(
                    DemoAbsence(person.username, "training", start, start, "Training course")
                )
    joanne = next(p for p in PEOPLE if p.last == "Fox")
    off_sick = first + timedelta(days=round(weeks * 7 * LONG_TERM_SICK_FROM))
    out = [a for a in out if a.username != joanne.username or a.ends_on < off_sick]
    out.append(
        DemoAbsence(
            joanne.username,
            "sick",
            off_sick,
            today + timedelta(weeks=4),
            "Long-term sickness (phased return planned)",
        )
    )
    return sorted(out, key=lambda a: (a.username, a.starts_on))
