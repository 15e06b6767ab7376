"""Cut-offs and runs: which run of a service a request is in, and whether it missed the one it
asked for.

Pure: plain data in, plain data out (no Django). A cut-off is ``(weekday, time of day)`` in the
providing unit's time zone (Monday is 0), optionally with the weekday of the **run** it feeds:
``(1, time(12), 4)`` is "timesheets by Tuesday 12:00 for Friday's payroll". Without a run
weekday the run is on the cut-off's own day ("same-day Faster Payment by 14:00"). Every cut-off
instant closes the intake of one run, dated the first day on or after the cut-off's date with
the run's weekday.

The rule (docs/agreements.md, "Cut-offs and runs"), for a request submitted at ``t``:

- its **next run** is the run of the first cut-off instant at or after ``t`` (a request made
  exactly at the cut-off is in time: "by 12:00" includes 12:00);
- a request may **ask for a run** by a date (an intake field such as "week ending" or
  "effective from"): the run asked for is the first run dated on or after that date;
- it is **late** only when the run it asked for closed before ``t``; it is then in the next
  run. A request in time for the run it asked for is in that run, however far ahead;
- a request that asks for no run is never late: it is in the next run. Making the next run is
  never "late" for it.

Instants are found with the worktime engine's DST rule: a local time that does not exist
(clocks going forward) is the first instant after the gap; an ambiguous one is its first
occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tandem.engines.worktime import local_to_utc, to_epoch
from tandem.engines.worktime.engine import Instant

#: (weekday 0 = Monday, local time) or (weekday, local time, run weekday or None).
CutOffSpec = tuple[int, time] | tuple[int, time, int | None]


@dataclass(frozen=True)
class Run:
    """One run: the cut-off that closes its intake (index into the cut-off list, epoch
    seconds) and the local date it is run on."""

    index: int
    cutoff_at: int
    on: date

    @property
    def closes(self) -> datetime:
        return datetime.fromtimestamp(self.cutoff_at, UTC)


@dataclass(frozen=True)
class Placement:
    """Where a request falls: the run it is in, and the run it asked for when it asked one."""

    run: Run
    asked: Run | None

    @property
    def late(self) -> bool:
        """It asked for a run whose intake had closed: it is in a later one."""
        return self.asked is not None and self.asked != self.run


def _normalise(cutoffs: Sequence[CutOffSpec]) -> list[tuple[int, time, int | None]]:
    out: list[tuple[int, time, int | None]] = []
    for spec in cutoffs:
        weekday, at = spec[0], spec[1]
        run = spec[2] if len(spec) > 2 else None  # type: ignore[misc]
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday: 0 (Monday) to 6 (Sunday), not {weekday!r}")
        if run is not None and not 0 <= run <= 6:
            raise ValueError(f"run weekday: 0 (Monday) to 6 (Sunday), not {run!r}")
        if not isinstance(at, time):
            raise ValueError(f"time: a time of day, not {at!r}")
        out.append((weekday, at, run))
    return out


def _runs_from(zone: ZoneInfo, monday: date, cutoffs: list[tuple[int, time, int | None]]) -> Iterator[Run]:
    """Every run whose cut-off falls in the local week starting ``monday`` or later, in cut-off
    order (endless: the caller stops)."""
    while True:
        week = []
        for i, (weekday, at, run_weekday) in enumerate(cutoffs):
            day = monday + timedelta(days=weekday)
            closes = local_to_utc(zone, day, at.hour * 3600 + at.minute * 60 + at.second)
            on = day if run_weekday is None else day + timedelta(days=(run_weekday - weekday) % 7)
            week.append(Run(index=i, cutoff_at=closes, on=on))
        yield from sorted(week, key=lambda r: (r.cutoff_at, r.index))
        monday += timedelta(days=7)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def next_run(submitted: Instant, cutoffs: Sequence[CutOffSpec], tz: str | ZoneInfo) -> Run | None:
    """The run of the first cut-off at or after ``submitted``; ``None`` without cut-offs."""
    specs = _normalise(cutoffs)
    if not specs:
        return None
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    t = to_epoch(submitted)
    local = datetime.fromtimestamp(t, zone).date()
    return next(r for r in _runs_from(zone, _monday(local), specs) if r.cutoff_at >= t)


def run_asked(asked_on: date, cutoffs: Sequence[CutOffSpec], tz: str | ZoneInfo) -> Run | None:
    """The first run dated on or after ``asked_on`` (the earliest-closing one on a tie)."""
    specs = _normalise(cutoffs)
    if not specs:
        return None
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    # A run is at most six days after its cut-off, and every weekly run has a date in the
    # seven days from ``asked_on``: the candidates close between a week before and a week after.
    end = local_to_utc(zone, asked_on + timedelta(days=7), 0)
    candidates = []
    for run in _runs_from(zone, _monday(asked_on - timedelta(days=7)), specs):
        if run.cutoff_at >= end:
            break
        if run.on >= asked_on:
            candidates.append(run)
    return min(candidates, key=lambda r: (r.on, r.cutoff_at)) if candidates else None


def place(
    submitted: Instant, cutoffs: Sequence[CutOffSpec], tz: str | ZoneInfo, asked_on: date | None = None
) -> Placement | None:
    """The placement of a request submitted at ``submitted``, asking for the run on or after
    ``asked_on`` when given; ``None`` without cut-offs."""
    upcoming = next_run(submitted, cutoffs, tz)
    if upcoming is None:
        return None
    if asked_on is None:
        return Placement(run=upcoming, asked=None)
    asked = run_asked(asked_on, cutoffs, tz)
    assert asked is not None  # there are cut-offs, so there is a run on or after any date
    in_time = asked.cutoff_at >= to_epoch(submitted)
    return Placement(run=asked if in_time else upcoming, asked=asked)
