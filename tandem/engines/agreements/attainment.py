"""SLA attainment from the raw event trail: was each resolved request's target met, and by how
much of working time was it missed.

Pure: numpy arrays and a ``WorkingCalendar`` in, numpy arrays out (no Django). It applies the
rules of ``tandem.engines.agreements.slaclock`` (the ones the actions apply step by step) to whole tables
at once:

- the clock runs from submission; it is **stopped** while the request is in one of its
  agreement's pause statuses, or resolved / closed / cancelled (time spent resolved before a
  reopen counts as paused);
- each stop takes its working time off the clock, unless the deadline had already passed
  when it began (a late request stays late);
- the request **met** its target when its final resolution is at or before the deadline;
  otherwise the **overrun** is the working time from the deadline to the resolution.

``stopped_runs`` turns status changes into stop intervals; ``evaluate`` credits them in rounds
(the k-th stop of every request at once), so the cost is a few vectorised calendar calls per
round, not a Python loop per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tandem.engines.worktime import WorkingCalendar

STOPPING = ("resolved", "closed", "cancelled")
NEVER = np.iinfo(np.int64).max // 4  # "not yet ended": beyond any instant

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Outcomes:
    deadline: Ints  # epoch seconds at which the target was (or would have been) reached
    met: Bools
    overrun: Ints  # working seconds from the deadline to resolution; 0 when met
    paused: Ints  # working seconds taken off the clock


def stopped_runs(
    request: npt.ArrayLike,
    at: npt.ArrayLike,
    status: Sequence[str] | npt.NDArray[np.str_],
    pause_statuses: Sequence[frozenset[str]],
) -> tuple[Ints, Ints, Ints]:
    """Stop intervals ``(request, start, end)`` from status changes.

    ``request[i]`` (an index into ``pause_statuses``), ``at[i]`` (epoch seconds) and
    ``status[i]`` say that the request entered ``status[i]`` at ``at[i]``; rows are sorted by
    request, then time. Consecutive stopped statuses make one interval; the last one of a
    request ends at ``NEVER`` if still stopped.
    """
    req = np.asarray(request, dtype=np.int64)
    t = np.asarray(at, dtype=np.int64)
    st = np.asarray(status, dtype=str)
    n = len(req)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    stopped = np.isin(st, STOPPING)
    keys = [frozenset(p) for p in pause_statuses]
    per_set: dict[frozenset[str], list[int]] = {}
    for i, key in enumerate(keys):
        per_set.setdefault(key, []).append(i)
    for key, members in per_set.items():
        if key:
            of_set = np.isin(req, np.array(members, dtype=np.int64))
            stopped |= of_set & np.isin(st, sorted(key))
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = req[1:] == req[:-1]
    next_at = np.where(same_next, np.roll(t, -1), NEVER)
    prev_stopped = np.zeros(n, dtype=bool)
    prev_stopped[1:] = stopped[:-1] & (req[1:] == req[:-1])
    next_stopped = np.zeros(n, dtype=bool)
    next_stopped[:-1] = stopped[1:] & same_next[:-1]
    starts = np.flatnonzero(stopped & ~prev_stopped)
    ends = np.flatnonzero(stopped & ~next_stopped)
    return req[starts], t[starts], next_at[ends]


def evaluate(
    cal: WorkingCalendar,
    submitted: npt.ArrayLike,
    target: npt.ArrayLike,
    resolved: npt.ArrayLike,
    stop_request: npt.ArrayLike,
    stop_start: npt.ArrayLike,
    stop_end: npt.ArrayLike,
) -> Outcomes:
    """Outcomes of requests submitted at ``submitted`` (epoch) with ``target`` working seconds,
    finally resolved at ``resolved``, given their stop intervals (``stop_request`` indexes the
    requests). Stops at or after the resolution are ignored; one that spans it ends there."""
    sub = np.asarray(submitted, dtype=np.int64)
    tgt = np.asarray(target, dtype=np.int64)
    res = np.asarray(resolved, dtype=np.int64)
    r = np.asarray(stop_request, dtype=np.int64)
    a = np.asarray(stop_start, dtype=np.int64)
    b = np.asarray(stop_end, dtype=np.int64)
    keep = a < res[r] if len(r) else np.zeros(0, dtype=bool)
    r, a, b = r[keep], a[keep], np.minimum(b[keep], res[r[keep]] if len(r) else b[keep])
    order = np.lexsort((a, r))
    r, a, b = r[order], a[order], b[order]
    # The k-th stop of each request: its position after the request's first stop.
    first = np.searchsorted(r, r, side="left")
    ordinal = np.arange(len(r)) - first
    paused = np.zeros(len(sub), dtype=np.int64)
    for k in range(int(ordinal.max()) + 1 if len(r) else 0):
        sel = ordinal == k
        who, start, end = r[sel], a[sel], b[sel]
        due = cal.add_many(sub[who], tgt[who] + paused[who])
        credit = np.where(due < start, 0, np.maximum(0, cal.between_many(start, end)))
        paused[who] += credit  # one stop per request per round: no repeated indices
    deadline = np.asarray(cal.add_many(sub, tgt + paused), dtype=np.int64) if len(sub) else np.zeros(0, np.int64)
    met = res <= deadline
    late = ~met
    overrun = np.zeros(len(sub), dtype=np.int64)
    if late.any():
        overrun[late] = cal.between_many(deadline[late], res[late])
    return Outcomes(deadline=deadline, met=met, overrun=overrun, paused=paused)


def attainment_percent(met: int, count: int) -> float | None:
    """The share met, in percent to one decimal; ``None`` with nothing to count."""
    return None if count == 0 else round(100.0 * met / count, 1)
