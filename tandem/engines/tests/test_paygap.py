"""The pay gap measures against tables worked out by hand (the working is in the comments)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from tandem.engines.paygap import BACK, FRONT, Pay, by_grade, gap, hourly_rate, measure, quartile_bounds, quartiles


def person(group: str, ordinary: float, *, bonus12: float = 0, period_bonus: float = 0, leave: bool = False,
           grade: str = "C1") -> Pay:
    # 28 days (four weeks) and 25 hours a week: hourly = pay * 7 / 28 / 25 = pay / 100.
    return Pay(group, grade, weekly_hours=25, period_days=28, ordinary_pay=ordinary, period_bonus=period_bonus,
               bonus_12_months=bonus12, reduced_by_leave=leave)


# The worked table. Hourly = (ordinary + period bonus) / 100.
#
#   group  ordinary  period bonus  hourly  12-month bonus  on reduced pay
#   front    2000         0          20        1000
#   front    2500         0          25        3000
#   front    3000         0          30           0
#   front    3500       500          40        2000
#   front     500         0        (left out)   600        yes
#   back     1500         0          15           0
#   back     2000         0          20           0
#   back     2500         0          25         400
TABLE = [
    person(FRONT, 2000, bonus12=1000),
    person(FRONT, 2500, bonus12=3000),
    person(FRONT, 3000),
    person(FRONT, 3500, period_bonus=500, bonus12=2000),
    person(FRONT, 500, bonus12=600, leave=True),
    person(BACK, 1500),
    person(BACK, 2000),
    person(BACK, 2500, bonus12=400),
]


def test_it_computes_the_hourly_rate_as_regulation_6_does() -> None:
    # A month of 30 days, 37.5 hours a week, £3,000 and £150 of bonus pro-rated to the month:
    # 3150 * 7 / 30 = 735 a week; 735 / 37.5 = 19.60 an hour.
    assert hourly_rate(3000, 150, 30, 37.5) == pytest.approx(19.60)
    assert TABLE[3].hourly == pytest.approx(40.0)


def test_it_computes_the_mean_and_median_hourly_gaps_without_people_on_reduced_pay() -> None:
    m = measure(TABLE)
    # Front, full pay: 20, 25, 30, 40 -> mean 115 / 4 = 28.75, median (25 + 30) / 2 = 27.5.
    # Back: 15, 20, 25 -> mean 20, median 20.
    assert (m.front.full_pay, m.back.full_pay) == (4, 3)
    assert m.front.mean_hourly == pytest.approx(28.75) and m.front.median_hourly == pytest.approx(27.5)
    assert m.back.mean_hourly == pytest.approx(20) and m.back.median_hourly == pytest.approx(20)
    # Mean gap (28.75 - 20) / 28.75 = 8.75 / 28.75 = 7/23; median gap 7.5 / 27.5 = 3/11.
    assert m.mean_gap == pytest.approx(float(Fraction(7, 23)))
    assert m.median_gap == pytest.approx(float(Fraction(3, 11)))
    assert m.flagged


def test_it_computes_the_bonus_gaps_and_shares_over_everybody_paid_a_bonus() -> None:
    m = measure(TABLE)
    # Front bonuses (the person on leave counts: bonus figures are over all relevant employees):
    # 1000, 3000, 2000, 600 -> mean 6600 / 4 = 1650, median (1000 + 2000) / 2 = 1500.
    # Back: 400 alone -> mean 400, median 400.
    assert (m.front.bonus_paid, m.back.bonus_paid) == (4, 1)
    assert m.front.mean_bonus == pytest.approx(1650) and m.front.median_bonus == pytest.approx(1500)
    # Mean bonus gap 1250 / 1650 = 25/33; median 1100 / 1500 = 11/15.
    assert m.bonus_mean_gap == pytest.approx(float(Fraction(25, 33)))
    assert m.bonus_median_gap == pytest.approx(float(Fraction(11, 15)))
    # Shares: front 4 of 5 people, back 1 of 3.
    assert m.front.bonus_share == pytest.approx(0.8)
    assert m.back.bonus_share == pytest.approx(1 / 3)


def test_it_splits_ties_across_quartile_boundaries_in_proportion() -> None:
    # Seven full-pay people: bands of 2, 2, 2, 1 (the bigger bands from the bottom).
    # Ranked: 15b | 20f 20b | 25f 25b | 30f | 40f at places 0 | 1-2 | 3-4 | 5 | 6.
    # Lower [0, 2): 15b, and one of the two places of the tie at 20 -> 0.5 f, 0.5 b: f 0.5, b 1.5.
    # Lower middle [2, 4): the other place of 20 (0.5 / 0.5), one of 25 (0.5 / 0.5): f 1, b 1.
    # Upper middle [4, 6): the other place of 25 (0.5 / 0.5) and 30f: f 1.5, b 0.5.
    # Upper [6, 7): 40f: f 1, b 0.
    expected = [(2, 0.5, 1.5), (2, 1, 1), (2, 1.5, 0.5), (1, 1, 0)]
    for order in range(5):  # the file's order never decides
        shuffled = TABLE[:]
        random.Random(order).shuffle(shuffled)
        got = [(q.people, q.front, q.back) for q in quartiles(shuffled)]
        assert got == [pytest.approx(e) for e in expected]
    upper_middle = measure(TABLE).quartiles[2]
    assert upper_middle.front_share == pytest.approx(0.75) and upper_middle.back_share == pytest.approx(0.25)


def test_a_tie_covering_every_band_is_spread_over_all_four() -> None:
    # Eight people on one rate, 6 front and 2 back: each band of 2 holds 2 * 6/8 = 1.5 front
    # and 2 * 2/8 = 0.5 back.
    people = [person(FRONT, 2000)] * 6 + [person(BACK, 2000)] * 2
    assert [(q.front, q.back) for q in quartiles(people)] == [(1.5, 0.5)] * 4


def test_the_bands_are_as_nearly_equal_as_possible() -> None:
    assert quartile_bounds(8) == (0, 2, 4, 6, 8)
    assert quartile_bounds(10) == (0, 3, 6, 8, 10)
    assert quartile_bounds(3) == (0, 1, 2, 3, 3)


def test_it_measures_each_grade_on_its_own() -> None:
    # Grade C1: front 20, 30; back 20, 30 -> no gap at all.
    # Grade C2: front 40; back 30, 30 -> (40 - 30) / 40 = 25 %.
    # Overall: front 20, 30, 40 (mean 30), back 20, 30, 30, 30 (mean 27.5): gap 2.5 / 30 = 1/12,
    # which is "the back office has more junior grades" and "same grade, different pay" mixed.
    people = [
        person(FRONT, 2000), person(FRONT, 3000), person(BACK, 2000), person(BACK, 3000),
        person(FRONT, 4000, grade="C2"), person(BACK, 3000, grade="C2"), person(BACK, 3000, grade="C2"),
    ]
    grades = by_grade(people)
    assert list(grades) == ["C1", "C2"]
    assert grades["C1"].mean_gap == 0 and grades["C1"].median_gap == 0 and not grades["C1"].flagged
    assert grades["C2"].mean_gap == pytest.approx(0.25) and grades["C2"].flagged
    assert measure(people).mean_gap == pytest.approx(1 / 12)


def test_a_gap_is_negative_when_the_back_office_is_paid_more_and_unknown_without_both_groups() -> None:
    assert gap(20, 25) == pytest.approx(-0.25)
    assert gap(None, 25) is None and gap(0, 5) is None
    m = measure([person(FRONT, 2000)])
    assert m.back.mean_hourly is None and m.mean_gap is None and m.bonus_mean_gap is None
    assert not m.flagged
    # Exactly 5 % is flagged: 20 against 19.
    assert measure([person(FRONT, 2000), person(BACK, 1900)]).flagged


def test_it_refuses_impossible_rows() -> None:
    with pytest.raises(ValueError):
        Pay(FRONT, "C1", weekly_hours=0, period_days=28, ordinary_pay=100)
    with pytest.raises(ValueError):
        Pay(FRONT, "C1", weekly_hours=10, period_days=28, ordinary_pay=-1)
    with pytest.raises(ValueError):
        Pay("middle", "C1", weekly_hours=10, period_days=28, ordinary_pay=1)
