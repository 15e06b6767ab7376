"""Hands-on effort under multitasking: how much of a person's working time went to each request.

A request sits *in progress* with a person for hours while they work on others; counting that
whole time as its effort is what made a credit note look like 40 hours of work. Here a person's
working time at each instant is split evenly between the requests they hold in progress at that
instant (the multitasking correction of business-process simulation discovery: Estrada-Torres,
Camargo, Dumas, García-Bañuelos, Mahdy, Yerokhin, "Discovering business process simulation
models in the presence of multitasking", BPM Forum 2020), and scaled by the share of their
working time the person gives to requests at all (the rest goes on routine duties):

    effort of a span = share × Σ over the span's instants of (working time ÷ spans held then)

A person's spans therefore never add up to more than ``share`` × their working time, so
utilisation (busy ÷ capacity, both on the same calendar and share) stays within 0–1 by
construction.

    effort = split_effort(holder, start, end, calendars, shares)       # per span, seconds
    busy = busy_seconds(holder, start, end, calendars, shares, edges)  # per bucket of edges

Pure: numpy only. ``holder`` identifies the person holding each span; ``start`` and ``end`` are
epoch seconds; ``calendars`` and ``shares`` map a holder to its working calendar and share.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

from tandem.engines.worktime import WorkingCalendar

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _segments(start: Ints, end: Ints, cal: WorkingCalendar, extra: Ints | None = None) -> tuple[Ints, Floats, Ints]:
    """The breakpoints of one person's spans (plus ``extra`` cut points), the working seconds of
    each segment between consecutive breakpoints, and how many spans are open in each."""
    cuts = [start, end] if extra is None else [start, end, extra]
    points = np.unique(np.concatenate(cuts))
    working = cal.between_many(points[:-1], points[1:]).astype(np.float64)
    change = np.zeros(len(points), dtype=np.int64)
    np.add.at(change, np.searchsorted(points, start), 1)
    np.add.at(change, np.searchsorted(points, end), -1)
    held = np.cumsum(change)[:-1]
    return points, working, held


def _first_to_finish(a: Ints, b: Ints, points: Ints) -> Ints:
    """For each segment between consecutive ``points``, the span (index into a, b) open over it
    that ends first, or -1 when none is open."""
    order = np.argsort(a, kind="stable")
    out = np.full(len(points) - 1, -1, dtype=np.int64)
    heap: list[tuple[int, int]] = []
    k = 0
    for i, lo in enumerate(points[:-1].tolist()):
        while k < len(order) and a[order[k]] <= lo:
            heapq.heappush(heap, (int(b[order[k]]), int(order[k])))
            k += 1
        while heap and heap[0][0] <= lo:
            heapq.heappop(heap)
        if heap:
            out[i] = heap[0][1]
    return out


def _by_person(
    holder: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike, calendars: Mapping[int, WorkingCalendar],
    shares: Mapping[int, float],
) -> Iterator[tuple[int, Ints, Ints, Ints, WorkingCalendar, float]]:
    """Each holder with a calendar: their id, the indexes of their spans, the spans' starts and
    ends (an end before its start counts as the start), their calendar and share."""
    who = np.asarray(holder, dtype=np.int64)
    a = np.asarray(start, dtype=np.int64)
    b = np.maximum(np.asarray(end, dtype=np.int64), a)
    for person in np.unique(who).tolist():
        cal = calendars.get(person)
        if cal is not None:
            mine = np.flatnonzero(who == person)
            yield person, mine, a[mine], b[mine], cal, float(shares.get(person, 1.0))


def split_effort(
    holder: npt.ArrayLike,
    start: npt.ArrayLike,
    end: npt.ArrayLike,
    calendars: Mapping[int, WorkingCalendar],
    shares: Mapping[int, float],
    rule: str = "serial",
) -> Floats:
    """Hands-on working seconds of each span ``[start, end)`` held by ``holder``. A span whose
    holder has no calendar gets 0 (nobody's working time to split).

    ``rule`` says how the time of an instant with several spans open is shared: ``"even"``
    splits it evenly between them; ``"serial"`` gives it all to the span that ends first, as
    for a person who finishes one thing before the next and leaves the rest in their pile."""
    effort = np.zeros(np.shape(holder)[0], dtype=np.float64)
    for _person, mine, a, b, cal, share in _by_person(holder, start, end, calendars, shares):
        points, working, held = _segments(a, b, cal)
        if rule == "serial":
            owner = _first_to_finish(a, b, points)
            worked = owner >= 0
            effort[mine] = np.bincount(owner[worked], weights=working[worked], minlength=len(mine)) * share
            continue
        per_span = np.divide(working, held, out=np.zeros_like(working), where=held > 0)
        reached = np.concatenate(([0.0], np.cumsum(per_span)))
        effort[mine] = (reached[np.searchsorted(points, b)] - reached[np.searchsorted(points, a)]) * share
    return effort


def busy_seconds(
    holder: npt.ArrayLike,
    start: npt.ArrayLike,
    end: npt.ArrayLike,
    calendars: Mapping[int, WorkingCalendar],
    shares: Mapping[int, float],
    edges: npt.ArrayLike,
) -> dict[int, Floats]:
    """Per holder, the hands-on working seconds in each bucket ``[edges[i], edges[i+1])``: their
    working time while holding at least one span, times their share. The same quantity as the
    sum of ``split_effort`` over their spans, cut by time instead of by request."""
    cut = np.asarray(edges, dtype=np.int64)
    out: dict[int, Floats] = {}
    for person, _mine, a, b, cal, share in _by_person(holder, start, end, calendars, shares):
        points, working, held = _segments(a, b, cal, cut)
        bucket = np.searchsorted(cut, points[:-1], side="right") - 1
        inside = (bucket >= 0) & (bucket < len(cut) - 1) & (held > 0)
        seconds = np.bincount(bucket[inside], weights=working[inside], minlength=len(cut) - 1)[: len(cut) - 1]
        out[person] = seconds.astype(np.float64) * share
    return out
