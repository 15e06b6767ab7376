"""Pay gaps between two groups, measured the way UK gender pay gap reporting measures them
(the Equality Act 2010 (Gender Pay Gap Information) Regulations 2017, SI 2017/172), with the
front office and the back office as the two groups instead of men and women.

    people = [Pay("front", "C2", weekly_hours=37.5, period_days=30, ordinary_pay=3000, ...), ...]
    m = measure(people)
    m.mean_gap, m.median_gap          # (A - B) / A of the hourly rates; A is the front office
    m.bonus_mean_gap, m.bonus_median_gap, m.bonus_share
    m.quartiles                       # four bands, each group's share of each
    by_grade(people)                  # {grade: Measures} over each grade's people alone

The formulas (docs/pay.md gives them with their sources):

- **Hourly rate of pay** (regulation 6): the ordinary pay and the bonus pay paid in the
  relevant pay period (the bonus already pro-rated to the period as regulation 6(1)(b) says:
  payroll does that), added, times the appropriate multiplier 7 / (days in the pay period),
  divided by the weekly working hours (regulation 7: the contractual hours)::

      hourly = (ordinary_pay + period_bonus) * 7 / period_days / weekly_hours

  that is, the period's pay over (weekly hours * weeks in the period).
- **Full-pay relevant employees** (regulation 1): people paid at a reduced rate or nil in the
  period because of leave are left out of the hourly figures and the quartiles; they stay in
  the bonus figures, which the regulations take over all relevant employees.
- **Mean and median gap** (regulations 8 and 9): ``(A - B) / A`` with A the front office's
  mean (median) hourly rate and B the back office's: the reference group is the front office,
  as men's pay is the reference in the regulations. A positive gap: the back office is paid
  less per hour; a negative one: more.
- **Bonus gaps** (regulations 10 and 11): the same over the bonus pay paid in the twelve
  months ending with the snapshot date, among the people of each group who were paid any.
- **Bonus shares** (regulation 12): the share of each group paid any bonus in those months.
- **Quartiles** (regulation 13): the full-pay people ranked by hourly rate, lowest first, cut
  into four bands as nearly equal as possible; each group's share of each band. People with
  the same hourly rate who straddle a band's boundary are split across the bands in
  proportion to each group's share of the tie, as the government's guidance asks ("distribute
  them as evenly as possible"), so that the order of the file never decides.

Pure: the standard library only (``statistics`` computes the means and medians).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FRONT = "front"
BACK = "back"
GROUPS = (FRONT, BACK)
#: The EU Pay Transparency Directive's threshold for a joint pay assessment (article 10): a gap
#: of 5 % or more in a category of workers calls for one.
REVIEW_GAP = 0.05


@dataclass(frozen=True)
class Pay:
    """One person's pay in a snapshot, as payroll exports it."""

    group: str  # FRONT or BACK
    grade: str
    weekly_hours: float
    period_days: int
    ordinary_pay: float
    period_bonus: float = 0.0  # bonus pay in the pay period, pro-rated to it (reg. 6(1)(b))
    bonus_12_months: float = 0.0  # bonus pay in the twelve months ending with the snapshot
    reduced_by_leave: bool = False

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"the group is {FRONT!r} or {BACK!r}, not {self.group!r}")
        if self.weekly_hours <= 0 or self.period_days <= 0:
            raise ValueError("weekly hours and the period's days are more than 0")
        if min(self.ordinary_pay, self.period_bonus, self.bonus_12_months) < 0:
            raise ValueError("pay is never negative")

    @property
    def hourly(self) -> float:
        """The hourly rate of pay (regulation 6)."""
        return hourly_rate(self.ordinary_pay, self.period_bonus, self.period_days, self.weekly_hours)


def hourly_rate(ordinary_pay: float, period_bonus: float, period_days: int, weekly_hours: float) -> float:
    """(ordinary + bonus pay in the period) * 7 / days in the period / weekly hours."""
    return (ordinary_pay + period_bonus) * 7 / period_days / weekly_hours


def gap(a: float | None, b: float | None) -> float | None:
    """``(A - B) / A``: how much less B is than A, as a share of A (None when unknowable)."""
    if a is None or b is None or a == 0:
        return None
    return (a - b) / a


@dataclass(frozen=True)
class Group:
    """One group's figures."""

    people: int  # relevant employees (everyone in the snapshot)
    full_pay: int  # of whom paid in full (in the hourly figures and the quartiles)
    mean_hourly: float | None
    median_hourly: float | None
    bonus_paid: int  # people paid any bonus in the twelve months
    mean_bonus: float | None  # among those paid one
    median_bonus: float | None

    @property
    def bonus_share(self) -> float | None:
        return self.bonus_paid / self.people if self.people else None


