"""Cut-offs: a service's weekly intake deadlines, and which requests arrive late for one.

Pure: plain data in, plain data out (no Django). A cut-off is ``(weekday, time of day)`` in
the providing unit's time zone (Monday is 0), e.g. ``(1, time(12))`` for "timesheets by Tuesday
12:00 for Friday's payroll". Every cut-off instant closes an intake batch: the requests that
arrived since the previous cut-off are processed from that instant on.

The rule (docs/agreements.md, "Cut-offs"), for a request submitted at ``t``:

- its **next cut-off** ``N`` is the first cut-off instant at or after ``t`` (a request made
  exactly at the cut-off is in time: "by 12:00" includes 12:00);
- it is **late** when a cut-off ``P`` of the same local week (Monday 00:00 to Sunday 24:00)
  passed before ``t``: it missed ``P``'s batch (``late_for`` is the latest such ``P``);
  requests made before the week's first cut-off are in time for it;
- a late request **enters processing** at ``N``, when the batch it joined closes: for a single
  weekly cut-off that is the same cut-off next week.

Instants are found with the worktime engine's DST rule: a local time that does not exist
(clocks going forward) is the first instant after the gap; an ambiguous one is its first
occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tandem.engines.worktime import local_to_utc, to_epoch
from tandem.engines.worktime.engine import Instant

CutOffSpec = tuple[int, time]  # (weekday 0 = Monday, local time)


@dataclass(frozen=True)
class Placement:
    """Where a request falls among a service's cut-offs (indexes into the cut-off list)."""

    next_index: int  # the cut-off whose batch the request joins
    next_at: int  # epoch seconds of that cut-off instant
    late_index: int | None  # the cut-off it missed this week, or None when in time

    @property
    def late(self) -> bool:
        return self.late_index is not None

    @property
    def enters_processing(self) -> datetime:
        return datetime.fromtimestamp(self.next_at, UTC)


def _check(cutoffs: Sequence[CutOffSpec]) -> None:
    for weekday, at in cutoffs:
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday: 0 (Monday) to 6 (Sunday), not {weekday!r}")
        if not isinstance(at, time):
            raise ValueError(f"time: a time of day, not {at!r}")


def _instant(zone: ZoneInfo, monday: date, weekday: int, at: time) -> int:
    return local_to_utc(zone, monday + timedelta(days=weekday), at.hour * 3600 + at.minute * 60 + at.second)


def _week_instants(zone: ZoneInfo, monday: date, cutoffs: Sequence[CutOffSpec]) -> list[tuple[int, int]]:
    """(epoch, index) of each cut-off in the local week starting ``monday``, in time order."""
    return sorted((_instant(zone, monday, w, at), i) for i, (w, at) in enumerate(cutoffs))


def place(submitted: Instant, cutoffs: Sequence[CutOffSpec], tz: str | ZoneInfo) -> Placement | None:
    """The placement of a request submitted at ``submitted``; ``None`` without cut-offs."""
    if not cutoffs:
        return None
    _check(cutoffs)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    t = to_epoch(submitted)
    local = datetime.fromtimestamp(t, zone).date()
    monday = local - timedelta(days=local.weekday())
    this_week = _week_instants(zone, monday, cutoffs)
    missed = [(at, i) for at, i in this_week if at < t]
    upcoming = [(at, i) for at, i in this_week if at >= t]
    if not upcoming:
        upcoming = _week_instants(zone, monday + timedelta(days=7), cutoffs)
    next_at, next_index = upcoming[0]
    return Placement(next_index=next_index, next_at=next_at, late_index=missed[-1][1] if missed else None)


def late_many(
    submitted: npt.ArrayLike, cutoffs: Sequence[CutOffSpec], tz: str | ZoneInfo
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Vectorised ``place`` for many submission instants (epoch seconds): per request, whether it
    is late and the epoch of the cut-off it enters processing at (0 where not late)."""
    t = np.asarray(submitted, dtype=np.int64)
    late = np.zeros(len(t), dtype=bool)
    enters = np.zeros(len(t), dtype=np.int64)
    if not cutoffs or len(t) == 0:
        return late, enters
    _check(cutoffs)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    first = datetime.fromtimestamp(int(t.min()), zone).date()
    last = datetime.fromtimestamp(int(t.max()), zone).date()
    monday = first - timedelta(days=first.weekday() + 7)
    weeks = (last - monday).days // 7 + 3
    # Every cut-off instant over the span, with the start of its local week.
    instants, week_start = [], []
    for k in range(weeks):
        day = monday + timedelta(days=7 * k)
        start = local_to_utc(zone, day, 0)
        for at, _ in _week_instants(zone, day, cutoffs):
            instants.append(at)
            week_start.append(start)
    at_arr = np.array(instants, dtype=np.int64)
    start_arr = np.array(week_start, dtype=np.int64)
    nxt = np.searchsorted(at_arr, t, side="left")  # first instant >= t
    prev = nxt - 1  # last instant < t (always exists: the span starts a week early)
    # Late when the previous cut-off lies in the same local week as t, i.e. its week's start is
    # also the latest week start not after t.
    week_of_t = np.searchsorted(np.unique(start_arr), t, side="right") - 1
    week_of_prev = np.searchsorted(np.unique(start_arr), at_arr[prev], side="right") - 1
    late = week_of_t == week_of_prev
    enters = np.where(late, at_arr[nxt], 0)
    return late, enters
