"""Secondary suppression, checked by an onlooker who tries to work the withheld cells out.

The onlooker (``attack``) knows every published figure of a table: the total and the shown
cells, for two measures (answers, and answers Often or Always), and each cell's bound (the
people asked). It bounds each withheld cell's figures by linear programming over everything
consistent with what it knows (scipy's HiGHS, nothing shared with the engine). The constraint
matrix is totally unimodular, so the LP's extremes are whole numbers a real table can have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from tandem.engines.suppression import Cell, Decision, protect


@dataclass(frozen=True)
class Row:
    """A cell as the test knows it: the answers, how many of them frustrated, the bound."""

    answers: int
    frustrated: int
    asked: int | None
    hidden: bool = False

    @property
    def bound(self) -> int:
        # What the onlooker may know: the people asked; where nobody publishes it, the most
        # cautious reading (it knows the count exactly bounds the cell), as the engine assumes.
        return self.asked if self.asked is not None else self.answers


def cells(rows: list[Row]) -> list[Cell]:
    return [Cell(r.answers, r.asked, r.hidden) for r in rows]


def extremes(objective: int, size: int, a_eq: list[list[int]], b_eq: list[int],
             bounds: list[tuple[int, int]], extra: Sequence[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """Min and max of variable ``objective`` over the polytope (None when it is empty).
    ``extra`` fixes variables: (index, value)."""
    bounds = list(bounds)
    for index, value in extra:
        bounds[index] = (value, value)
    found = []
    for sign in (1, -1):
        c = [0.0] * size
        c[objective] = sign
        # f_j <= n_j for each cell: variables are n_0..n_k-1, then f_0..f_k-1.
        k = size // 2
        a_ub = [[(-1 if v == j else 1 if v == k + j else 0) for v in range(size)] for j in range(k)]
        res = linprog(c, A_ub=a_ub or None, b_ub=[0] * k or None, A_eq=a_eq or None, b_eq=b_eq or None,
                      bounds=bounds, method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        found.append(round(sign * res.fun))
    return found[0], found[1]


def attack(rows: list[Row], decision: Decision, threshold: int) -> list[str]:
    """What the onlooker works out that it should not: a list of findings (empty: nothing)."""
    findings = []
    withheld = [i for i, shown in enumerate(decision.shown) if not shown]
    shown = [i for i, s in enumerate(decision.shown) if s]
    for i in shown:
        if rows[i].answers < threshold or rows[i].hidden:
            findings.append(f"cell {i} is shown with {rows[i].answers} answers")
    if not decision.total:
        if shown:
            findings.append("cells shown under a withheld total")
        return findings
    total_n = sum(r.answers for r in rows)
    total_f = sum(r.frustrated for r in rows)
    s = total_n - sum(rows[i].answers for i in shown)  # what subtraction gives, both measures
    f = total_f - sum(rows[i].frustrated for i in shown)
    answering = [i for i in withheld if rows[i].answers > 0]
    if len(answering) == 1 and rows[answering[0]].answers < threshold:
        findings.append(f"cell {answering[0]} is the only withheld cell with answers")
    if 0 < s < threshold:
        findings.append(f"the withheld cells add up to {s}, below the threshold")
    k = len(withheld)
    size = 2 * k
    a_eq = [[1] * k + [0] * k, [0] * k + [1] * k]
    b_eq = [s, f]
    bounds = [(0, rows[i].bound) for i in withheld] + [(0, rows[i].bound) for i in withheld]
    everybody_answered = all(r.answers == r.bound for r in rows)
    for position, i in enumerate(withheld):
        if not 0 < rows[i].answers < threshold:
            continue
        n_span = extremes(position, size, a_eq, b_eq, bounds)
        f_span = extremes(k + position, size, a_eq, b_eq, bounds)
        assert n_span is not None and f_span is not None  # the real table is a solution
        (n_lo, n_hi), (f_lo, f_hi) = n_span, f_span
        assert n_lo <= rows[i].answers <= n_hi and f_lo <= rows[i].frustrated <= f_hi  # the oracle is sound
        homogeneous = f in (0, s)
        if n_lo == n_hi and not everybody_answered:
            findings.append(f"cell {i}: its {rows[i].answers} answers follow")
        if f_lo == f_hi and not (f == 0 or (f == s and n_lo == n_hi)):
            findings.append(f"cell {i}: its {rows[i].frustrated} frustrated follow")
        indices = set()
        for v in range(max(n_lo, 1), n_hi + 1):
            span = extremes(k + position, size, a_eq, b_eq, bounds, extra=[(position, v)])
            if span is not None:
                indices |= {Fraction(x, v) for x in range(span[0], span[1] + 1)}
        if len(indices) == 1 and not homogeneous:
            findings.append(f"cell {i}: its frustration index {indices.pop()} follows")
    return findings


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Row], int]:
    threshold = draw(st.integers(3, 6))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        answers = draw(st.integers(0, 2 * threshold + 2))
        room = draw(st.one_of(st.none(), st.integers(0, 4)))
        rows.append(Row(answers, draw(st.integers(0, answers)), None if room is None else answers + room))
    if draw(st.booleans()):  # answers from people who have left the front office since
        answers = draw(st.integers(0, threshold))
        rows.insert(draw(st.integers(0, len(rows))), Row(answers, draw(st.integers(0, answers)), None, hidden=True))
    return rows, threshold


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_withheld_cell_can_be_worked_out_from_what_is_published(table: tuple[list[Row], int]) -> None:
    rows, threshold = table
    decision = protect(cells(rows), threshold)
    assert len(decision.shown) == len(rows)
    assert decision.total == (sum(r.answers for r in rows) >= threshold)
    assert attack(rows, decision, threshold) == []


@settings(max_examples=200, deadline=None)
@given(tables())
def test_it_withholds_no_more_than_two_cells_beyond_those_below_the_threshold(table: tuple[list[Row], int]) -> None:
    rows, threshold = table
    decision = protect(cells(rows), threshold)
    if decision.total:
        primary = sum(1 for r in rows if r.answers < threshold or r.hidden)
        assert decision.shown.count(False) <= primary + 2


def test_the_onlooker_finds_what_primary_suppression_alone_leaves() -> None:
    # The check is only worth something if it catches the leak the rule exists for.
    rows = [Row(6, 3, 9), Row(2, 2, 4)]
    primary = Decision(total=True, shown=(True, False))
    assert "cell 1 is the only withheld cell with answers" in attack(rows, primary, 5)
    rows = [Row(2, 2, 2), Row(3, 1, 3), Row(6, 1, 9)]
    pair = Decision(total=True, shown=(False, False, True))
    assert attack(rows, pair, 5) == ["cell 0: its 2 answers follow", "cell 1: its 3 answers follow"]


def test_the_smallest_shown_cell_keeps_a_single_small_one_company() -> None:
    decision = protect([Cell(6, 9), Cell(2, 4), Cell(7, 8)], 5)
    assert decision == Decision(total=True, shown=(False, False, True))


def test_a_small_total_withholds_everything_and_nothing_small_withholds_nothing() -> None:
    assert protect([Cell(2, 3), Cell(2, 2)], 5) == Decision(total=False, shown=(False, False))
    assert protect([Cell(5, 5), Cell(0, 3), Cell(9, 9)], 5) == Decision(total=True, shown=(True, False, True))


def test_answers_in_no_cell_are_withheld_and_kept_company() -> None:
    # Somebody answered, then moved to the back office: their answer is in the total only.
    decision = protect([Cell(6, 8), Cell(1, hidden=True)], 5)
    assert decision == Decision(total=True, shown=(False, False))


def test_when_the_withheld_cells_are_all_answered_in_full_one_with_room_joins_them() -> None:
    # 2 of 2 and 3 of 3 add up to 5 of 5: each count would follow. The 6 of 6 is no help.
    decision = protect([Cell(2, 2), Cell(3, 3), Cell(6, 6), Cell(8, 12)], 5)
    assert decision == Decision(total=True, shown=(False, False, True, False))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        protect([Cell(1)], 0)
    with pytest.raises(ValueError, match="negative"):
        protect([Cell(-1)], 5)
