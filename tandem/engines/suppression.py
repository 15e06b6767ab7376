"""Which cells of a table of small counts may be published, so that no cell below the
threshold can be worked out from the published ones by subtraction (secondary suppression).

    decision = protect([Cell(6, asked=9), Cell(2, asked=4), Cell(7, asked=8)], threshold=5)
    decision.total      # True: 15 answers
    decision.shown      # (False, False, True): the 2 is withheld, and so is the 6

The table is one total and the cells that add up to it: for the pulse, the answers about one
back-office unit in one period, one cell per requesting unit. A cell with fewer answers than
the threshold is withheld (primary suppression). That alone hides nothing when it is the only
one withheld: the total minus the shown cells is the withheld cells' sum. Every measure over
the cells adds up the same way (the number answering Often or Always, hence the frustration
index; any sum behind a mean), so the same cells are withheld for all of them.

The rule, for a table of one level (a total and its cells), checked in this order:

1. The total is withheld when it is below the threshold, and then every cell (none is larger).
2. Otherwise the cells below the threshold are withheld, and the cells that are never
   published on their own (``Cell.hidden``: for the pulse, answers by people no longer in a
   front-office unit, which are in the total and in no cell).
3. Subtraction then reveals the withheld cells' sum. When it is neither 0 nor at least the
   threshold, the smallest shown cell is withheld too. The sum then covers at least the
   threshold, as any shown figure does, and no small cell is withheld alone.
4. An onlooker also knows an upper bound of each cell (``Cell.asked``: the people asked, which
   the unit's own queue shows anyway). When every withheld cell is at its bound, the sum
   pins each of them to it ("everybody asked in these units answered"): then the smallest
   shown cell that is below its bound is withheld too, so that the counts stay uncertain.

This is the classic rule of statistical offices (tau-argus and sdcTable do it for tables of
many dimensions, choosing the cells by optimisation); with a single level the smallest
cell is the cheapest complement, so it needs no solver.

What still follows, whatever is withheld:

- when everybody in the withheld group answered alike (nobody, or everybody, frustrated),
  each withheld cell's index follows: 0 % or 100 %. A shown cell at 0 % or 100 % says the
  same of everybody in it; the group is never smaller than the threshold either way;
- when everybody asked answered (the total's response rate is 100 %), each cell's count of
  answers is its number of people asked, which the total says by itself.

Pure: no imports beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    answers: int
    #: What an onlooker knows bounds ``answers`` from above (the people asked); None when
    #: unknown, taken as ``answers`` (no room: the cautious reading).
    asked: int | None = None
    #: Never published on its own (its answers are in the total only).
    hidden: bool = False

    @property
    def room(self) -> int:
        """How far below its known bound the cell is: the uncertainty it adds to a sum."""
        return max(0, (self.asked if self.asked is not None else self.answers) - self.answers)


@dataclass(frozen=True)
class Decision:
    total: bool  # whether the total is published
    shown: tuple[bool, ...]  # whether each cell is, in the order given


def protect(cells: Sequence[Cell], threshold: int) -> Decision:
    """The cells (and the total) that may be published: see the module's rule."""
    if threshold < 1:
        raise ValueError("the threshold is at least 1")
    if any(c.answers < 0 or (c.asked is not None and c.asked < 0) for c in cells):
        raise ValueError("counts are never negative")
    total = sum(c.answers for c in cells)
    if total < threshold:
        return Decision(total=False, shown=tuple(False for _ in cells))
    withheld = {i for i, c in enumerate(cells) if c.hidden or c.answers < threshold}
    small = [i for i in withheld if 0 < cells[i].answers < threshold]
    if not small:
        # Nothing below the threshold has answers: what subtraction reveals is 0 or at least
        # the threshold already.
        return Decision(total=True, shown=tuple(i not in withheld for i in range(len(cells))))

    def smallest(candidates: list[int]) -> int | None:
        # The smallest costs the least; among equals, one with room also keeps the counts
        # uncertain (step 4), then the first given (a stable choice from one view to the next).
        return min(candidates, key=lambda i: (cells[i].answers, cells[i].room == 0, i), default=None)

    if sum(cells[i].answers for i in withheld) < threshold:  # step 3
        complement = smallest([i for i in range(len(cells)) if i not in withheld])
        if complement is not None:
            withheld.add(complement)
    if all(cells[i].room == 0 for i in withheld):  # step 4
        complement = smallest([i for i in range(len(cells)) if i not in withheld and cells[i].room > 0])
        if complement is not None:
            withheld.add(complement)
    return Decision(total=True, shown=tuple(i not in withheld for i in range(len(cells))))
