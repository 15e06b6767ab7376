"""A pay snapshot for the test cast, worked out by hand (docs in the comments of the tests).

Every row: 25 hours a week and a 28-day period, so that hourly pay = ordinary pay / 100
(ordinary * 7 / 28 / 25).
"""

from __future__ import annotations

import csv
import io

from tandem.org.models import Person
from tests.cast import Cast, make_person

# (username, grade, hourly, 12-month bonus, reduced by leave)
FRONT = [
    ("f1", "C1", 20, 1000, False), ("f2", "C1", 22, 2000, False), ("f3", "C1", 24, 3000, False),
    ("f4", "C1", 26, 4000, False), ("f5", "C1", 28, 5000, False),
    ("f6", "C3", 30, 500, False), ("f7", "C3", 30, 1500, False), ("f8", "C3", 32, 0, False),
    ("f9", "C3", 34, 0, False), ("f10", "C3", 36, 0, False), ("f11", "C3", 38, 0, False),
    ("f12", "C2", 40, 0, False), ("f13", "C2", 44, 0, False),
    ("f14", "C3", 10, 0, True),
]
BACK = [
    ("b1", "C1", 18, 300, False), ("b2", "C1", 20, 0, False), ("b3", "C1", 22, 0, False),
    ("b4", "C1", 24, 0, False), ("b5", "C1", 26, 0, False),
    ("b6", "C3", 28, 0, False), ("b7", "C3", 30, 0, False), ("b8", "C3", 30, 0, False),
    ("b9", "C3", 32, 0, False), ("b10", "C3", 34, 0, False), ("b11", "C3", 36, 0, False),
    ("b12", "C2", 41, 0, False),
]
HEADER = "person,grade,weekly_hours,period_days,ordinary_pay,period_bonus,bonus_12_months,reduced_by_leave"


def staff(cast: Cast) -> dict[str, Person]:
    people = {}
    for username, *_ in FRONT:
        people[username] = make_person(username, cast.leeds)
    for username, *_ in BACK:
        people[username] = make_person(username, cast.payroll)
    return people


def snapshot_csv(rows: list[tuple[str, str, float, float, bool]] | None = None, *, scale: float = 1.0) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    for username, grade, hourly, bonus, leave in rows if rows is not None else FRONT + BACK:
        writer.writerow([username, grade, "25", "28", f"{hourly * 100 * scale:.2f}", "0", f"{bonus:.2f}",
                         "yes" if leave else "no"])
    return out.getvalue().encode()
