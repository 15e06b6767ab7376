"""The pay parity report: the measures of ``tandem.engines.paygap`` over a snapshot, overall and
per grade, their trend over the snapshots, HR's explanations, and nothing about a group smaller
than the threshold (``tandem.engines.suppression``), not even by subtraction.

A grade's front office (back office) is a cell of a table whose total is the whole front (back)
office: the secondary suppression of the pulse decides which cells may be published, so that
the total minus the published grades never leaves a small group's figures to work out. A
grade is shown only when both its groups are: its gap would otherwise give the withheld one.
The bonus amounts are a table of their own over the people paid a bonus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tandem.engines.paygap import BACK, FRONT, GROUPS, REVIEW_GAP, Measures, Pay, by_grade, measure
from tandem.engines.suppression import Cell, protect
from tandem.org.queries import AnyUser, person_of
from tandem.pay.models import PayRow, PaySnapshot
from tandem.pay.queries import latest_explanations, reads_pay_report, snapshots_visible_to, threshold
from tandem.refusal import Forbidden, NotFound


@dataclass(frozen=True)
class Shown:
    """Which figures may be published: the overall ones per group, and the grades."""

    hourly: dict[str, bool]  # group -> its overall hourly figures (and headcounts)
    bonus: dict[str, bool]  # group -> its overall bonus amounts
    grades: set[str]  # grades whose hourly figures, headcounts and bonus shares are shown
    grade_bonus: set[str]  # of those, grades whose bonus amounts are shown too


def _decide(counts: dict[str, dict[str, int]], limit: int, hidden: set[str]) -> tuple[dict[str, bool], set[str]]:
    """counts: grade -> group -> size. Which groups' totals and which grades may be shown,
    repeated until no grade hidden in one group is left shown in the other."""
    grades = sorted(counts)
    hidden = set(hidden)
    while True:
        totals: dict[str, bool] = {}
        newly: set[str] = set()
        for group in GROUPS:
            cells = [Cell(counts[g][group], hidden=g in hidden) for g in grades]
            decision = protect(cells, limit)
            totals[group] = decision.total
            for g, shown, cell in zip(grades, decision.shown, cells, strict=True):
                # A group of nobody is not a small group: "no back office in this grade" is shown.
                if not shown and (cell.answers > 0 or cell.hidden) and g not in hidden:
                    newly.add(g)
        if not newly:
            return totals, set(grades) - hidden
        hidden |= newly


def decide(people: list[Pay], limit: int) -> Shown:
    full: dict[str, dict[str, int]] = {}
    paid: dict[str, dict[str, int]] = {}
    for p in people:
        full.setdefault(p.grade, {FRONT: 0, BACK: 0})
        paid.setdefault(p.grade, {FRONT: 0, BACK: 0})
        if not p.reduced_by_leave:
            full[p.grade][p.group] += 1
        if p.bonus_12_months > 0:
            paid[p.grade][p.group] += 1
    hourly, grades = _decide(full, limit, set())
    bonus, grade_bonus = _decide(paid, limit, set(full) - grades)
    return Shown(hourly=hourly, bonus=bonus, grades=grades, grade_bonus=grade_bonus & grades)


def _pay(row: PayRow) -> Pay:
    return Pay(row.side, row.grade, weekly_hours=float(row.weekly_hours), period_days=row.period_days,
               ordinary_pay=float(row.ordinary_pay), period_bonus=float(row.period_bonus),
               bonus_12_months=float(row.bonus_12_months), reduced_by_leave=row.reduced_by_leave)


def people_of(snapshot: PaySnapshot) -> list[Pay]:
    """The snapshot's rows as the engine's plain data (read here for aggregation only: no
    individual figure leaves this module)."""
    return [_pay(r) for r in PayRow.objects.filter(snapshot=snapshot).order_by()]


def _group(m: Measures, group: str, hourly: bool, bonus: bool) -> dict[str, Any]:
    g = m.front if group == FRONT else m.back
    return {
        "people": g.people if hourly else None,
        "full_pay": g.full_pay if hourly else None,
        "mean_hourly": g.mean_hourly if hourly else None,
        "median_hourly": g.median_hourly if hourly else None,
        "bonus_share": g.bonus_share if hourly else None,
        "mean_bonus": g.mean_bonus if bonus else None,
        "median_bonus": g.median_bonus if bonus else None,
    }


def block(m: Measures, *, hourly: dict[str, bool], bonus: dict[str, bool]) -> dict[str, Any]:
    """One row of figures (overall or a grade) with whatever may not be published left out."""
    both = hourly[FRONT] and hourly[BACK]
    both_bonus = both and bonus[FRONT] and bonus[BACK]
    return {
        "shown": both,
        "bonus_shown": both_bonus,
        "front": _group(m, FRONT, hourly[FRONT], hourly[FRONT] and bonus[FRONT]),
        "back": _group(m, BACK, hourly[BACK], hourly[BACK] and bonus[BACK]),
        "mean_gap": m.mean_gap if both else None,
        "median_gap": m.median_gap if both else None,
        "bonus_mean_gap": m.bonus_mean_gap if both_bonus else None,
        "bonus_median_gap": m.bonus_median_gap if both_bonus else None,
        "flagged": both and m.flagged,
    }


def bands(m: Measures, limit: int) -> list[dict[str, Any]]:
    """The quartiles' shares, or none when a band holds fewer people than the threshold: in a
    small grade a band of two says who the two best-paid people are."""
    if any(q.people < limit for q in m.quartiles):
        return []
    return [{"name": q.name, "people": q.people, "front_share": q.front_share, "back_share": q.back_share}
            for q in m.quartiles]


def snapshot_figures(people: list[Pay], limit: int) -> dict[str, Any]:
    shown = decide(people, limit)
    overall = measure(people)
    whole = block(overall, hourly=shown.hourly, bonus=shown.bonus)
    grades = []
    for grade, m in by_grade(people).items():
        visible = grade in shown.grades
        with_bonus = grade in shown.grade_bonus
        figures = block(m, hourly={FRONT: visible, BACK: visible}, bonus={FRONT: with_bonus, BACK: with_bonus})
        grades.append({"grade": grade, **figures, "quartiles": bands(m, limit) if visible else []})
    return {"overall": whole, "quartiles": bands(overall, limit) if whole["shown"] else [], "grades": grades}


def report(user: AnyUser | None, *, snapshot_id: int | None = None) -> dict[str, Any]:
    """The report for executives, HR and administrators: one snapshot (the latest unless
    asked), each snapshot's overall gaps for the trend, and HR's explanations."""
    if not reads_pay_report(person_of(user)):
        raise Forbidden("The pay parity report is for executives, HR and administrators.")
    limit = threshold()
    snapshots = list(snapshots_visible_to(user).order_by("snapshot_date"))
    explanations = latest_explanations(user)
    if not snapshots:
        return {"threshold": limit, "review_gap": REVIEW_GAP, "snapshot": None, "snapshots": [], "trend": [],
                "overall": None, "quartiles": [], "grades": [], "explanations": explanations}
    chosen = snapshots[-1]
    if snapshot_id is not None:
        chosen = next((s for s in snapshots if s.pk == snapshot_id), None)  # type: ignore[assignment]
        if chosen is None:
            raise NotFound("There is no such pay snapshot.")
    trend = []
    grade_trend: dict[str, list[dict[str, Any]]] = {}
    current: dict[str, Any] = {}
    for s in snapshots:
        figures = snapshot_figures(people_of(s), limit)
        if s.pk == chosen.pk:
            current = figures
        trend.append(_trend_point(s, figures["overall"]))
        for g in figures["grades"]:
            grade_trend.setdefault(g["grade"], []).append(_trend_point(s, g))
    for g in current["grades"]:
        g["explanation"] = explanations.get(g["grade"]) if g["shown"] else None
        g["trend"] = grade_trend[g["grade"]]
    return {"threshold": limit, "review_gap": REVIEW_GAP, "snapshot": chosen, "snapshots": snapshots,
            "trend": trend, "explanations": explanations, **current}


def _trend_point(snapshot: PaySnapshot, figures: dict[str, Any]) -> dict[str, Any]:
    """One snapshot's gaps in a trend (a grade absent from a snapshot has no point there)."""
    return {"snapshot": snapshot, "date": snapshot.snapshot_date, "shown": figures["shown"],
            "mean_gap": figures["mean_gap"], "median_gap": figures["median_gap"],
            "bonus_mean_gap": figures["bonus_mean_gap"], "bonus_median_gap": figures["bonus_median_gap"]}

