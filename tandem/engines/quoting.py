"""Backlog-aware promises: how long a new (or open) request will take, quoted from what the
same service's requests really took when the queue ahead of them was about as long as now.

    book = ServiceHistory(load=..., duration=..., observed=...)
    p50, p85 = book.quantiles(load_now, [0.5, 0.85], elapsed=0.0)

Everything is in working seconds of the service's calendar; the app turns them into instants.

*Load* is the work queued in the providing unit when a request arrives, in days of the
unit's capacity (queued effort / working seconds the unit's people have per day). It is the
one inter-case fact that moves a promise most: the same payroll correction takes a day when
the queue is empty and a week after month end.

The quote for a load L takes the ``neighbours`` history requests whose load at arrival was
closest to L (on a log scale, because a queue of 0.2 days differs from 1 day far more than
10 days from 11), adds to each the part of L its own queue lacked, and reads the quantiles. Requests still open when the
quote is made are *censored*: they are known to take at least as long as they have so far,
and leaving them out would make every promise optimistic exactly when the team slows down.
So the quantiles are Kaplan-Meier quantiles, which count an open request as "longer than
this" and nothing more. For an open request that has already run ``elapsed`` working seconds
the same estimator, conditioned on lasting longer than ``elapsed``, gives the remaining time.

Pure: numpy only, no Django. docs/promises.md has the measurements behind the choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

#: Fewer similar requests than this and the history says too little: the app falls back to
#: the service's published turnaround (and says so).
MIN_SAMPLES = 20
#: How many requests with the most similar load a quote reads; measured on the demo backtest
#: (docs/promises.md): fewer follows the load more closely but is noisier at P85.
NEIGHBOURS = 80


def backlog_at(times: npt.ArrayLike, starts: npt.ArrayLike, ends: npt.ArrayLike, weights: npt.ArrayLike) -> Floats:
    """For each instant in ``times``: the summed weight of the items open then, an item being
    open on ``[start, end)`` (``end`` may be ``inf`` for items still open). O((n + m) log n)."""
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(starts, dtype=np.float64)
    e = np.asarray(ends, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    s_order = np.argsort(s, kind="stable")
    e_order = np.argsort(e, kind="stable")
    started = np.concatenate(([0.0], np.cumsum(w[s_order])))
    ended = np.concatenate(([0.0], np.cumsum(w[e_order])))
    # "started at or before t" minus "ended at or before t": an item that starts at t is open.
    return started[np.searchsorted(s[s_order], t, side="right")] - ended[np.searchsorted(e[e_order], t, side="right")]


def km_quantiles(duration: Floats, observed: npt.NDArray[np.bool_], probs: Sequence[float]) -> Floats | None:
    """Kaplan-Meier quantiles of durations where ``observed`` is False for censored ones (known
    only to last at least that long). A quantile the data cannot reach (too many still open)
    is the longest time seen: a lower bound, and the best the history can say; a team whose
    requests are mostly still open is slow, and quoting its old published turnaround instead
    would be the blind promise all over again."""
    if len(duration) == 0:
        return None
    order = np.lexsort((~observed, duration))  # at equal times, events before censorings
    d = duration[order]
    ev = observed[order]
    at_risk = len(d) - np.arange(len(d))
    survival = np.cumprod(np.where(ev, 1.0 - 1.0 / at_risk, 1.0))
    out = np.empty(len(probs))
    for i, p in enumerate(probs):
        reached = np.flatnonzero(survival <= 1.0 - p + 1e-12)
        out[i] = d[reached[0]] if len(reached) else d[-1]
    return out


def km_survival(duration: Floats, observed: npt.NDArray[np.bool_], at: float) -> float | None:
    """The Kaplan-Meier probability of lasting longer than ``at`` (done exactly at ``at`` counts
    as done by then). Beyond the longest time seen it stays where the data left it: requests
    still open past it keep the chance of lasting longer up, as they should."""
    if len(duration) == 0:
        return None
    order = np.lexsort((~observed, duration))
    d = duration[order]
    ev = observed[order]
    at_risk = len(d) - np.arange(len(d))
    survival = np.cumprod(np.where(ev, 1.0 - 1.0 / at_risk, 1.0))
    upto = int(np.searchsorted(d, at, side="right"))
    return 1.0 if upto == 0 else float(survival[upto - 1])


@dataclass(frozen=True)
class ServiceHistory:
    """One service's past requests: the load when each arrived, its duration in working
    seconds so far, and whether it is over (``observed``) or still open (censored)."""

    load: Floats
    duration: Floats
    observed: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        if not (len(self.load) == len(self.duration) == len(self.observed)):
            raise ValueError("load, duration and observed must have the same length")

    @classmethod
    def of(cls, load: npt.ArrayLike, duration: npt.ArrayLike, observed: npt.ArrayLike) -> ServiceHistory:
        return cls(
            np.asarray(load, dtype=np.float64),
            np.maximum(np.asarray(duration, dtype=np.float64), 0.0),
            np.asarray(observed, dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.load)

    def quantiles(
        self, load: float, probs: Sequence[float], *, elapsed: float = 0.0, neighbours: int = NEIGHBOURS
    ) -> Floats | None:
        """Working seconds still to go, at each probability in ``probs``, for a request that
        arrived at ``load`` and has run ``elapsed`` working seconds; ``None`` when fewer than
        ``MIN_SAMPLES`` comparable requests lasted that long, or too many are still open."""
        similar = self._remaining(load, elapsed, neighbours)
        if similar is None:
            return None
        result = km_quantiles(*similar, probs)
        return None if result is None else np.maximum.accumulate(np.maximum(result, 0.0))

    def chance_longer(
        self, load: float, seconds: float, *, elapsed: float = 0.0, neighbours: int = NEIGHBOURS
    ) -> float | None:
        """How likely the same request still has more than ``seconds`` working seconds to go
        (the Kaplan-Meier survival of the same similar requests the quantiles read); ``None``
        where ``quantiles`` is. A promise whose working time left is ``seconds`` is missed with
        this probability: the quantile at the promise's confidence passes it exactly when this
        passes one minus the confidence."""
        similar = self._remaining(load, elapsed, neighbours)
        if similar is None:
            return None
        return km_survival(*similar, max(seconds, 0.0))

    def _remaining(self, load: float, elapsed: float, neighbours: int) -> tuple[Floats, npt.NDArray[np.bool_]] | None:
        """(working seconds still to go, observed) of the ``neighbours`` requests most like this
        one, or ``None`` when fewer than ``MIN_SAMPLES`` lasted as long as it has so far."""
        # Those that lasted longer than this one has so far (all of them for a new request,
        # including the ones done in no working time at all).
        alive = self.duration > elapsed if elapsed > 0 else np.ones(len(self.duration), dtype=bool)
        if int(alive.sum()) < MIN_SAMPLES:
            return None
        loads = self.load[alive]
        k = min(max(neighbours, MIN_SAMPLES), len(loads))
        distance = np.abs(np.log1p(np.maximum(loads, 0.0) / 3600) - np.log1p(max(load, 0.0) / 3600))
        nearest = np.argpartition(distance, k - 1)[:k] if k < len(loads) else np.arange(len(loads))
        # A neighbour that waited behind a shorter queue than today's is read as if it had met
        # today's: the extra queue is added to its time. One that met a longer queue is taken as
        # it was (not shortened): queues are not one line served by one person, and a promise
        # must not shrink below what similar requests really took.
        remaining = self.duration[alive][nearest] + np.maximum(load - loads[nearest], 0.0) - elapsed
        return remaining, self.observed[alive][nearest]
