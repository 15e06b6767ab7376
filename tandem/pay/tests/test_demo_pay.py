"""The demo's pay snapshots agree with its absences: somebody whose sickness has outlasted the
company's four weeks of full sick pay is on reduced pay that month, and nobody else is."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from tandem.demo.pay import _rows, days_on_sick_pay
from tandem.org.models import Absence, Person
from tandem.pay.models import PayRow, PaySnapshot

END = "2026-11-25T11:00:00Z"


def test_days_past_four_weeks_of_a_spell_are_counted_once() -> None:
    nov1, nov30 = date(2026, 11, 1), date(2026, 11, 30)
    # Sick from 20 Oct: full pay to 16 Nov (28 days), statutory sick pay 17–30 Nov: 14 days.
    assert days_on_sick_pay(nov1, nov30, [(date(2026, 10, 20), date(2026, 12, 31))]) == 14
    # Back on 20 Nov: 17, 18, 19 and 20 Nov.
    assert days_on_sick_pay(nov1, nov30, [(date(2026, 10, 20), date(2026, 11, 20))]) == 4
    # Four weeks exactly: never reduced.
    assert days_on_sick_pay(nov1, nov30, [(date(2026, 11, 1), date(2026, 11, 28))]) == 0
    # Two overlapping spells count a day once; short spells never count.
    spells = [(date(2026, 10, 1), date(2026, 11, 5)), (date(2026, 10, 2), date(2026, 11, 3)),
              (date(2026, 11, 10), date(2026, 11, 12))]
    assert days_on_sick_pay(nov1, nov30, spells) == 5
    assert days_on_sick_pay(nov1, nov30, []) == 0


@pytest.mark.django_db(transaction=True)
def test_the_demo_marks_reduced_pay_where_its_absences_say_so() -> None:
    call_command("demo", "--no-serve", "--weeks", "2", "--end", END, "--seed", "4", stdout=io.StringIO())
    sick: dict[int, list[tuple[date, date]]] = {}
    for a in Absence.objects.filter(kind="sick"):
        sick.setdefault(a.person_id, []).append((a.starts_on, a.ends_on))
    rows = list(PayRow.objects.select_related("snapshot"))
    assert rows
    for row in rows:
        end = row.snapshot.snapshot_date
        first = end.replace(day=1)
        # Independent recount: any day of the month 28 days or more into one of the person's spells.
        reduced = any(
            start + timedelta(days=28) <= day <= stop
            for start, stop in sick.get(row.person_id, [])
            for day in (first + timedelta(days=n) for n in range((end - first).days + 1))
        )
        assert row.reduced_by_leave == reduced, (row.person_id, end)
    # A person sick through the whole month is on statutory sick pay for every day of it:
    # £118.75 a week for October's 31 days = £525.89.
    snapshot = PaySnapshot.objects.order_by("snapshot_date").last()
    assert snapshot is not None and snapshot.snapshot_date == date(2026, 10, 31)
    people = {p.user.username: p for p in Person.objects.select_related("user")}
    made = _rows(snapshot, people, random.Random(1), 1.0, {"joanne.fox": [(date(2026, 9, 1), date(2026, 12, 31))]})
    joanne = next(r for r in made if r.person.user.username == "joanne.fox")
    assert joanne.reduced_by_leave and str(joanne.ordinary_pay) == "525.89"
    assert not any(r.reduced_by_leave for r in made if r is not joanne)
