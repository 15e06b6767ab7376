"""HiGHS on the allocation model: the LP relaxation (``method="lp"``) or the MIP (``"mip"``).

Slower than the dual method on large problems (see docs/allocation.md), kept as the exact
reference: the tests use the MIP as their oracle.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csc_array

from tandem.engines.allocation.model import BAND_EDGES, BAND_SLOPES, FAIRNESS
from tandem.engines.allocation.pairs import Model, place_rest

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@contextmanager
def _chatter_to_stderr() -> Iterator[None]:
    """HiGHS's MIP solver sometimes prints a diagnostic line on file descriptor 1 even with
    ``disp=False`` (seen: "HighsMipSolverData::transformNewIntegerFeasibleSolution
    tmpSolver.run();"); send it to stderr so that a caller's stdout (JSON) stays clean."""
    try:
        sys.stdout.flush()
        flush_c_stdout()
        saved = os.dup(1)
    except (OSError, ValueError):  # no usable fd 1 (embedded, closed): nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        flush_c_stdout()  # the C library buffers stdout when it is not a terminal
        os.dup2(saved, 1)
        os.close(saved)


def flush_c_stdout() -> None:
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


def solve_lp(model: Model, *, time_limit: float, integral: bool = False,
             mip_rel_gap: float = 0.01) -> tuple[Floats, Floats, str, float]:
    """The relaxation (or, with ``integral``, the MIP) with HiGHS.

    Columns: one per eligible pair, then one per person and utilisation band (hours in that
    band, cost FAIRNESS x slope / capacity). Rows: one per item (at most one person), one per
    person (load minus band hours <= 0; band bounds cap the load at capacity).
    Returns (pair values, person prices (LP only), status, solver bound).
    """
    n_pairs = len(model.pair_item)
    n_people = len(model.capacity)
    n_items = len(model.effort)
    n_bands = len(BAND_SLOPES)
    cap = model.capacity
    with np.errstate(divide="ignore", invalid="ignore"):
        band_cost = np.where(cap[:, None] > 0, -FAIRNESS * BAND_SLOPES[None, :] / np.where(cap > 0, cap, 1.0)[:, None],
                             0.0)
    band_upper = cap[:, None] * np.diff(BAND_EDGES)[None, :]
    n_col = n_pairs + n_people * n_bands
    cost = np.concatenate([model.pair_value, band_cost.ravel()])
    upper = np.concatenate([np.ones(n_pairs), band_upper.ravel()])
    a_start = np.concatenate([np.arange(0, 2 * n_pairs, 2), 2 * n_pairs + np.arange(n_people * n_bands + 1)])
    a_index = np.empty(2 * n_pairs + n_people * n_bands, dtype=np.int64)
    a_index[0:2 * n_pairs:2] = model.pair_item
    a_index[1:2 * n_pairs:2] = n_items + model.pair_person
    a_index[2 * n_pairs:] = n_items + np.repeat(np.arange(n_people), n_bands)
    a_value = np.empty(len(a_index))
    a_value[0:2 * n_pairs:2] = 1.0
    a_value[1:2 * n_pairs:2] = model.effort[model.pair_item]
    a_value[2 * n_pairs:] = -1.0
    matrix = csc_array((a_value, a_index, a_start), shape=(n_items + n_people, n_col))
    row_upper = np.concatenate([np.ones(n_items), np.zeros(n_people)])
    # scipy's HiGHS: silent (highspy prints a banner on stdout, which would spoil --json)
    if integral:
        integrality = np.zeros(n_col)
        integrality[:n_pairs] = 1
        with _chatter_to_stderr():
            result = milp(-cost, constraints=LinearConstraint(matrix, -np.inf, row_upper), integrality=integrality,
                          bounds=Bounds(np.zeros(n_col), upper),
                          options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), "disp": False})
        x = result.x[:n_pairs] if result.x is not None else np.zeros(n_pairs)
        bound = -float(result.mip_dual_bound) if getattr(result, "mip_dual_bound", None) is not None else np.inf
        return x, np.zeros(n_people), str(result.message), bound
    result = linprog(-cost, A_ub=matrix, b_ub=row_upper, bounds=np.column_stack([np.zeros(n_col), upper]),
                     method="highs", options={"time_limit": float(time_limit)})
    if result.x is None:
        return np.zeros(n_pairs), np.zeros(n_people), str(result.message), np.inf
    prices = -np.asarray(result.ineqlin.marginals[n_items:], dtype=np.float64)
    bound = -float(result.fun) if result.status == 0 else np.inf  # only an optimal LP value bounds
    return result.x[:n_pairs], prices, str(result.message), bound


def round_and_repair(model: Model, x: Floats) -> Ints:
    """An integral plan from a (fractional) solution.

    Pairs at 1 are kept (they never overload anyone: the relaxation respects capacity). Every
    other item is then offered, most valuable first, to the eligible person with room whose
    pair value minus the rise in fairness penalty is highest.
    """
    n_items = len(model.effort)
    item_person = np.full(n_items, -1, dtype=np.int64)
    whole = x > 1.0 - 1e-6
    item_person[model.pair_item[whole]] = model.pair_person[whole]
    placed = item_person >= 0
    rest = np.flatnonzero(~placed & (model.count > 0))
    rest = rest[np.lexsort((model.effort[rest], -model.weight[rest]))]
    return place_rest(model, item_person, rest)