@dataclass(frozen=True)
class Quartile:
    name: str
    people: float  # the band's size (whole unless the total is not divisible by four: never)
    front: float  # headcount of the front office in the band (a tie may split a person)
    back: float

    @property
    def front_share(self) -> float | None:
        return self.front / self.people if self.people else None

    @property
    def back_share(self) -> float | None:
        return self.back / self.people if self.people else None


@dataclass(frozen=True)
class Measures:
    front: Group
    back: Group
    quartiles: tuple[Quartile, ...] = field(default=())

    @property
    def mean_gap(self) -> float | None:
        return gap(self.front.mean_hourly, self.back.mean_hourly)

    @property
    def median_gap(self) -> float | None:
        return gap(self.front.median_hourly, self.back.median_hourly)

    @property
    def bonus_mean_gap(self) -> float | None:
        return gap(self.front.mean_bonus, self.back.mean_bonus)

    @property
    def bonus_median_gap(self) -> float | None:
        return gap(self.front.median_bonus, self.back.median_bonus)

    @property
    def flagged(self) -> bool:
        """A mean or median hourly gap of 5 % or more, either way: calls for a review."""
        return any(g is not None and abs(g) >= REVIEW_GAP - 1e-12 for g in (self.mean_gap, self.median_gap))


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def group_figures(people: Sequence[Pay]) -> Group:
    hourly = [p.hourly for p in people if not p.reduced_by_leave]
    bonuses = [p.bonus_12_months for p in people if p.bonus_12_months > 0]
    return Group(
        people=len(people), full_pay=len(hourly), mean_hourly=_mean(hourly), median_hourly=_median(hourly),
        bonus_paid=len(bonuses), mean_bonus=_mean(bonuses), median_bonus=_median(bonuses),
    )


QUARTILE_NAMES = ("Lower", "Lower middle", "Upper middle", "Upper")


def quartile_bounds(n: int) -> tuple[int, ...]:
    """Where the four bands of ``n`` ranked people begin and end: as nearly equal as possible,
    the bigger bands first from the bottom when ``n`` is not divisible by four (10: 3, 3, 2, 2)."""
    base, extra = divmod(n, 4)
    bounds = [0]
    for k in range(4):
        bounds.append(bounds[-1] + base + (1 if k < extra else 0))
    return tuple(bounds)


def quartiles(people: Iterable[Pay]) -> tuple[Quartile, ...]:
    """Each group's headcount in each band of the full-pay people ranked by hourly rate.

    A run of equal rates fills its places in each band it covers in proportion to its groups:
    4 people at £10 (3 front, 1 back) covering 2 places of the lower band and 2 of the next
    give each band 1.5 front and 0.5 back.
    """
    ranked = sorted((round(p.hourly, 9), p.group) for p in people if not p.reduced_by_leave)
    bounds = quartile_bounds(len(ranked))
    counts = [{FRONT: 0.0, BACK: 0.0} for _ in range(4)]
    start = 0
    while start < len(ranked):
        end = start
        while end < len(ranked) and ranked[end][0] == ranked[start][0]:
            end += 1
        tie = ranked[start:end]
        mix = {g: sum(1 for _, grp in tie if grp == g) / len(tie) for g in GROUPS}
        for k in range(4):
            overlap = max(0, min(end, bounds[k + 1]) - max(start, bounds[k]))
            for g in GROUPS:
                counts[k][g] += overlap * mix[g]
        start = end
    return tuple(
        Quartile(QUARTILE_NAMES[k], float(bounds[k + 1] - bounds[k]), counts[k][FRONT], counts[k][BACK])
        for k in range(4)
    )


def measure(people: Sequence[Pay]) -> Measures:
    """Every measure over these people (a whole snapshot, or one grade's people)."""
    by_group: dict[str, list[Pay]] = defaultdict(list)
    for p in people:
        by_group[p.group].append(p)
    return Measures(
        front=group_figures(by_group[FRONT]), back=group_figures(by_group[BACK]), quartiles=quartiles(people)
    )


def by_grade(people: Sequence[Pay]) -> dict[str, Measures]:
    """The measures over each grade's people alone, grades in their natural order."""
    grades: dict[str, list[Pay]] = defaultdict(list)
    for p in people:
        grades[p.grade].append(p)
    return {grade: measure(grades[grade]) for grade in sorted(grades)}
