"""The default solver: prices per hour of each person from a smoothed Lagrangian dual, a plan
from the prices, and the Lagrangian bound at those prices.

Why not the LP with HiGHS: on 5,000 items x 200 people (about 160,000 pairs) HiGHS took
2.5–3.5 s for the relaxation alone (simplex; 9 s with IPM or PDLP), over the 1 s target, and
it grows faster than linearly. The relaxation has only one price per person to find, so we
minimise the dual directly:

    L(mu) = sum_j e_j * max(0, max_{i eligible} (v_ij / e_j - mu_i)) + sum_i max_{0<=h<=cap_i} (mu_i h - pen_i(h))

(v_ij the pair's value, e_j the effort, pen_i the fairness penalty). L(mu) bounds every plan
for any mu >= 0 and its minimum is the LP optimum. It is piecewise linear, so we minimise a
smoothed version (log-sum-exp at temperature tau, lowered in stages) with L-BFGS-B, then
evaluate the exact L at the prices found: that is the reported bound, valid whatever the
smoothing did.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy
from scipy.optimize import minimize

from tandem.engines.allocation.model import BAND_EDGES, FAIRNESS, PHI_AT_EDGES, STAY_BONUS
from tandem.engines.allocation.pairs import EPS, Model, place_rest

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
STAGES = (10.0, 1.0, 0.1)  # temperatures, in objective units per hour
MAX_ITER = 200


class _Dual:
    def __init__(self, model: Model) -> None:
        self.model = model
        has = model.count > 0
        order = np.argsort(model.start[has], kind="stable")
        self.items = np.flatnonzero(has)[order]  # items with pairs, in the order of their slices
        self.starts = model.start[self.items]
        self.seg = np.repeat(np.arange(len(self.items)), model.count[self.items])  # pair -> segment
        self.e_item = model.effort[self.items]
        self.e_pair = model.effort[model.pair_item]
        self.rate = model.pair_value / self.e_pair  # value per hour of each pair

    def smooth(self, mu: Floats, tau: float) -> tuple[float, Floats]:
        m = self.model
        z = (self.rate - mu[m.pair_person]) / tau
        top = np.maximum(np.maximum.reduceat(z, self.starts), 0.0) if len(z) else np.zeros(0)
        ez = np.exp(z - top[self.seg])
        total = np.add.reduceat(ez, self.starts) if len(z) else np.zeros(0)
        total += np.exp(-top)
        value = float(np.sum(self.e_item * tau * (top + np.log(total))))
        share = ez / total[self.seg]
        grad = -np.bincount(m.pair_person, weights=self.e_pair * share, minlength=len(mu)).astype(np.float64)
        band_value, band_grad = _person_side(self.model.capacity, mu, tau)
        return value + band_value, grad + band_grad

class _ClassDual:
    """The same smoothed dual, evaluated per class instead of per pair.

    A pair's value per hour is the item's (weight / effort) plus, for its current holder only,
    STAY_BONUS / effort. So an item's log-sum-exp over its eligible people is its own rate plus
    one shared term of its class, log sum exp(-mu_i / tau) over the class's people with room
    for its effort (a prefix of the class's people sorted by capacity), plus a correction for
    the holder. One evaluation costs O(items + classes x people), not O(pairs).
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        n_people = len(model.capacity)
        self.items = np.flatnonzero(model.count > 0)
        cls = model.item_class[self.items]
        width = max((len(p) for p in model.class_people), default=0)
        self.grid = np.full((len(model.class_people), max(width, 1)), n_people, dtype=np.int64)
        n_room = np.zeros(len(self.items), dtype=np.int64)
        cap = model.capacity
        order = np.argsort(cls, kind="stable")
        bounds = np.searchsorted(cls[order], np.arange(len(model.class_people) + 1))
        for c, people in enumerate(model.class_people):
            ranked = people[np.argsort(-cap[people], kind="stable")]
            self.grid[c, :len(ranked)] = ranked
            members = order[bounds[c]:bounds[c + 1]]
            n_room[members] = np.searchsorted(-cap[ranked], -(model.effort[self.items[members]] - EPS), side="right")
        self.consistent = bool(np.array_equal(n_room, model.count[self.items]))
        self.cell = cls * self.grid.shape[1] + n_room - 1
        self.cell_order = np.argsort(self.cell, kind="stable")
        sorted_cells = self.cell[self.cell_order]
        self.cell_starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
        self.cell_ids = sorted_cells[self.cell_starts]
        self.effort = model.effort[self.items]
        self.rate = model.weight[self.items] / self.effort
        holder = model.current[self.items]
        stays = model.pair_person == model.current[model.pair_item]
        held = np.bincount(model.pair_item[stays], minlength=len(model.effort))[self.items] > 0
        self.held = np.flatnonzero(held)
        self.holder = holder[self.held]
        self.bonus_rate = STAY_BONUS / self.effort[self.held]

    def smooth(self, mu: Floats, tau: float) -> tuple[float, Floats]:
        n_people = len(mu)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scaled = np.append(mu, np.inf)[self.grid] / tau
            log_room = np.logaddexp.accumulate(-scaled, axis=1).ravel()[self.cell]
            r = self.rate / tau
            lse = np.logaddexp(0.0, r + log_room)
            x = self.bonus_rate / tau
            extra = (r[self.held] - mu[self.holder] / tau) + np.where(
                x > 1.0, x + np.log1p(-np.exp(-x)), np.log(np.expm1(x)))
            lse[self.held] = np.logaddexp(lse[self.held], extra)
            value = float(np.sum(self.effort * tau * lse))
            w = (np.log(self.effort) + r - lse)[self.cell_order]
            top = np.maximum.reduceat(w, self.cell_starts)
            sizes = np.diff(np.r_[self.cell_starts, len(w)])
            cell_value = top + np.log(np.add.reduceat(np.exp(w - np.repeat(top, sizes)), self.cell_starts))
            grid = np.full(self.grid.size, -np.inf)
            grid[self.cell_ids] = cell_value
            demand = np.logaddexp.accumulate(grid.reshape(self.grid.shape)[:, ::-1], axis=1)[:, ::-1]
            share = np.exp(demand - scaled)
        grad = -np.bincount(self.grid.ravel(), weights=share.ravel(), minlength=n_people + 1)[:n_people]
        grad -= np.bincount(self.holder, weights=self.effort[self.held] * np.exp(extra - lse[self.held]),
                            minlength=n_people)
        band_value, band_grad = _person_side(self.model.capacity, mu, tau)
        return value + band_value, grad + band_grad


def _person_side(capacity: Floats, mu: Floats, tau: float) -> tuple[float, Floats]:
    """Each person's side: the smoothed max over the band edges of price x hours - penalty."""
    hours = capacity[:, None] * BAND_EDGES[None, :]
    scale = np.where(capacity > 0, capacity, 1.0)[:, None]
    y = (mu[:, None] * hours - FAIRNESS * PHI_AT_EDGES[None, :]) / (tau * scale)
    ymax = y.max(axis=1, keepdims=True)
    ey = np.exp(y - ymax)
    s = ey.sum(axis=1, keepdims=True)
    return float(np.sum(tau * scale * (ymax + np.log(s)))), np.sum(ey / s * hours, axis=1)


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run L-BFGS-B with scipy's OpenBLAS on one thread (this thread only), when we can.

    Why: L-BFGS-B makes many tiny BLAS calls; with OpenBLAS's default two threads on a busy
    2-core machine each call waits for the other thread, and a 200-variable run took 20x longer
    (0.16 s against 0.008 s). ``openblas_set_num_threads_local`` is thread-local and returns the
    previous value, so we restore it. Without that symbol this does nothing.
    """
    setter = None
    for library in sorted((Path(scipy.__file__).parent.parent / "scipy.libs").glob("libscipy_openblas*.so")):
        try:
            setter = ctypes.CDLL(str(library)).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        break
    if setter is None:
        yield
        return
    setter.restype = ctypes.c_int
    previous = setter(1)
    try:
        yield
    finally:
        setter(previous)


def prices(model: Model, *, time_limit: float = 20.0) -> tuple[Floats, int]:
    """Near-optimal dual prices (per hour) for each person; also the number of evaluations."""
    n_people = len(model.capacity)
    mu = np.zeros(n_people)
    if not len(model.pair_item) or not n_people:
        return mu, 0
    width = max((len(p) for p in model.class_people), default=0)
    dual: _Dual | _ClassDual = _Dual(model)  # many classes (levels with many distinct values): per pair is cheaper
    if len(model.class_people) * width <= len(model.pair_item):
        by_class = _ClassDual(model)
        if by_class.consistent:
            dual = by_class
    mu[:] = np.median(model.pair_value / model.effort[model.pair_item])
    began = time.perf_counter()
    evaluations = 0
    with _one_blas_thread():
        for tau in STAGES:
            left = time_limit - (time.perf_counter() - began)
            if left <= 0:
                break
            result = minimize(dual.smooth, mu, args=(tau,), jac=True, method="L-BFGS-B",
                              bounds=[(0.0, None)] * n_people, options={"maxiter": MAX_ITER, "gtol": 1e-9})
            mu = np.maximum(result.x, 0.0)
            evaluations += int(result.nfev)
    return mu, evaluations


def plan_from_prices(model: Model, mu: Floats) -> Ints:
    """An integral plan: every item to its best pair at the prices, as far as capacity allows
    (each person keeps the items with the highest profit over price), then the rest one by one,
    highest value per hour first, to the person with room who adds most after price and fairness.
    """
    n_items = len(model.effort)
    item_person = np.full(n_items, -1, dtype=np.int64)
    cap = model.capacity
    if len(model.pair_item):
        reduced = model.pair_value - mu[model.pair_person] * model.effort[model.pair_item]
        dual = _Dual(model)
        best = np.maximum.reduceat(reduced, dual.starts)
        # the first pair reaching the maximum, per segment (segments are in pair order)
        hits = np.flatnonzero(reduced >= best[dual.seg] - 1e-12)
        firsts = hits[np.r_[True, dual.seg[hits][1:] != dual.seg[hits][:-1]]]
        pick = np.empty(len(dual.items), dtype=np.int64)
        pick[dual.seg[firsts]] = firsts
        want = best > 0
        items = dual.items[want]
        pairs = pick[want]
        person = model.pair_person[pairs]
        profit = best[want] / model.effort[items]
        order = np.lexsort((-profit, person))
        items, person = items[order], person[order]
        load = np.cumsum(model.effort[items])
        group_start = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]) if len(items) else np.zeros(0, np.int64)
        sizes = np.diff(np.r_[group_start, len(items)])
        before = np.repeat(load[group_start] - model.effort[items[group_start]], sizes)
        keep = load - before <= cap[person] + EPS
        item_person[items[keep]] = person[keep]
    placed = item_person >= 0
    rest = np.flatnonzero(~placed & (model.count > 0))
    rest = rest[np.argsort(-model.weight[rest] / model.effort[rest], kind="stable")]
    return place_rest(model, item_person, rest)
